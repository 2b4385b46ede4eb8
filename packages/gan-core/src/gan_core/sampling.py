"""Loading a trained run for sampling, fitting samplers, writing images out.

A sampler that needs fitting (calibration, a weight network...) is fitted
once per checkpoint, and its state is saved in a file of its own,
``RUN/samplers/<name>.safetensors``, with the options it was fitted with and
the checkpoint's step; asking again with the same options at the same
checkpoint reuses it. Sampling never writes run.json or the weights, so it
can run while the same run trains on (``--resume``) or is sampled by another
process: a fit made for an older checkpoint is simply made again.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import Progress

from .assembly import Parts, check_requirements, choose, construct, load_data, provided_by, split_holdout
from .build import load_built
from .checks import checked_sample
from .components import ImageData, Sampler, TrainedModel
from .devices import seeded
from .errors import GanError
from .images import png_bytes, save_grid, to_uint8
from .options import options_to_dict
from .registry import get_registry
from .runs import STEP_KEY, load_module_state, load_tensors, prefixed, save_tensors, unprefixed
from .safefiles import atomic_write_bytes, staged_folder


@dataclass
class LoadedRun:
    """A trained run rebuilt from disk: its run.json, components, model and weights."""

    path: Path
    info: dict[str, Any]
    parts: Parts
    model: TrainedModel
    weights: dict[str, torch.Tensor]

    def load_data(self, split: str = "train", data_dir: str | None = None) -> ImageData:
        """The run's own dataset (``split``: train or test), with the options it was trained with (``limit`` too)."""
        record = self.info["components"]["dataset"]
        dataset = construct(choose(get_registry(), "dataset", record["name"], record["options"]))
        return load_data(dataset, data_dir or self.info["train"].get("data_dir"), split)  # type: ignore[arg-type]

    def fitting_data(self, data_dir: str | None = None) -> tuple[ImageData, str]:
        """What a sampler fits on, and a note saying which: the hold-out slice if the run kept one."""
        data = self.load_data("train", data_dir)
        train = self.info["train"]
        _, held = split_holdout(data, float(train.get("holdout") or 0.0), int(train.get("seed", 0)))
        if held is not None:
            return held, f"{len(held)} held-out training images D never saw"
        return data, "the training images D trained on (the run kept no hold-out slice: train with --holdout 0.1)"

    def provided(self) -> set[str]:
        """Capabilities of the run's parts, for checking a sampler's ``requires``."""
        parts = [self.parts.prior, self.parts.loss, self.parts.architecture]
        return provided_by(parts, self.info["data"].get("num_classes") is not None)


def load_run(path: Path, device: torch.device) -> LoadedRun:
    """Rebuild a run's prior, G and D from run.json and its safetensors weights, frozen for sampling."""
    info, built, weights = load_built(path, device)
    model = built.frozen(tuple(info["data"]["shape"]))
    return LoadedRun(path, info, built.parts, model, weights)


SAMPLERS_DIR = "samplers"
SAMPLER_KEY = "gan.sampler"  # the fitted sampler's record (name, options, package, fitted_on) in its file's metadata


@dataclass
class FittedSampler:
    """A sampler's saved fit: its record (options, package, ``fitted_on``) and its state."""

    record: dict[str, Any]
    state: dict[str, torch.Tensor]


def fitted_samplers(run: LoadedRun, only: str | None = None) -> dict[str, FittedSampler]:
    """The fits saved for the run's current checkpoint, by sampler name (``only`` that sampler's, if given).

    ``samplers/<name>.safetensors`` counts when its step is the checkpoint's;
    runs sampled before that layout kept fits in run.json and the weights
    (``sampler.<name>.*``), which are read as they are.
    """
    fits = {name: FittedSampler(record, unprefixed(f"sampler.{name}", run.weights))
            for name, record in (run.info.get("samplers") or {}).items() if only in (None, name)}
    if fits:
        from .deprecation import deprecated

        deprecated(f"{run.path}: sampler fits kept in run.json and weights.safetensors (the layout before "
                   "samplers/NAME.safetensors)", "fit the sampler again with this gan-core (gan sample RUN --sampler "
                   "NAME with its options), which saves it in samplers/", key="fits-in-run.json")
    folder = run.path / SAMPLERS_DIR
    files = [folder / f"{only}.safetensors"] if only else sorted(folder.glob("*.safetensors"))
    for file in files:
        if not file.is_file():
            continue
        try:
            record, state, step = _read_fit(file)
        except (GanError, KeyError, ValueError):
            continue  # unreadable or foreign: fitted again when asked for, and replaced
        if step == run.info["checkpoint"]["step"] and isinstance(record, dict):
            fits[str(record.get("name", file.stem))] = FittedSampler(record, state)
    return fits


def fit_record(run_dir: Path, name: str) -> dict[str, Any] | None:
    """What ``samplers/<name>.safetensors`` says of a fit (options, ``fitted_on``, step), or None if absent."""
    file = run_dir / SAMPLERS_DIR / f"{name}.safetensors"
    if not file.is_file():
        return None
    record, _, step = _read_fit(file)
    return {**record, "step": step}


