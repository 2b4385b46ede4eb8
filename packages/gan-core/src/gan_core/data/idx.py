"""The IDX format of MNIST and Fashion-MNIST, read straight into a tensor.

A 4-byte header (two zero bytes, a type code, the number of dimensions), the
dimensions as big-endian uint32, then the raw array. Files may be gzipped.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np
import torch

from ..errors import GanError

_DTYPES = {0x08: np.uint8, 0x09: np.int8}


def read_idx(path: Path, gzipped: bool | None = None) -> torch.Tensor:
    """The array stored in ``path``, checked against its header.

    ``gzipped`` defaults to whether the name ends in ``.gz``. A damaged file
    is refused with a :class:`GanError` naming it, because the usual cause is
    an interrupted copy the user can simply fetch again.
    """
    if gzipped is None:
        gzipped = path.suffix == ".gz"
    try:
        raw = gzip.decompress(path.read_bytes()) if gzipped else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:  # zlib.error: a corrupt deflate stream
        raise GanError(f"{path} cannot be read ({exc}); delete it so it can be fetched again, or replace it") from exc
    return torch.from_numpy(parse_idx(raw, path).copy())


def parse_idx(raw: bytes, path: Path) -> np.ndarray:
    """A read-only view of ``raw`` as the array its header describes; ``path`` is for messages.

    One ``frombuffer`` over the payload keeps 60,000 MNIST images a
    sub-second read; the length check catches truncated downloads.
    """
    def bad(reason: str) -> GanError:
        return GanError(f"{path} is not a valid IDX file ({reason}); delete it so it can be fetched again, or replace it")

    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise bad("bad header: it does not start with two zero bytes")
    code, ndim = raw[2], raw[3]
    if code not in _DTYPES:
        raise bad(f"bad header: unsupported type code 0x{code:02x}")
    if ndim == 0:
        raise bad("bad header: zero dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise bad("bad header: truncated dimensions")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape)
    if len(raw) - header != expected:
        raise bad(f"the header promises {expected} values of shape {shape} but {len(raw) - header} bytes follow")
    return np.frombuffer(raw, dtype=_DTYPES[code], offset=header).reshape(shape)
