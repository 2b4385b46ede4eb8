from __future__ import annotations

from pathlib import Path

import pytest

#: a small MNIST slice: 640 images, 20 steps per epoch at batch 32
SLICE = ["--dataset", "mnist", "-o", "dataset.limit=640", "--batch-size", "32", "--device", "cpu"]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, so default run paths land in tmp."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny vanilla run shared by the sampling tests (training is the slow part)."""
    from gan_core.testing import run_cli

    out = tmp_path_factory.mktemp("shared") / "vanilla"
    result = run_cli(["train", *SLICE, "--steps", "30", "--log-every", "10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out
