"""The run directory on disk: atomic writes, safetensors weights, run.json.

Layout (see docs/architecture.md)::

    run.json             what rebuilds the run; written last at each checkpoint
    weights.safetensors  generator.*, discriminator.*, prior.*, loss.*
    optim.safetensors    optimiser states and the trainer's RNG/data-order state
    metrics.jsonl        one JSON line per logged step or evaluation
    samples/             sample grids written during training
    samplers/NAME.safetensors  a fitted sampler's state, for the checkpoint named in it
    eval.json, evals/    gan eval's reports: the latest, and the latest per sampler

Every file is written to a temporary name and renamed into place, and each
safetensors file carries the checkpoint's step in its metadata, so a reader
can tell a consistent checkpoint from one interrupted between two renames.
Only training writes run.json, weights and optimiser state, and only one
training at a time (``RunLock``); ``gan sample`` and ``gan eval`` write files
of their own, so they can run beside it and beside each other.
Only safetensors are ever loaded: nothing in a run directory can run code.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GanError

if TYPE_CHECKING:  # reading run.json and refusing a wrong path need no torch: it is imported where tensors are
    import torch
    from torch import nn

RUN_FORMAT = 1
RUN_FILE = "run.json"
WEIGHTS_FILE = "weights.safetensors"
OPTIM_FILE = "optim.safetensors"
METRICS_FILE = "metrics.jsonl"
STEP_KEY = "gan.step"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds either its old or its new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    """Append one line; a crash can at worst lose the line being written."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def save_tensors(path: Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str]) -> None:
    from safetensors.torch import save as save_safetensors_bytes

    # safetensors refuses views that share storage; clone to plain CPU tensors.
    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    atomic_write_bytes(path, save_safetensors_bytes(plain, metadata=dict(metadata)))


def load_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and metadata of a safetensors file, or a GanError saying what is wrong."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors_bytes

    if not path.is_file():
        raise GanError(f"{path} is missing; the run directory is incomplete")
    data = path.read_bytes()
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


def read_run(path: Path) -> dict[str, Any]:
    """The run.json of ``path``, checked to be a complete run this version can read."""
    if not path.exists():
        raise GanError(f"there is no run at {path}; pass the directory a 'gan train --out' wrote")
    if not path.is_dir():
        raise GanError(f"{path} is a file, not a run directory; pass the directory a 'gan train --out' wrote")
    run_file = path / RUN_FILE
    if not run_file.is_file():
        raise GanError(f"{path} is not a run directory: it has no {RUN_FILE}")
    try:
        info = json.loads(run_file.read_text(encoding="utf-8"))
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
            f"{path} holds step {found} but run.json says step {expected}: the last checkpoint was "
            "interrupted between two files; the run cannot be trusted"
        )


class RunLock:
    """Held by the one process training into a run directory, from before its first file to its end.

    A lock file beside the run (``.NAME.lock``, beside the staging folder, so
    it exists before the run does) carries an flock: the kernel releases it
    when the process ends, however it ends, so a killed training never
    leaves a stale lock. A second ``gan train`` of the same ``--out`` (or
    ``--resume``) is refused instead of deleting the first one's staging
    folder or interleaving its checkpoints.
    """

    def __init__(self, run: Path) -> None:
        real = run.resolve()  # a symlink to a run locks the run itself
        real.parent.mkdir(parents=True, exist_ok=True)
        self.path = real.parent / f".{real.name}.lock"
        self._handle = self._acquire(run)
        try:
            self._handle.write(f"gan train (process {os.getpid()})")
            self._handle.flush()
        except BaseException:
            self.release()
            raise

    def _acquire(self, run: Path) -> Any:
        import fcntl

        while True:
            handle = open(self.path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise GanError(f"{holder} is already training into {run}; wait for it to finish, "
                               "or choose another --out") from exc
            except OSError as exc:  # a file system without locks (some NFS, Lustre, FUSE mounts): say so
                handle.close()
                raise GanError(f"the file system of {run} does not support file locks ({exc.strerror}), which "
                               "keep two trainings of one run apart; train into a folder on a local disk") from exc
            try:
                same = os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:  # else the holder removed the file as we opened it: lock the new one
                handle.seek(0)
                handle.truncate()
                return handle
            handle.close()

    def release(self) -> None:
        """Remove the lock file (while still holding it, so no one locks a file about to vanish), then unlock."""
        if not self._handle.closed:
            self.path.unlink(missing_ok=True)
            self._handle.close()


class RunWriter:
    """Writes one run, first in a hidden staging folder, then in place.

    Nothing appears at ``path`` until the first checkpoint is complete, so bad
    input or a crash in the first steps leaves no half-made run behind.
    """

    def __init__(self, path: Path, *, existing: bool = False) -> None:
        self.final = path
        self.committed = existing
        if existing:
            self.path = path
        else:
            self.path = path.parent / f".{path.name}.partial"
            if self.path.exists():
                shutil.rmtree(self.path)  # left by a process that was killed
            self.path.mkdir(parents=True)

    def save_checkpoint(
        self,
        step: int,
        weights: Mapping[str, torch.Tensor],
        optim: Mapping[str, torch.Tensor],
        optim_info: Mapping[str, Any],
        run_info: dict[str, Any],
    ) -> None:
        meta = {STEP_KEY: str(step)}
        save_tensors(self.path / WEIGHTS_FILE, weights, meta)
        save_tensors(self.path / OPTIM_FILE, optim, {**meta, "gan.optim": json.dumps(optim_info)})
        atomic_write_json(self.path / RUN_FILE, run_info)  # last: it marks the checkpoint complete
        if not self.committed:
            os.replace(self.path, self.final)
            self.path = self.final
            self.committed = True

    def save_best(self, step: int, weights: Mapping[str, torch.Tensor], run_info: dict[str, Any]) -> None:
        """A sampling-ready copy of the best weights so far in ``best/`` (a run directory without optimiser)."""
        folder = self.path / "best"
        save_tensors(folder / WEIGHTS_FILE, weights, {STEP_KEY: str(step)})
        atomic_write_json(folder / RUN_FILE, run_info)

    def log(self, record: Mapping[str, Any]) -> None:
        append_jsonl(self.path / METRICS_FILE, record)

    def discard_if_uncommitted(self) -> None:
        if not self.committed and self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)
