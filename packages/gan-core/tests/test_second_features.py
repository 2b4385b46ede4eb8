"""The second MNIST feature network, mnist-resnet: shipped intact, its own space, chosen by --features.

Another architecture (residual, GroupNorm, SiLU, 256 features) and seed than
the first network, so a method that merely fits one classifier's features
shows it in the other.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch

from gan_core.errors import GanError
from gan_core.evaluation import featurenet
from gan_core.evaluation.featurenet import FeatureNet, ResNetFeatureNet, load_feature_net, shipped, shipped_extractor
from gan_core.registry import get_registry
from gan_core.testing import run_cli

NAME = "mnist-resnet"
CPU = torch.device("cpu")


def meta() -> dict:
    return json.loads((featurenet.weights_dir() / f"{NAME}-features.json").read_text())


@pytest.fixture(scope="module")
def mnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    """The first 64 MNIST test images (uint8) and labels, loaded as scripts/train_feature_net.py loads them."""
    if not (Path(os.environ.get("GAN_DATA_DIR", "")) / "mnist").is_dir():
        pytest.skip("MNIST files are expected under $GAN_DATA_DIR/mnist")
    from gan_core.components import DataRequest

    entry = get_registry().get("dataset", "mnist")
    data = entry.cls(entry.cls.Options()).load(DataRequest(split="test"))
    return data.images[:64], data.labels[:64]


def test_the_second_network_is_shipped_intact_and_describes_itself():
    recorded = meta()
    path = featurenet.weights_dir() / recorded["file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded["sha256"]
    assert path.stat().st_size < 2_000_000
    assert recorded["dataset"] == "mnist" and recorded["arch"] == "resnet"
    assert recorded["feature_dim"] == ResNetFeatureNet.feature_dim <= 256
    assert recorded["seed"] != json.loads((featurenet.weights_dir() / "mnist-features.json").read_text())["seed"]
    assert "--arch resnet" in recorded["command"]
    info = shipped(NAME)
    assert (info.dataset, info.arch, info.sha256) == ("mnist", "resnet", recorded["sha256"])
    assert info.test_accuracy >= 0.993


def test_the_architecture_comes_from_the_json_and_the_first_networks_are_unchanged():
    net, _ = load_feature_net(NAME, CPU)
    assert isinstance(net, ResNetFeatureNet)
    for name in ("mnist", "fashion-mnist"):  # their JSONs name no arch: FeatureNet, described as before
        first, info = load_feature_net(name, CPU)
        assert type(first) is FeatureNet and info.arch == "featurenet" and info.dataset == name
        assert shipped_extractor(name, CPU).description == f"{name} classifier, test accuracy {info.test_accuracy:.4f}"
    about = shipped_extractor(NAME, CPU).description
    assert about.startswith(f"{NAME} classifier (residual CNN") and "trained on mnist" in about
    assert f"{shipped(NAME).test_accuracy:.4f}" in about


def test_a_json_naming_an_unknown_architecture_is_refused(tmp_path, monkeypatch):
    recorded = meta()
    (tmp_path / recorded["file"]).write_bytes((featurenet.weights_dir() / recorded["file"]).read_bytes())
    (tmp_path / "future-features.json").write_text(json.dumps({**recorded, "arch": "transformer"}))
    monkeypatch.setattr(featurenet, "weights_dir", lambda: tmp_path)
    with pytest.raises(GanError, match="names architecture 'transformer'"):
        shipped("future")


def test_inference_features_match_the_trained_modules():
    net, _ = load_feature_net(NAME, CPU)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        plain = net.features(x)
        assert torch.allclose(net.fused_features()(x.contiguous(memory_format=torch.channels_last)), plain, atol=1e-5)


def test_it_classifies_real_digits_in_a_feature_space_of_its_own(mnist_test):
    images, labels = mnist_test
    second = shipped_extractor(NAME, CPU)
    features, probs = second.run(images)
    assert features.shape == (len(images), meta()["feature_dim"]) and probs.shape == (len(images), 10)
    assert (probs.argmax(1) == labels).float().mean() >= 62 / 64
    first_features, first_probs = shipped_extractor("mnist", CPU).run(images)
    assert first_features.shape[1] != features.shape[1]
    assert (first_probs.argmax(1) == probs.argmax(1)).float().mean() >= 62 / 64  # the same digits, seen differently

    def cosines(f: torch.Tensor) -> torch.Tensor:
        f = f - f.mean(0)
        f = f / f.norm(dim=1, keepdim=True)
        return f @ f.T

    assert (cosines(features) - cosines(first_features)).abs().mean() > 0.05


def test_it_is_listed_and_evaluates_an_mnist_run(mnist_test, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert NAME in get_registry().feature_networks()
    listed = run_cli(["plugins", "--json"])
    assert listed.exit_code == 0, listed.output
    assert NAME in {n["name"] for n in json.loads(listed.stdout)["feature_networks"]}
    run = tmp_path / "run"
    trained = run_cli(["train", "-o", "dataset.limit=64", "--batch-size", "32", "--steps", "1", "--device", "cpu",
                       "--out", str(run)])
    assert trained.exit_code == 0, trained.output
    out = tmp_path / "eval.json"
    result = run_cli(["eval", str(run), "--features", NAME, "--n", "100", "--device", "cpu", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["features"]["name"] == NAME and report["features"]["sha256"] == meta()["sha256"]
    assert report["ref"] == "mnist test" and "fid" in report["metrics"]
