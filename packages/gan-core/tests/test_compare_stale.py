"""gan compare leaves out an eval.json that scored an older checkpoint than the run holds now (a resumed run)."""

from __future__ import annotations

import json
from pathlib import Path

from gan_core.experiments.compare import evaluation_note
from gan_core.experiments.compare_command import compare
from gan_core.experiments.runindex import find_runs


def make_run(path: Path, *, checkpoint_step: int, eval_step: int | None, fid: float = 12.0) -> Path:
    """A run at ``checkpoint_step`` whose eval.json (and evals/none.json) scored ``eval_step``."""
    path.mkdir(parents=True)
    info = {
        "status": "finished",
        "components": {"dataset": {"name": "mnist", "options": {}}, "sampler": {"name": "none", "options": {}}},
        "train": {"epochs": 2, "seed": 0},
        "checkpoint": {"step": checkpoint_step, "epoch": 2.0, "dir": "checkpoint"},
    }
    (path / "run.json").write_text(json.dumps(info))
    report = {"sampler": "none", "n": 500, "metrics": {"fid": fid}, "directions": {"fid": "lower"}}
    if eval_step is not None:
        report["step"] = eval_step
    (path / "eval.json").write_text(json.dumps(report))
    (path / "evals").mkdir()
    (path / "evals" / "none.json").write_text(json.dumps(report))
    return path


def test_an_eval_of_an_older_checkpoint_is_left_out_and_said_so(tmp_path, capsys):
    resumed = make_run(tmp_path / "resumed", checkpoint_step=80, eval_step=40)

    [record] = find_runs([resumed])

    assert record.final == {} and record.evals == {} and record.final_from == {}
    assert record.stale == {"eval.json": 40, "evals/none.json": 40}
    compare([resumed])
    out = " ".join(capsys.readouterr().out.split())
    assert "older checkpoint" in out and "step 40" in out and "step 80" in out and "12" not in out.split("note:")[0]


def test_an_eval_of_the_current_checkpoint_or_without_a_step_counts(tmp_path):
    current = make_run(tmp_path / "current", checkpoint_step=80, eval_step=80)
    unknown = make_run(tmp_path / "unknown", checkpoint_step=80, eval_step=None)  # hand-written: cannot tell

    records = find_runs([current, unknown])

    assert [r.final for r in records] == [{"fid": 12.0}, {"fid": 12.0}]
    assert [r.stale for r in records] == [{}, {}]
    assert evaluation_note(records) is None


def test_the_note_tells_stale_runs_from_never_evaluated_ones(tmp_path):
    stale = make_run(tmp_path / "stale", checkpoint_step=80, eval_step=40)
    fresh = make_run(tmp_path / "fresh", checkpoint_step=80, eval_step=80)

    note = evaluation_note(find_runs([stale, fresh]))

    assert note is not None and "1 run was trained on after gan eval" in note
    assert "never evaluated" not in note
