"""Training as a function with callbacks: what a user's own script (neither the CLI nor Ray) sees."""

from __future__ import annotations

import json

import pytest

import gan_core
from gan_core import Callback, GanError


class Recorder(Callback):
    """Writes down every call, in order."""

    def __init__(self):
        self.calls = []

    def on_start(self, path, info):
        self.calls.append(("start", path.name, info["components"]["prior"]["name"]))

    def on_log(self, record):
        self.calls.append(("log", record["step"]))

    def on_epoch_end(self, epoch):
        self.calls.append(("epoch", epoch))

    def on_eval(self, epoch, values):
        self.calls.append(("eval", epoch, sorted(values)))

    def on_checkpoint(self, step, path):
        self.calls.append(("checkpoint", step, (path / "run.json").is_file()))

    def on_end(self, path, status):
        self.calls.append(("end", status))


def test_a_script_trains_with_callbacks_and_resumes(tmp_path, mnist_dir):
    recorder = Recorder()
    settings = {"prior": "uniform", "dataset": "mnist", "options": {"dataset": {"limit": 640}}, "batch-size": 32,
                "epochs": 2, "log_every": 10, "eval_every": 1, "eval_n": 100, "device": "cpu", "out": str(tmp_path / "run")}
    path = gan_core.train(settings, callbacks=[recorder])
    assert path == tmp_path / "run"
    calls = recorder.calls
    assert calls[0] == ("start", "run", "uniform") and calls[-1] == ("end", "finished")
    assert [c for c in calls if c[0] == "log"] == [("log", 10), ("log", 20), ("log", 30), ("log", 40)]
    # each epoch: its end, then its evaluation, then its checkpoint (on disk when announced)
    epoch_one = calls.index(("epoch", 1))
    assert calls[epoch_one + 1][:2] == ("eval", 1) and "fid" in calls[epoch_one + 1][2]
    assert calls[epoch_one + 2] == ("checkpoint", 20, True)
    # the resume policy lives in the function too: only the budget may change
    more = Recorder()
    gan_core.train({"epochs": 3}, resume=path, callbacks=[more])
    assert more.calls[-1] == ("end", "finished") and ("checkpoint", 60, True) in more.calls
    assert json.loads((path / "run.json").read_text())["checkpoint"]["step"] == 60
    with pytest.raises(GanError, match="--resume continues a run with its own settings; drop --lr-g"):
        gan_core.train({"lr_g": 1e-3}, resume=path)


def test_tensorboard_gets_the_same_curves(tmp_path, mnist_dir):
    pytest.importorskip("tensorboard")
    from gan_core.testing import run_cli

    result = run_cli(["train", "--dataset", "mnist", "-o", "dataset.limit=640", "--batch-size", "32", "--steps", "20",
                      "--log-every", "5", "--device", "cpu", "--out", str(tmp_path / "run"),
                      "--tensorboard", str(tmp_path / "tb")])
    assert result.exit_code == 0, result.output
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    steps = [e.step for e in events.Scalars("train/d_loss")]
    assert steps == [5, 10, 15, 20]
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [e.value for e in events.Scalars("train/g_loss")] == pytest.approx([r["g_loss"] for r in logged])


class Closes(Callback):
    """Holds something open (as a TensorBoard writer does) and must hear the end, whatever it was."""

    def __init__(self):
        self.ended = None

    def on_end(self, path, status, error=None):
        self.ended = (status, error)


class Breaks(Callback):
    def on_log(self, record):
        raise RuntimeError("a bug in some other callback")


def test_on_end_runs_when_training_fails_unexpectedly_and_gets_the_error(tmp_path, mnist_dir):
    closes, old_style = Closes(), Recorder()  # Recorder.on_end(path, status): written before `error` existed
    settings = {"dataset": "mnist", "options": {"dataset": {"limit": 640}}, "batch-size": 32, "steps": 10,
                "log_every": 5, "device": "cpu", "out": str(tmp_path / "run")}
    with pytest.raises(RuntimeError, match="a bug in some other callback"):
        gan_core.train(settings, callbacks=[closes, old_style, Breaks()])
    status, error = closes.ended
    assert status == "failed" and isinstance(error, RuntimeError)
    assert old_style.calls[-1] == ("end", "failed")
    assert not (tmp_path / "run").exists()  # it failed before its first checkpoint


def test_the_cores_own_features_are_callbacks_a_script_can_drop_or_replace(tmp_path, mnist_dir):
    from gan_core.config import settings_for
    from gan_core.features import MetricsLog, ProgressDisplay, SampleGrids, default_features

    config = settings_for({"dataset": "mnist", "options": {"dataset": {"limit": 640}}, "batch-size": 32, "epochs": 1,
                           "log_every": 5, "device": "cpu", "out": str(tmp_path / "quiet")})
    features = default_features(config)
    assert [type(f) for f in features] == [MetricsLog, SampleGrids, ProgressDisplay]
    kept = [f for f in features if not isinstance(f, (SampleGrids, MetricsLog))]
    path = gan_core.train(config, features=kept)
    assert (path / "run.json").is_file()
    assert not (path / "metrics.jsonl").exists() and not (path / "samples").exists()


def test_a_script_that_drops_one_feature_keeps_evaluation_and_keep_best(tmp_path, mnist_dir):
    from gan_core.config import settings_for
    from gan_core.features import ProgressDisplay, default_features

    config = settings_for({"dataset": "mnist", "options": {"dataset": {"limit": 640}}, "batch-size": 32, "epochs": 2,
                           "log_every": 10, "eval_every": 1, "eval_n": 100, "keep_best": "fid", "device": "cpu",
                           "out": str(tmp_path / "run")})
    recorder = Recorder()
    path = gan_core.train(config, callbacks=[recorder],
                          features=[f for f in default_features(config) if not isinstance(f, ProgressDisplay)])
    assert [c[:2] for c in recorder.calls if c[0] == "eval"] == [("eval", 1), ("eval", 2)]
    best = json.loads((path / "run.json").read_text())["best"]
    assert best["metric"] == "fid" and (path / "best" / "weights.safetensors").is_file()
    gan_core.train({"epochs": 3, "eval_every": 2}, resume=path)  # no evaluation at epoch 3: what was found stays
    assert json.loads((path / "run.json").read_text())["best"] == best


class FailsToStart(Callback):
    def on_start(self, path, info):
        raise RuntimeError("cannot open the log")


def test_a_callback_that_fails_to_start_still_ends_everything_it_followed(tmp_path, mnist_dir):
    closes = Closes()
    settings = {"dataset": "mnist", "options": {"dataset": {"limit": 640}}, "batch-size": 32, "steps": 5,
                "device": "cpu", "out": str(tmp_path / "run")}
    with pytest.raises(RuntimeError, match="cannot open the log"):
        gan_core.train(settings, callbacks=[closes, FailsToStart()])
    assert closes.ended[0] == "failed"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no staging folder, no lock file
