"""KID and the classifier score as ordinary metric plugins: listed, chosen with --metrics, ranked by --keep-best and gan compare."""

from __future__ import annotations

import json

from gan_core.testing import run_cli

from .conftest import SLICE
from .test_cli_eval import evaluate, mnist_npz


def test_listed_by_gan_plugins_with_their_options():
    listed = json.loads(run_cli(["plugins", "--json"]).output)
    metrics = {c["name"]: c for c in listed["components"] if c["kind"] == "metric"}
    assert {"kid", "is"} <= set(metrics) and all(metrics[m]["package"] == "gan-core" for m in ("kid", "is"))
    assert "metric.subset_size" in run_cli(["plugins", "show", "kid"]).output
    assert "metric.splits" in run_cli(["plugins", "show", "is"]).output


def test_chosen_with_metrics_and_their_directions_recorded(trained_run):
    report = evaluate(str(trained_run), "--n", "200", "--metrics", "kid,is")
    values = report["metrics"]
    assert set(values) == {"kid", "kid_std", "is", "is_std"}
    assert report["directions"] == {"kid": "lower", "is": "higher"}
    assert values["kid"] > 0 and values["kid_std"] == 0  # 200 images < a subset: one subset, all of both sets
    assert 1 <= values["is"] <= 10 and values["is_std"] > 0
    table = run_cli(["eval", str(trained_run), "--n", "200", "--metrics", "is"])
    assert table.exit_code == 0 and "higher" in table.output
    options = evaluate(str(trained_run), "--n", "200", "--metrics", "kid,is", "-o", "metric.subset_size=50",
                       "-o", "metric.splits=2")["metrics"]
    assert options["kid_std"] > 0 and options["is"] != values["is"]


def test_is_in_the_default_set_and_kid_only_when_named(trained_run):
    values = evaluate(str(trained_run), "--n", "200")["metrics"]
    assert "is" in values and "kid" not in values and "fid" in values


def test_real_digits_score_well_and_one_digit_scores_badly(tmp_path):
    real = evaluate(str(mnist_npz(tmp_path / "test.npz", split="test", n=1000)), "--ref", "train", "--n", "1000",
                    "--metrics", "kid,is")["metrics"]
    ones = evaluate(str(mnist_npz(tmp_path / "ones.npz", digit=1, n=1000)), "--n", "1000",
                    "--metrics", "kid,is")["metrics"]
    assert abs(real["kid"]) < 0.01 and ones["kid"] > 0.1
    assert real["is"] > 6 and ones["is"] < 1.5


def test_keep_best_by_kid_and_compare_by_is(in_tmp):
    result = run_cli(["train", *SLICE, "--epochs", "2", "--eval-every", "1", "--eval-n", "200", "--keep-best", "kid",
                      "--out", "runs/a"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (in_tmp / "runs" / "a" / "metrics.jsonl").read_text().splitlines()]
    evals = [r["eval"] for r in records if "eval" in r]
    assert len(evals) == 2 and all("kid" in e and "is" in e for e in evals)
    best = json.loads((in_tmp / "runs" / "a" / "best" / "run.json").read_text())["best"]
    assert best["value"] == min(e["kid"] for e in evals)
    # a copy of the run with another seed and a higher final classifier score: compare ranks it first (higher is better)
    (in_tmp / "runs" / "b").mkdir()
    info = json.loads((in_tmp / "runs" / "a" / "run.json").read_text())
    info["train"]["seed"] = 1
    (in_tmp / "runs" / "b" / "run.json").write_text(json.dumps(info))
    last = max(i for i, r in enumerate(records) if "eval" in r)
    records[last]["eval"]["is"] += 1.0
    (in_tmp / "runs" / "b" / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    compared = run_cli(["compare", "runs", "--metric", "is", "--by", "seed", "--json"])
    assert compared.exit_code == 0, compared.output
    rows = json.loads(compared.output)
    assert [row["runs"][0].split("/")[-1] for row in rows] == ["b", "a"], rows
