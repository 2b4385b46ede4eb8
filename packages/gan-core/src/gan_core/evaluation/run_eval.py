"""Evaluating a trained run: draw from its sampler, score against its own dataset, record the result.

One function serves ``gan eval RUN`` and every sweep trial, so a trial's
eval.json is exactly what ``gan eval`` would have written.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import Progress

from ..errors import GanError
from ..options import options_to_dict
from ..runs import read_run
from ..safefiles import atomic_write_json
from .evaluate import Evaluator, Protocol, summarise_draws


def evaluate_run(
    run: Path,
    protocol: Protocol,
    device: torch.device,
    *,
    sampler: str | None = None,
    sampler_options: dict[str, Any] | None = None,
    seed: int = 0,
    repeats: int = 1,
    batch_size: int = 1000,
    console: Console | None = None,
) -> dict[str, Any]:
    """Metrics of ``protocol.n`` images from ``run``'s sampler (its default if None), written to its eval files.

    ``RUN/eval.json`` holds the latest evaluation and ``RUN/evals/SAMPLER.json``
    the latest per sampler, so samplers can be compared afterwards; an
    evaluation in another feature network than the dataset's own goes to
    ``RUN/evals/SAMPLER@NETWORK.json`` only (:func:`eval_files`).

    ``repeats`` K > 1 evaluates K independent draws, apart from training
    noise: draw i generates with seed ``seed + i`` and compares with a fresh
    subset of ``n`` real images chosen by ``seed + i`` (the first draw with
    the fixed subset a single evaluation uses, so that K = 1 is exactly the
    plain evaluation). When the split holds no more than ``n`` images every
    draw compares with all of it, and the record says
    ``"reference_resampled": false``.
    """
    from ..sampling import draw, load_run, prepare_sampler

    if repeats < 1:
        raise GanError(f"--repeats must be at least 1, not {repeats}")
    console = console or Console(stderr=True)
    started = time.perf_counter()
    check_own_dataset(run, protocol, read_run(run))  # before any weights load
    loaded = load_run(run, device)
    data_info = loaded.info["components"]["dataset"]
    protocol.dataset, protocol.dataset_options = data_info["name"], data_info["options"]
    protocol.data_dir = protocol.data_dir or loaded.info["train"].get("data_dir")
    evaluator = Evaluator(protocol, device)
    chosen = prepare_sampler(loaded, sampler, sampler_options, protocol.data_dir, console)
    draws: list[dict[str, float]] = []
    sampling_seconds, proposals, n = 0.0, 0, 0
    for i in range(repeats):
        torch.manual_seed(seed + i)
        sampling_started = time.perf_counter()
        with Progress(console=console, transient=True) as progress:
            images, _, tried = draw(chosen, loaded.model, protocol.n, batch_size=batch_size, component=None,
                                    max_proposals=None, progress=progress)
        sampling_seconds += time.perf_counter() - sampling_started
        proposals, n = proposals + tried, len(images)
        reference = evaluator.reference_draw(None if i == 0 else seed + i)
        draws.append(evaluator.evaluate(images, str(run), reference))
        del images
    made = protocol.n * repeats
    report: dict[str, Any] = {
        "target": recorded_target(run), "step": loaded.info["checkpoint"]["step"], "sampler": chosen.name,
        "sampler_options": options_to_dict(chosen.options),  # what reproducing this evaluation needs
        "seed": seed, "repeats": repeats,
        "threads": torch.get_num_threads(),
        "acceptance": made / max(proposals, 1), "sampling_seconds": round(sampling_seconds, 3),
        "images_per_s": round(made / max(sampling_seconds, 1e-9), 1),
        "n": n, **summarise_draws(draws), **evaluator.describe(),
    }
    if repeats > 1:
        report["reference_resampled"] = evaluator.reference_resampled
    report["seconds"] = round(time.perf_counter() - started, 2)
    for path in eval_files(run, protocol, chosen.name):
        atomic_write_json(path, report)
    return report


def recorded_target(run: Path) -> str:
    """How an evaluation names the run it scored: the path as given, never this machine's absolute path.

    The record is kept in the run folder, which is moved, copied to other
    machines and committed (benchmarks/results/). A relative path is kept
    as given; an absolute one (a sweep names its trials so, for Ray's
    workers) is written relative to the working directory when it lies
    below it, else as the run folder's name. Readers take ``target`` as a
    label: records that hold an absolute path read as before.
    """
    if not run.is_absolute():
        return str(run)
    try:
        return str(run.relative_to(Path.cwd()))
    except ValueError:
        return run.name


def eval_files(run: Path, protocol: Protocol, sampler: str) -> list[Path]:
    """Where an evaluation of ``run`` with ``sampler`` is written: ``eval.json`` and ``evals/SAMPLER.json`` in the
    dataset's own feature network, what gan compare reads; ``evals/SAMPLER@NETWORK.json`` alone in another network.

    ``protocol.dataset`` is the run's dataset (set by :func:`evaluate_run`).
    """
    if protocol.features is None or protocol.features == protocol.dataset_name:
        return [run / "eval.json", run / "evals" / f"{sampler}.json"]
    return [run / "evals" / f"{sampler}@{protocol.features}.json"]


def check_own_dataset(run: Path, protocol: Protocol, info: dict[str, Any]) -> None:
    """Refuse a dataset other than the run's own: its metrics would compare the run with images it never learned.

    ``protocol.dataset`` None means none was chosen; naming the run's own is accepted.
    """
    own = info["components"]["dataset"]["name"]
    if protocol.dataset is not None and protocol.dataset != own:
        raise GanError(f"{run} was trained on '{own}', not '{protocol.dataset}', and a run is evaluated against "
                       "its own dataset; drop --dataset")
