"""Turning names and options into working parts: components, data, networks.

Everything here that can fail on user input fails before any file is
written, so ``gan train`` refuses bad input with nothing left on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .components import (
    Architecture,
    Combination,
    Component,
    DataRequest,
    Dataset,
    Discriminator,
    ImageData,
    Loss,
    NetworkSpec,
    Prior,
)
from .errors import GanError
from .options import build_options, options_to_dict
from .registry import ComponentEntry, Registry

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


def choose(registry: Registry, kind: str, name: str, raw_options: dict[str, Any] | None) -> Chosen:
    entry = registry.get(kind, name)
    options = build_options(entry.cls.Options, raw_options or {}, f"{kind} '{name}'")
    return Chosen(entry, options)


@dataclass
class Parts:
    """The instantiated components of one run."""

    prior: Prior
    loss: Loss
    architecture: Architecture
    dataset: Dataset | None = None


def instantiate(chosen: dict[str, Chosen], latent_dim: int | None) -> Parts:
    """Build the components; the dataset is optional (sampling needs none).

    ``latent_dim`` None means the prior's own ``default_latent_dim``.
    """
    make = lambda kind: chosen[kind].entry.cls(chosen[kind].options)  # noqa: E731
    prior_cls = chosen["prior"].entry.cls
    return Parts(
        prior=prior_cls(chosen["prior"].options, latent_dim or prior_cls.default_latent_dim),  # type: ignore[call-arg, attr-defined]
        loss=make("loss"),
        architecture=make("architecture"),
        dataset=make("dataset") if "dataset" in chosen else None,
    )


def load_data(dataset: Dataset, data_dir: str | None, split: str = "train") -> ImageData:
    request = DataRequest(split=split, data_dir=Path(data_dir) if data_dir else None)  # type: ignore[arg-type]
    data = dataset.load(request)
    if len(data) == 0:
        raise GanError(f"dataset '{dataset.name}' yielded no images")
    return data


def check_combination(combo: Combination) -> None:
    """Refuse a combination whose parts need something no other part provides."""
    provided = {LABELS} if combo.data.labels is not None else set()
    for part in combo.parts():
        provided |= part.provides()
    for part in combo.parts():
        for need, why in part.requires.items():
            if need not in provided:
                raise GanError(_missing_sentence(part, need, why, combo))
    for part in combo.parts():
        part.check(combo)


def _missing_sentence(part: Component, need: str, why: str, combo: Combination) -> str:
    if need == LABELS:
        return (
            f"{part.kind} '{part.name}' needs labelled data ({why}), "
            f"but dataset '{combo.dataset.name}' has no labels; use a labelled dataset or another {part.kind}"
        )
    return f"{part.kind} '{part.name}' needs {need} ({why}), but no other part of this combination provides it"


def network_spec(parts: Parts, image_shape: tuple[int, int, int]) -> NetworkSpec:
    return NetworkSpec(
        image_shape=tuple(image_shape),  # type: ignore[arg-type]
        latent_dim=parts.prior.code_dim,
        d_outputs=parts.loss.discriminator_outputs(parts.prior),
    )


def build_networks(parts: Parts, spec: NetworkSpec, device: torch.device) -> tuple[torch.nn.Module, Discriminator]:
    networks = parts.architecture.build(spec)
    discriminator = parts.loss.prepare_discriminator(networks.discriminator)
    if not isinstance(discriminator, Discriminator):
        raise TypeError(
            f"architecture '{parts.architecture.name}' built a discriminator that is not a gan_core.Discriminator"
        )
    return networks.generator.to(device), discriminator.to(device)


def build_loss_modules(parts: Parts, spec: NetworkSpec, device: torch.device) -> torch.nn.Module | None:
    """The networks the loss trains alongside G (see ``Loss.build_modules``), on ``device``."""
    modules = parts.loss.build_modules(parts.architecture, spec, parts.prior)
    return None if modules is None else modules.to(device)
