"""Turning names and options into working parts: components and data (networks: :mod:`gan_core.build`).

Everything here that can fail on user input fails before any file is
written, so ``gan train`` refuses bad input with nothing left on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .components import Architecture, Combination, Component, DataRequest, Dataset, ImageData, Loss, Prior
from .errors import GanError
from .options import build_options, options_to_dict
from .registry import ComponentEntry, Registry

if TYPE_CHECKING:  # torch is imported where data or networks are built: choosing components needs none
    import torch

#: capabilities the core itself derives from the data
LABELS = "labels"


@dataclass
class Chosen:
    """One component picked by name, with its validated options."""

    entry: ComponentEntry
    options: Any

    def record(self) -> dict[str, Any]:
        """What run.json keeps to rebuild it."""
        return {
            "name": self.entry.name,
            "options": options_to_dict(self.options),
            "package": self.entry.package,
            "version": self.entry.version,
        }


def choose(registry: Registry, kind: str, name: str, raw_options: dict[str, Any] | None, *, saved: bool = False) -> Chosen:
    """Component ``name`` of ``kind`` with checked options; ``saved``: the options of a saved run (see ``option(legacy=)``)."""
    entry = registry.get(kind, name)
    options = build_options(entry.cls.Options, raw_options or {}, f"{kind} '{name}'", saved=saved)
    return Chosen(entry, options)


def choose_all(config: Any, *, saved: bool = False) -> dict[str, Chosen]:
    """Every component a TrainConfig names, by kind, its options checked: a typo is refused before torch loads."""
    from .config import component_names
    from .registry import get_registry

    registry = get_registry()
    return {kind: choose(registry, kind, name, config.options.get(kind), saved=saved)
            for kind, name in component_names(config).items()}


@dataclass
class Parts:
    """The instantiated components of one run."""

    prior: Prior
    loss: Loss
    architecture: Architecture
    dataset: Dataset | None = None


def construct(chosen: Chosen, *, latent_dim: int | None = None) -> Component:
    """The one way every component is built: ``Cls(options)``; a prior also gets ``latent_dim``.

    ``latent_dim`` None means the prior's own ``default_latent_dim``.
    """
    cls = chosen.entry.cls
    if chosen.entry.kind == "prior":
        # positional, as gan-core 0.1 called it: a prior may name the argument as it likes
        return cls(chosen.options, latent_dim or cls.default_latent_dim)  # type: ignore[call-arg, attr-defined]
    return cls(chosen.options)  # type: ignore[call-arg]


def instantiate(chosen: dict[str, Chosen], latent_dim: int | None) -> Parts:
    """Build the components; the dataset is optional (sampling needs none)."""
    return Parts(
        prior=construct(chosen["prior"], latent_dim=latent_dim),  # type: ignore[arg-type]
        loss=construct(chosen["loss"]),  # type: ignore[arg-type]
        architecture=construct(chosen["architecture"]),  # type: ignore[arg-type]
        dataset=construct(chosen["dataset"]) if "dataset" in chosen else None,  # type: ignore[arg-type]
    )


def load_data(dataset: Dataset, data_dir: str | None, split: str = "train") -> ImageData:
    import torch

    from .checks import checked_data

    request = DataRequest(split=split, data_dir=Path(data_dir) if data_dir else None)  # type: ignore[arg-type]
    data = dataset.load(request)
    labels = getattr(data, "labels", None)
    if isinstance(labels, torch.Tensor) and labels.dtype != torch.int64 and not labels.is_floating_point():
        data.labels = labels.long()  # uint8 labels read with numpy are common; the contract is int64
    data = checked_data(dataset, data)
    if len(data) == 0:
        raise GanError(f"dataset '{dataset.name}' yielded no images")
    return data


def split_holdout(data: ImageData, fraction: float, seed: int) -> tuple[ImageData, ImageData | None]:
    """(the images D trains on, the hold-out slice D never sees), the same for a given seed and fraction.

    The slice is drawn with a generator of its own, so it does not depend on
    (or disturb) the training RNG: a resumed run and a sampler refitted later
    find exactly the same images.
    """
    if not fraction:
        return data, None
    train, held = holdout_indices(len(data), fraction, seed)

    def pick(index: torch.Tensor) -> ImageData:
        index = index.to(data.images.device)
        labels = None if data.labels is None else data.labels[index]
        return ImageData(data.images[index], labels, data.num_classes, data.source)

    return pick(train), pick(held)


def holdout_indices(size: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The indices of the images D trains on and of the held-out slice, as :func:`split_holdout` picks them.

    A stacked group keeps one copy of the data and each member's indices.
    """
    import torch

    count = int(round(size * fraction))
    if count < 1 or count >= size:
        raise GanError(f"--holdout {fraction} keeps {count} of {size} images; use a share between 0 and 1 that leaves both sides some")
    order = torch.randperm(size, generator=torch.Generator().manual_seed(seed + 7919))
    return order[count:], order[:count]


def provided_by(parts: list[Component], has_labels: bool) -> set[str]:
    """The capabilities a set of parts offers (labelled data provides ``labels``)."""
    provided = {LABELS} if has_labels else set()
    for part in parts:
        provided |= set(part.provides())
    return provided


def check_requirements(part: Component, provided: set[str], context: str, labels_from: str | None = None) -> None:
    """Refuse ``part`` when it requires a capability ``provided`` lacks.

    ``context`` names what should have provided it; ``labels_from`` what
    should have provided labels (the dataset), when that differs.
    """
    for need, why in part.requires.items():
        if need not in provided:
            if need == LABELS:
                raise GanError(
                    f"{part.kind} '{part.name}' needs labelled data ({why}), but {labels_from or context} has no labels; "
                    f"use a labelled dataset or another {part.kind}"
                )
            raise GanError(f"{part.kind} '{part.name}' needs {need} ({why}), but {context} does not provide it")


def check_combination(combo: Combination) -> None:
    """Refuse a combination whose parts need something no other part provides."""
    provided = provided_by(combo.parts(), combo.data.labels is not None)
    for part in combo.parts():
        check_requirements(part, provided, "the rest of this combination", labels_from=f"dataset '{combo.dataset.name}'")
    for part in combo.parts():
        part.check(combo)
