"""Finding run directories and reading what they recorded, without loading any weights.

``gan compare`` and ``gan report`` look at many runs at once (a sweep holds
dozens), so this module reads only JSON: run.json for the settings,
eval.json / evals/*.json for the final metrics, metrics.jsonl for the curves.
It imports neither torch nor numpy, which keeps ``gan compare`` instant.

Settings are flattened to the names a user types: ``prior``, ``prior.k``,
``arch.dropout``, ``lr-g``, ``batch-size``... so a table header reads like
the command line that made the run.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..kinds import run_kinds
from ..runs import checkpoint_file
from ..directions import HIGHER, LOWER, parse as parse_direction
from ..errors import GanError

RUN_FILE = "run.json"
EVAL_FILE = "eval.json"
EVALS_DIR = "evals"
METRICS_FILE = "metrics.jsonl"

Scalar = str | int | float | bool | None

#: run.json component kind -> the prefix users type (``-o arch.dropout=0.3``, ``--arch``)
KIND_PREFIXES = {k.name: k.prefix for k in run_kinds()}
#: train keys that say how a run was executed or logged, not what was trained
BOOKKEEPING = frozenset({
    "device", "device_used", "device_name", "threads", "log_every", "checkpoint_every", "data_dir", "eval_every", "eval_n", "keep_best",
    "out", "metric_options",
})
#: train keys in the order a table shows them; any other key follows, dashed like its CLI flag
TRAIN_ORDER = ("epochs", "steps", "batch_size", "latent_dim", "optimizer", "lr_g", "lr_d", "betas", "d_steps",
               "perceptual", "seed")
#: which way is better for the metrics gan-core ships; a metric named nowhere is taken as lower-is-better
DEFAULT_DIRECTIONS = {"fid": LOWER, "precision": HIGHER, "recall": HIGHER, "density": HIGHER,
                      "coverage": HIGHER, "classes": HIGHER, "kid": LOWER, "is": HIGHER}


@dataclass
class Curves:
    """What training logged, step by step: losses (``logs``) and evaluations (``evals``), each sorted by step.

    Every entry is a flat dict of numbers with ``step`` and ``epoch``; an eval
    entry holds the metric values beside them (``{"step": 20, "epoch": 1, "fid": ...}``).
    """

    logs: list[dict[str, float]] = field(default_factory=list)
    evals: list[dict[str, float]] = field(default_factory=list)


@dataclass
class RunRecord:
    """One run as ``gan compare`` and ``gan report`` see it: settings in, metrics out."""

    path: Path
    #: run.json as written by gan train
    info: dict[str, Any]
    #: flattened settings, named as on the command line (``prior.k``, ``lr-g``, ``betas`` as "0.5,0.999")
    settings: dict[str, Scalar]
    #: the run's final metrics: the latest gan eval with the run's own sampler (evals/<sampler>.json or eval.json),
    #: else eval.json whatever its sampler, else the last evaluation during training; {} when never evaluated
    final: dict[str, float]
    #: where ``final`` came from: {"source": "eval.json", "evals/<s>.json" or "metrics.jsonl", "sampler", "n",
    #: "step"}; {} if nowhere
    final_from: dict[str, Any]
    #: metrics per sampler evaluated (evals/<sampler>.json, and eval.json's sampler)
    evals: dict[str, dict[str, float]]
    curves: Curves
    #: "higher" or "lower" per metric, as the evaluations declared them (defaults for gan-core's metrics);
    #: a metric missing here declared no direction (a diagnostic) and is sorted as lower-is-better
    directions: dict[str, str]
    #: set on the copies made by ``with_sampler_evals``: the post-hoc sampler whose evaluation ``final`` holds
    posthoc: str | None = None
    #: evaluation files left out because they scored an older checkpoint (a resumed run): file -> the step they scored
    stale: dict[str, int] = field(default_factory=dict)
    #: per sampler evaluated, how: {"n", "ref", "features"} (what makes two evaluations comparable)
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the evaluation spread of ``final`` per metric (``gan eval --repeats K``: std over K draws); {} if one draw
    eval_std: dict[str, float] = field(default_factory=dict)

    @property
    def protocol(self) -> str | None:
        """How ``final`` was measured, as one comparable label ("10000 vs mnist test, mnist features"); None if never."""
        if not self.final_from:
            return None
        return protocol_label(self.final_from)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def status(self) -> str:
        return str(self.info.get("status", "unknown"))


def find_runs(paths: list[Path]) -> list[RunRecord]:
    """Every run at or under ``paths``, in the order given (runs inside a folder in natural path order).

    A path is a run directory, or a folder searched recursively (a sweep).
    Hidden folders (``.x.partial``, an unfinished run) are skipped, and so is
    anything inside a run (its ``best/`` copy is not another run). A run found
    twice is listed once.
    """
    found: list[Path] = []
    for path in paths:
        found += _run_dirs(Path(path))
    seen: set[Path] = set()
    records = []
    for run_dir in found:
        key = run_dir.resolve()
        if key not in seen:
            seen.add(key)
            records.append(read_record(run_dir))
    return records


def _run_dirs(path: Path) -> list[Path]:
    if not path.exists():
        raise GanError(f"there is no run or folder at {path}; pass run directories or folders that hold runs")
    if not path.is_dir():
        raise GanError(f"{path} is a file; pass run directories or folders that hold runs")
    if (path / RUN_FILE).is_file():
        return [path]
    runs = []
    for root, dirs, files in os.walk(path):
        if RUN_FILE in files and Path(root) != path:
            runs.append(Path(root))
            dirs[:] = []  # a run's subfolders (best/, samples/) hold no other runs
            continue
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    if not runs:
        raise GanError(f"{path} holds no runs (no {RUN_FILE} in it or in any folder under it)")
    return sorted(runs, key=_natural_key)


def _natural_key(path: Path) -> list[Any]:
    """trial-2 before trial-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def read_record(path: Path) -> RunRecord:
    """The record of one run directory; a missing or corrupt run.json is a GanError."""
    info = _read_json(checkpoint_file(path, RUN_FILE))  # a checkpoint cut while moving into place counts whole
    if not isinstance(info, dict) or not isinstance(info.get("components"), dict) or "train" not in info:
        raise GanError(f"{path / RUN_FILE} is not a gan run description (no components or train settings)")
    curves = read_curves(path / METRICS_FILE)
    evals, directions, reports, stale = _read_evals(path, checkpoint_step(info))
    own = (info["components"].get("sampler") or {}).get("name", "none")
    # The run's own sampler first: a later 'gan eval --sampler X' of one seed must not mix X into its row.
    chosen = reports.get(own) or reports.get(EVAL_FILE)
    final: dict[str, float] = {}
    final_from: dict[str, Any] = {}
    eval_std: dict[str, float] = {}
    protocols = {sampler: _protocol_of(report) for sampler, report in reports.items() if sampler != EVAL_FILE}
    if chosen is not None:
        final = _numbers(chosen.get("metrics", {}))
        eval_std = _numbers(chosen.get("eval_std", {}))
        final_from = {"source": EVAL_FILE if chosen is reports.get(EVAL_FILE) else f"{EVALS_DIR}/{own}.json",
                      "sampler": chosen.get("sampler"), "step": chosen.get("step"), **_protocol_of(chosen)}
    elif curves.evals:
        last = curves.evals[-1]
        final = {k: v for k, v in last.items() if k not in ("step", "epoch")}
        # evaluations during training score --eval-n samples against the test split, in the dataset's own network
        final_from = {"source": METRICS_FILE, "sampler": None, "step": int(last["step"]),
                      "n": info["train"].get("eval_n"), "ref": _dataset_name(info) + " test",
                      "features": _dataset_name(info), "metric_options": info["train"].get("metric_options") or {}}
    for metric in final:
        if metric in DEFAULT_DIRECTIONS:
            directions.setdefault(metric, DEFAULT_DIRECTIONS[metric])
    return RunRecord(path=path, info=info, settings=flatten_settings(info), final=final, final_from=final_from,
                     evals=evals, curves=curves, directions=directions, stale=stale, protocols=protocols,
                     eval_std=eval_std)


