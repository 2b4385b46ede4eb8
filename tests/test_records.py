"""What reproducing a run or an evaluation needs is in its records."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from typer.testing import CliRunner


def test_records_hold_the_thread_count_and_the_samplers_options(mnist_dir, tmp_path, monkeypatch):
    """What reproducing a run and an evaluation needs: CPU threads in run.json, sampler options in evals/."""
    from gan_core.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--steps", "2", "--batch-size", "16", "-o", "dataset.limit=64",
                                  "--device", "cpu", "--out", "r"])
    assert trained.exit_code == 0, trained.output
    info = json.loads(Path("r/run.json").read_text())
    assert info["train"]["threads"] == torch.get_num_threads() and info["train"]["device_name"].startswith("cpu")
    assert info["versions"]["torch"] == torch.__version__
    evaluated = runner.invoke(app, ["eval", "r", "--n", "32", "--sampler", "drs", "-o", "sampler.calibration=100"])
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(Path("r/evals/drs.json").read_text())
    assert report["sampler_options"]["calibration"] == 100 and report["threads"] == torch.get_num_threads()
