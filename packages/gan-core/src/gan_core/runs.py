"""The run directory on disk: atomic writes, safetensors weights, run.json.

Layout (see docs/architecture.md)::

    run.json             what rebuilds the run; written last at each checkpoint
    weights.safetensors  generator.*, discriminator.*, prior.*, loss.*
    optim.safetensors    optimiser states and the trainer's RNG/data-order state
    metrics.jsonl        one JSON line per logged step or evaluation
    samples/             sample grids written during training
    samplers/NAME.safetensors  a fitted sampler's state, for the checkpoint named in it
    eval.json, evals/    gan eval's reports: the latest, and the latest per sampler

A checkpoint is one atomic step. Its three files (weights, optimiser state,
run.json) are written into ``.checkpoint-STEP.tmp/``, which one rename turns
into ``.checkpoint-STEP/``: from that moment it *is* the run's checkpoint,
and its files are then moved over the old ones. A process killed anywhere in
between leaves either the old checkpoint or a complete new one whose
remaining files readers take from ``.checkpoint-STEP/`` (see
:func:`checkpoint_file`) and the next training moves into place; Ctrl-C and
SIGTERM are held while it is written (:func:`gan_core.safefiles.deferred_signals`).
Each safetensors file also carries its step, so a reader racing a training
that checkpoints meanwhile notices and reads again.

Only training writes run.json, weights and optimiser state, and only one
training at a time (``RunLock``); ``gan sample`` and ``gan eval`` write files
of their own, so they can run beside it and beside each other.
Only safetensors are ever loaded: nothing in a run directory can run code.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GanError
from .safefiles import (
    FileLock,
    atomic_write_bytes,
    atomic_write_json,
    deferred_signals,
    json_bytes,
    sync_folder,
    write_synced,
)

if TYPE_CHECKING:  # reading run.json and refusing a wrong path need no torch: it is imported where tensors are
    import torch
    from torch import nn

RUN_FORMAT = 1
RUN_FILE = "run.json"
WEIGHTS_FILE = "weights.safetensors"
OPTIM_FILE = "optim.safetensors"
METRICS_FILE = "metrics.jsonl"
STEP_KEY = "gan.step"


def append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    """Append one line; a crash can at worst lose the line being written."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def tensor_bytes(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str]) -> bytes:
    """A safetensors file's bytes (safetensors refuses views that share storage: plain CPU copies are saved)."""
    from safetensors.torch import save as save_safetensors_bytes

    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    return save_safetensors_bytes(plain, metadata=dict(metadata))


def save_tensors(path: Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str]) -> None:
    atomic_write_bytes(path, tensor_bytes(tensors, metadata))


def load_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and metadata of a safetensors file, or a GanError saying what is wrong."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors_bytes

    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError) as exc:  # a reader racing a checkpoint's move retries on GanError
        raise GanError(f"{path} is missing; the run directory is incomplete") from exc
    try:
        tensors = load_safetensors_bytes(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise GanError(
            f"{path} is not a safetensors file ({exc}); gan only loads safetensors weights, "
            "which cannot run code"
        ) from exc
    header_len = int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8 : 8 + header_len]).get("__metadata__", {}) or {}
    return tensors, metadata


def prefixed(prefix: str, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in state.items()}


