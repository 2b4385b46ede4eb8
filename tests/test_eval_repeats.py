"""gan eval --repeats K: evaluation noise apart from training noise; the seed recorded; other networks' files."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch

from gan_core.evaluation.evaluate import Evaluator, Protocol
from gan_core.testing import run_cli

from .test_cli_eval import evaluate, mnist_npz

N = "100"


@pytest.fixture
def run(trained_run, tmp_path):
    """A copy of the shared tiny run, so the eval files written here are this test's own."""
    return shutil.copytree(trained_run, tmp_path / "run")


def test_repeats_record_each_draw_their_mean_and_std(run):
    report = evaluate(str(run), "--n", N, "--repeats", "3", "--seed", "2")
    assert report["seed"] == 2 and report["repeats"] == 3 and report["reference_resampled"] is True
    written = [json.loads((run / name).read_text()) for name in ("eval.json", "evals/none.json")]
    assert written == [report, report]
    assert set(report["draws"]) == set(report["metrics"]) == set(report["eval_std"])
    for metric, values in report["draws"].items():
        assert len(values) == 3 and report["metrics"][metric] == pytest.approx(sum(values) / 3)
        assert report["eval_std"][metric] == pytest.approx(torch.tensor(values, dtype=torch.float64).std().item())
    assert report["eval_std"]["fid"] > 0 and len(set(report["draws"]["fid"])) == 3
    table = run_cli(["eval", str(run), "--n", N, "--repeats", "3"])
    assert table.exit_code == 0 and "evalstd" in "".join(table.output.split())
    assert "afreshsubsetof100realimages" in "".join(table.output.split())


def test_one_repeat_is_exactly_the_plain_evaluation(run):
    plain = evaluate(str(run), "--n", N, "--seed", "2")
    once = evaluate(str(run), "--n", N, "--seed", "2", "--repeats", "1")
    assert once["metrics"] == plain["metrics"] and once["seed"] == 2 and once["repeats"] == 1
    assert not {"draws", "eval_std", "reference_resampled"} & set(once)
    thrice = evaluate(str(run), "--n", N, "--seed", "2", "--repeats", "3")
    assert {m: v[0] for m, v in thrice["draws"].items()} == plain["metrics"]  # draw 1 is the plain evaluation


def test_the_whole_reference_set_is_never_resampled(mnist_dir):
    whole = Evaluator(Protocol(n=10_000, dataset="mnist", metrics=("fid",)), torch.device("cpu"))
    assert not whole.reference_resampled  # the test split holds 10,000: found without computing any feature
    part = Evaluator(Protocol(n=50, dataset="mnist", metrics=("fid",)), torch.device("cpu"))
    assert part.reference_resampled and part.reference_draw(None) is part.reference
    first, again, other = part.reference_draw(1), part.reference_draw(1), part.reference_draw(2)
    assert len(first) == 50 and torch.equal(first.features, again.features)
    assert not torch.equal(first.features, other.features) and not torch.equal(first.features, part.reference.features)


def test_another_feature_network_writes_its_own_file_only(run):
    evaluate(str(run), "--n", N)  # the default-space figures, which gan compare reads
    before = {name: (run / name).read_bytes() for name in ("eval.json", "evals/none.json")}
    result = run_cli(["eval", str(run), "--n", N, "--features", "fashion-mnist"])
    assert result.exit_code == 0, result.output
    assert "none@fashion-mnist.jsononly" in "".join(result.output.split())
    report = json.loads((run / "evals" / "none@fashion-mnist.json").read_text())
    assert report["features"]["name"] == "fashion-mnist" and report["seed"] == 0
    assert {name: (run / name).read_bytes() for name in before} == before


def test_a_file_gives_disjoint_draws(tmp_path):
    images = mnist_npz(tmp_path / "train.npz", n=200)
    plain = evaluate(str(images), "--n", N, "--metrics", "fid")
    twice = evaluate(str(images), "--n", N, "--metrics", "fid", "--repeats", "2")
    assert twice["draws"]["fid"][0] == plain["metrics"]["fid"] and twice["n"] == 100 and twice["repeats"] == 2
    assert not math.isclose(twice["draws"]["fid"][1], plain["metrics"]["fid"])


def test_bad_repeats_are_refused(run, tmp_path):
    for args, fragment in (([str(run), "--repeats", "0"], "--repeats"),
                           ([str(mnist_npz(tmp_path / "s.npz", n=150)), "--n", N, "--repeats", "2"],
                            "holds 150 images, and --repeats 2 scores 2 disjoint sets of --n 100")):
        result = run_cli(["eval", *args])
        assert result.exit_code == 2 and fragment in " ".join(result.output.split()), result.output
