"""The conformance checks behind ``gan_core.testing.conformance_suite``.

Each check builds a component the way the core does and asserts one part of
its contract, on the CPU, on tiny synthetic data (64 MNIST-shaped random
images with ten labels), so a plugin's test suite runs in seconds and needs
no dataset. A failed check raises :class:`ConformanceFailure` with a message
that says what to fix.

Checks per kind (``Case.check``):

* every kind: ``contract`` (what registration checks, restated as a test);
* prior: ``sample``, ``device``, ``state``, ``determinism``, ``stacked``, ``train[...]``;
* loss: ``determinism``, ``realness``, ``stacked``, ``train[...]`` (with every installed prior and architecture);
* architecture: ``build``, ``device``, ``state``, ``determinism``, ``stacked``, ``train[...]``;
* sampler: ``sample[...]`` (with every installed prior), ``device``, ``state``, ``determinism``;
* metric: ``compute``, ``determinism``;
* dataset: ``load``, ``train`` (finite losses: neither NaN nor infinite).

``train[kind=name]`` trains two generator steps combined with one installed
component of another kind, the rest at the defaults (normal, vanilla, mlp);
a combination the core refuses (``requires`` unmet, a ``check`` that says
no) is skipped, not failed.

``stacked`` ("stacked equals separate", for a component that stacks: see
``Component.stacks`` and docs/plugins.md, "Stacked training") trains the
component as a stacked group of two members (seeds 0 and 1; member 1 with
other values of its ``member_options``) for two steps, and each member
alone, and holds their losses and weights to float tolerance. A component
that does not stack skips it, saying why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from safetensors.torch import load, save

from .assembly import Chosen, Parts, check_combination, check_requirements, choose, construct, provided_by
from .build import BuiltRun, build_run
from .callbacks import Callback
from .checks import checked_data, checked_images, checked_latent, checked_metric, checked_sample, checked_scores
from .components import Combination, Component, DataRequest, FeatureSet, ImageData, TrainedModel
from .contracts import check_component_class
from .engine import Schedule, Trainer, TrainState
from .errors import GanError
from .kinds import kind, weight_kinds
from .registry import ComponentEntry, Registry

#: the partners a check combines a component with, unless it varies that kind
DEFAULTS = {name: kind(name).default for name in weight_kinds()}
TRAINABLE = weight_kinds()
IMAGE_SHAPE = (1, 28, 28)


class ConformanceFailure(AssertionError):
    """A component that breaks its contract; the message names it and says what to fix."""


class Skip(Exception):
    """A check that does not apply (an incompatible combination); the message says why."""


@dataclass(frozen=True)
class Case:
    """One check of one component: ``run(registry)`` raises ConformanceFailure or Skip, or passes."""

    kind: str
    name: str
    check: str
    partner: tuple[str, str] | None = None  # (kind, name) of the component it is combined with
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        suffix = f"[{self.partner[0]}={self.partner[1]}]" if self.partner else ""
        return f"{self.kind}:{self.name}:{self.check}{suffix}"

    def run(self, registry: Registry) -> None:
        entry = registry.get(self.kind, self.name)
        kit = _Kit(registry, self.options)
        CHECKS[(self.check, self.kind)](kit, entry, self.partner)


def cases_for(registry: Registry, entries: list[ComponentEntry], options: Mapping[str, Mapping[str, Any]]) -> list[Case]:
    """Every check that applies to ``entries``, combined with what ``registry`` has installed."""
    cases: list[Case] = []
    for entry in entries:
        add = lambda check, partner=None: cases.append(Case(entry.kind, entry.name, check, partner, options))  # noqa: E731
        add("contract")
        if entry.kind in TRAINABLE:
            for check in {"prior": ("sample", "device", "state", "determinism", "stacked"),
                          "loss": ("determinism", "realness", "stacked"),
                          "architecture": ("build", "device", "state", "determinism", "stacked")}[entry.kind]:
                add(check)
            for other in TRAINABLE:
                if other == entry.kind:
                    continue
                for partner in registry.names(other):
                    add("train", (other, partner))
        elif entry.kind == "sampler":
            for partner in registry.names("prior"):
                add("sample", ("prior", partner))
            for check in ("device", "state", "determinism"):
                add(check)
        elif entry.kind == "metric":
            add("compute")
            add("determinism")
        elif entry.kind == "dataset":
            add("load")
            add("train")
    return cases


# --------------------------------------------------------------------------- building blocks


def fail(message: str) -> None:
    raise ConformanceFailure(message)


def _names_text(names: Mapping[str, str]) -> str:
    return " + ".join(f"{k} '{v}'" for k, v in names.items())


def _options_text(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


@contextmanager
def _failures_named(what: str, advice: str = "") -> Iterator[None]:
    """Turn the core's own errors into conformance failures naming ``what`` (and ending with ``advice``)."""
    after = f"; {advice}" if advice else ""
    try:
        yield
    except (ConformanceFailure, Skip):
        raise
    except GanError as exc:
        raise ConformanceFailure(f"{what}: {exc.message}{after}") from exc
    except Exception as exc:
        raise ConformanceFailure(f"{what} raised {type(exc).__name__}: {str(exc).rstrip('.') if after else exc}{after}") from exc


