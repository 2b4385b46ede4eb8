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
from .evaluate import Evaluator, Protocol


def evaluate_run(
    run: Path,
    protocol: Protocol,
    device: torch.device,
    *,
    sampler: str | None = None,
    sampler_options: dict[str, Any] | None = None,
    seed: int = 0,
    batch_size: int = 1000,
    console: Console | None = None,
) -> dict[str, Any]:
    """Metrics of ``protocol.n`` images from ``run``'s sampler (its default if None), written to its eval files.

    ``RUN/eval.json`` holds the latest evaluation and ``RUN/evals/SAMPLER.json``
    the latest per sampler, so samplers can be compared afterwards.
    """
    from ..sampling import draw, load_run, prepare_sampler

    console = console or Console(stderr=True)
    started = time.perf_counter()
    check_own_dataset(run, protocol, read_run(run))  # before any weights load
    loaded = load_run(run, device)
    data_info = loaded.info["components"]["dataset"]
    protocol.dataset, protocol.dataset_options = data_info["name"], data_info["options"]
    protocol.data_dir = protocol.data_dir or loaded.info["train"].get("data_dir")
    evaluator = Evaluator(protocol, device)
    chosen = prepare_sampler(loaded, sampler, sampler_options, protocol.data_dir, console)
    torch.manual_seed(seed)
    sampling_started = time.perf_counter()
    with Progress(console=console, transient=True) as progress:
        images, _, proposals = draw(chosen, loaded.model, protocol.n, batch_size=batch_size, component=None,
                                    max_proposals=None, progress=progress)
    sampling_seconds = time.perf_counter() - sampling_started
    values = evaluator.evaluate(images, str(run))
    report: dict[str, Any] = {
        "target": str(run), "step": loaded.info["checkpoint"]["step"], "sampler": chosen.name,
        "sampler_options": options_to_dict(chosen.options),  # what reproducing this evaluation needs
        "threads": torch.get_num_threads(),
        "acceptance": protocol.n / max(proposals, 1), "sampling_seconds": round(sampling_seconds, 3),
        "images_per_s": round(protocol.n / max(sampling_seconds, 1e-9), 1),
        "n": len(images), "metrics": values, **evaluator.describe(),
        "seconds": round(time.perf_counter() - started, 2),
    }
    atomic_write_json(run / "eval.json", report)
    atomic_write_json(run / "evals" / f"{chosen.name}.json", report)
    return report


def check_own_dataset(run: Path, protocol: Protocol, info: dict[str, Any]) -> None:
    """Refuse a dataset other than the run's own: its metrics would compare the run with images it never learned.

    ``protocol.dataset`` None means none was chosen; naming the run's own is accepted.
    """
    own = info["components"]["dataset"]["name"]
    if protocol.dataset is not None and protocol.dataset != own:
        raise GanError(f"{run} was trained on '{own}', not '{protocol.dataset}', and a run is evaluated against "
                       "its own dataset; drop --dataset")
