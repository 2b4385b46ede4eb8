"""gan eval on runs, folders and .npz files, and evaluation during training."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from gan_core.builtin.datasets import MNIST, IDXOptions
from gan_core.components import DataRequest
from gan_core.testing import run_cli

from .conftest import SLICE

METRICS = {"fid", "precision", "recall", "density", "coverage", "classes", "classes_kl"}


def evaluate(*args):
    result = run_cli(["eval", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def mnist_npz(path, split="train", n=1000, digit=None):
    data = MNIST(IDXOptions()).load(DataRequest(split=split))
    images, labels = data.images, data.labels
    if digit is not None:
        images = images[labels == digit]
    np.savez(path, images=images[:n].permute(0, 2, 3, 1).numpy())
    return path


def test_eval_run_writes_eval_json(trained_run):
    report = evaluate(str(trained_run), "--n", "300")
    assert METRICS <= set(report["metrics"]) and report["n"] == 300 and report["n_reference"] == 300
    assert report["features"]["name"] == "mnist" and report["sampler"] == "none" and report["step"] == 30
    assert json.loads((trained_run / "eval.json").read_text())["metrics"] == report["metrics"]
    table = run_cli(["eval", str(trained_run), "--n", "300"])
    assert table.exit_code == 0 and "fid" in table.output and "precision" in table.output


def test_folder_and_npz_of_the_same_images_agree(trained_run, tmp_path):
    for out in ("pngs", "s.npz"):
        assert run_cli(["sample", str(trained_run), "--n", "300", "--out", str(tmp_path / out)]).exit_code == 0
    from_folder = evaluate(str(tmp_path / "pngs"), "--n", "300")["metrics"]
    from_npz = evaluate(str(tmp_path / "s.npz"), "--n", "300")["metrics"]
    assert from_folder == pytest.approx(from_npz)


def test_train_set_against_test_set_is_close(tmp_path):
    report = evaluate(str(mnist_npz(tmp_path / "train.npz", n=1000)), "--n", "1000")["metrics"]
    assert report["fid"] < 1.0 and report["precision"] > 0.7 and report["recall"] > 0.7 and report["classes"] == 10


def test_one_digit_generator_is_caught(tmp_path):
    report = evaluate(str(mnist_npz(tmp_path / "ones.npz", digit=1, n=1000)), "--n", "1000")["metrics"]
    assert report["classes"] == 1 and report["recall"] < 0.2 and report["fid"] > 20


def test_eval_every_and_keep_best(in_tmp):
    result = run_cli(["train", *SLICE, "--epochs", "2", "--eval-every", "1", "--eval-n", "200", "--keep-best", "fid",
                      "--out", "run"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (in_tmp / "run" / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if "eval" in r]
    assert [r["epoch"] for r in evals] == [1, 2] and all(METRICS <= set(r["eval"]) for r in evals)
    best = json.loads((in_tmp / "run" / "best" / "run.json").read_text())
    assert best["best"]["value"] == min(r["eval"]["fid"] for r in evals)
    assert run_cli(["sample", "run/best", "--n", "4", "--out", "best.npz"]).exit_code == 0


def test_eval_refusals(in_tmp, trained_run):
    def refused(args, fragment):
        result = run_cli(args)
        assert result.exit_code == 2 and fragment in " ".join(result.output.split()), result.output

    refused(["train", *SLICE, "--steps", "2", "--keep-best", "fid", "--out", "r"], "needs --eval-every")
    refused(["train", *SLICE, "--epochs", "1", "--eval-every", "1", "--keep-best", "fidd", "--out", "r"], "is not a metric")
    assert not (in_tmp / "r").exists()
    refused(["eval", str(in_tmp / "nothing")], "there is nothing at")
    (in_tmp / "rgb").mkdir()
    for i in range(20):
        Image.new("RGB", (32, 32)).save(in_tmp / "rgb" / f"{i}.png")
    refused(["eval", str(in_tmp / "rgb")], "takes 1-channel 28x28 images")
    refused(["eval", str(trained_run), "--features", "cifar"], "no feature network named 'cifar'")
    refused(["eval", str(trained_run), "--metrics", "fid,nope"], "no metric named 'nope'")


def test_inception_without_weights_says_so(trained_run, monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_INCEPTION_WEIGHTS", str(tmp_path / "absent.pth"))
    result = run_cli(["eval", str(trained_run), "--features", "inception", "--n", "100"])
    assert result.exit_code == 2 and "Inception-v3 weights are not on disk" in result.output
