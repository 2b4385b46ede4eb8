"""A run is scored against its own dataset: naming another one is refused, even the one that used to be the default."""

import json

import pytest
import torch

from gan_core.errors import GanError
from gan_core.evaluation.evaluate import DEFAULT_DATASET, Protocol
from gan_core.evaluation.run_eval import check_own_dataset, evaluate_run


def fashion_run(tmp_path):
    """A run.json of a Fashion-MNIST run; no weights, since the refusal comes before any are loaded."""
    run = tmp_path / "run"
    run.mkdir()
    info = {"format": 1, "components": {"dataset": {"name": "fashion-mnist", "options": {}}},
            "checkpoint": {"step": 10, "epoch": 1.0}, "train": {}}
    (run / "run.json").write_text(json.dumps(info))
    return run, info


def test_no_dataset_chosen_means_none_and_compares_with_the_default():
    protocol = Protocol()
    assert protocol.dataset is None and protocol.dataset_name == DEFAULT_DATASET == "mnist"
    assert Protocol(dataset="fashion-mnist").dataset_name == "fashion-mnist"


def test_mnist_named_for_a_fashion_mnist_run_is_refused(tmp_path):
    run, _ = fashion_run(tmp_path)
    with pytest.raises(GanError, match="trained on 'fashion-mnist', not 'mnist'"):
        evaluate_run(run, Protocol(n=10, dataset="mnist"), torch.device("cpu"))


def test_the_runs_own_dataset_or_none_is_accepted(tmp_path):
    run, info = fashion_run(tmp_path)
    check_own_dataset(run, Protocol(), info)
    check_own_dataset(run, Protocol(dataset="fashion-mnist"), info)
