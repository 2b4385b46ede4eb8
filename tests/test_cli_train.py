"""gan train end to end on a small MNIST slice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gan_core.testing import run_cli

from .conftest import SLICE


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "weights.safetensors"))


def test_train_writes_a_complete_run(in_tmp):
    result = run_cli(["train", *SLICE, "--epochs", "2", "--log-every", "5", "--seed", "1", "--out", "runs/v"])
    assert result.exit_code == 0, result.output
    run = in_tmp / "runs" / "v"
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["checkpoint"]["step"] == 40
    assert info["components"]["prior"]["name"] == "normal" and info["components"]["architecture"]["name"] == "mlp"
    assert info["train"]["lr_g"] == 2e-4 and info["train"]["seed"] == 1 and info["data"]["shape"] == [1, 28, 28]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch-0001.png", "epoch-0002.png"]
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert all(set(r) >= {"d_loss", "g_loss", "images_per_s", "epoch"} for r in lines)
    keys = weights(run).keys()
    assert any(k.startswith("generator.") for k in keys) and any(k.startswith("discriminator.") for k in keys)
    assert not [p for p in (in_tmp / "runs").iterdir() if p.name.startswith(".")]


def test_same_seed_same_run(in_tmp):
    for name in ("a", "b"):
        assert run_cli(["train", *SLICE, "--steps", "8", "--seed", "3", "--out", name]).exit_code == 0
    wa, wb = weights(in_tmp / "a"), weights(in_tmp / "b")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize("components", [[], ["--prior", "cluster", "--loss", "clustergan", "--perceptual", "1"]],
                         ids=["vanilla", "clustergan-encoder-perceptual"])
def test_resume_matches_an_uninterrupted_run(in_tmp, components):
    if components:
        pytest.importorskip("gan_cluster")
    common = [*SLICE, *components, "--seed", "5", "--log-every", "4"]
    assert run_cli(["train", *common, "--steps", "33", "--out", "straight"]).exit_code == 0
    assert run_cli(["train", *common, "--steps", "13", "--out", "split"]).exit_code == 0  # stops mid-epoch
    resumed = run_cli(["train", "--resume", "split", "--steps", "33"])
    assert resumed.exit_code == 0, resumed.output
    a, b = weights(in_tmp / "straight"), weights(in_tmp / "split")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((in_tmp / "split" / "run.json").read_text())["checkpoint"]["step"] == 33


def test_resume_refuses_new_settings_and_finished_runs(in_tmp, trained_run):
    result = run_cli(["train", "--resume", str(trained_run), "--loss", "hinge"])
    assert result.exit_code == 2 and "drop --loss" in result.output
    result = run_cli(["train", "--resume", str(trained_run), "--steps", "30"])
    assert result.exit_code == 2 and "already reached step 30" in result.output


def test_init_from_loads_g_and_d(in_tmp, trained_run):
    result = run_cli(["train", *SLICE, "--prior", "uniform", "--steps", "1", "--lr-g", "0", "--lr-d", "0",
                      "--init-from", str(trained_run), "--out", "ft"])
    assert result.exit_code == 0, result.output
    source, tuned = weights(trained_run), weights(in_tmp / "ft")
    for key in source:
        if key.startswith(("generator.", "discriminator.")):
            assert torch.equal(source[key], tuned[key]), key
    assert json.loads((in_tmp / "ft" / "run.json").read_text())["init_from"] == str(trained_run)


def test_options_config_file_and_explicit_flags(in_tmp):
    (in_tmp / "run.toml").write_text(
        'loss = "hinge"\narch = "dcgan"\nbatch-size = 16\nsteps = 3\nbetas = [0.0, 0.9]\n'
        '[options.arch]\nwidth = 8\ndropout = 0.2\n[options.dataset]\nlimit = 64\n'
    )
    result = run_cli(["train", "--config", "run.toml", "--lr-d", "1e-3", "-o", "arch.width=16", "--device", "cpu",
                      "--out", "c"])
    assert result.exit_code == 0, result.output
    info = json.loads((in_tmp / "c" / "run.json").read_text())
    assert info["components"]["loss"]["name"] == "hinge"
    assert info["components"]["architecture"]["options"] == {"width": 16, "dropout": 0.2, "encoder_norm": False}
    assert info["train"]["batch_size"] == 16 and info["train"]["betas"] == [0.0, 0.9]
    assert info["train"]["lr_d"] == 1e-3 and info["train"]["lr_g"] == 2e-4


@pytest.mark.parametrize("loss", ["vanilla", "hinge", "lsgan"])
@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_every_builtin_loss_trains_with_every_architecture(in_tmp, loss, arch):
    result = run_cli(["train", *SLICE, "--loss", loss, "--arch", arch, "--prior", "uniform", "--steps", "4",
                      "--log-every", "2", "--out", "r"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (in_tmp / "r" / "metrics.jsonl").read_text().splitlines()]
    assert all(map(lambda r: abs(r["d_loss"]) < 1e6 and abs(r["g_loss"]) < 1e6, lines))


def test_ctrl_c_saves_a_consistent_checkpoint(tmp_path):
    """A real SIGINT to a real `gan train` process, then a resume."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "gan_core", "train", *SLICE, "--steps", "100000", "--log-every", "5", "--out", "run"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    staging = tmp_path / ".run.partial" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not staging.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output.decode()
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    step = info["checkpoint"]["step"]
    assert info["status"] == "interrupted" and 0 < step < 100000
    assert "--resume" in output.decode()
    resumed = run_cli(["train", "--resume", str(tmp_path / "run"), "--steps", str(step + 3)])
    assert resumed.exit_code == 0, resumed.output
