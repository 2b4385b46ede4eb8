"""What a command plugin needs from the core, as public functions.

``gan cluster`` and ``gan explore`` (gan-cluster) are built from these and
nothing else: open a run, rebuild its data, build any installed component by
name, show progress, write results atomically. Each is re-exported from
``gan_core``; import it from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import Progress
from torch import nn

from .assembly import choose, construct, load_data
from .components import Component, ImageData
from .devices import resolve_device as _resolve_device
from .evaluation.extractor import FeatureExtractor
from .images import save_grid as _save_grid
from .registry import get_registry
from .safefiles import atomic_write_json as _atomic_write_json
from .sampling import LoadedRun, check_component, load_run as _load_run

__all__ = [
    "LoadedRun",
    "atomic_write_json",
    "check_class_index",
    "create_component",
    "feature_network",
    "load_dataset",
    "load_run",
    "progress",
    "resolve_device",
    "save_grid",
    "shipped_classifier",
]


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``; a GanError for a device that is not there."""
    return name if isinstance(name, torch.device) else _resolve_device(name)


def load_run(path: str | Path, device: str | torch.device = "auto") -> LoadedRun:
    """A trained run, ready to use: ``.model`` (a TrainedModel in eval mode), ``.parts``, ``.info`` (run.json).

    ``.load_data(split)`` rebuilds the run's dataset. A missing or corrupt run
    is a GanError naming the problem.
    """
    return _load_run(Path(path), resolve_device(device))


def create_component(kind: str, name: str, raw_options: dict[str, Any] | None = None, *,
                     latent_dim: int | None = None) -> Component:
    """An installed component, by kind and name, with its options checked, built as the core builds it.

    How one plugin builds on another without importing its package (the
    clustergan loss wraps whichever base loss the user names). A prior takes
    ``latent_dim`` (default: its own ``default_latent_dim``).
    """
    return construct(choose(get_registry(), kind, name, raw_options), latent_dim=latent_dim)


def load_dataset(name: str, raw_options: dict[str, Any] | None = None, *, split: str = "train",
                 data_dir: str | Path | None = None) -> ImageData:
    """The images of an installed dataset: uint8 (N, C, H, W) and labels, checked."""
    dataset = create_component("dataset", name, raw_options)
    return load_data(dataset, str(data_dir) if data_dir else None, split)  # type: ignore[arg-type]


def check_class_index(run: LoadedRun, component: int | None) -> None:
    """Refuse ``--class K`` (GanError) unless the run's prior has a component K."""
    check_component(run, component)


def feature_network(name: str, device: str | torch.device = "cpu") -> FeatureExtractor:
    """The evaluation feature network registered as ``name`` (a dataset's name, or ``inception``)."""
    from .evaluation.features import make_extractor

    return make_extractor(name, resolve_device(device))


def shipped_classifier(name: str, device: str | torch.device = "cpu") -> nn.Module:
    """gan-core's shipped classifier for dataset ``name``: images in [-1, 1] to class logits, frozen.

    ``.classifier.out_features`` is its number of classes. It is the
    evaluation network: use it to analyse, never as a training signal.
    """
    from .evaluation.featurenet import load_feature_net

    net, _ = load_feature_net(name, resolve_device(device))
    return net


def save_grid(images: torch.Tensor, path: str | Path, columns: int | None = None) -> None:
    """uint8 images (N, C, H, W) as one PNG grid, written atomically."""
    _save_grid(images, Path(path), columns)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write JSON so that readers see the old file or the new one, never half of it."""
    _atomic_write_json(Path(path), obj)


def progress(console: Console | None = None) -> Progress:
    """A progress display on stderr that disappears when done: ``with progress() as p: ...``."""
    return Progress(console=console or Console(stderr=True), transient=True)
