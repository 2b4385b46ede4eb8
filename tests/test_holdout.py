"""A calibration slice of the training images that D never sees, recorded in run.json and used by sampler fits."""

from __future__ import annotations

import json

import torch

from gan_core import ImageData
from gan_core.assembly import split_holdout
from gan_core.sampling import fit_record
from gan_core.testing import run_cli

from .conftest import SLICE


def test_the_slice_is_disjoint_fixed_and_independent_of_the_training_rng():
    data = ImageData(torch.arange(100, dtype=torch.uint8).view(100, 1, 1, 1), torch.arange(100) % 10, 10, "toy")
    torch.manual_seed(0)
    train, held = split_holdout(data, 0.1, seed=3)
    state = torch.get_rng_state()
    again_train, again_held = split_holdout(data, 0.1, seed=3)
    assert torch.equal(torch.get_rng_state(), state)  # drawing the slice leaves the training stream alone
    assert len(held) == 10 and len(train) == 90 and torch.equal(held.images, again_held.images)
    seen = set(train.images.flatten().tolist())
    assert seen.isdisjoint(held.images.flatten().tolist()) and len(seen | set(held.images.flatten().tolist())) == 100
    assert torch.equal(held.labels, held.images.flatten().long() % 10)  # labels travel with their images
    assert split_holdout(data, 0.0, seed=3) == (data, None)


def test_a_calibrating_sampler_gets_a_slice_d_never_saw(in_tmp):
    result = run_cli(["train", *SLICE, "--steps", "3", "--sampler", "drs", "-o", "sampler.burn_in=100",
                      "-o", "sampler.calibration=100", "--out", "run"])
    assert result.exit_code == 0, result.output
    info = json.loads((in_tmp / "run" / "run.json").read_text())
    assert info["data"]["num_images"] == 576 and info["data"]["holdout"] == {"fraction": 0.1, "images": 64, "seed": 0}
    assert fit_record(in_tmp / "run", "drs")["fitted_on"] == "64 held-out training images D never saw"
    plain = run_cli(["train", *SLICE, "--steps", "3", "--out", "plain"])
    assert plain.exit_code == 0 and "holdout" not in json.loads((in_tmp / "plain" / "run.json").read_text())["data"]
    refit = run_cli(["sample", "plain", "--sampler", "drs", "-o", "sampler.burn_in=100", "-o", "sampler.calibration=100",
                     "--n", "4", "--grid", "g.png"])
    assert refit.exit_code == 0, refit.output
    fitted = fit_record(in_tmp / "plain", "drs")["fitted_on"]
    assert fitted.startswith("the training images D trained on")
