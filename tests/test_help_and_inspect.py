"""Help texts shown as written, and ``gan inspect`` from a run's records (GitHub issue 24)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from gan_core.cli import make_app
from gan_core.evaluation.run_eval import recorded_target
from gan_core.testing import run_cli

from .conftest import SLICE

ROOT = Path(__file__).resolve().parents[1]
#: a committed sweep trial: run.json, eval.json, evals/ and metrics.jsonl, and no weights
RECORD = ROOT / "benchmarks" / "results" / "leaderboard" / "trials" / "prior=normal,seed=0"
WIDE = {"COLUMNS": "400"}  # no wrapping: a help text is on one line, whole
#: the type labels of the help: a value's type or its choices, nothing for a flag
LABEL = re.compile(r"^<(int|float|str|path|[\w.-]+(\|[\w.-]+)+)>$")


def every_command() -> list[tuple[list[str], object]]:
    """Every command and sub-command of ``gan`` (plugins' too), with the click command typer built."""
    found: list[tuple[list[str], object]] = []

    def walk(command: object, path: list[str]) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(get_command(make_app()), [])
    return found


def flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def first_word(row: str) -> str:
    """A help row's first word: its option's name (after the box and a required option's *)."""
    words = row.replace("│", " ").replace("*", " ").split()
    return words[0] if words else ""


@pytest.mark.parametrize("path,command", every_command(), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_help_shows_every_text_as_written_flags_as_flags_and_one_style_of_label(path, command):
    result = run_cli([*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    shown = flat(result.output)
    assert "<bool>" not in result.output and "\\[" not in result.output
    for param in getattr(command, "params", []):
        text = (param.help or "").replace("\\[", "[")  # as the source wrote it
        for bracketed in re.findall(r"\[[^\]]*\]+", text):  # [sweep], [[include]], [default: normal]
            assert flat(bracketed) in shown, f"gan {' '.join(path)}: {bracketed!r} of {param.name} is not shown"
        opts = getattr(param, "opts", None) or []
        row = next((line for line in result.output.splitlines()
                    if line.startswith("│") and first_word(line) in opts), "")
        labels = [word for word in row.split() if word.startswith("<")]
        if getattr(param, "is_flag", False):
            assert not labels, f"gan {' '.join(path)} {opts}: a flag shows {labels}"
        elif param.param_type_name == "option":
            assert len(labels) == 1 and LABEL.match(labels[0]), f"gan {' '.join(path)} {opts}: {row}"
            if param.default is not None and not param.required:
                assert "[default: " in row, f"gan {' '.join(path)} {opts} hides its default {param.default!r}"


def test_sweep_and_train_help_keep_their_brackets_and_defaults():
    sweep = flat(run_cli(["sweep", "--help"], env=WIDE).output)
    assert "([sweep], [base], [grid], [random], [[include]]; see docs/experiments.md)" in sweep
    assert "Images per batch. [default: 64]" in sweep
    train = flat(run_cli(["train", "--help"], env=WIDE).output)
    for default in ("Latent prior (gan plugins: prior). [default: normal]", "[default: the loss's, 2e-4]",
                    "Images per batch. [default: 64]"):
        assert default in train
    assert re.search(r"--json\s+Print JSON", run_cli(["inspect", "--help"], env=WIDE).output)


def test_a_plugin_command_help_is_shown_as_written_too():
    import types

    from typer.testing import CliRunner

    from gan_core import hookimpl
    from gan_core.testing import cli_for

    def register_commands(app):
        @app.command("zz-hello")
        def hello(flag: bool = False, level: int = 3) -> None:
            """Say hello ([zz] table, [default: spelled out])."""

    plugin = types.SimpleNamespace(register_commands=hookimpl(register_commands))
    shown = CliRunner().invoke(cli_for(plugin, "zz-help"), ["zz-hello", "--help"], env=WIDE).output
    assert "([zz] table, [default: spelled out])" in shown, shown
    assert "<bool>" not in shown and re.search(r"--level\s+<int>", shown)


def test_inspect_shows_a_committed_record_without_its_weights():
    assert RECORD.is_dir() and not (RECORD / "weights.safetensors").exists()
    result = run_cli(["inspect", str(RECORD)], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.output
    settings = out[:out.index("components")]
    for expected in ("finished", "4215 of 4215", "adam, lr-g 0.0002, lr-d 0.0002, betas 0.5, 0.999, d-steps 1",
                     "batch size", "64", "seed", "threads not recorded"):
        assert expected in settings, expected
    assert "normal (gan-core 0.2.0) std=1.0" in out and "mlp (gan-core 0.2.0) dropout=0.0 slope=0.2" in out
    assert re.search(r"fid\s+37\.0154\s+37\.9499\s+lower", out)  # eval.json's and the curves' last point
    assert "sampler 'latent-ga', 10000 images vs 10000 mnist test" in flat(out)
    assert flat(out).count("weights.safetensors") == 1 and "gan sample and gan eval need it too" in flat(out)


def test_inspect_json_uses_stable_keys():
    result = run_cli(["inspect", str(RECORD), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"run", "name", "status", "training", "data", "components", "best", "evaluation",
                           "evaluated_samplers", "curves", "weights", "learned", "fitted_samplers", "not_shown"}
    training = report["training"]
    assert {k: training[k] for k in ("optimizer", "lr_g", "lr_d", "betas", "batch_size", "seed", "steps", "epochs",
                                     "steps_done", "device", "threads")} == {
        "optimizer": "adam", "lr_g": 0.0002, "lr_d": 0.0002, "betas": [0.5, 0.999], "batch_size": 64, "seed": 0,
        "steps": 4215, "epochs": 5.0, "steps_done": 4215, "device": "cpu", "threads": None}
    assert report["components"]["prior"] == {"name": "normal", "package": "gan-core", "version": "0.2.0",
                                             "options": {"std": 1.0}}
    evaluation = report["evaluation"]
    assert (evaluation["sampler"], evaluation["n"], evaluation["current"]) == ("latent-ga", 10000, True)
    assert evaluation["metrics"]["fid"] == pytest.approx(37.0154, abs=1e-4)
    assert report["curves"]["step"] == 4215 and report["curves"]["evaluations"] == 5
    assert report["evaluated_samplers"] == ["drs", "latent-ga", "latent-rs", "mh", "none"]
    assert report["weights"] is False and report["learned"] is None and "weights.safetensors" in report["not_shown"]


def test_inspecting_records_alone_does_not_import_torch():
    probe = ("import sys; from typer.testing import CliRunner; from gan_core.cli import app; "
             f"r = CliRunner().invoke(app, ['inspect', {str(RECORD)!r}, '--json']); "
             "print(r.exit_code, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GAN_LOAD_PLUGINS": "gm,san,sampling,cluster,fgan"})
    assert done.stdout.split()[-2:] == ["0", "False"], done.stdout + done.stderr


def test_inspect_shows_what_a_trained_run_learned_and_the_records_once_weights_are_gone(in_tmp):
    trained = run_cli(["train", *SLICE, "--steps", "2", "--log-every", "1", "--prior", "gm-static", "-o", "prior.k=3",
                       "--out", "run"])
    assert trained.exit_code == 0, trained.output
    report = json.loads(run_cli(["inspect", "run", "--json"]).output)
    assert report["weights"] is True and report["not_shown"] is None
    assert report["learned"]["prior"]["components"] == 3 and len(report["learned"]["prior"]["sigmas"]) == 3
    assert report["training"]["threads"] >= 1 and report["training"]["steps_done"] == 2
    assert report["evaluation"] is None and report["curves"] is None
    assert "prior 'gm-static' learned" in run_cli(["inspect", "run"], env=WIDE).output

    shutil.copytree("run", "kept")
    (in_tmp / "kept" / "weights.safetensors").unlink()
    shown = run_cli(["inspect", "kept"], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert "' learned" not in shown.output and "2 of 2" in shown.output
    assert flat(shown.output).count("Not shown: what the components learned, for want of kept/weights.safetensors") == 1


def test_inspect_of_a_group_folder_names_a_member(tmp_path):
    (tmp_path / "group.json").write_text(json.dumps({"format": 1, "members": ["seed=0", "seed=1"], "seeds": [0, 1]}))
    result = run_cli(["inspect", str(tmp_path)], env=WIDE)
    assert result.exit_code == 2 and "a group of 2 runs" in result.output
    assert f"gan inspect {tmp_path / 'seed=0'}" in flat(result.output)


def test_an_evaluation_records_its_run_without_this_machines_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert recorded_target(Path("runs/a")) == "runs/a"  # as the user gave it
    assert recorded_target(tmp_path / "sweeps" / "s" / "trials" / "t") == "sweeps/s/trials/t"  # a sweep's trial
    assert recorded_target(Path("/elsewhere/runs/b")) == "b"  # outside: the run folder's name
