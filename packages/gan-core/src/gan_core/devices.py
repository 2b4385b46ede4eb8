"""Picking the torch device from ``--device auto|cpu|cuda[:N]``, and seeding work on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .errors import GanError


def resolve_device(name: str) -> torch.device:
    """``auto`` takes CUDA when present; asking for CUDA without it is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise GanError(f"'{name}' is not a device; use auto, cpu or cuda") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise GanError("--device cuda was asked for but this machine has no usable CUDA GPU; use --device cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise GanError(f"there is no {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise GanError(f"device type '{device.type}' is not supported; use auto, cpu or cuda")
    return device


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run a block from a fixed seed without moving the caller's random stream.

    Side work (a periodic evaluation, fitting a sampler) then gives the same
    result every time, and the stream around it (training, sampling) is the
    same whether or not the side work ran.
    """
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextmanager
def deterministic(enabled: bool) -> Iterator[None]:
    """Deterministic kernels for a block (``--deterministic``), the process's own settings restored after.

    CPU training is already deterministic for a given seed and thread
    count; on CUDA, cuDNN's autotuner and atomics in some kernels are not,
    so this asks torch for deterministic algorithms (an error names any op
    that has none), turns the autotuner off, and sets the cuBLAS workspace
    that deterministic cuBLAS needs (read when CUDA starts, so before any
    CUDA work in the process). Slower on CUDA; a no-op when not enabled.
    """
    if not enabled:
        yield
        return
    import os

    import warnings

    saved = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, os.environ.get("CUBLAS_WORKSPACE_CONFIG"))
    if torch.cuda.is_initialized() and saved[4] is None:
        warnings.warn("--deterministic: CUDA was already in use in this process, so cuBLAS keeps its "
                      "non-deterministic workspace; start a fresh process for a deterministic run", stacklevel=3)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[2], saved[3]
        if saved[4] is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