def unprefixed(prefix: str, tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    start = prefix + "."
    return {k[len(start) :]: v for k, v in tensors.items() if k.startswith(start)}


def load_module_state(module: nn.Module, prefix: str, tensors: Mapping[str, torch.Tensor], source: Path) -> None:
    """Load ``prefix.*`` into ``module``, turning shape mismatches into one sentence."""
    state = unprefixed(prefix, tensors)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = next((line.strip() for line in first[1:] if line.strip()), first[0] if first else "")
        raise GanError(f"{source} does not fit the {prefix} being built ({detail})") from exc


def optimizer_tensors(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Flatten an optimiser state dict into tensors plus JSON-able hyperparameters."""
    import torch

    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for param_id, entries in state["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{param_id}.{key}"] = value
            else:
                scalars[f"{param_id}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def load_optimizer(
    optimizer: torch.optim.Optimizer, prefix: str, tensors: Mapping[str, torch.Tensor], info: Mapping[str, Any]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in unprefixed(prefix, tensors).items():
        param_id, _, name = key.partition(".")
        state.setdefault(int(param_id), {})[name] = value
    for key, value in info.get("scalars", {}).items():
        param_id, _, name = key.partition(".")
        state.setdefault(int(param_id), {})[name] = value
    groups = info["param_groups"]
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    optimizer.load_state_dict({"state": state, "param_groups": groups})


PENDING = ".checkpoint-"  # + STEP: a complete checkpoint whose files are being moved into place (+ ".tmp": being written)


def _pending(run: Path) -> list[Path]:
    """Complete checkpoints not yet moved into place, oldest first (there is at most one but after a crash)."""
    try:
        found = [p for p in run.iterdir() if p.name.startswith(PENDING) and p.name[len(PENDING):].isdigit()
                 and p.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(found, key=lambda p: int(p.name[len(PENDING):]))


def checkpoint_file(run: Path, name: str) -> Path:
    """Where the run's current checkpoint keeps ``name`` (run.json, weights, optimiser state).

    Normally ``run/name``; after a crash while a checkpoint was being moved
    into place, the files not moved yet are still in ``.checkpoint-STEP/``
    and belong to the current checkpoint, so they are read from there.
    """
    for folder in reversed(_pending(run)):
        if (folder / name).is_file():
            return folder / name
    return run / name


def finish_checkpoint(run: Path) -> None:
    """Move a complete checkpoint's remaining files into place and drop any half-written one.

    Called by the one training that holds the run (``RunLock``) when it
    opens the run and before each checkpoint it writes: what a killed
    process left is then finished (if it was complete) or forgotten (if it
    was not). Reads need not wait for it: :func:`checkpoint_file` finds the
    files still waiting.
    """
    for folder in _pending(run):
        for file in sorted(folder.iterdir()):
            os.replace(file, run / file.name)
        folder.rmdir()
    for leftover in run.glob(f"{PENDING}*.tmp"):
        shutil.rmtree(leftover, ignore_errors=True)
    sync_folder(run)


def publish_checkpoint(run: Path, step: int, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (name -> bytes) as the checkpoint of ``run`` at ``step``, in one atomic rename.

    Signals are held meanwhile, so a second Ctrl-C or a SIGTERM lands after
    it; kill -9 at any point leaves the old checkpoint or the new one.
    """
    with deferred_signals():
        finish_checkpoint(run)
        writing = run / f"{PENDING}{step}.tmp"
        writing.mkdir(exist_ok=False)
        for name, data in files.items():
            write_synced(writing / name, data)
        sync_folder(writing)
        os.replace(writing, run / f"{PENDING}{step}")  # the commit: from here on, this is the checkpoint
        sync_folder(run)
        finish_checkpoint(run)


def read_run(path: Path) -> dict[str, Any]:
    """The run.json of ``path``, checked to be a complete run this version can read."""
    if not path.exists():
        raise GanError(f"there is no run at {path}; pass the directory a 'gan train --out' wrote")
    if not path.is_dir():
        raise GanError(f"{path} is a file, not a run directory; pass the directory a 'gan train --out' wrote")
    for _ in range(5):  # a training may move a checkpoint's files into place as we look
        run_file = checkpoint_file(path, RUN_FILE)
        try:
            text = run_file.read_text(encoding="utf-8")
            break
        except FileNotFoundError:
            time.sleep(0.05)
    else:
        raise GanError(f"{path} is not a run directory: it has no {RUN_FILE}")
    try:
        info = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GanError(f"{run_file} is corrupt ({exc}); the run cannot be read") from exc
    if not isinstance(info, dict) or "components" not in info or "checkpoint" not in info:
        raise GanError(f"{run_file} is not a gan run description (no components or checkpoint)")
    if info.get("format", 0) > RUN_FORMAT:
        raise GanError(f"{path} was written by a newer gan (format {info['format']}); upgrade gan-core to read it")
    return info


def check_step(path: Path, metadata: Mapping[str, str], expected: int) -> None:
    found = metadata.get(STEP_KEY)
    if found is not None and int(found) != expected:
        raise GanError(
            f"{path} holds step {found} but run.json says step {expected}: the files of two checkpoints are mixed "
            "(the run was copied or edited by hand during a checkpoint); the run cannot be trusted"
        )


def read_checkpoint(path: Path, names: tuple[str, ...] = (WEIGHTS_FILE,)) -> tuple[dict[str, Any], dict[str, dict[str, torch.Tensor]], dict[str, dict[str, str]]]:
    """run.json and the tensors and metadata of ``names``, all of one checkpoint.

    The one way a run's weights are read. A training running beside us may
    checkpoint between our reads of two files: they are read again, a little
    later each time, until their steps agree with run.json.
    """
    waits = (0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
    for attempt, wait in enumerate(waits):
        time.sleep(wait)
        info = read_run(path)
        step = info["checkpoint"]["step"]
        tensors: dict[str, dict[str, torch.Tensor]] = {}
        metas: dict[str, dict[str, str]] = {}
        try:
            for name in names:
                file = checkpoint_file(path, name)
                tensors[name], metas[name] = load_tensors(file)
        except GanError:
            if attempt == len(waits) - 1 or file.parent == path:  # not one moved into place as we read it
                raise
            continue
        steps = {metas[name].get(STEP_KEY) for name in names}
        if steps <= {None, str(step)}:
            return info, tensors, metas
    for name in names:
        check_step(path / name, metas[name], info["checkpoint"]["step"])
    return info, tensors, metas


class RunLock(FileLock):
    """Held by the one process training into a run directory, from before its first file to its end.

    A lock file beside the run (``.NAME.lock``, beside the staging folder, so
    it exists before the run does) keeps a second ``gan train`` of the same
    ``--out`` (or ``--resume``) from deleting the first one's staging folder
    or interleaving its checkpoints. The run's parent folder must exist:
    training creates it only once its input has been checked.
    """

    def __init__(self, run: Path) -> None:
        real = run.resolve()  # a symlink to a run locks the run itself
        super().__init__(real.parent / f".{real.name}.lock", holder=f"gan train (process {os.getpid()})",
                         busy=lambda holder: f"{holder} is already training into {run}; wait for it to finish, "
                                             "or choose another --out")


class RunWriter:
    """Writes one run, first in a hidden staging folder, then in place.

    Nothing appears at ``path`` until the first checkpoint is complete, so bad
    input or a crash in the first steps leaves no half-made run behind. The
    writer holds no lock itself: it is made under the run's ``RunLock``.
    Its staging folder has a fixed name (``.NAME.partial``), unlike
    :func:`gan_core.safefiles.staged_folder`'s: it lives as long as the
    first steps of a training, and the lock makes a leftover one, from a
    killed process, safe to clear. A kill before the first checkpoint's
    rename loses those first steps, by design: nothing was promised yet.
    """

    def __init__(self, path: Path, *, existing: bool = False) -> None:
        self.final = path
        self.committed = existing
        if existing:
            self.path = path
            finish_checkpoint(path)
        else:
            self.path = path.parent / f".{path.name}.partial"
            if self.path.exists():
                shutil.rmtree(self.path)  # left by a process that was killed (we hold the run's lock)
            self.path.mkdir()

    def save_checkpoint(
        self,
        step: int,
        weights: Mapping[str, torch.Tensor],
        optim: Mapping[str, torch.Tensor],
        optim_info: Mapping[str, Any],
        run_info: dict[str, Any],
    ) -> None:
        meta = {STEP_KEY: str(step)}
        files = {
            WEIGHTS_FILE: tensor_bytes(weights, meta),
            OPTIM_FILE: tensor_bytes(optim, {**meta, "gan.optim": json.dumps(optim_info)}),
            RUN_FILE: json_bytes(run_info),
        }
        with deferred_signals():  # a new run's first checkpoint is published with it, under the same guard
            publish_checkpoint(self.path, step, files)
            if not self.committed:  # a new run's commit: its staging folder becomes the run, in one rename
                os.replace(self.path, self.final)
                sync_folder(self.final.parent)
                self.path = self.final
                self.committed = True

    def update_info(self, run_info: dict[str, Any]) -> None:
        """Replace run.json alone (its status after divergence): the checkpoint's files stay as they are."""
        atomic_write_json(self.path / RUN_FILE, run_info)

    def save_best(self, step: int, weights: Mapping[str, torch.Tensor], run_info: dict[str, Any]) -> None:
        """A sampling-ready copy of the best weights so far in ``best/`` (a run directory without optimiser)."""
        folder = self.path / "best"
        folder.mkdir(exist_ok=True)
        publish_checkpoint(folder, step, {WEIGHTS_FILE: tensor_bytes(weights, {STEP_KEY: str(step)}),
                                          RUN_FILE: json_bytes(run_info)})

    def log(self, record: Mapping[str, Any]) -> None:
        append_jsonl(self.path / METRICS_FILE, record)

    def discard_if_uncommitted(self) -> None:
        if not self.committed and self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)
