"""What people see of a training (issue 24): files with the umask's modes, progress a log file shows as it goes."""

from __future__ import annotations

import gzip
import io
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from gan_core.features import ProgressDisplay, first_line
from gan_core.group import trained_group_line
from gan_core.testing import run_cli
from gan_core.training import trained_line
from rich.console import Console

from .conftest import SLICE

# --------------------------------------------------------------------------- file modes


def _modes(root: Path) -> dict[str, int]:
    """Every file and folder under ``root`` (itself excluded), with its permission bits."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = path.stat().st_mode & 0o777
    return found


@pytest.mark.parametrize(("umask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)],
                         ids=["022", "077"])
def test_everything_gan_writes_has_the_umasks_mode(in_tmp, mnist_dir, umask, file_mode, folder_mode):
    old = os.umask(umask)
    try:
        commands = [
            ["train", *SLICE, "--steps", "25", "--log-every", "5", "--out", "runs/r"],  # an epoch's grid and a last one
            ["sample", "runs/r", "--n", "12", "--out", "pngs", "--grid", "grid.png"],
            ["sample", "runs/r", "--n", "12", "--out", "s.npz"],
            ["eval", "runs/r", "--n", "100", "--out", "e.json"],
            ["report", "runs/r", "--out", "report"],
        ]
        for args in commands:
            result = run_cli(args)
            assert result.exit_code == 0, (args, result.output)
    finally:
        os.umask(old)
    modes = _modes(in_tmp)
    expected = {"runs/r/run.json", "runs/r/weights.safetensors", "runs/r/optim.safetensors", "runs/r/metrics.jsonl",
                "runs/r/samples/epoch-0001.png", "runs/r/samples/step-0000025.png", "runs/r/eval.json",
                "runs/r/evals/none.json", "pngs/000000.png", "grid.png", "s.npz", "e.json", "report/index.html"}
    assert expected <= set(modes), sorted(modes)
    folders = {p for p in modes if (in_tmp / p).is_dir()}
    assert {"runs", "runs/r", "runs/r/samples", "runs/r/evals", "pngs", "report"} <= folders
    wrong = {p: oct(m) for p, m in modes.items() if m != (folder_mode if p in folders else file_mode)}
    assert not wrong, wrong
    assert not [p for p in modes if Path(p).name.startswith(".")], "a temporary file or folder was left behind"


def test_a_downloaded_dataset_has_the_umasks_mode(tmp_path, monkeypatch):
    from gan_core.components import DataRequest
    from gan_core.data.locate import find_files

    monkeypatch.delenv("GAN_NO_DOWNLOAD", raising=False)
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    (tmp_path / "mirror").mkdir()
    for name, shape, size in zip(names, ((2, 28, 28), (2,)), (2 * 784, 2)):
        header = bytes([0, 0, 0x08, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape)
        (tmp_path / "mirror" / f"{name}.gz").write_bytes(gzip.compress(header + bytes(size)))
    old = os.umask(0o022)
    try:
        found = find_files("mnist", names, DataRequest(data_dir=tmp_path / "empty"),
                           mirrors=[(tmp_path / "mirror").as_uri() + "/"])
    finally:
        os.umask(old)
    assert {path.stat().st_mode & 0o777 for path in found.values()} == {0o644}  # mkstemp alone gives 0o600


# --------------------------------------------------------------------------- progress in a log file

INFO = {
    "components": {
        "prior": {"name": "normal", "options": {"std": 1.0}},
        "loss": {"name": "vanilla", "options": {}},
        "architecture": {"name": "mlp", "options": {"dropout": 0.0}},
        "dataset": {"name": "mnist", "options": {"limit": 640}},
        "sampler": {"name": "none", "options": {}},
    },
    "train": {"batch_size": 64, "d_steps": 1, "seed": 0, "device_used": "cpu"},
}


def fake_run(step: int = 0, total: int = 300, per_epoch: int = 150, **config: object) -> SimpleNamespace:
    """What a ProgressDisplay reads of a training: its host-side step counter, budget and settings."""
    settings = SimpleNamespace(steps=None, options={"dataset": {"limit": "640"}})
    settings.__dict__.update(config)
    return SimpleNamespace(step=step, total=total, steps_per_epoch=per_epoch, config=settings)


class Written(io.StringIO):
    """A file that is not a terminal and remembers, for each flush, what had been written by then."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


