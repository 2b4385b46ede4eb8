"""The metrics' math on hand-made feature sets, and FID against a second implementation."""

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_core.builtin.metrics import FID, Classes, ClassesOptions, Coverage, DCOptions, Density, Precision, PRDCOptions, Recall
from gan_core.components import FeatureSet
from gan_core.evaluation.frechet import GaussianStats, frechet_distance
from gan_core.options import NoOptions


def fs(x, probs=None):
    return FeatureSet(x.float(), probs)


def all_metrics(real, fake):
    values = {}
    for metric in (FID(NoOptions()), Precision(PRDCOptions()), Recall(PRDCOptions()), Density(DCOptions()), Coverage(DCOptions())):
        values.update(metric.compute(real, fake))
    return values


def scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(c1 @ c2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1 + c2 - 2 * root))


def test_frechet_distance_matches_scipy_on_random_features():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 16))
    b = rng.normal(size=(2000, 16)) @ rng.normal(size=(16, 16)) * 0.5 + 1.0
    sa, sb = GaussianStats.of(torch.from_numpy(a)), GaussianStats.of(torch.from_numpy(b))
    assert frechet_distance(sa.mean, sa.cov, sb.mean, sb.cov) == pytest.approx(scipy_fid(a, b), rel=1e-6)


def test_streaming_stats_equal_one_shot_stats():
    x = torch.randn(1000, 8, dtype=torch.float64)
    streamed = GaussianStats(8)
    for chunk in x.split(128):
        streamed.update(chunk)
    assert torch.allclose(streamed.mean, x.mean(0)) and torch.allclose(streamed.cov, torch.cov(x.T))


def test_identical_sets_are_perfect():
    x = torch.randn(500, 8)
    values = all_metrics(fs(x), fs(x.clone()))
    assert values["fid"] == pytest.approx(0, abs=1e-6)
    assert values["precision"] == 1 and values["recall"] == 1 and values["coverage"] == 1
    # each real ball holds its own point and its k=5 neighbours: density (k + 1) / k
    assert values["density"] == pytest.approx(6 / 5, abs=0.01)


def test_disjoint_far_apart_sets_score_zero():
    x = torch.randn(500, 8)
    values = all_metrics(fs(x), fs(x + 100))
    assert values["precision"] == 0 and values["recall"] == 0 and values["density"] == 0 and values["coverage"] == 0
    assert values["fid"] == pytest.approx(8 * 100**2, rel=0.01)


def test_collapsed_generator_has_high_precision_low_recall():
    real = torch.randn(1000, 4)
    fake = real[:10].repeat(100, 1) + 1e-3 * torch.randn(1000, 4)  # 10 real points, over and over
    values = all_metrics(fs(real), fs(fake))
    assert values["precision"] > 0.95 and values["recall"] < 0.1 and values["coverage"] < 0.1


def test_classes_counts_modes_and_kl():
    one_digit = torch.zeros(100, 10)
    one_digit[:, 3] = 1
    values = Classes(ClassesOptions()).compute(fs(torch.zeros(1, 2)), fs(torch.zeros(100, 2), one_digit))
    assert values["classes"] == 1 and values["classes_kl"] == pytest.approx(np.log(10))
    uniform = torch.eye(10).repeat(10, 1)
    values = Classes(ClassesOptions()).compute(fs(torch.zeros(1, 2)), fs(torch.zeros(100, 2), uniform))
    assert values["classes"] == 10 and values["classes_kl"] == pytest.approx(0, abs=1e-12)


def test_fused_feature_network_matches_the_trained_one():
    from gan_core.evaluation.featurenet import load_feature_net

    net, info = load_feature_net("mnist", torch.device("cpu"))
    assert info.test_accuracy >= 0.993
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(net.fused_features()(x.contiguous(memory_format=torch.channels_last)), net.features(x), atol=1e-4)
