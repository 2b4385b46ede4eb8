"""A run directory survives a second process: one training at a time, and readers that never write its checkpoint.

The subprocess tests race real processes, so they assert what must hold
whatever the interleaving (every command succeeds, the final checkpoint is
whole), not an order of events.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from gan_core import GanError
from gan_core.runs import RunLock, read_run, save_tensors
from gan_core.runs import read_checkpoint
from gan_core.sampling import fit_record
from gan_core.testing import run_cli

from .conftest import SLICE

GAN = [sys.executable, "-m", "gan_core"]


def one_line(result) -> str:
    return " ".join(result.output.split())


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([*GAN, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "GAN_TRACE_PLUGINS": ""})


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_second_training_into_the_same_out_is_refused_and_leaves_the_first_alone(in_tmp):
    lock = RunLock(in_tmp / "r")  # a first training, still in its first steps: only its staging folder exists
    staging = in_tmp / ".r.partial"
    staging.mkdir()
    (staging / "metrics.jsonl").write_text("{}\n")
    try:
        second = run_cli(["train", *SLICE, "--steps", "2", "--out", "r"])
        assert second.exit_code == 2
        assert f"gan train (process {os.getpid()}) is already training into r" in one_line(second)
        assert (staging / "metrics.jsonl").read_text() == "{}\n" and not (in_tmp / "r").exists()
        (in_tmp / "runs").mkdir()
        default = RunLock(in_tmp / "runs" / "normal-vanilla")  # the default --out is refused alike
        try:
            assert run_cli(["train", *SLICE, "--steps", "2"]).exit_code == 2
        finally:
            default.release()
    finally:
        lock.release()
    assert not (in_tmp / ".r.lock").exists()  # released: no file left beside the run
    shutil.rmtree(staging)
    assert run_cli(["train", *SLICE, "--steps", "2", "--out", "r"]).exit_code == 0
    assert sorted(p.name for p in in_tmp.iterdir()) == ["r", "runs"]


def test_two_trainings_started_at_once_one_is_refused_the_other_finishes_intact(in_tmp):
    first = start(["train", *SLICE, "--steps", "200", "--log-every", "50", "--out", "r"], in_tmp)
    try:
        wait_for(in_tmp / ".r.lock", first)
        second = run_cli(["train", *SLICE, "--steps", "2", "--out", "r"])
        assert second.exit_code == 2 and "is already training into r" in one_line(second)
    finally:
        output = first.communicate(timeout=300)[0]
    assert first.returncode == 0, output
    info = read_run(in_tmp / "r")
    assert info["status"] == "finished" and info["checkpoint"]["step"] == 200
    assert read_checkpoint(in_tmp / "r")[0] == info  # run.json and the weights are of the same checkpoint


def test_sampling_and_evaluating_beside_a_resumed_training_neither_corrupts_it(in_tmp):
    assert run_cli(["train", *SLICE, "--steps", "10", "--out", "r"]).exit_code == 0
    training = start(["train", "--resume", "r", "--steps", "120", "--checkpoint-every", "5", "--log-every", "5"], in_tmp)
    results = []
    try:
        while training.poll() is None or not results:
            sampler = ["--sampler", "latent-rs", "-o", "sampler.steps=3", "-o", "sampler.real_images=100"]
            results.append(run_cli(["sample", "r", *sampler, "--n", "8", "--out", f"s{len(results)}.npz"]))
            results.append(run_cli(["eval", "r", "--n", "20", "--metrics", "fid"]))
    finally:
        output = training.communicate(timeout=300)[0]
    assert training.returncode == 0, output
    assert all(r.exit_code == 0 for r in results), next(r.output for r in results if r.exit_code)
    info = read_run(in_tmp / "r")
    assert info["status"] == "finished" and info["checkpoint"]["step"] == 120  # no reader rolled it back
    assert read_checkpoint(in_tmp / "r")[0] == info
    assert not any(k.startswith("sampler.") for k in load_file(str(in_tmp / "r" / "weights.safetensors")))
    assert fit_record(in_tmp / "r", "latent-rs")["step"] <= 120


def test_a_reader_takes_the_checkpoint_that_agrees_and_refuses_a_torn_one(trained_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    stale = read_run(run)
    weights = load_file(str(run / "weights.safetensors"))
    newer = {**stale, "checkpoint": {"step": stale["checkpoint"]["step"] + 5, "epoch": 1.0}}
    save_tensors(run / "weights.safetensors", weights, {"gan.step": str(newer["checkpoint"]["step"])})
    (run / "run.json").write_text(json.dumps(newer))
    info, _, _ = read_checkpoint(run)  # a training checkpointed since: take the new pair
    assert info["checkpoint"] == newer["checkpoint"]
    (run / "run.json").write_text(json.dumps(stale))  # weights of one step, run.json of another, for good
    with pytest.raises(GanError, match="the files of two checkpoints are mixed"):
        read_checkpoint(run)


def test_refused_input_leaves_no_folder_behind(in_tmp):
    """The run's parent folders (and its lock file) appear only once the input is checked."""
    result = run_cli(["train", *SLICE, "--batch-size", "1000", "--steps", "2", "--out", "new/deep/r"])
    assert result.exit_code == 2 and "fewer than one step needs" in one_line(result)
    assert not (in_tmp / "new").exists()
