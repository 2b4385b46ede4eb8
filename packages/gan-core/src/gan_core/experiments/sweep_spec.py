"""What a sweep is: a base configuration, a search space, seeds; expanded into trials.

Pure and deterministic (random draws come from the sweep's own seeded
generator), so running the same command again yields the same trials with
the same folders: that is how a stopped sweep resumes. Every trial is
validated — component names, option names, types and bounds — before
anything starts, so a typo in the tenth trial does not surface an hour in.

Keys are written as on the command line: a training flag without its dashes
(``lr-g``, ``batch-size``, ``prior``, ``epochs``) or a component option
(``prior.k``, ``loss.lambda_``, ``arch.dropout``).

One key is not a training setting: ``eval-samplers`` (in [base] or an
[[include]]) lists post-hoc samplers each trial is also evaluated with once
trained. It is not part of a trial's name, so adding it to a sweep that has
already trained evaluates the trained runs instead of training new ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config import read_toml
from ..errors import GanError
from .. import kinds

#: the key that lists the samplers a trained trial is also evaluated with (not a training setting)
EVAL_SAMPLERS = "eval-samplers"

#: range forms a random search accepts: uniform(a,b), loguniform(a,b), randint(a,b)
_RANGE = re.compile(r"^(uniform|loguniform|randint)\(\s*([^,]+),\s*([^)]+)\)$")


#: seeds per configuration when a sweep names none: with 5, a 95 % t-interval is 1.24 standard deviations
#: wide on each side (t(4) = 2.78 / sqrt 5), against 2.48 with 3 (Agarwal et al. 2021 and Lucic et al. 2018
#: argue for distributions over seeds, not single runs)
DEFAULT_SEEDS = 5

@dataclass(frozen=True)
class Range:
    """A continuous (or integer) range to draw from in a random search."""

    kind: str  # uniform, loguniform or randint
    low: float
    high: float

    def draw(self, rng: random.Random) -> float | int:
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        if self.kind == "loguniform":
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return rng.randint(int(self.low), int(self.high))


@dataclass
class SweepSpec:
    """A sweep as the user wrote it (flags or a TOML file)."""

    base: dict[str, Any] = field(default_factory=dict)  # gan train settings shared by every trial
    grid: dict[str, list[Any]] = field(default_factory=dict)  # key -> values, crossed
    random: dict[str, list[Any] | Range] = field(default_factory=dict)  # key -> choices or a range, drawn
    samples: int = 0  # random draws (0: grid only)
    seeds: list[int] = field(default_factory=lambda: [0])  # gan sweep and sweep files default to DEFAULT_SEEDS
    include: list[dict[str, Any]] = field(default_factory=list)  # extra configurations, e.g. a baseline
    search_seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able record of what is trained, to recognise the same sweep when it is run again.

        ``eval-samplers`` is left out: asking for more evaluations of the same
        trials is the same sweep.
        """
        rand = {k: (v if isinstance(v, list) else {v.kind: [v.low, v.high]}) for k, v in self.random.items()}
        return {"base": _trained(self.base), "grid": self.grid, "random": rand, "samples": self.samples,
                "seeds": self.seeds, "include": [_trained(i) for i in self.include], "search_seed": self.search_seed}


def _trained(table: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in table.items() if k != EVAL_SAMPLERS}


