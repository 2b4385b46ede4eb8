"""gan-sampling through the CLI: fit once, save beside the run (samplers/), reuse; bounds; training fits the default."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from gan_core.deprecation import GanDeprecationWarning
from gan_core.sampling import fit_record
from gan_core.testing import run_cli

from .conftest import SLICE

SMALL = {
    "drs": ["-o", "sampler.calibration=200", "-o", "sampler.burn_in=200"],
    "mh": ["-o", "sampler.calibration=200", "-o", "sampler.chain_length=3"],
    "latent-ga": ["-o", "sampler.steps=2"],
    "latent-rs": ["-o", "sampler.steps=5", "-o", "sampler.batch_size=32", "-o", "sampler.real_images=200"],
}


@pytest.fixture
def run(trained_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained_run, copy)
    return copy


@pytest.mark.parametrize("sampler", sorted(SMALL))
def test_each_sampler_samples_from_a_run(run, tmp_path, sampler):
    result = run_cli(["sample", str(run), "--sampler", sampler, *SMALL[sampler], "--n", "12", "--out", str(tmp_path / "s.npz")])
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "s.npz")["images"].shape == (12, 28, 28, 1)
    assert "acceptance" in result.output and "img/s" in result.output


def fitted_state(run) -> dict[str, torch.Tensor]:
    return {f"sampler.{f.stem}.{k}": v for f in sorted((run / "samplers").glob("*.safetensors"))
            for k, v in load_file(str(f)).items()}


def test_fitted_state_is_saved_and_reused_without_touching_the_training_files(run, tmp_path):
    training_files = {name: (run / name).read_bytes() for name in ("run.json", "weights.safetensors", "optim.safetensors")}
    args = ["sample", str(run), "--sampler", "drs", *SMALL["drs"], "--n", "8", "--out"]
    assert run_cli([*args, str(tmp_path / "a.npz")]).exit_code == 0
    record = fit_record(run, "drs")
    assert record["options"]["calibration"] == 200 and record["step"] == json.loads(training_files["run.json"])["checkpoint"]["step"]
    state = fitted_state(run)
    assert {"sampler.drs.calibration.knots", "sampler.drs.max_logit", "sampler.drs.gamma"} <= set(state)
    assert run_cli([*args, str(tmp_path / "b.npz")]).exit_code == 0
    assert run_cli(["eval", str(run), "--sampler", "drs", *SMALL["drs"], "--n", "50"]).exit_code == 0
    again = fitted_state(run)
    assert torch.equal(again["sampler.drs.calibration.knots"], state["sampler.drs.calibration.knots"])
    # sampling and evaluating never write what a training (perhaps resumed beside them) writes
    assert {name: (run / name).read_bytes() for name in training_files} == training_files
    shown = run_cli(["inspect", str(run), "--json"])
    assert shown.exit_code == 0 and "drs" in json.loads(shown.output)["fitted_samplers"]


@pytest.mark.parametrize("sampler", ["drs", "mh"])
def test_a_refit_with_the_same_options_gives_the_same_state(run, tmp_path, sampler):
    """Fitting draws from a seed of its own, so a run's fitted sampler (and every figure from it) is reproducible."""
    args = ["sample", str(run), "--sampler", sampler, *SMALL[sampler], "--n", "8", "--out"]

    def fit(options: list[str], out: str) -> dict[str, torch.Tensor]:
        assert run_cli([*args, str(tmp_path / out), *options]).exit_code == 0
        return fitted_state(run)

    first = fit([], "a.npz")
    fit(["-o", "sampler.calibration=300"], "b.npz")  # other options: a new fit replaces the state
    again = fit(["-o", "sampler.calibration=200"], "c.npz")  # back to the first options: fitted anew
    assert first.keys() == again.keys() and all(torch.equal(first[k], again[k]) for k in first)
    assert np.array_equal(np.load(tmp_path / "a.npz")["images"], np.load(tmp_path / "c.npz")["images"])