def _dataset_name(info: dict[str, Any]) -> str:
    dataset = info["components"].get("dataset")
    return str(dataset.get("name")) if isinstance(dataset, dict) else "?"


def _protocol_of(report: dict[str, Any]) -> dict[str, Any]:
    """What makes an evaluation comparable with another: its n, its real reference and its feature network."""
    features = report.get("features")
    options = report.get("metric_options") or {}
    return {"n": report.get("n"), "ref": report.get("ref"),
            "features": features.get("name") if isinstance(features, dict) else features,
            "metric_options": dict(options) if isinstance(options, dict) else {}}


def protocol_label(protocol: dict[str, Any]) -> str:
    """``10000 vs mnist test, mnist features`` (and any metric options, ``k=5``): evaluations with different
    labels are never pooled."""
    label = f"{protocol.get('n')} vs {protocol.get('ref')}, {protocol.get('features')} features"
    options = protocol.get("metric_options") or {}
    return label + "".join(f", {k}={v}" for k, v in sorted(options.items()))


def checkpoint_step(info: dict[str, Any]) -> int | None:
    """The step of the run's current checkpoint, per run.json; None when it records none."""
    checkpoint = info.get("checkpoint")
    step = checkpoint.get("step") if isinstance(checkpoint, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _is_stale(report: dict[str, Any], step: int | None) -> bool:
    """Whether ``report`` scored another checkpoint than the run's current one (it was resumed since).

    A report that records no step (written by hand or by an old gan) cannot be
    told apart and is kept.
    """
    scored = report.get("step")
    return step is not None and scored is not None and scored != step


def with_sampler_evals(records: list[RunRecord]) -> list[RunRecord]:
    """``records`` followed by one copy per post-hoc evaluation (``gan eval RUN --sampler X``, a sweep's
    ``eval-samplers``), its ``sampler`` setting and ``final`` metrics those of that evaluation.

    So ``gan compare --samplers`` puts "vanilla + drs" in a row of its own,
    its seeds pooled like any other row's, next to the same runs' plain row.
    """
    copies = []
    for record in records:
        own = str(record.settings.get("sampler", "none"))
        for sampler, values in record.evals.items():
            if sampler == own:
                continue
            settings = {k: v for k, v in record.settings.items() if not k.startswith("sampler.")}
            settings["sampler"] = sampler
            copies.append(replace(record, settings=settings, final=dict(values), evals={sampler: values},
                                  final_from={"source": f"{EVALS_DIR}/{sampler}.json", "sampler": sampler,
                                              "step": None, **record.protocols.get(sampler, {})},
                                  posthoc=sampler, eval_std={}))
    return records + copies


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GanError(f"{path} is corrupt ({exc}); fix or remove it") from exc


def _read_evals(path: Path, step: int | None) -> tuple[dict[str, dict[str, float]], dict[str, str],
                                                       dict[str, dict[str, Any]], dict[str, int]]:
    """Metrics per sampler, declared directions, the reports by sampler (eval.json also under its own name),
    and the files left out because they scored another step than ``step``, the run's checkpoint."""
    reports: dict[str, dict[str, Any]] = {}
    stale: dict[str, int] = {}
    folder = path / EVALS_DIR
    if folder.is_dir():
        for file in sorted(folder.glob("*.json")):
            if "@" in file.stem:  # SAMPLER@FEATURES.json: another feature space, read by read_feature_spaces
                continue
            report = _read_json(file)
            if isinstance(report, dict) and _is_stale(report, step):
                stale[f"{EVALS_DIR}/{file.name}"] = report["step"]
            elif isinstance(report, dict):
                reports[str(report.get("sampler") or file.stem)] = report
    latest = _read_json(path / EVAL_FILE) if (path / EVAL_FILE).is_file() else None
    if isinstance(latest, dict) and _is_stale(latest, step):
        stale[EVAL_FILE] = latest["step"]
    elif isinstance(latest, dict):
        if latest.get("sampler"):  # the newest evaluation of its sampler: it wins over an older evals/ file
            reports[str(latest["sampler"])] = latest
        reports[EVAL_FILE] = latest
    evals: dict[str, dict[str, float]] = {}
    directions: dict[str, str] = {}
    for sampler, report in reports.items():
        if sampler != EVAL_FILE:
            evals[sampler] = _numbers(report.get("metrics", {}))
        for metric, way in (report.get("directions") or {}).items():
            if parse_direction(way) is not None:
                directions[metric] = way
    return evals, directions, reports, stale


def read_feature_spaces(record: RunRecord) -> dict[str, dict[str, float]]:
    """The run's own-sampler metrics per feature network: its main evaluation's space, and each
    ``evals/SAMPLER@FEATURES.json`` (``gan eval RUN --features FEATURES``) of the current checkpoint."""
    spaces: dict[str, dict[str, float]] = {}
    if record.final_from and record.final_from.get("features"):
        spaces[str(record.final_from["features"])] = dict(record.final)
    own = str(record.settings.get("sampler", "none"))
    step = checkpoint_step(record.info)
    for file in sorted((record.path / EVALS_DIR).glob(f"{own}@*.json")):
        report = _read_json(file)
        if isinstance(report, dict) and not _is_stale(report, step):
            spaces[file.stem.split("@", 1)[1]] = _numbers(report.get("metrics", {}))
    return spaces


def _numbers(values: Any) -> dict[str, float]:
    if not isinstance(values, dict):
        return {}
    return {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def read_curves(path: Path) -> Curves:
    """The losses and evaluations in metrics.jsonl; unreadable lines (a crash mid-write) are skipped.

    A step logged twice (a run resumed from an earlier checkpoint logs it
    again) keeps its latest record.
    """
    logs: dict[int, dict[str, float]] = {}
    evals: dict[int, dict[str, float]] = {}
    if not path.is_file():
        return Curves()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict) or not isinstance(record.get("step"), (int, float)):
            continue
        step = int(record["step"])
        where = {"step": float(step), "epoch": float(record.get("epoch", math.nan))}
        if isinstance(record.get("eval"), dict):
            evals[step] = {**where, **_numbers(record["eval"])}
        else:
            logs[step] = {**_numbers(record), **where}
    return Curves(logs=[logs[s] for s in sorted(logs)], evals=[evals[s] for s in sorted(evals)])


#: settings whose zero or absence mean the same (runs saved before the setting existed have none)
OFF_WHEN_EMPTY = {"holdout", "metric_options"}


def flatten_settings(info: dict[str, Any]) -> dict[str, Scalar]:
    """run.json's choices as flat ``name: value`` pairs named like the CLI, bookkeeping left out."""
    settings: dict[str, Scalar] = {}
    components = info.get("components", {})
    for kind, prefix in KIND_PREFIXES.items():
        record = components.get(kind)
        if not isinstance(record, dict):
            continue
        settings[prefix] = record.get("name")
        for key, value in (record.get("options") or {}).items():
            settings[f"{prefix}.{key}"] = _scalar(value)
    train = dict(info.get("train", {}))
    steps_per_epoch = (info.get("data") or {}).get("steps_per_epoch")
    epochs, steps = train.get("epochs"), train.get("steps")
    if epochs is not None and steps is not None and steps_per_epoch and steps != epochs * steps_per_epoch:
        train.pop("epochs")  # trained with --steps: the epochs field is the unused default
    elif epochs is not None:
        train.pop("steps", None)  # derived from --epochs
    ordered = [k for k in TRAIN_ORDER if k in train] + [k for k in train if k not in TRAIN_ORDER]
    for key in ordered:
        if key in OFF_WHEN_EMPTY and not train[key]:
            continue  # "no hold-out" whether the run predates the setting or turned it off
        if key not in BOOKKEEPING:
            settings[key.replace("_", "-")] = _scalar(train[key])
    for key, value in (train.get("metric_options") or {}).items():
        settings[f"metric.{key}"] = _scalar(value)
    return settings


def _scalar(value: Any) -> Scalar:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value
