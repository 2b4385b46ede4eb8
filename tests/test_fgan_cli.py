"""gan-fgan through the CLI: every divergence trains a few steps with finite losses."""

from __future__ import annotations

import json
import math

import pytest

from gan_core.testing import run_cli

from .conftest import SLICE

DIVERGENCES = ("gan", "kl", "reverse-kl", "pearson", "neyman", "hellinger", "js", "tv")


@pytest.mark.parametrize("divergence", DIVERGENCES)
def test_each_divergence_trains_with_finite_losses(in_tmp, divergence):
    result = run_cli(["train", *SLICE, "--loss", f"fgan-{divergence}", "--steps", "6", "--log-every", "2", "--out", "r"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (in_tmp / "r" / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in records)


def test_saddle_objective_with_dcgan(in_tmp):
    result = run_cli(["train", *SLICE, "--loss", "fgan-js", "-o", "loss.saddle=true", "--arch", "dcgan", "--steps", "3",
                      "--out", "r"])
    assert result.exit_code == 0, result.output
    info = json.loads((in_tmp / "r" / "run.json").read_text())
    assert info["components"]["loss"]["options"]["saddle"] is True