def test_not_in_a_terminal_each_log_interval_is_one_plain_line_written_out_at_once():
    out = Written()
    display = ProgressDisplay(Console(file=out, width=40))  # a narrow log: lines are never wrapped
    display.bind(fake_run())
    display.on_start(Path("runs/x"), INFO)
    for step in (100, 200, 300):
        display.run.step = step
        display.on_log({"step": step, "epoch": step / 150, "d_loss": 1.2344, "g_loss": 0.9871, "images_per_s": 412.3})
        assert out.flushed and out.flushed[-1].endswith(f"step {step}/300 (epoch {step / 150:.2f})  d_loss 1.234  "
                                                        "g_loss 0.987  412 img/s\n")
    display.on_end(Path("runs/x"), "finished")
    lines = out.getvalue().splitlines()
    assert lines[0] == ("Training runs/x: prior normal, loss vanilla, arch mlp, dataset mnist (limit=640); "
                        "2 epochs = 300 steps, batch 64, seed 0, cpu")
    assert len(lines) == 4 and display.progress is None and "\x1b" not in out.getvalue()


def test_the_first_line_says_the_budget_as_it_was_given_and_where_a_run_resumes():
    by_steps = first_line(fake_run(total=225, steps=225), Path("r"), INFO)
    assert by_steps.endswith("; 225 steps = 1.5 epochs, batch 64, seed 0, cpu")
    assert first_line(fake_run(step=150, total=150), Path("r"), INFO).startswith("Resuming r at step 150: prior normal")
    grouped = first_line(fake_run(), Path("g/seed=0"), INFO, group="2 runs as one stacked group in g (seed=0, seed=1)")
    assert grouped.startswith("Training 2 runs as one stacked group in g (seed=0, seed=1): prior normal")
    assert "seed 0" not in grouped
    cuda = {**INFO, "train": {**INFO["train"], "device_used": "cuda:0", "device_name": "NVIDIA H200", "d_steps": 5}}
    assert first_line(fake_run(), Path("r"), cuda).endswith("5 D steps per G step, seed 0, cuda:0 (NVIDIA H200)")


def test_the_last_line_gives_the_final_losses_the_time_and_what_comes_next(tmp_path):
    run = tmp_path / "runs" / "x"
    run.mkdir(parents=True)
    (run / "metrics.jsonl").write_text('{"step": 5, "d_loss": 2.0, "g_loss": 3.0}\n'
                                       '{"step": 10, "d_loss": 1.2345, "g_loss": 0.98}\n'
                                       '{"step": 10, "epoch": 1, "eval": {"fid": 50.0}}\n')
    assert trained_line(run, 4.71) == (f"Trained {run} in 4.7 s: d_loss 1.234, g_loss 0.980. "
                                       f"Next: gan sample {run} --n 64 --grid samples.png; gan eval {run}")
    other = tmp_path / "runs" / "y"
    other.mkdir()
    (other / "metrics.jsonl").write_text('{"step": 10, "d_loss": 1.0, "g_loss": 1.0}\n')
    line = trained_group_line(tmp_path / "runs", [run, other], 12.0)
    assert line.startswith(f"Trained 2 runs in {tmp_path / 'runs'} in 12.0 s: d_loss 1.117 (1.000 to 1.234), "
                           "g_loss 0.990 (0.980 to 1.000) over 2 runs. Next: gan sample ")
    assert f"gan compare {tmp_path / 'runs'}" in line
    assert trained_line(tmp_path / "nothing", 1.0).startswith(f"Trained {tmp_path / 'nothing'} in 1.0 s. Next: ")


