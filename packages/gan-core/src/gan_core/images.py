"""Converting generator output to pictures and files."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid

from .safefiles import atomic_write_bytes


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] to uint8 pixels, on the CPU, (N, C, H, W)."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()


def to_pil(image: torch.Tensor) -> Image.Image:
    """One uint8 (C, H, W) image as a PIL image (grayscale when C == 1)."""
    array = image.numpy()
    if array.shape[0] == 1:
        return Image.fromarray(array[0], mode="L")
    return Image.fromarray(np.ascontiguousarray(array.transpose(1, 2, 0)), mode="RGB")


def png_bytes(image: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def grid_image(images: torch.Tensor, columns: int | None = None) -> torch.Tensor:
    """uint8 images tiled into one uint8 (C, H, W) picture, roughly square."""
    uint8 = images if images.dtype == torch.uint8 else to_uint8(images)
    columns = columns or max(1, math.ceil(math.sqrt(uint8.shape[0])))
    grid = make_grid(uint8, nrow=columns, padding=2, pad_value=0)
    return grid[:1] if uint8.shape[1] == 1 else grid


def save_grid(images: torch.Tensor, path: Path, columns: int | None = None) -> None:
    atomic_write_bytes(path, png_bytes(grid_image(images, columns)))