def eval_samplers_of(table: dict[str, Any], where: str) -> tuple[str, ...]:
    """The ``eval-samplers`` list of a [base] or [[include]] table, checked to be a list of names."""
    value = table.get(EVAL_SAMPLERS, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise GanError(f"{where}: {EVAL_SAMPLERS} must be a list of sampler names, e.g. [\"drs\", \"mh\"]")
    return tuple(value)


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: its assignments over the base, and a folder name derived from them.

    The name is the assignments, readable, with a digest of their exact
    values appended when needed to tell two trials apart (random draws that
    print alike) or to keep it short.
    """

    assignments: dict[str, Any]
    exact: bool = False  # append the digest even when the readable name is short
    #: post-hoc samplers the trained run is also evaluated with (not part of its name)
    eval_samplers: tuple[str, ...] = ()

    @property
    def readable(self) -> str:
        parts = [f"{k}={_short(v)}" for k, v in self.assignments.items()]
        return re.sub(r"[^A-Za-z0-9.=,_-]+", "_", ",".join(parts)) or "base"

    @property
    def id(self) -> str:
        digest = hashlib.sha1(json.dumps(self.assignments, sort_keys=True).encode()).hexdigest()[:6]
        readable = self.readable
        if len(readable) > 80:
            return f"{readable[:70]}-{digest}"
        return f"{readable}-{digest}" if self.exact else readable


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# --------------------------------------------------------------------------- parsing


def parse_value(text: str) -> Any:
    """A CLI value as TOML would read it: 10 -> int, 0.5 -> float, true -> bool, else text."""
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_axis(text: str) -> tuple[str, list[Any] | Range]:
    """``-s KEY=a,b,c`` (values) or ``-s KEY=loguniform(1e-5,1e-3)`` (a range, random search only)."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise GanError(f"sweep axis '{text}' is not of the form KEY=V1,V2 or KEY=uniform(A,B); e.g. -s prior.k=5,10")
    match = _RANGE.match(values.strip())
    if match:
        kind, low, high = match.group(1), float(parse_value(match.group(2))), float(parse_value(match.group(3)))
        if not low < high or (kind == "loguniform" and low <= 0):
            raise GanError(f"sweep axis '{text}': the range needs 0 < A < B for loguniform, A < B otherwise")
        return key, Range(kind, low, high)
    return key, [parse_value(v) for v in values.split(",") if v.strip()]


def spec_from_flags(base: dict[str, Any], axes: list[str], seeds: int, samples: int) -> SweepSpec:
    """A spec from ``gan sweep`` flags: a grid, or random draws when ``samples`` > 0 or any axis is a range."""
    spec = SweepSpec(base=base, seeds=list(range(seeds)), samples=samples)
    parsed = [parse_axis(a) for a in axes]
    random_search = samples > 0 or any(isinstance(v, Range) for _, v in parsed)
    for key, values in parsed:
        (spec.random if random_search else spec.grid)[key] = values  # type: ignore[index]
    if random_search and spec.samples == 0:
        raise GanError("a range (uniform, loguniform, randint) needs random search: add --samples N")
    return spec


def spec_from_file(path: Path) -> tuple[SweepSpec, dict[str, Any]]:
    """A spec from a TOML file, and its [sweep] table's other settings (name, metric, early-stop...).

    Layout::

        [sweep]                 # how to search
        seeds = 3               # or a list of seeds
        samples = 0             # > 0: random search over [random]
        metric = "fid"
        [base]                  # gan train settings, as in a --config file
        prior = "gm-static"
        epochs = 5
        [base.options.prior]
        k = 10
        [grid]                  # crossed
        "prior.c" = [0.1, 0.467, 1.0]
        [random]                # drawn: a list of choices, or {loguniform = [a, b]}
        "lr-g" = {loguniform = [1e-5, 1e-3]}
        [[include]]             # extra configurations over base (a baseline), times seeds
        prior = "normal"
    """
    raw = read_toml(path, "sweep file")
    unknown = sorted(set(raw) - {"sweep", "base", "grid", "random", "include"})
    if unknown:
        raise GanError(f"sweep file {path} has an unknown table [{unknown[0]}]; use [sweep], [base], [grid], [random], [[include]]")
    settings = dict(raw.get("sweep", {}))
    seeds = settings.pop("seeds", DEFAULT_SEEDS)
    spec = SweepSpec(
        base=dict(raw.get("base", {})),
        grid={k: v if isinstance(v, list) else [v] for k, v in raw.get("grid", {}).items()},
        samples=int(settings.pop("samples", 0)),
        seeds=list(seeds) if isinstance(seeds, list) else list(range(int(seeds))),
        include=[dict(i) for i in raw.get("include", [])],
        search_seed=int(settings.pop("search_seed", 0)),
    )
    for key, value in raw.get("random", {}).items():
        if isinstance(value, dict) and len(value) == 1:
            (kind, bounds), = value.items()
            spec.random[key] = parse_axis(f"{key}={kind}({bounds[0]},{bounds[1]})")[1]
        elif isinstance(value, list):
            spec.random[key] = value
        else:
            raise GanError(f"sweep file {path}: [random] {key} must be a list of choices or {{loguniform = [A, B]}}")
    if spec.random and not spec.samples:
        raise GanError(f"sweep file {path} has a [random] table but no samples; set samples = N in [sweep]")
    return spec, settings


# --------------------------------------------------------------------------- expansion


def expand(spec: SweepSpec) -> list[Trial]:
    """Every trial: the grid's cross product (or the random draws), then the includes, each times every seed."""
    configurations: list[dict[str, Any]] = [{}]
    for key, values in spec.grid.items():
        if not values:
            raise GanError(f"sweep axis '{key}' has no values")
        configurations = [{**c, key: v} for c in configurations for v in values]
    if spec.samples:
        rng = random.Random(spec.search_seed)
        drawn = []
        for c in configurations:
            for _ in range(spec.samples):
                draw = dict(c)
                for key, space in spec.random.items():
                    draw[key] = space.draw(rng) if isinstance(space, Range) else rng.choice(space)
                drawn.append(draw)
        configurations = drawn
    if spec.samples:  # a random search may draw one configuration twice: run it once
        unique: list[dict[str, Any]] = []
        for c in configurations:
            if c not in unique:
                unique.append(c)
        configurations = unique
    if not spec.grid and not spec.samples and spec.include:
        configurations = []  # a list of configurations: the bare base is not one of them
    base_samplers = eval_samplers_of(spec.base, "[base]")
    evaluated = [base_samplers] * len(configurations)
    for include in spec.include:
        configurations.append(_trained(include))
        extra = eval_samplers_of(include, f"[[include]] {_trained(include)}")
        evaluated.append(tuple(dict.fromkeys(base_samplers + extra)))
    assignments = [({**c, "seed": seed}, samplers) for c, samplers in zip(configurations, evaluated)
                   for seed in spec.seeds]
    plain = [a for a, _ in assignments]
    for i, a in enumerate(plain):
        if a in plain[:i]:
            raise GanError(f"the sweep has two trials with the same settings ({Trial(a).readable}); remove the repeated values")
    names = [Trial(a).readable for a in plain]
    return [Trial(a, exact=names.count(Trial(a).readable) > 1, eval_samplers=samplers) for a, samplers in assignments]


def keep_ids(trials: list[Trial], saved: dict[str, dict[str, Any]]) -> list[Trial]:
    """``trials`` with the ids they already run under in a sweep folder (``saved``: id -> assignments).

    An id names a trial's folder, so it must not change when the sweep grows:
    an [[include]] row that prints like an existing trial would otherwise
    give both a digest, renaming the existing one. Existing trials keep their
    id; a new trial whose name is taken gets the digest instead.
    """
    recorded = [_as_recorded(t, saved) for t in trials]
    taken = {t.id for t in recorded if t is not None}
    settled = []
    for trial, known in zip(trials, recorded):
        if known is None:  # new: its readable name, unless an existing (or earlier new) trial holds it
            known = replace(trial, exact=trial.exact or replace(trial, exact=False).id in taken)
            taken.add(known.id)
        settled.append(known)
    return settled


def _as_recorded(trial: Trial, saved: dict[str, dict[str, Any]]) -> Trial | None:
    """``trial`` named as ``saved`` records it (readable, or with its digest); None if it is not there."""
    for exact in (False, True):
        named = replace(trial, exact=exact)
        if saved.get(named.id) == trial.assignments:
            return named
    return None


#: settings that name a component: changing one drops the base's options for that kind (``arch`` -> ``architecture``)
COMPONENT_SETTINGS = kinds.settings()


def trial_settings(base: dict[str, Any], assignments: dict[str, Any]) -> dict[str, Any]:
    """``gan train`` settings of one trial: the base with the trial's keys applied (``prior.k`` into options).

    A trial that swaps a component (an included ``prior = "normal"`` baseline
    in a mixture-prior sweep) does not inherit the base's options for the
    component it replaced.
    """
    settings = {k.replace("-", "_"): v for k, v in base.items() if k not in ("options", EVAL_SAMPLERS)}
    prefixes = kinds.option_prefixes()
    options = {prefixes.get(kind, kind): dict(table) for kind, table in base.get("options", {}).items()}
    plain = {k.replace("-", "_"): v for k, v in assignments.items() if "." not in k}
    for name, value in plain.items():
        if name in COMPONENT_SETTINGS and value != settings.get(name):
            options.pop(COMPONENT_SETTINGS[name], None)
        settings[name] = value
    for key, value in assignments.items():
        prefix, dot, name = key.partition(".")
        if not dot:
            continue
        kind = prefixes.get(prefix)
        if kind is None:
            raise GanError(f"sweep key '{key}' names no component kind '{prefix}'; use "
                           f"{', '.join(k.prefix + '.' for k in kinds.run_kinds())}")
        options.setdefault(kind, {})[name] = value
    settings["options"] = options
    return settings


def validate(spec: SweepSpec, trials: list[Trial]) -> None:
    """Refuse the sweep (GanError) if any trial's settings, names or options are wrong — before anything runs."""
    from ..assembly import choose, choose_all
    from ..config import settings_for
    from ..registry import get_registry

    registry = get_registry()
    for trial in trials:
        settings = trial_settings(spec.base, trial.assignments)
        try:
            config = settings_for({k: v for k, v in settings.items() if k != "out"})
            chosen = choose_all(config)  # what gan train checks first
            own = float(getattr(chosen["sampler"].entry.cls, "holdout", 0.0))
            for sampler in trial.eval_samplers:
                wanted = float(getattr(choose(registry, "sampler", sampler, None).entry.cls, "holdout", 0.0))
                if wanted > (config.holdout if config.holdout is not None else own):
                    raise GanError(f"{EVAL_SAMPLERS} '{sampler}' calibrates on images D never saw, and this trial "
                                   f"keeps none; add holdout = {wanted:g} to its settings")
        except GanError as exc:
            raise GanError(f"trial {trial.id}: {exc.message}") from exc