def _gan(args: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    """``gan ARGS > log 2>&1``, as under nohup: not a terminal, and no PYTHONUNBUFFERED to help."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open(log, "wb") as handle:
        return subprocess.Popen([sys.executable, "-m", "gan_core", *args], cwd=cwd, env=env, stdout=handle,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def test_a_training_redirected_to_a_file_logs_a_first_line_each_interval_and_a_last_line(tmp_path, mnist_dir):
    log = tmp_path / "log"
    proc = _gan(["train", *SLICE, "--steps", "15", "--log-every", "5", "--out", "runs/x"], log, tmp_path)
    assert proc.wait(timeout=300) == 0, log.read_text()
    lines = log.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Training runs/x: prior normal"))
    progress = [i for i, line in enumerate(lines) if line.startswith("step ")]
    last = next(i for i, line in enumerate(lines) if line.startswith("Trained runs/x in "))
    assert [lines[i].split()[1] for i in progress] == ["5/15", "10/15", "15/15"]
    assert first < progress[0] and progress[1] < last and last == len(lines) - 1, lines
    assert "; 15 steps = 0.75 epochs, batch 32, seed 0, cpu" in lines[first]
    assert "d_loss" in lines[last]
    assert lines[last].endswith("Next: gan sample runs/x --n 64 --grid samples.png; gan eval runs/x")
    assert not [line for line in lines if "━" in line], "the bar is for terminals"


def test_the_log_file_grows_while_the_run_goes(tmp_path, mnist_dir):
    log = tmp_path / "log"
    proc = _gan(["train", *SLICE, "--steps", "100000", "--log-every", "5", "--out", "run"], log, tmp_path)
    try:
        deadline = time.monotonic() + 240
        while log.read_text().count("\nstep ") < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, log.read_text()  # two progress lines are in the file while it trains
        text = log.read_text()
        assert text.startswith("Training run: ") and "step 10/100000 (epoch 0.50)" in text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    assert proc.returncode == 130 and "Interrupted: checkpoint saved" in log.read_text()


# --------------------------------------------------------------------------- the bar in a terminal


def test_in_a_terminal_the_bar_follows_the_step_counter_between_log_intervals():
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    run = fake_run(total=1000, per_epoch=100)
    display = ProgressDisplay(console)
    display.bind(run)
    display.on_start(Path("runs/x"), INFO)
    try:
        assert display.progress is not None and display.progress.live.refresh_per_second >= 1
        task = display.progress.tasks[0]
        run.step = 37  # no on_log: losses are read only at log intervals, the step counter at each redraw
        display.progress.get_renderable()
        assert task.completed == 37 and task.description == "epoch 0.37" and task.fields["losses"] == ""
        run.step = 58  # and rich's own refresh thread redraws (10 times a second) without anyone calling it
        deadline = time.monotonic() + 5
        while task.completed != 58 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert task.completed == 58
        display.on_log({"step": 60, "epoch": 0.6, "d_loss": 1.0, "g_loss": 2.0, "images_per_s": 100.0})
        assert task.fields["losses"] == "d_loss 1.000  g_loss 2.000  100 img/s"
    finally:
        display.on_end(Path("runs/x"), "finished")
    assert "Training runs/x: " in console.file.getvalue()


def test_a_stacked_group_shows_one_display_that_names_the_group(in_tmp, mnist_dir):
    result = run_cli(["train", *SLICE, "--steps", "4", "--log-every", "2", "--seeds", "2", "--out", "g"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Training 2 runs as one stacked group in g (seed=0, seed=1): prior normal")
    progress = [line for line in lines if line.startswith("step ")]
    assert [line.split(" d_loss")[0] for line in progress] == ["step 2/4 (epoch 0.10)  seed=0:",
                                                                "step 4/4 (epoch 0.20)  seed=0:"]
    assert lines[-1].startswith("Trained 2 runs in g in ") and "over 2 runs. Next: gan sample g/seed=0" in lines[-1]
