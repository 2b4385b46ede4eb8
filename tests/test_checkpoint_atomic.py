"""A checkpoint is one atomic step: whatever stops a training while it writes one, the run holds a whole checkpoint.

Each test cuts a real training's checkpoint at one moment and then resumes,
samples and evaluates the run. Before checkpoints were journaled, the weights
moved to the new step while run.json stayed at the old one, and every one of
these commands refused the run from then on.
"""

from __future__ import annotations

import os
import signal

import pytest

import gan_core
from gan_core import runs
from gan_core.runs import read_checkpoint, read_run
from gan_core.testing import run_cli

SETTINGS = {"dataset": "mnist", "options": {"dataset": {"limit": 640}}, "batch-size": 32, "log_every": 5,
            "checkpoint_every": 5, "device": "cpu"}


def usable(run) -> None:
    """The run resumes, samples and evaluates, and its files agree on one step."""
    info, _, metas = read_checkpoint(run, (runs.WEIGHTS_FILE, runs.OPTIM_FILE))
    assert {m["gan.step"] for m in metas.values()} == {str(info["checkpoint"]["step"])}
    assert run_cli(["sample", str(run), "--n", "4", "--out", str(run.parent / "s.npz")]).exit_code == 0
    assert run_cli(["eval", str(run), "--n", "20", "--metrics", "fid"]).exit_code == 0
    resumed = run_cli(["train", "--resume", str(run), "--steps", str(info["checkpoint"]["step"] + 5)])
    assert resumed.exit_code == 0, resumed.output
    assert not [p.name for p in run.iterdir() if p.name.startswith(".checkpoint-")]  # finished by the resume


def cut_at(monkeypatch, *, step: int, file: str, action) -> None:
    """Run ``action`` when the checkpoint of ``step`` starts writing ``file``."""
    write = runs.write_synced

    def writing(path, data):
        if path.name == file and path.parent.name == f".checkpoint-{step}.tmp":
            action()
        write(path, data)

    monkeypatch.setattr(runs, "write_synced", writing)


@pytest.mark.parametrize("during", [runs.WEIGHTS_FILE, runs.OPTIM_FILE, runs.RUN_FILE])
def test_a_second_ctrl_c_during_the_stop_checkpoint_leaves_a_whole_run(tmp_path, mnist_dir, monkeypatch, during):
    """First Ctrl-C at step 5: the loop checkpoints step 5 to stop; the second lands while each of its files is written."""

    class FirstCtrlC(gan_core.Callback):
        def on_log(self, record):
            if record["step"] == 5:
                signal.raise_signal(signal.SIGINT)  # stop requested: the loop checkpoints step 5 and stops

    cut_at(monkeypatch, step=5, file=during, action=lambda: signal.raise_signal(signal.SIGINT))
    run = tmp_path / "r"
    with pytest.raises((KeyboardInterrupt, gan_core.StopRequested)):
        gan_core.train({**SETTINGS, "steps": 40, "out": str(run)}, callbacks=[FirstCtrlC()])
    info = read_run(run)
    assert info["checkpoint"]["step"] == 5 and info["status"] == "interrupted"
    usable(run)


def test_a_crash_while_a_checkpoint_is_written_keeps_the_one_before(tmp_path, mnist_dir, monkeypatch):
    def crash():
        raise SystemExit("killed")  # stands for kill -9: nothing after this line of the checkpoint runs

    cut_at(monkeypatch, step=10, file=runs.RUN_FILE, action=crash)  # weights and optimiser of step 10 written
    run = tmp_path / "r"
    with pytest.raises(SystemExit):
        gan_core.train({**SETTINGS, "steps": 20, "out": str(run)})
    monkeypatch.undo()
    assert read_run(run)["checkpoint"]["step"] == 5
    usable(run)


def test_a_crash_while_a_whole_checkpoint_moves_into_place_keeps_the_new_one(tmp_path, mnist_dir, monkeypatch):
    replace = os.replace
    moved = []

    def one_file_then_crash(src, dst):  # the commit rename happens, then one file moves, then the process dies
        if f"{os.sep}.checkpoint-10{os.sep}" in str(src):
            moved.append(src)
            if len(moved) > 1:
                raise SystemExit("killed")
        replace(src, dst)

    monkeypatch.setattr(runs.os, "replace", one_file_then_crash)
    run = tmp_path / "r"
    with pytest.raises(SystemExit):
        gan_core.train({**SETTINGS, "steps": 20, "out": str(run)})
    monkeypatch.undo()
    assert (run / ".checkpoint-10").is_dir()  # the rest of step 10 waits there
    assert read_run(run)["checkpoint"]["step"] == 10  # and it is the run's checkpoint
    usable(run)


def test_files_written_by_gan_respect_the_umask(tmp_path, mnist_dir):
    old = os.umask(0o022)
    try:
        gan_core.train({**SETTINGS, "steps": 5, "out": str(tmp_path / "r")})
    finally:
        os.umask(old)
    for name in ("run.json", "weights.safetensors", "optim.safetensors"):
        assert (tmp_path / "r" / name).stat().st_mode & 0o777 == 0o644, name
    assert (tmp_path / "r").stat().st_mode & 0o777 == 0o755
