"""gan-gm through the CLI: every prior and loss trains, samples by component, and is inspected."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan_core.testing import run_cli

from .conftest import SLICE


def train(*args):
    result = run_cli(["train", *SLICE, "--steps", "6", "--log-every", "3", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("prior", ["gm-static", "gm-dynamic"])
def test_unsupervised_priors_train_sample_by_component_and_inspect(in_tmp, prior):
    train("--prior", prior, "-o", "prior.k=5", "-o", "prior.c=2", "--out", "run")
    weights = load_file("run/weights.safetensors")
    assert weights["prior.means"].shape == (5, 100)
    assert run_cli(["sample", "run", "--n", "8", "--class", "3", "--sigma-scale", "0.5", "--out", "c3.npz"]).exit_code == 0
    assert np.load("c3.npz")["labels"].tolist() == [3] * 8
    inspected = run_cli(["inspect", "run", "--json"])
    assert inspected.exit_code == 0, inspected.output
    section = json.loads(inspected.output)["learned"]["prior"]
    assert section["components"] == 5 and len(section["sigmas"]) == 5


def test_dynamic_prior_parameters_are_learned_and_static_ones_are_not(in_tmp):
    from gan_gm.priors import StaticGM, StaticGMOptions

    for prior in ("gm-static", "gm-dynamic"):
        train("--prior", prior, "--seed", "4", "--lr-g", "0.01", "--out", prior)
    torch.manual_seed(4)  # the prior is the first thing a run draws after seeding
    initial = StaticGM(StaticGMOptions(), 100).means
    static = load_file("gm-static/weights.safetensors")["prior.means"]
    dynamic = load_file("gm-dynamic/weights.safetensors")["prior.means"]
    assert torch.equal(static, initial) and not torch.allclose(dynamic, initial)


@pytest.mark.parametrize("loss", ["gm-supervised", "gm-aux"])
def test_supervised_prior_with_each_supervised_loss(in_tmp, loss):
    train("--prior", "gm-supervised", "--loss", loss, "--out", "run")
    weights = load_file("run/weights.safetensors")
    assert weights["discriminator.head.weight"].shape[0] == 11  # 10 classes + fake / real-fake
    assert run_cli(["sample", "run", "--n", "4", "--class", "9", "--out", "s.npz"]).exit_code == 0
    assert np.load("s.npz")["labels"].tolist() == [9] * 4


def test_fine_tuning_a_vanilla_run_with_a_gm_prior(in_tmp, trained_run):
    train("--prior", "gm-dynamic", "--init-from", str(trained_run), "--out", "ft")
    assert json.loads((in_tmp / "ft" / "run.json").read_text())["init_from"] == str(trained_run)


def test_supervised_init_from_vanilla_starts_a_fresh_head(in_tmp, trained_run):
    train("--prior", "gm-supervised", "--loss", "gm-aux", "--init-from", str(trained_run), "--out", "ft")
    assert load_file("ft/weights.safetensors")["discriminator.head.weight"].shape[0] == 11


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--prior", "gm-supervised"], "prior 'gm-supervised' needs class-conditional-loss"),
        (["--loss", "gm-supervised"], "loss 'gm-supervised' needs class-prior"),
        (["--prior", "gm-static", "--loss", "gm-aux"], "loss 'gm-aux' needs class-prior"),
        (["--prior", "gm-supervised", "--loss", "gm-aux", "-o", "prior.k=7"], "set -o prior.k=10"),
        (["--prior", "gm-dynamic", "-o", "prior.scale_form=full"], "must be one of scalar, diagonal"),
    ],
)
def test_refused_combinations(in_tmp, args, fragment):
    result = run_cli(["train", *SLICE, "--steps", "2", "--out", "run", *args])
    assert result.exit_code == 2 and fragment in " ".join(result.output.split()), result.output
    assert not (in_tmp / "run").exists()


def test_supervised_prior_needs_labelled_data(in_tmp):
    from PIL import Image

    (in_tmp / "imgs").mkdir()
    for i in range(8):
        Image.new("L", (28, 28), i).save(in_tmp / "imgs" / f"{i}.png")
    result = run_cli(["train", "--dataset", "folder", "-o", f"dataset.path={in_tmp / 'imgs'}", "--prior", "gm-supervised",
                      "--loss", "gm-aux", "--batch-size", "4", "--steps", "1", "--out", "run"])
    assert result.exit_code == 2 and "needs labelled data" in result.output