def _read_fit(file: Path) -> tuple[Any, dict[str, torch.Tensor], int]:
    """A fit file's record, state and checkpoint step (GanError, KeyError or ValueError if it is not one)."""
    state, meta = load_tensors(file)
    return json.loads(meta[SAMPLER_KEY]), state, int(meta[STEP_KEY])


def prepare_sampler(
    run: LoadedRun,
    name: str | None,
    raw_options: dict[str, Any] | None,
    data_dir: str | None,
    console: Console,
) -> Sampler:
    """The sampler ``name`` (the run's default if None), fitted once per checkpoint and saved beside the run."""
    info = run.info
    own = info["components"].get("sampler") or {"name": "none", "options": {}}
    name = name or own["name"]
    registry = get_registry()
    fitted = fitted_samplers(run, name).get(name)
    saved = False
    if not raw_options:  # none given: the fitted state's options, else those the run was trained with
        recorded = fitted.record["options"] if fitted is not None else own["options"] if name == own["name"] else None
        # options saved by an older version: what they meant then (legacy values), not today's defaults
        raw_options, saved = recorded, recorded is not None
    chosen = choose(registry, "sampler", name, raw_options, saved=saved)
    sampler: Sampler = construct(chosen).to(run.model.device)  # type: ignore[assignment, union-attr]
    check_requirements(sampler, run.provided(), f"run {run.path}")
    if not sampler.needs_fit:
        return sampler
    if fitted is not None and options_to_dict(chosen.options) == options_to_dict(
            choose(registry, "sampler", name, fitted.record["options"], saved=True).options):
        load_module_state(sampler, "sampler", prefixed("sampler", fitted.state), run.path)
        return sampler
    data, which = run.fitting_data(data_dir)
    data = data.to(run.model.device)
    console.print(f"Fitting sampler '{name}' on {which}")
    # Seeded from the run's training seed: the same run and options always give the same fitted state.
    with Progress(console=console, transient=True) as progress, seeded(info["train"].get("seed", 0), run.model.device):
        sampler.fit(run.model, data, progress)
    save_sampler(run, sampler, {**chosen.record(), "fitted_on": which})
    return sampler


def save_sampler(run: LoadedRun, sampler: Sampler, record: dict[str, Any]) -> None:
    """Write a fitted sampler's state and record to ``samplers/<name>.safetensors``, in one atomic rename.

    One file holds both, and nothing else in the run is touched: two
    processes fitting at once each leave a whole file, and a training that
    checkpoints meanwhile makes the fit stale (another step), not wrong.
    """
    meta = {STEP_KEY: str(run.info["checkpoint"]["step"]), SAMPLER_KEY: json.dumps(record)}
    save_tensors(run.path / SAMPLERS_DIR / f"{record['name']}.safetensors", sampler.state_dict(), meta)


def check_component(run: LoadedRun, component: int | None) -> None:
    if component is None:
        return
    prior = run.model.prior
    if prior.num_components is None:
        raise GanError(
            f"--class needs a prior with components, but this run's prior '{prior.name}' has none; drop --class"
        )
    if not 0 <= component < prior.num_components:
        raise GanError(f"--class must be between 0 and {prior.num_components - 1} for prior '{prior.name}', not {component}")


def draw(
    sampler: Sampler,
    model: TrainedModel,
    n: int,
    *,
    batch_size: int,
    component: int | None,
    max_proposals: int | None,
    progress: Progress | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """``n`` images as uint8 (N, C, H, W) on the CPU, their labels, and the proposals it took."""
    images, labels, proposals = [], [], 0
    task = progress.add_task("sampling", total=n) if progress else None
    done = 0
    while done < n:
        size = min(batch_size, n - done)
        budget = None if max_proposals is None else max(max_proposals - proposals, 0)
        result = sampler.sample(model, size, component=component, max_proposals=budget)
        shape = model.image_shape or tuple(getattr(result.images, "shape", (0, 0))[1:])
        result = checked_sample(sampler, result, size, shape)
        images.append(to_uint8(result.images))
        if result.labels is not None:
            labels.append(result.labels.cpu())
        proposals += result.proposals
        done += size
        if progress is not None and task is not None:
            progress.update(task, completed=done)
    return torch.cat(images), (torch.cat(labels) if labels else None), proposals


def write_pngs(images: torch.Tensor, out: Path) -> None:
    """One PNG per image, in a folder that appears at ``out`` only when complete."""
    with staged_folder(out) as staging:
        width = max(6, len(str(len(images) - 1)))
        for i, image in enumerate(images):
            (staging / f"{i:0{width}d}.png").write_bytes(png_bytes(image))


def write_npz(images: torch.Tensor, labels: torch.Tensor | None, out: Path) -> None:
    """uint8 images as (N, H, W, C), the layout most GAN evaluation tools read, plus labels."""
    arrays = {"images": images.permute(0, 2, 3, 1).numpy()}
    if labels is not None:
        arrays["labels"] = labels.numpy()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(out, buffer.getvalue())


def write_grid(images: torch.Tensor, out: Path, limit: int = 100) -> None:
    save_grid(images[:limit], out)
