"""One description of a run, one way to build it, one way to load its weights.

Every path that needs a run's networks goes through here: ``gan train``
(new, ``--resume`` and ``--init-from``), ``load_run`` (sample, eval,
inspect, report), the conformance kit and the benchmarks. So a change to
how a run is put together (a new kind of part, a device placement, a
stacked engine) is made once, and a test (tests/test_structure.py) fails if
a second place starts building networks.

    spec = RunSpec.from_config(config)           # names + options, validated; no torch needed
    parts = spec.instantiate()                    # the components (may draw: a mixture's means)
    run = build_run(parts, image_shape, device)   # G, D, the loss's networks, checked on a dry run
    run.load_weights(tensors, source)             # a checkpoint's weights, all of them
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .assembly import Chosen, Parts, choose, construct
from .components import Discriminator, NetworkSpec, Networks, Prior, normalises_over_batch
from .errors import ComponentError
from .kinds import weight_kinds

if TYPE_CHECKING:
    import torch

    from .components import TrainedModel
    from .config import TrainConfig

#: the kinds whose parts hold weights (a run's dataset and sampler hold none)
MODEL_KINDS = weight_kinds()


@dataclass(frozen=True)
class RunSpec:
    """A run's components by kind, each with validated options, and its latent size.

    Made from the settings of a new run (:meth:`from_config`) or from a
    saved run.json (:meth:`from_run`, which reads options as the version
    that saved them meant them). Building it needs no torch; a typo in a
    name or option is refused here, before anything is loaded.
    """

    chosen: Mapping[str, Chosen]
    latent_dim: int | None = None

    @classmethod
    def from_config(cls, config: TrainConfig, *, saved: bool = False, kinds: Iterable[str] | None = None) -> RunSpec:
        from .assembly import choose_all

        chosen = choose_all(config, saved=saved)
        wanted = tuple(kinds) if kinds is not None else tuple(chosen)
        return cls({kind: chosen[kind] for kind in wanted}, config.latent_dim)

    @classmethod
    def from_run(cls, info: Mapping[str, Any], kinds: Iterable[str] = MODEL_KINDS) -> RunSpec:
        """The parts a saved run needs to be rebuilt (by default those with weights: its dataset's plugin may be gone)."""
        from .config import component_names, config_from_run
        from .registry import get_registry

        config = config_from_run(dict(info))
        names = component_names(config)
        registry = get_registry()
        return cls({kind: choose(registry, kind, names[kind], config.options.get(kind), saved=True) for kind in kinds},
                   config.latent_dim)

    def instantiate(self) -> Parts:
        """The components themselves; a prior may draw from torch's RNG here (a static mixture's means)."""
        return Parts(
            prior=construct(self.chosen["prior"], latent_dim=self.latent_dim),  # type: ignore[arg-type]
            loss=construct(self.chosen["loss"]),  # type: ignore[arg-type]
            architecture=construct(self.chosen["architecture"]),  # type: ignore[arg-type]
            dataset=construct(self.chosen["dataset"]) if "dataset" in self.chosen else None,  # type: ignore[arg-type]
        )


@dataclass
class BuiltRun:
    """The networks of one run on one device: what a checkpoint saves and loads."""

    parts: Parts
    spec: NetworkSpec
    generator: torch.nn.Module
    discriminator: Discriminator
    prior: Prior
    loss_modules: torch.nn.Module | None
    device: torch.device

    def modules(self) -> dict[str, torch.nn.Module]:
        """Each weight-holding module by the prefix its tensors carry in weights.safetensors."""
        named = {"generator": self.generator, "discriminator": self.discriminator, "prior": self.prior}
        if self.loss_modules is not None:
            named["loss"] = self.loss_modules
        return named

    def generator_parameters(self) -> list[torch.nn.Parameter]:
        """What G's optimiser trains: G, a learned prior, and the networks a loss trains beside G (an encoder)."""
        return [p for name, module in self.modules().items() if name != "discriminator" for p in module.parameters()]

    def weights(self) -> dict[str, torch.Tensor]:
        """Every module's state under its prefix, as weights.safetensors holds it."""
        from .runs import prefixed

        return {key: value for name, module in self.modules().items()
                for key, value in prefixed(name, module.state_dict()).items()}

    def load_weights(self, tensors: Mapping[str, torch.Tensor], source: Path) -> None:
        """Load a checkpoint's weights into every module, strictly: a mismatch is one sentence naming ``source``."""
        from .runs import load_module_state

        for name, module in self.modules().items():
            load_module_state(module, name, tensors, source)

    def start_from(self, tensors: Mapping[str, torch.Tensor], source: Path) -> None:
        """Take G and D from another run (``--init-from``); a D head of another form, and the rest, start fresh."""
        from .runs import load_module_state, prefixed, unprefixed

        load_module_state(self.generator, "generator", tensors, source)
        own = self.discriminator.state_dict()
        theirs = unprefixed("discriminator", tensors)
        if {k: v.shape for k, v in own.items() if k.startswith("head.")} != \
                {k: v.shape for k, v in theirs.items() if k.startswith("head.")}:
            theirs = {k: v for k, v in theirs.items() if not k.startswith("head.")}
            theirs.update({k: v for k, v in own.items() if k.startswith("head.")})
        load_module_state(self.discriminator, "discriminator", prefixed("discriminator", _into_parametrizations(theirs, own)),
                          source)

    def frozen(self, image_shape: tuple[int, int, int] | None) -> TrainedModel:
        """The model in eval mode without gradients, as samplers and metrics get it."""
        from .components import TrainedModel

        for module in self.modules().values():
            module.eval().requires_grad_(False)
        return TrainedModel(self.generator, self.discriminator, self.prior, self.parts.loss, self.device, image_shape)


def build_run(parts: Parts, image_shape: tuple[int, int, int], device: torch.device) -> BuiltRun:
    """G, D (adapted by the loss) and the loss's own networks for ``parts``, on ``device``, checked on a dry run.

    Initialisation draws from torch's RNG in a fixed order (G, D, then the
    loss's networks), so a seed gives the same networks in training,
    resuming and loading.
    """
    spec = network_spec(parts, tuple(image_shape))  # type: ignore[arg-type]
    generator, discriminator = build_networks(parts, spec, device)
    loss_modules = build_loss_modules(parts, spec, device)
    return BuiltRun(parts, spec, generator, discriminator, parts.prior.to(device), loss_modules, device)


def network_spec(parts: Parts, image_shape: tuple[int, int, int]) -> NetworkSpec:
    return NetworkSpec(
        image_shape=tuple(image_shape),  # type: ignore[arg-type]
        latent_dim=parts.prior.code_dim,
        d_outputs=parts.loss.discriminator_outputs(parts.prior),
    )


def build_networks(parts: Parts, spec: NetworkSpec, device: torch.device) -> tuple[torch.nn.Module, Discriminator]:
    """G and D from the architecture, D adapted by the loss, both checked on a dry run of two codes."""
    import torch

    arch = f"architecture '{parts.architecture.name}'"
    networks = parts.architecture.build(spec)
    if not isinstance(networks, Networks) or not isinstance(networks.generator, torch.nn.Module):
        raise ComponentError(f"{arch} build() returned {type(networks).__name__}; return gan_core.Networks(generator, discriminator)")
    if not isinstance(networks.discriminator, Discriminator):
        raise ComponentError(f"{arch} built a discriminator that is not a gan_core.Discriminator; subclass it")
    discriminator = parts.loss.prepare_discriminator(networks.discriminator)
    if not isinstance(discriminator, Discriminator):
        raise ComponentError(f"loss '{parts.loss.name}' prepare_discriminator() returned {type(discriminator).__name__}, not D")
    if normalises_over_batch(discriminator):
        if discriminator.joint_batches:
            raise ComponentError(
                f"{arch}'s discriminator normalises over the batch (BatchNorm) but sets joint_batches = True, "
                "so real and fake statistics would mix; leave joint_batches unset"
            )
        discriminator.joint_batches = False
    elif discriminator.joint_batches is None:
        discriminator.joint_batches = True
    generator = networks.generator.to(device)
    discriminator = discriminator.to(device)
    dry_run(parts, spec, generator, discriminator, device)
    return generator, discriminator


def dry_run(parts: Parts, spec: NetworkSpec, generator: torch.nn.Module, discriminator: Discriminator,
            device: torch.device) -> None:
    """Two zero codes through G and D in eval mode: shapes checked before any training, no RNG drawn."""
    import torch

    from .checks import checked_images, checked_outputs

    was_training = generator.training, discriminator.training
    generator.eval(), discriminator.eval()
    try:
        with torch.no_grad():
            images = generator(torch.zeros(2, spec.latent_dim, device=device))
            checked_images(f"architecture '{parts.architecture.name}''s generator", images, 2, spec.image_shape)
            checked_outputs(f"architecture '{parts.architecture.name}'", discriminator(images), 2, spec.d_outputs)
    finally:
        generator.train(was_training[0]), discriminator.train(was_training[1])


def build_loss_modules(parts: Parts, spec: NetworkSpec, device: torch.device) -> torch.nn.Module | None:
    """The networks the loss trains alongside G (see ``Loss.build_modules``), on ``device``."""
    modules = parts.loss.build_modules(parts.architecture, spec, parts.prior)
    return None if modules is None else modules.to(device)


def load_built(path: Path, device: torch.device) -> tuple[dict[str, Any], BuiltRun, dict[str, torch.Tensor]]:
    """A saved run rebuilt on ``device`` with the weights of its current checkpoint: (run.json, run, weights)."""
    from .runs import WEIGHTS_FILE, read_checkpoint, read_run

    parts = RunSpec.from_run(read_run(path)).instantiate()  # a typo-free spec before any tensor is read
    info, tensors, _ = read_checkpoint(path)
    weights = tensors[WEIGHTS_FILE]
    built = build_run(parts, tuple(info["data"]["shape"]), device)
    built.load_weights(weights, path)
    return info, built, weights


def _into_parametrizations(state: dict[str, torch.Tensor], own: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A plain D's weights for a D whose layers are parametrised (SAN's spectral norm): ``x.weight`` becomes
    ``x.parametrizations.weight.original``; the parametrisation's own state (power-iteration vectors) starts fresh."""
    marker = ".parametrizations."
    mapped = dict(state)
    for key in own:
        if marker in key and key not in state:
            layer, _, rest = key.partition(marker)
            name, _, tail = rest.partition(".")
            plain = f"{layer}.{name}"
            if tail == "original" and plain in state:
                mapped[key] = mapped.pop(plain)
            else:
                mapped[key] = own[key]
    return mapped
