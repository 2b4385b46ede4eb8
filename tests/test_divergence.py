"""A loss that becomes NaN: the engine stops with one sentence and the last good checkpoint survives."""

from __future__ import annotations

import json
import types

import torch
from safetensors.torch import load_file

from gan_core import Batch, Discriminator, Loss, hookimpl
from gan_core.builtin.losses import VanillaLoss
from gan_core.testing import plugin_registered, run_cli

from .conftest import SLICE


class NaNAfter(Loss):
    """Vanilla until its 25th D step, then NaN (a test double)."""

    name = "nan-after-25"

    def __init__(self, options):
        super().__init__(options)
        self.vanilla = VanillaLoss(options)
        self.calls = 0

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        self.calls += 1
        loss = self.vanilla.d_loss(d, real, fake)
        return loss * float("nan") if self.calls > 25 else loss

    def g_loss(self, d: Discriminator, fake: Batch) -> torch.Tensor:
        return self.vanilla.g_loss(d, fake)


PLUGIN = types.SimpleNamespace(register_losses=hookimpl(lambda register: register(NaNAfter)))


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(in_tmp):
    with plugin_registered(PLUGIN):
        result = run_cli(["train", *SLICE, "--loss", "nan-after-25", "--steps", "60", "--log-every", "5",
                          "--checkpoint-every", "10", "--out", "r"])
    assert result.exit_code == 3  # its own code: unlike a typo, it wrote a run
    message = " ".join(result.output.split())
    assert "the D loss of 'nan-after-25' became nan between steps 26 and 30" in message
    assert "the last good checkpoint (step 20) is kept in r" in message
    info = json.loads((in_tmp / "r" / "run.json").read_text())
    assert info["status"] == "diverged" and info["checkpoint"]["step"] == 20 and "nan" in info["diverged"]
    weights = load_file(str(in_tmp / "r" / "weights.safetensors"))
    assert all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point())
    lines = [json.loads(line) for line in (in_tmp / "r" / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["step"] == 25  # the interval with the NaN is never logged
    with plugin_registered(PLUGIN):
        assert run_cli(["sample", "r", "--n", "4", "--out", "s.npz"]).exit_code == 0  # the checkpoint is usable


def test_a_run_that_diverges_before_its_first_checkpoint_leaves_nothing(in_tmp):
    with plugin_registered(PLUGIN):
        result = run_cli(["train", *SLICE, "--loss", "nan-after-25", "--steps", "60", "--log-every", "5",
                          "--checkpoint-every", "50", "--out", "r"])
    message = " ".join(result.output.split())
    assert result.exit_code == 3 and "became nan" in message
    assert "before its first checkpoint, so no run was written" in message and "is kept" not in message
    assert list(in_tmp.iterdir()) == []