def toy_data(n: int = 64, seed: int = 0) -> ImageData:
    """``n`` random MNIST-shaped uint8 images with ten balanced labels: enough to take a few steps."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, *IMAGE_SHAPE), generator=g, dtype=torch.uint8)
    return ImageData(images, torch.arange(n) % 10, 10, "conformance toy data")


def round_trip(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """``module``'s state through safetensors, as a run stores it."""
    state = {k: v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()}
    return load(save(state)) if state else {}


class _Kit:
    def __init__(self, registry: Registry, options: Mapping[str, Mapping[str, Any]]) -> None:
        self.registry = registry
        self.options = options

    def chosen(self, kind: str, name: str, changed: Mapping[str, Any] | None = None) -> Chosen:
        """``name`` with the kit's options for it, and ``changed`` over them."""
        return choose(self.registry, kind, name, {**self.options.get(name, {}), **(changed or {})})

    def build(self, kind: str, name: str, changed: Mapping[str, Any] | None = None, **kwargs: Any) -> Component:
        what = f"{kind} '{name}' with {_options_text(changed)}" if changed else f"{kind} '{name}' with its default options"
        with _failures_named(what):
            return construct(self.chosen(kind, name, changed), **kwargs)

    def parts(self, names: Mapping[str, str], changed: Mapping[str, Mapping[str, Any]] | None = None) -> Parts:
        """The components ``names`` (kind -> name); ``changed`` sets options of some, by kind."""
        changed = changed or {}
        return Parts(
            prior=self.build("prior", names["prior"], changed.get("prior")),  # type: ignore[arg-type]
            loss=self.build("loss", names["loss"], changed.get("loss")),  # type: ignore[arg-type]
            architecture=self.build("architecture", names["architecture"], changed.get("architecture")),  # type: ignore[arg-type]
        )

    def combination(self, names: Mapping[str, str], data: ImageData, dataset: Component | None = None,
                    changed: Mapping[str, Mapping[str, Any]] | None = None) -> Parts:
        """The parts, or Skip when the core would refuse this combination before training."""
        parts = self.parts(names, changed)
        dataset = dataset or _ToyDataset(None)
        try:
            check_combination(Combination(parts.prior, parts.loss, parts.architecture, dataset, data))  # type: ignore[arg-type]
        except GanError as exc:
            raise Skip(f"the core refuses this combination: {exc.message}") from exc
        return parts

    def train(self, names: Mapping[str, str], data: ImageData, steps: int = 2, seed: int = 0,
              dataset: Component | None = None) -> list[float]:
        """``steps`` generator steps of the combination on ``data``; the logged D and G losses."""
        return self.trained(names, data, steps, seed, dataset)[0]

    def trained(self, names: Mapping[str, str], data: ImageData, steps: int, seed: int = 0,
                dataset: Component | None = None) -> tuple[list[float], TrainedModel]:
        """Train the combination ``steps`` generator steps; the losses and the model, in eval mode."""
        run = self.prepared(names, data, steps, seed, dataset)
        with _failures_named(f"training {_names_text(names)}"):
            losses = run.train_alone()
            model = run.built.frozen(tuple(data.shape))  # type: ignore[arg-type]
        return losses, model

    def prepared(self, names: Mapping[str, str], data: ImageData, steps: int, seed: int = 0,
                 dataset: Component | None = None, changed: Mapping[str, Mapping[str, Any]] | None = None) -> _Run:
        """The combination built from ``seed`` as ``gan train --seed`` builds it, ready to take ``steps`` steps."""
        from .config import TrainConfig
        from .training import make_optimizer, resolve_optim

        torch.manual_seed(seed)
        parts = self.combination(names, data, dataset, changed)
        with _failures_named(f"training {_names_text(names)}"):
            built = build_run(parts, data.shape, torch.device("cpu"))
            optim = resolve_optim(TrainConfig(), parts.loss.defaults())
            batch = max(2, min(8, len(data) // max(optim.d_steps, 1)))
            if len(data) < batch * optim.d_steps:
                raise Skip(f"{len(data)} images are fewer than one step needs")
            run = _Run(
                parts, built, data, optim.optimizer, optim.lr_g, optim.lr_d, tuple(optim.betas),  # type: ignore[arg-type]
                Schedule(batch, optim.d_steps, steps, len(data) // (batch * optim.d_steps), 1, 0),
                make_optimizer(optim.optimizer, built.generator_parameters(), optim.lr_g, optim.betas),
                make_optimizer(optim.optimizer, list(built.discriminator.parameters()), optim.lr_d, optim.betas),
                torch.Generator(),
            )
        run.stream.set_state(torch.get_rng_state())  # where training alone starts drawing (a member's own stream)
        return run

    def model(self, prior_name: str = "normal") -> tuple[TrainedModel, Parts]:
        """A model from ``prior_name`` and the default loss and architecture, trained until D tells real from fake.

        Samplers that calibrate on D (DRS, MH) rightly refuse a random D, so
        the model takes 30 steps on the toy data first; it is built once per
        prior and reused by every sampler check.
        """
        key = (id(self.registry), prior_name)
        if key not in _MODELS:
            names = {**DEFAULTS, "prior": prior_name}
            _, model = self.trained(names, toy_data(256), steps=30, seed=0)
            if len(_MODELS) > 16:  # one registry's worth of priors; a new registry starts over
                _MODELS.clear()
            _MODELS[key] = model
        model = _MODELS[key]
        parts = Parts(model.prior, model.loss, self.build("architecture", DEFAULTS["architecture"]))  # type: ignore[arg-type]
        return model, parts


@dataclass
class _Run:
    """One run as the kit builds it: its parts and networks, optimisers and schedule, not trained yet."""

    parts: Parts
    built: BuiltRun
    data: ImageData
    optimizer: str
    lr_g: float
    lr_d: float
    betas: tuple[float, float]
    schedule: Schedule
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    #: the global generator's state once the run is built: where its training draws start
    stream: torch.Generator

    def train_alone(self) -> list[float]:
        """Train it as ``gan train`` does (the engine's Trainer); the D and G losses of each step."""
        records = _Records()
        built = self.built
        torch.set_rng_state(self.stream.get_state())
        Trainer(built.generator, built.discriminator, built.prior, self.parts.loss, self.data, self.opt_g, self.opt_d,
                self.schedule, TrainState(), callbacks=records).run()
        return records.losses()


def train_stacked(runs: Sequence[_Run]) -> list[list[float]]:
    """Train ``runs`` as one stacked group, as ``gan train --seeds`` does; each member's D and G losses of each step.

    Each member's stream starts where the global generator stands once its
    run is built, as for the same run trained alone (gan_core.group). The
    members' modules hold their trained tensors afterwards.
    """
    from .stacking import Member, member_modules, member_option_values, stacked_trainer

    members = []
    for run in runs:
        built, parts = run.built, run.parts
        options = member_option_values({"prior": built.prior, "loss": parts.loss, "architecture": parts.architecture})
        members.append(Member(modules=member_modules(built), opt_g=run.opt_g, opt_d=run.opt_d, generator=run.stream,
                              callbacks=_Records(), checkpoint=lambda step: None, state=TrainState(), lr_g=run.lr_g,
                              lr_d=run.lr_d, options=options))
    first = runs[0]
    trainer = stacked_trainer(first.built, first.parts, members, first.data, first.schedule, first.optimizer,
                              first.betas)
    trainer.run()
    return [member.callbacks.losses() for member in members]  # type: ignore[attr-defined]


class _Records(Callback):
    """Keeps the loop's log records (every step: the kit logs each one)."""

    def __init__(self) -> None:
        self.logged: list[dict[str, Any]] = []

    def on_log(self, record: dict[str, Any]) -> None:
        self.logged.append(record)

    def losses(self) -> list[float]:
        """The D and G loss of each logged step: [d_1, g_1, d_2, g_2, ...]."""
        return [value for r in self.logged for value in (r["d_loss"], r["g_loss"])]


#: trained sampler-check models, by (registry, prior name)
_MODELS: dict[tuple[int, str], TrainedModel] = {}


class _ToyDataset:
    """Stands in for the dataset of a combination: labelled, no capabilities of its own."""

    kind, name, requires = "dataset", "toy", {}

    def __init__(self, options: Any) -> None:
        self.options = options

    def provides(self) -> frozenset[str]:
        return frozenset()

    def check(self, combo: Any) -> None:
        pass


# --------------------------------------------------------------------------- the checks


def check_contract(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    try:
        check_component_class(entry.kind, entry.cls)
    except TypeError as exc:
        fail(str(exc))
    component = kit.build(entry.kind, entry.name)
    if not (entry.cls.__doc__ or "").strip():
        fail(f"{entry.kind} '{entry.name}' has no docstring; its first line is what gan plugins shows")
    requires = component.requires
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in dict(requires).items()):
        fail(f"{entry.kind} '{entry.name}': requires must map capability names to reasons (str -> str)")


def _prior_samples(prior: Any, n: int, seed: int, component: int | None = None) -> Any:
    torch.manual_seed(seed)
    with _failures_named(f"prior '{prior.name}' sample({n})"):
        return checked_latent(prior, prior.sample(n, component=component), n, prior.code_dim)


def check_prior_sample(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    prior = kit.build("prior", entry.name)
    latent = _prior_samples(prior, 16, 0)
    if not torch.isfinite(latent.z).all():
        fail(f"prior '{entry.name}' returned non-finite codes")
    if prior.num_components is not None:
        for k in range(min(prior.num_components, 3)):
            labels = _prior_samples(prior, 4, 0, component=k).labels
            if labels is not None and not bool((labels == k).all()):
                fail(f"prior '{entry.name}' sample(n, component={k}) returned labels {labels.tolist()}; all should be {k}")
    if prior.supports_spread:
        prior.spread = 0.0
        a, b = _prior_samples(prior, 8, 0).z, _prior_samples(prior, 8, 1).z
        prior.spread = 1.0
        if prior.num_components is None and not torch.allclose(a, b):
            fail(f"prior '{entry.name}' sets supports_spread but its samples still vary with spread = 0; "
                 "multiply the spread around each mode by self.spread")


def check_prior_device(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    prior = kit.build("prior", entry.name)
    for device in _devices():
        prior = prior.to(device)
        z = _prior_samples(prior, 4, 0).z
        if z.device.type != device.type:
            fail(f"prior '{entry.name}' moved to {device} returned codes on {z.device}; create them on self.device")


def check_prior_state(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    torch.manual_seed(0)
    prior = kit.build("prior", entry.name)
    torch.manual_seed(1)  # a second instance that drew differently at construction
    again = kit.build("prior", entry.name)
    with _failures_named(f"prior '{entry.name}' load_state_dict of its own saved state"):
        again.load_state_dict(round_trip(prior))
    if not torch.equal(_prior_samples(prior, 8, 3).z, _prior_samples(again, 8, 3).z):
        fail(f"prior '{entry.name}' restored from its saved state samples differently; keep everything it draws "
             "at construction in parameters or buffers (register_buffer), so runs reopen as they were")


def check_prior_determinism(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    prior = kit.build("prior", entry.name)
    if not torch.equal(_prior_samples(prior, 8, 5).z, _prior_samples(prior, 8, 5).z):
        fail(f"prior '{entry.name}' gives different codes under the same seed; draw only from torch's RNG")


def check_train(kit: _Kit, entry: ComponentEntry, partner: tuple[str, str] | None) -> None:
    names = dict(DEFAULTS)
    names[entry.kind] = entry.name
    if partner is not None:
        names[partner[0]] = partner[1]
    losses = kit.train(names, toy_data())
    if not all(value == value and abs(value) != float("inf") for value in losses):
        fail(f"training {names} gave non-finite losses {losses}")


def check_loss_determinism(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    names = {**DEFAULTS, "loss": entry.name}
    if kit.train(names, toy_data(), seed=3) != kit.train(names, toy_data(), seed=3):
        fail(f"loss '{entry.name}' trains differently under the same seed; draw only from torch's RNG")


def _loss_parts(kit: _Kit, name: str) -> Parts:
    """The loss with the default partners, else with the first installed prior the core accepts it with.

    A loss that needs clusters (clustergan) is refused with the default prior;
    its realness() must be checked all the same.
    """
    priors = [DEFAULTS["prior"], *(p for p in kit.registry.names("prior") if p != DEFAULTS["prior"])]
    refusals = []
    for prior in priors:
        try:
            return kit.combination({**DEFAULTS, "prior": prior, "loss": name}, toy_data())
        except Skip as exc:
            refusals.append(str(exc))
    raise Skip(refusals[0])


def check_loss_realness(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    """realness() of D's outputs: one finite float score per image, differentiable.

    Post-hoc samplers rank and calibrate by it, and latent ascent follows its
    gradient, so a wrong shape, a NaN or a detached score breaks them long
    after training, where the cause is hard to see.
    """
    torch.manual_seed(0)
    parts = _loss_parts(kit, entry.name)
    n = 6
    with _failures_named(f"loss '{entry.name}' realness() of D's outputs"):
        built = build_run(parts, IMAGE_SHAPE, torch.device("cpu"))
        images = toy_data(n).images.float() / 127.5 - 1
        scores = checked_scores(parts.loss, parts.loss.realness(built.discriminator.eval()(images)), n)
    if not torch.isfinite(scores).all():
        fail(f"loss '{entry.name}' realness() returned non-finite scores {scores.tolist()} for ordinary images; "
             "return one finite score per image")
    if not scores.requires_grad:
        fail(f"loss '{entry.name}' realness() returned scores without a gradient; compute them from D's outputs "
             "with torch operations (no detach, no torch.no_grad), since latent ascent follows their gradient")


#: "stacked equals separate": the members' seeds, the steps they take, and the tolerances (see check_stacked)
STACK_SEEDS = (0, 1)
STACK_STEPS = 2
STACK_LOSS_RTOL, STACK_LOSS_ATOL = 1e-4, 1e-5  # a loss near 0 (a difference of means) is held to 1e-5 absolute
STACK_CLOSE = 1e-5  # a weight within this of its value alone agrees
STACK_SHARE = 0.99  # of all of a member's weights, that must agree
STACK_TENSOR_SHARE = 0.9  # of each tensor's elements (tensors of 100 or more), that must agree


def check_stacked(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    """Stacked equals separate: as a member of a stacked group, the component trains what it trains alone.

    ``gan train --seeds N`` runs one step of the component's code for all
    members at once under ``torch.func.vmap``. A component that draws from
    torch's global generator (every member then gets the same noise), reads
    a member option it cached at construction, reduces over more than its
    batch or changes state outside its tensors trains differently there.

    Two members (seeds 0 and 1; member 1 with other values of the
    component's ``member_options`` where its options accept them) train two
    steps stacked and then each alone on the toy data (batches of 8), with
    partners that stack (the defaults first). The losses of every step must
    agree to a relative 1e-4 (1e-5 absolute near 0); the weights to float
    tolerance: Adam moves every weight by about its learning rate per step
    whatever the size of the gradient, so float noise (a batched matrix
    product against single ones) may flip the sign of a gradient that is
    zero in exact arithmetic (a hinge whose real and fake terms cancel).
    Every element may therefore differ by at most two moves per step (a
    move: lr for Adam, lr / sqrt(1 - alpha) for RMSprop); 99% of the
    member's weights, and 90% of each tensor of 100 or more, must agree to
    1e-5; integer tensors (step counters) exactly.
    """
    from .stacking import RMSPROP_ALPHA

    component = kit.build(entry.kind, entry.name)
    refusal = component.stack_refusal()
    if refusal is not None:
        raise Skip(f"{entry.kind} '{entry.name}' does not stack ({refusal}), so gan train --seeds trains its runs "
                   "one after another; nothing to compare")
    names = _stacking_partners(kit, entry)
    data = toy_data()
    changed = _member_changes(kit, entry, component, len(STACK_SEEDS))
    what = _names_text(names)
    runs = [kit.prepared(names, data, STACK_STEPS, seed, changed={entry.kind: c} if c else None)
            for seed, c in zip(STACK_SEEDS, changed)]
    shared = {(r.optimizer, r.betas, r.schedule) for r in runs}
    if len(shared) > 1:
        fail(f"{entry.kind} '{entry.name}': its member options ({', '.join(component.member_options)}) change the "
             "optimiser, its betas or the D steps of defaults(), which the members of a group share; only the "
             "learning rates may differ between members")
    with _failures_named(f"training {what} as a stacked group of {len(runs)} (gan train --seeds {len(runs)})",
                         advice=STACKED_ADVICE):
        stacked = train_stacked(runs)
    weights = [{k: v.detach().clone() for k, v in run.built.weights().items()} for run in runs]
    lr = max(max(r.lr_g, r.lr_d) for r in runs)
    move = lr if runs[0].optimizer == "adam" else lr / math.sqrt(1 - RMSPROP_ALPHA)  # RMSprop's first steps: 10 lr
    bound = 2 * move * STACK_STEPS
    for m, (seed, c) in enumerate(zip(STACK_SEEDS, changed)):
        alone_run = kit.prepared(names, data, STACK_STEPS, seed, changed={entry.kind: c} if c else None)
        with _failures_named(f"training {what}"):
            alone = alone_run.train_alone()
        member = f"member {m} (seed {seed}{', ' + _options_text(c) if c else ''})"
        _compare_losses(f"{what}: {member}", alone, stacked[m])
        _compare_weights(f"{what}: {member}", alone_run.built.weights(), weights[m], bound)


STACKED_ADVICE = ("a stacked step runs the component's code for all members at once under torch.func.vmap; follow "
                  "docs/plugins.md, 'Stacked training' (no .item(), float() or if on a tensor inside a step, shapes "
                  "that do not depend on values, randomness only from gan_core.rng), or leave stacks = False")
_SAME_RUN_ADVICE = ("follow docs/plugins.md, 'Stacked training': draw randomness only through gan_core.rng "
                    "(rng.normal, rng.uniform, rng.integers), never torch.randn or nn.Dropout; reduce only over the "
                    "batch; keep state in parameters and buffers, not attributes set during a step; read member "
                    "options from self.options in the step, not from copies made at construction. Or leave "
                    "stacks = False")


def _compare_losses(who: str, alone: list[float], stacked: list[float]) -> None:
    if len(alone) != len(stacked):
        fail(f"{who} logged {len(stacked)} losses in the stacked group but {len(alone)} alone")
    for i, (a, b) in enumerate(zip(alone, stacked)):
        if not math.isclose(a, b, rel_tol=STACK_LOSS_RTOL, abs_tol=STACK_LOSS_ATOL):
            side = "DG"[i % 2]
            fail(f"{who}: the {side} loss of step {i // 2 + 1} is {b!r} in a stacked group but {a!r} alone; "
                 f"{_SAME_RUN_ADVICE}")


def _compare_weights(who: str, alone: Mapping[str, torch.Tensor], stacked: Mapping[str, torch.Tensor],
                     bound: float) -> None:
    if set(alone) != set(stacked):
        fail(f"{who} holds other tensors in a stacked group: {sorted(set(alone) ^ set(stacked))}")
    elements = differ = 0
    for key, x in alone.items():
        y = stacked[key]
        if x.shape != y.shape or x.dtype != y.dtype:
            fail(f"{who}: '{key}' is {tuple(y.shape)} {y.dtype} in a stacked group but {tuple(x.shape)} {x.dtype} alone")
        if not x.is_floating_point():
            if not torch.equal(x, y):
                fail(f"{who}: '{key}' ends at {y.tolist()} in a stacked group but {x.tolist()} alone; {_SAME_RUN_ADVICE}")
            continue
        diff = (x.double() - y.double()).abs()
        if diff.numel() == 0:
            continue
        worst, off = float(diff.max()), int((diff > STACK_CLOSE).sum())  # a NaN is neither <= bound nor close
        elements, differ = elements + diff.numel(), differ + off
        if not worst <= bound:
            fail(f"{who}: '{key}' ends {worst:.3g} away from its value alone, more than float noise explains "
                 f"({bound:.3g}: two optimiser moves per step); {_SAME_RUN_ADVICE}")
        if diff.numel() >= 100 and off > (1 - STACK_TENSOR_SHARE) * diff.numel():
            fail(f"{who}: {off} of the {diff.numel()} elements of '{key}' end more than {STACK_CLOSE:g} away from "
                 f"their values alone (float noise explains {1 - STACK_TENSOR_SHARE:.0%}); {_SAME_RUN_ADVICE}")
    if differ > (1 - STACK_SHARE) * elements:
        fail(f"{who}: {differ} of its {elements} weights end more than {STACK_CLOSE:g} away from their values alone "
             f"(float noise explains {1 - STACK_SHARE:.0%}); {_SAME_RUN_ADVICE}")


def _stacking_partners(kit: _Kit, entry: ComponentEntry) -> dict[str, str]:
    """Partners of the other kinds that stack and that the core accepts ``entry`` with: the defaults first."""
    stacks: dict[tuple[str, str], str | None] = {}

    def refusal(kind: str, name: str) -> str | None:
        if (kind, name) not in stacks:
            try:
                with torch.random.fork_rng(devices=[]):  # a prior may draw when built
                    stacks[(kind, name)] = kit.build(kind, name).stack_refusal()
            except ConformanceFailure as exc:  # a partner that cannot be built alone is no partner
                stacks[(kind, name)] = str(exc)
        return stacks[(kind, name)]

    others = [k for k in TRAINABLE if k != entry.kind]
    candidates = [[DEFAULTS[k], *(n for n in kit.registry.names(k) if n != DEFAULTS[k])] for k in others]
    reasons: list[str] = []
    for chosen in itertools.product(*candidates):
        names = {**DEFAULTS, entry.kind: entry.name, **dict(zip(others, chosen))}
        names = {k: names[k] for k in TRAINABLE}
        refused = next(((k, n, r) for k, n in zip(others, chosen) if (r := refusal(k, n)) is not None), None)
        if refused is not None:
            reasons.append(f"{refused[0]} '{refused[1]}' does not stack ({refused[2]})")
            continue
        try:
            with torch.random.fork_rng(devices=[]):
                kit.combination(names, toy_data())
        except Skip as exc:
            reasons.append(str(exc))
            continue
        return names
    raise Skip(f"no installed partners that stack combine with {entry.kind} '{entry.name}': "
               f"{reasons[0] if reasons else 'none is installed'}")


def _member_changes(kit: _Kit, entry: ComponentEntry, base: Component, members: int) -> list[dict[str, Any]]:
    """Each member's values of the component's ``member_options`` that differ from the first member's.

    Member 0 keeps the kit's options (those of ``base``); member m scales each
    number by 1 + m/2 (or 1 - m/4, or adds m to an integer) where the options
    accept it and the component still stacks, else keeps it.
    """
    changes: list[dict[str, Any]] = [{}]
    for m in range(1, members):
        changed: dict[str, Any] = {}
        for option in base.member_options:
            value = getattr(base.options, option, None)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if isinstance(value, int):
                tries: list[Any] = [value + m, value - m]
            elif value:
                tries = [value * (1 + m / 2), value * (1 - m / 4)]
            else:
                tries = [m / 2, -m / 2]
            for candidate in tries:
                try:
                    with torch.random.fork_rng(devices=[]):  # a prior may draw when built
                        other = construct(kit.chosen(entry.kind, entry.name, {**changed, option: candidate}))
                except Exception:  # noqa: BLE001 - a value the options or the component refuse: try the next
                    continue
                if other.stack_refusal() is None:
                    changed[option] = candidate
                    break
        changes.append(changed)
    return changes


def _networks(kit: _Kit, name: str, seed: int) -> tuple[torch.nn.Module, Any, Any]:
    torch.manual_seed(seed)
    parts = kit.parts({**DEFAULTS, "architecture": name})
    with _failures_named(f"architecture '{name}' build()"):
        built = build_run(parts, IMAGE_SHAPE, torch.device("cpu"))
    return built.generator, built.discriminator, built.spec


def check_arch_build(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    generator, discriminator, spec = _networks(kit, entry.name, 0)
    generator.eval()
    with torch.no_grad():
        images = generator(torch.randn(5, spec.latent_dim))
    with _failures_named(f"architecture '{entry.name}'"):
        checked_images(f"architecture '{entry.name}''s generator", images, 5, IMAGE_SHAPE)
    if not isinstance(discriminator.head, torch.nn.Linear):
        fail(f"architecture '{entry.name}': the discriminator's head must be an nn.Linear (losses such as SAN replace it)")
    architecture = kit.build("architecture", entry.name)
    if "encoder" in architecture.provides():
        with _failures_named(f"architecture '{entry.name}' build_encoder (it provides 'encoder')"):
            encoder = architecture.build_encoder(spec, 7).eval()
            out = encoder(images)
        if tuple(out.shape) != (5, 7):
            fail(f"architecture '{entry.name}' build_encoder(spec, 7) maps 5 images to shape {tuple(out.shape)}, not (5, 7)")


def check_arch_device(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    generator, discriminator, spec = _networks(kit, entry.name, 0)
    for device in _devices():
        g, d = generator.to(device).eval(), discriminator.to(device).eval()
        with torch.no_grad():
            out = d(g(torch.randn(2, spec.latent_dim, device=device)))
        if out.device.type != device.type:
            fail(f"architecture '{entry.name}' moved to {device} computes on {out.device}; register every tensor as a parameter or buffer")


def check_arch_state(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    g1, d1, spec = _networks(kit, entry.name, 0)
    g2, d2, _ = _networks(kit, entry.name, 1)
    with _failures_named(f"architecture '{entry.name}' load_state_dict of its own saved state"):
        g2.load_state_dict(round_trip(g1))
        d2.load_state_dict(round_trip(d1))
    z = torch.randn(3, spec.latent_dim)
    for net in (g1, d1, g2, d2):
        net.eval()
    with torch.no_grad():
        same = torch.equal(g1(z), g2(z)) and torch.equal(d1(g1(z)), d2(g2(z)))
    if not same:
        fail(f"architecture '{entry.name}' restored from its saved state computes differently; keep all state in parameters or buffers")


def check_arch_determinism(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    g1, d1, _ = _networks(kit, entry.name, 4)
    g2, d2, _ = _networks(kit, entry.name, 4)
    for a, b in ((g1, g2), (d1, d2)):
        for (key, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
            if not torch.equal(x, y):
                fail(f"architecture '{entry.name}' initialises '{key}' differently under the same seed; draw only from torch's RNG")


def _sampler(kit: _Kit, name: str, model: TrainedModel, parts: Parts) -> Any:
    sampler = kit.build("sampler", name)
    try:
        check_requirements(sampler, provided_by([parts.prior, parts.loss, parts.architecture], True), "the model")
    except GanError as exc:
        raise Skip(exc.message) from exc
    if sampler.needs_fit:
        torch.manual_seed(0)
        with _failures_named(f"sampler '{name}' fit()"):
            sampler.fit(model, toy_data(256), None)
    return sampler


def _draw(sampler: Any, model: TrainedModel, n: int, seed: int) -> Any:
    torch.manual_seed(seed)
    with _failures_named(f"sampler '{sampler.name}' sample(model, {n})"):
        return checked_sample(sampler, sampler.sample(model, n, component=None, max_proposals=None), n, IMAGE_SHAPE)


def check_sampler_sample(kit: _Kit, entry: ComponentEntry, partner: tuple[str, str] | None) -> None:
    model, parts = kit.model(partner[1] if partner else "normal")
    sampler = _sampler(kit, entry.name, model, parts)
    for n in (1, 7):
        _draw(sampler, model, n, 0)


def check_sampler_device(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    model, parts = kit.model()
    sampler = _sampler(kit, entry.name, model, parts)
    for device in _devices():
        moved = TrainedModel(model.generator.to(device), model.discriminator.to(device), model.prior.to(device),
                             model.loss, device, IMAGE_SHAPE)
        images = _draw(sampler.to(device), moved, 4, 0).images
        if images.device.type != device.type:
            fail(f"sampler '{entry.name}' given a model on {device} returned images on {images.device}")


def check_sampler_state(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    model, parts = kit.model()
    sampler = _sampler(kit, entry.name, model, parts)
    again = kit.build("sampler", entry.name)
    with _failures_named(f"sampler '{entry.name}' load_state_dict of its own fitted state"):
        again.load_state_dict(round_trip(sampler))
    if not torch.equal(_draw(sampler, model, 6, 2).images, _draw(again, model, 6, 2).images):
        fail(f"sampler '{entry.name}' restored from its saved state samples differently; keep what fit() learns "
             "in parameters or buffers (it is saved in the run under sampler.<name>.)")


def check_sampler_determinism(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    model, parts = kit.model()
    sampler = _sampler(kit, entry.name, model, parts)
    if not torch.equal(_draw(sampler, model, 6, 9).images, _draw(sampler, model, 6, 9).images):
        fail(f"sampler '{entry.name}' gives different images under the same seed; draw only from torch's RNG")


def _feature_sets(seed: int) -> tuple[FeatureSet, FeatureSet]:
    g = torch.Generator().manual_seed(seed)

    def one(shift: float) -> FeatureSet:
        features = torch.randn(200, 16, generator=g) + shift
        probs = torch.softmax(torch.randn(200, 10, generator=g), 1)
        images = torch.randint(0, 256, (200, *IMAGE_SHAPE), generator=g, dtype=torch.uint8)
        return FeatureSet(features, probs, images=images)

    return one(0.0), one(0.5)


def _compute(metric: Any, seed: int) -> dict[str, float]:
    real, fake = _feature_sets(seed)
    with _failures_named(f"metric '{metric.name}' compute()"):
        return checked_metric(metric, metric.headline, metric.compute(real, fake))


def check_metric_compute(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    metric = kit.build("metric", entry.name)
    values = _compute(metric, 0)
    if values[metric.headline] != values[metric.headline]:
        fail(f"metric '{entry.name}' returned NaN as its headline value on ordinary features")


def check_metric_determinism(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    metric = kit.build("metric", entry.name)
    if _compute(metric, 1) != _compute(metric, 1):
        fail(f"metric '{entry.name}' gives different values for the same features")


def _load(kit: _Kit, name: str) -> tuple[Component, ImageData]:
    dataset = kit.build("dataset", name)
    try:
        data = dataset.load(DataRequest(split="train", allow_download=False))  # type: ignore[attr-defined]
    except GanError as exc:
        raise Skip(f"dataset '{name}' is not available here: {exc.message}") from exc
    with _failures_named(f"dataset '{name}' load()"):
        return dataset, checked_data(dataset, data)


def check_dataset_load(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    _, data = _load(kit, entry.name)
    if len(data) == 0:
        fail(f"dataset '{entry.name}' loaded no images; raise GanError saying where the data should be instead")


def check_dataset_train(kit: _Kit, entry: ComponentEntry, partner: Any) -> None:
    dataset, data = _load(kit, entry.name)
    subset = ImageData(data.images[:64], None if data.labels is None else data.labels[:64], data.num_classes, data.source)
    losses = kit.train(DEFAULTS, subset, dataset=dataset)
    if not all(math.isfinite(value) for value in losses):  # NaN and +-inf alike
        fail(f"training on dataset '{entry.name}' gave non-finite losses {losses}")


def _devices() -> list[torch.device]:
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    return devices


#: the check of each (name, kind); "contract" applies to every kind, "train" to the trainable ones
CHECKS: dict[tuple[str, str], Callable[[_Kit, ComponentEntry, Any], None]] = {
    **{("contract", kind): check_contract for kind in ("prior", "loss", "architecture", "sampler", "metric", "dataset")},
    **{("train", kind): check_train for kind in TRAINABLE},
    ("sample", "prior"): check_prior_sample, ("device", "prior"): check_prior_device,
    ("state", "prior"): check_prior_state, ("determinism", "prior"): check_prior_determinism,
    ("determinism", "loss"): check_loss_determinism, ("realness", "loss"): check_loss_realness,
    ("build", "architecture"): check_arch_build, ("device", "architecture"): check_arch_device,
    ("state", "architecture"): check_arch_state, ("determinism", "architecture"): check_arch_determinism,
    **{("stacked", kind): check_stacked for kind in TRAINABLE},
    ("sample", "sampler"): check_sampler_sample, ("device", "sampler"): check_sampler_device,
    ("state", "sampler"): check_sampler_state, ("determinism", "sampler"): check_sampler_determinism,
    ("compute", "metric"): check_metric_compute, ("determinism", "metric"): check_metric_determinism,
    ("load", "dataset"): check_dataset_load, ("train", "dataset"): check_dataset_train,
}
