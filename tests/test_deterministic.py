"""--deterministic: deterministic kernels for the whole training, recorded in run.json, restored afterwards."""

from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

import gan_core
from gan_core import Callback
from gan_core.testing import run_cli

from .conftest import SLICE


class SeesDeterminism(Callback):
    seen: list[bool] = []

    def on_checkpoint(self, step, path):
        self.seen.append(torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
                         and not torch.backends.cudnn.benchmark)


def test_deterministic_training_is_recorded_repeats_itself_and_restores_the_process(in_tmp):
    for out in ("a", "b"):
        result = run_cli(["train", *SLICE, "--steps", "6", "--deterministic", "--out", out])
        assert result.exit_code == 0, result.output
    assert json.loads((in_tmp / "a" / "run.json").read_text())["train"]["deterministic"] is True
    first, second = load_file(str(in_tmp / "a" / "weights.safetensors")), load_file(str(in_tmp / "b" / "weights.safetensors"))
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not torch.are_deterministic_algorithms_enabled()  # the process's own setting is back

    watcher = SeesDeterminism()
    settings = {"dataset": "mnist", "options": {"dataset": {"limit": 640}}, "batch_size": 32, "steps": 4,
                "device": "cpu", "deterministic": True, "out": str(in_tmp / "c")}
    gan_core.train(settings, callbacks=[watcher])
    assert watcher.seen and all(watcher.seen)
    plain = run_cli(["train", *SLICE, "--steps", "2", "--out", "d"])
    assert plain.exit_code == 0 and json.loads((in_tmp / "d" / "run.json").read_text())["train"]["deterministic"] is False


def test_evaluating_during_training_leaves_the_training_untouched(in_tmp):
    """--eval-every is side work: building its evaluator and evaluating must not move the training's random stream.

    Building the evaluator once drew from it (a network's init), so the same seed trained a different model
    with --eval-every than without.
    """
    plain = run_cli(["train", *SLICE, "--steps", "45", "--out", "plain"])
    evaluated = run_cli(["train", *SLICE, "--steps", "45", "--eval-every", "1", "--eval-n", "100",
                         "--keep-best", "fid", "--out", "evaluated"])
    assert plain.exit_code == 0 and evaluated.exit_code == 0, plain.output + evaluated.output
    assert "epoch 1:" in evaluated.output  # it did evaluate, after the first epoch
    first = load_file(str(in_tmp / "plain" / "weights.safetensors"))
    second = load_file(str(in_tmp / "evaluated" / "weights.safetensors"))
    assert all(torch.equal(first[k], second[k]) for k in first)
