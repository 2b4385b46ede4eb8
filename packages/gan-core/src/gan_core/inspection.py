"""What ``gan inspect`` reports of a run, under stable keys: settings, components and results from its records.

run.json, eval.json and metrics.jsonl are enough for everything but what the
components learned (a learned prior's means...), which needs the weights: a
run kept or committed without them is still inspected, and the report says
once what is missing. Nothing here imports torch unless the weights are there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import GanError
from .runs import METRICS_FILE, WEIGHTS_FILE, checkpoint_file, read_run

EVAL_FILE = "eval.json"


def inspect_run(path: Path) -> dict[str, Any]:
    """The ``gan inspect --json`` report of the run at ``path``; each key is there for every run, None if unknown.

    ``not_shown`` is the one line saying what the report leaves out and why
    (no weights, or weights that cannot be read), None when nothing is.
    """
    info = _run_info(path)
    weights = checkpoint_file(path, WEIGHTS_FILE).is_file()
    report: dict[str, Any] = {
        "run": str(path),
        "name": info.get("name"),
        "status": info.get("status"),
        "training": training_settings(info),
        "data": data_settings(info),
        "components": {kind: {"name": record.get("name"), "package": record.get("package"),
                              "version": record.get("version"), "options": dict(record.get("options") or {})}
                       for kind, record in info["components"].items()},
        "best": info.get("best"),
        "evaluation": final_evaluation(path, info),
        "evaluated_samplers": sorted(p.stem for p in (path / "evals").glob("*.json")),
        "curves": last_curve_point(path),
        "weights": weights,
        "learned": None,
        "fitted_samplers": None,
        "not_shown": None if weights else
        f"what the components learned, for want of {path / WEIGHTS_FILE} (gan sample and gan eval need it too)",
    }
    if weights:
        try:
            report["learned"], report["fitted_samplers"] = learned(path)
        except GanError as exc:  # a plugin gone, a checkpoint half copied: the records still stand
            report["not_shown"] = f"what the components learned, as the weights cannot be read: {exc.message}"
    return report


def _run_info(path: Path) -> dict[str, Any]:
    """run.json, or a GanError saying what to inspect instead (a group's folder holds one run per seed)."""
    from .group import GROUP_FILE, group_members, is_group

    if path.is_dir() and is_group(path) and not (path / "run.json").is_file():
        members = group_members(path)
        raise GanError(f"{path} is a group of {len(members)} runs ({GROUP_FILE}); inspect one of them, "
                       f"e.g. gan inspect {members[0] if members else path / 'seed=0'}")
    return read_run(path)


def training_settings(info: dict[str, Any]) -> dict[str, Any]:
    """The settings a researcher asks about first: optimiser, batch, seed, budget, progress, device."""
    train, data, checkpoint = info.get("train") or {}, info.get("data") or {}, info.get("checkpoint") or {}
    steps, per_epoch = train.get("steps"), data.get("steps_per_epoch")
    return {
        "optimizer": train.get("optimizer"),
        "lr_g": train.get("lr_g"),
        "lr_d": train.get("lr_d"),
        "betas": train.get("betas"),
        "d_steps": train.get("d_steps"),
        "batch_size": train.get("batch_size"),
        "latent_dim": train.get("latent_dim"),
        "seed": train.get("seed"),
        "steps": steps,  # the budget, in generator steps (what --epochs or --steps came to)
        "epochs": round(steps / per_epoch, 4) if steps and per_epoch else train.get("epochs"),
        "steps_per_epoch": per_epoch,
        "steps_done": checkpoint.get("step"),
        "epochs_done": checkpoint.get("epoch"),
        "device": train.get("device_used") or train.get("device"),
        "device_asked": train.get("device"),
        "device_name": train.get("device_name"),
        "threads": train.get("threads"),
        "deterministic": train.get("deterministic"),
        "holdout": train.get("holdout"),
        "perceptual": train.get("perceptual"),
        "init_from": info.get("init_from"),
    }


def data_settings(info: dict[str, Any]) -> dict[str, Any]:
    data = info.get("data") or {}
    return {
        "dataset": data.get("dataset"),
        "shape": data.get("shape"),
        "images": data.get("num_images"),
        "classes": data.get("num_classes"),
        "held_out": (data.get("holdout") or {}).get("images"),
    }


def final_evaluation(path: Path, info: dict[str, Any]) -> dict[str, Any] | None:
    """The latest ``gan eval`` of the run (eval.json), or None; ``current`` says whether it scored this checkpoint."""
    record = _read_json(path / EVAL_FILE)
    if not isinstance(record, dict) or not isinstance(record.get("metrics"), dict):
        return None
    features = record.get("features")
    step = record.get("step")
    return {
        "step": step,
        "current": step is not None and step == (info.get("checkpoint") or {}).get("step"),
        "sampler": record.get("sampler"),
        "n": record.get("n"),
        "n_reference": record.get("n_reference"),
        "reference": record.get("ref"),
        "features": features.get("name") if isinstance(features, dict) else features,
        "repeats": record.get("repeats", 1),
        "metrics": record["metrics"],
        "eval_std": record.get("eval_std"),
        "directions": record.get("directions") or {},
    }


def last_curve_point(path: Path) -> dict[str, Any] | None:
    """The last evaluation during training (metrics.jsonl's last ``eval`` line), and how many there were; or None."""
    file = path / METRICS_FILE
    if not file.is_file():
        return None
    last, count = None, 0
    with file.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line being written as we read
            if isinstance(record, dict) and isinstance(record.get("eval"), dict):
                last, count = record, count + 1
    if last is None:
        return None
    return {"evaluations": count, "step": last.get("step"), "epoch": last.get("epoch"), "metrics": last["eval"]}


def learned(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """What each trained component says of itself (``describe()``), and each sampler fitted for this checkpoint."""
    import torch
    from rich.console import Console

    from .kinds import weight_kinds
    from .sampling import fitted_samplers, load_run, prepare_sampler

    run = load_run(path, torch.device("cpu"))
    parts = {kind: getattr(run.parts, kind).describe() for kind in weight_kinds()}
    samplers = {}
    for name, fit in fitted_samplers(run).items():
        record = fit.record
        sampler = prepare_sampler(run, name, record["options"], None, Console(stderr=True))
        samplers[name] = {"package": record.get("package"), "version": record.get("version"),
                          "options": dict(record.get("options") or {}), "fitted_on": record.get("fitted_on"),
                          "learned": sampler.describe()}
    return parts, samplers


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