def test_proposal_bound_gives_a_clear_error(run, tmp_path):
    result = run_cli(["sample", str(run), "--sampler", "drs", *SMALL["drs"], "-o", "sampler.gamma=1e6",
                      "--max-proposals", "300", "--n", "10", "--out", str(tmp_path / "x.npz")])
    assert result.exit_code == 2 and "proposal bound" in " ".join(result.output.split())
    assert not (tmp_path / "x.npz").exists()


def test_eval_with_a_sampler(run):
    result = run_cli(["eval", str(run), "--sampler", "latent-ga", *SMALL["latent-ga"], "--n", "200", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sampler"] == "latent-ga"


def test_latent_ga_on_weights_fits_once_and_reuses(run, tmp_path):
    args = ["sample", str(run), "--sampler", "latent-ga", "-o", "sampler.score=weights", "-o", "sampler.weight_steps=5",
            "-o", "sampler.steps=2", "--n", "6", "--out"]
    assert run_cli([*args, str(tmp_path / "a.npz")]).exit_code == 0
    state = fitted_state(run)
    assert "sampler.latent-ga.weighting.weights.net.0.weight" in state
    result = run_cli([*args, str(tmp_path / "b.npz")])
    assert result.exit_code == 0, result.output
    assert torch.equal(fitted_state(run)["sampler.latent-ga.weighting.weights.net.0.weight"],
                       state["sampler.latent-ga.weighting.weights.net.0.weight"])


def test_train_fits_its_default_sampler_at_the_end(in_tmp):
    result = run_cli(["train", *SLICE, "--steps", "3", "--sampler", "latent-rs", *SMALL["latent-rs"], "--out", "r"])
    assert result.exit_code == 0, result.output
    info = json.loads((in_tmp / "r" / "run.json").read_text())
    assert info["components"]["sampler"]["name"] == "latent-rs" and fit_record(in_tmp / "r", "latent-rs") is not None
    before = (in_tmp / "r" / "samplers" / "latent-rs.safetensors").read_bytes()
    assert run_cli(["sample", "r", "--n", "4", "--out", "s.npz"]).exit_code == 0  # the run's default, already fitted
    assert (in_tmp / "r" / "samplers" / "latent-rs.safetensors").read_bytes() == before  # reused, not fitted again


def test_a_fit_saved_by_an_older_version_is_reused_with_what_its_options_meant_then(run, tmp_path, monkeypatch):
    monkeypatch.setattr("gan_core.deprecation._warned", set())
    """Runs fitted before samplers/ kept the fit in run.json and the weights, with the options of their day."""
    args = ["sample", str(run), "--sampler", "drs", *SMALL["drs"], "--n", "8", "--out"]
    assert run_cli([*args, str(tmp_path / "a.npz")]).exit_code == 0
    record = fit_record(run, "drs")
    state = fitted_state(run)
    legacy = {k: v for k, v in record["options"].items() if k not in ("gamma_from", "batch")}  # unknown then
    info = json.loads((run / "run.json").read_text())
    info["samplers"] = {"drs": {**{k: v for k, v in record.items() if k != "step"}, "options": legacy}}
    (run / "run.json").write_text(json.dumps(info))
    weights = {**load_file(str(run / "weights.safetensors")), **state}
    save_file(weights, str(run / "weights.safetensors"), metadata={"gan.step": str(info["checkpoint"]["step"])})
    shutil.rmtree(run / "samplers")
    with pytest.warns(GanDeprecationWarning, match="plugin API 2.0"):  # the shim says it goes with API 2.0
        result = run_cli(["sample", str(run), "--sampler", "drs", "--n", "8", "--out", str(tmp_path / "b.npz")])
    assert result.exit_code == 0, result.output
    assert "Fitting" not in result.output and not (run / "samplers").exists()  # reused, as burn-in gamma (legacy)
