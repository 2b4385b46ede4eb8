"""gan sample: PNGs, npz, grids, and reloading a run."""

from __future__ import annotations

import numpy as np
from PIL import Image

from gan_core.testing import run_cli


def test_sample_pngs(trained_run, tmp_path):
    result = run_cli(["sample", str(trained_run), "--n", "25", "--out", str(tmp_path / "png"), "--batch-size", "10"])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "png").iterdir())
    assert len(files) == 25 and files[0].name == "000000.png"
    image = Image.open(files[0])
    assert image.size == (28, 28) and image.mode == "L"


def test_sample_npz_and_grid(trained_run, tmp_path):
    result = run_cli(["sample", str(trained_run), "--n", "12", "--format", "npz", "--out", str(tmp_path / "s"),
                      "--grid", str(tmp_path / "grid.png")])
    assert result.exit_code == 0, result.output
    arrays = np.load(tmp_path / "s.npz")
    assert arrays["images"].shape == (12, 28, 28, 1) and arrays["images"].dtype == np.uint8
    assert Image.open(tmp_path / "grid.png").size[0] > 28


def test_same_seed_same_samples(trained_run, tmp_path):
    for name in ("a.npz", "b.npz", "c.npz"):
        seed = "1" if name == "c.npz" else "0"
        assert run_cli(["sample", str(trained_run), "--n", "8", "--seed", seed, "--out", str(tmp_path / name)]).exit_code == 0
    a, b, c = (np.load(tmp_path / n)["images"] for n in ("a.npz", "b.npz", "c.npz"))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
