"""gan-san through the CLI: each loss with each architecture, defaults and overrides."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from gan_core.testing import run_cli

from .conftest import SLICE


@pytest.mark.parametrize("loss", ["wgan", "wgan-gp", "san", "hinge-san"])
@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_each_loss_trains_with_each_architecture(in_tmp, loss, arch):
    args = ["train", *SLICE, "--loss", loss, "--arch", arch, "--steps", "3", "--log-every", "1", "--out", "run"]
    if arch == "dcgan":
        args += ["-o", "arch.width=8"]
    result = run_cli(args)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (in_tmp / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(abs(r["d_loss"]) < 1e6 for r in records)


def test_loss_defaults_apply_and_explicit_flags_win(in_tmp):
    assert run_cli(["train", *SLICE, "--loss", "wgan", "--steps", "2", "--out", "a"]).exit_code == 0
    assert run_cli(["train", *SLICE, "--loss", "wgan", "-o", "loss.clip=0.05", "--lr-d", "1e-3", "--d-steps", "2",
                    "--steps", "2", "--out", "b"]).exit_code == 0
    a = json.loads((in_tmp / "a" / "run.json").read_text())["train"]
    b = json.loads((in_tmp / "b" / "run.json").read_text())["train"]
    assert (a["optimizer"], a["lr_d"], a["lr_g"], a["d_steps"]) == ("rmsprop", 5e-5, 5e-5, 5)
    assert (b["lr_d"], b["lr_g"], b["d_steps"]) == (1e-3, 5e-5, 2)
    weights = load_file(str(in_tmp / "b" / "weights.safetensors"))
    assert all(v.abs().max() <= 0.05 for k, v in weights.items() if k.startswith("discriminator."))


def test_san_fine_tunes_a_vanilla_run_with_a_fresh_head(in_tmp, trained_run):
    result = run_cli(["train", *SLICE, "--loss", "san", "-o", "loss.lambda_=5", "--steps", "2",
                      "--init-from", str(trained_run), "--out", "san"])
    assert result.exit_code == 0, result.output
    weights = load_file(str(in_tmp / "san" / "weights.safetensors"))
    assert {"discriminator.head.direction", "discriminator.head.scale"} <= set(weights)
    source = load_file(str(trained_run / "weights.safetensors"))
    assert (weights["discriminator.body.0.weight"] - source["discriminator.body.0.weight"]).abs().max() < 0.01
    sampled = run_cli(["sample", "san", "--n", "4", "--out", "s.npz"])
    assert sampled.exit_code == 0, sampled.output


def test_san_defaults_follow_simple_san_and_old_runs_reopen(tmp_path):
    """lr 1e-3, betas (0, 0.99), spectral norm; a run saved before spectral_norm existed loads without it."""
    run = tmp_path / "san"
    result = run_cli(["train", *SLICE, "--loss", "san", "--steps", "3", "--out", str(run)])
    assert result.exit_code == 0, result.output
    info = json.loads((run / "run.json").read_text())
    assert (info["train"]["lr_g"], info["train"]["lr_d"], info["train"]["betas"]) == (1e-3, 1e-3, [0.0, 0.99])
    assert info["components"]["loss"]["options"]["spectral_norm"] is True
    old = tmp_path / "old"
    result = run_cli(["train", *SLICE, "--loss", "san", "-o", "loss.spectral_norm=false", "--steps", "3", "--out", str(old)])
    assert result.exit_code == 0, result.output
    info = json.loads((old / "run.json").read_text())
    del info["components"]["loss"]["options"]["spectral_norm"]  # as gan-core 0.1 saved it
    (old / "run.json").write_text(json.dumps(info))
    sampled = run_cli(["sample", str(old), "--n", "4", "--grid", str(tmp_path / "g.png")])
    assert sampled.exit_code == 0, sampled.output
    resumed = run_cli(["train", "--resume", str(old), "--steps", "4"])
    assert resumed.exit_code == 0, resumed.output
