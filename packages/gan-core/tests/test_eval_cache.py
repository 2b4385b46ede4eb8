"""The cache of reference features: one entry per dataset *and its options*, so two folders never share one."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_core.evaluation.evaluate import Evaluator, Protocol

N = 12


def image_folder(root: Path, seed: int, brightness: int) -> Path:
    """N random 28x28 grayscale PNGs around one brightness: each folder's features differ from the other's."""
    rng = np.random.default_rng(seed)
    root.mkdir()
    for i in range(N):
        pixels = np.clip(rng.normal(brightness, 40, size=(28, 28)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(root / f"{i:02d}.png")
    return root


def reference_of(folder: Path) -> torch.Tensor:
    protocol = Protocol(n=N, dataset="folder", dataset_options={"path": str(folder)}, features="mnist",
                        metrics=("fid",))
    return Evaluator(protocol, torch.device("cpu")).reference.features


def test_two_folders_are_scored_against_their_own_images(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    dark, bright = image_folder(tmp_path / "dark", 0, 30), image_folder(tmp_path / "bright", 1, 220)

    first, second = reference_of(dark), reference_of(bright)

    assert not torch.allclose(first, second)
    assert len(list((tmp_path / "cache" / "gan" / "eval").glob("*.safetensors"))) == 2
    assert torch.equal(reference_of(dark), first)  # read back from its own entry
