"""gan sweep on an embedded local Ray: two tiny trials, then the same command again resumes and skips.

Few and small on purpose: starting Ray costs seconds. Expansion and
validation are unit-tested without Ray (packages/gan-core/tests/test_sweep_spec.py).
"""

from __future__ import annotations

import json
import shutil

import pytest

import gan_core
from gan_core import Callback
from gan_core.sampling import fit_record
from gan_core.testing import run_cli

pytest.importorskip("ray.tune")

SWEEP = ["sweep", "--dataset", "mnist", "-o", "dataset.limit=256", "--batch-size", "32", "--epochs", "2",
         "-s", "prior.std=0.5,1.0", "--final-n", "100", "--trial-cpus", "1", "--seeds", "1"]


class StopAfterFirstCheckpoint(Callback):
    """Kills a training after its first checkpoint, the way a killed sweep leaves a trial."""

    def on_checkpoint(self, step, path):
        raise RuntimeError("killed")


def one_line(result) -> str:
    return " ".join(result.output.split())


def test_a_sweep_runs_its_trials_and_resumes(tmp_path, mnist_dir):
    out = tmp_path / "sweep"
    first = run_cli([*SWEEP, "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert "2 trials (0 done, 0 stopped early, 0 to resume, 2 to start)" in one_line(first)
    assert "Packed 2 trials" in one_line(first)  # prior.std is a member option: one stacked group
    for trial in ("prior.std=0.5,seed=0", "prior.std=1,seed=0"):
        run = out / "trials" / trial
        info = json.loads((run / "run.json").read_text())
        assert info["status"] == "finished" and info["checkpoint"]["step"] == 16 and info["train"]["seed"] == 0
        assert json.loads((run / "eval.json").read_text())["n"] == 100
    assert (out / "report" / "index.html").is_file()
    assert "prior.std" in first.output and "fid" in first.output

    # a trial killed after its first epoch, as a killed sweep leaves it
    interrupted = out / "trials" / "prior.std=0.5,seed=0"
    shutil.rmtree(interrupted)
    settings = {"dataset": "mnist", "options": {"dataset": {"limit": 256}, "prior": {"std": 0.5}}, "batch_size": 32,
                "epochs": 2, "seed": 0, "device": "cpu", "out": str(interrupted)}
    with pytest.raises(RuntimeError, match="killed"):
        gan_core.train(settings, callbacks=[StopAfterFirstCheckpoint()])
    assert json.loads((interrupted / "run.json").read_text())["checkpoint"]["step"] == 8

    resumed = run_cli([*SWEEP, "--out", str(out)])
    assert resumed.exit_code == 0, resumed.output
    assert "2 trials (1 done, 0 stopped early, 1 to resume, 0 to start)" in one_line(resumed)
    log = [json.loads(line) for line in (interrupted / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [8, 16]  # on from its checkpoint, not restarted

    again = run_cli([*SWEEP, "--out", str(out), "--no-report"])
    assert again.exit_code == 0 and "2 trials (2 done" in one_line(again)


def test_a_bad_sweep_is_refused_before_anything_starts(tmp_path):
    result = run_cli(["sweep", "-s", "prior.std=0.5,-1", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2 and "trial prior.std=-1,seed=0: prior 'normal' option 'std' must be at least 0.0" in one_line(result)
    assert not (tmp_path / "s").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "sweep.json").write_text("{}")
    result = run_cli(["sweep", "-s", "prior.std=0.5,1", "--out", str(tmp_path / "other")])
    assert result.exit_code == 2 and "holds another sweep" in one_line(result)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    result = run_cli(["sweep", "-s", "prior.std=0.5,1", "--out", str(tmp_path / "notes")])
    assert result.exit_code == 2 and "is not a sweep folder" in one_line(result)
    result = run_cli(["sweep", "-s", "prior.std=0.5,1", "--early-stop", "fid", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2 and "add --eval-every N" in one_line(result)


def test_without_ray_the_command_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as when it is not installed
    result = run_cli(["sweep", "-s", "prior.std=0.5,1", "--epochs", "1", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2 and "pip install 'gan-core[sweep]'" in one_line(result)
    assert not (tmp_path / "s").exists()


def test_eval_samplers_added_later_evaluate_the_trained_trials_without_retraining(tmp_path, mnist_dir):
    config = tmp_path / "sweep.toml"
    table = """[sweep]
seeds = 1
final_n = 100
trial_cpus = 2
[base]
dataset = "mnist"
batch-size = 32
epochs = 1
holdout = 0.25
[base.options.dataset]
limit = 256
[[include]]
prior = "normal"
"""
    config.write_text(table)
    out = tmp_path / "sweep"
    first = run_cli(["sweep", "--config", str(config), "--out", str(out), "--no-report"])
    assert first.exit_code == 0, first.output
    run = out / "trials" / "prior=normal,seed=0"
    config.write_text(table + 'eval-samplers = ["drs"]\n')  # any sampler that fits; drs fits in seconds
    second = run_cli(["sweep", "--config", str(config), "--out", str(out)])
    assert second.exit_code == 0, second.output
    assert "1 trials (0 done, 0 stopped early, 1 to resume, 0 to start)" in one_line(second)
    report = json.loads((run / "evals" / "drs.json").read_text())
    assert report["sampler"] == "drs" and report["n"] == 100
    log = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "d_loss" in r or "g_loss" in r][-1] == 6  # trained once: 192 images / 32
    assert "drs" in second.output  # its own row in the table
    assert fit_record(run, "drs")["name"] == "drs"  # fitted beside the run, not into it
