"""KID and the classifier score (torchmetrics in our feature space) against hand computations, and our FID against torchmetrics'."""

import itertools
import math

import pytest
import torch

from gan_core.builtin.metrics import KID, ClassifierScore, ClassifierScoreOptions, KIDOptions
from gan_core.components import FeatureSet
from gan_core.evaluation.frechet import GaussianStats, frechet_distance
from gan_core.evaluation.torchmetrics_bridge import Features, classifier_score, kernel_inception_distance


def gaussian(n, d, seed, shift=0.0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + shift


def hand_mmd(x, y):
    """Unbiased squared MMD with k(a, b) = (a.b / d + 1)^3, one term at a time."""
    d = x.shape[1]

    def k(a, b):
        return (float(a @ b) / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def hand_score(probs):
    """exp(E_x KL(p(y|x) || p(y))), p(y) the mean prediction."""
    marginal = [sum(column) / len(probs) for column in zip(*probs)]
    kl = [sum(float(p * math.log(p / q)) for p, q in zip(row, marginal) if p > 0) for row in probs]
    return math.exp(sum(kl) / len(kl))


def test_kid_equals_the_unbiased_mmd_by_hand():
    real, fake = gaussian(12, 3, 0), gaussian(12, 3, 1, shift=0.3)
    mean, std, size = kernel_inception_distance(real, fake)  # 12 < the default subset size 1000: all of both
    assert size == 12 and std == 0
    assert mean == pytest.approx(hand_mmd(real, fake), rel=1e-10)


def test_kid_on_sets_smaller_than_a_subset_and_of_unequal_size():
    real, fake = gaussian(40, 4, 0), gaussian(25, 4, 1)
    mean, std, size = kernel_inception_distance(real, fake, subsets=20)
    assert size == 25 and std > 0  # 25 of the 40 real features per subset: the subsets differ
    values = KID(KIDOptions()).compute(FeatureSet(real.float(), None), FeatureSet(fake.float(), None))
    assert set(values) == {"kid", "kid_std"} and math.isfinite(values["kid"])


def test_kid_is_near_zero_for_one_distribution_and_clearly_positive_for_a_shifted_one():
    real = gaussian(600, 16, 0)
    same = kernel_inception_distance(real, gaussian(600, 16, 1), subset_size=300, subsets=20)[0]
    shifted = kernel_inception_distance(real, gaussian(600, 16, 1, shift=0.5), subset_size=300, subsets=20)[0]
    assert abs(same) < 0.02 and shifted > 0.5 and shifted > 50 * abs(same)


def test_kid_is_reproducible_and_leaves_the_global_generator_alone():
    real, fake = gaussian(300, 8, 0), gaussian(300, 8, 1)
    torch.manual_seed(5)
    before = torch.rand(3)
    torch.manual_seed(5)
    first = kernel_inception_distance(real, fake, subset_size=100, subsets=10)
    assert torch.equal(torch.rand(3), before)
    assert kernel_inception_distance(real, fake, subset_size=100, subsets=10) == first and first[1] > 0


def test_classifier_score_equals_the_formula_by_hand():
    probs = torch.softmax(3 * gaussian(50, 10, 0), 1)
    mean, std = classifier_score(probs, splits=1)
    assert mean == pytest.approx(hand_score(probs.tolist()), rel=1e-10) and math.isnan(std)  # one split: no spread
    values = ClassifierScore(ClassifierScoreOptions(splits=5)).compute(FeatureSet(torch.zeros(1, 2), None),
                                                                       FeatureSet(torch.zeros(50, 2), probs.float()))
    assert set(values) == {"is", "is_std"} and 1 < values["is"] < 10 and values["is_std"] > 0


def test_classifier_score_is_one_for_identical_predictions_and_k_for_confident_uniform_ones():
    same = torch.softmax(gaussian(1, 10, 0), 1).repeat(200, 1)
    assert classifier_score(same)[0] == pytest.approx(1.0, abs=1e-9)
    confident = torch.eye(10, dtype=torch.float64).repeat(100, 1)  # exact zeros: no log 0 on the way
    assert classifier_score(confident, splits=1)[0] == pytest.approx(10.0, rel=1e-9)
    assert 9.0 < classifier_score(confident)[0] <= 10.0  # 10 random splits: class shares not exactly equal
    almost = 0.99 * torch.eye(10, dtype=torch.float64).repeat(100, 1) + 0.001
    assert classifier_score(almost, splits=1)[0] == pytest.approx(hand_score(almost.tolist()), rel=1e-10)


def test_our_float64_fid_equals_torchmetrics_fid_on_the_same_features():
    from torchmetrics.image.fid import FrechetInceptionDistance

    real = gaussian(2000, 16, 0)
    fake = gaussian(2000, 16, 1) @ gaussian(16, 16, 2) * 0.5 + 1.0
    a, b = GaussianStats.of(real), GaussianStats.of(fake)
    ours = frechet_distance(a.mean, a.cov, b.mean, b.cov)
    theirs = FrechetInceptionDistance(feature=Features(16))
    for chunk in real.split(512):
        theirs.update(chunk, real=True)
    for chunk in fake.split(512):
        theirs.update(chunk, real=False)
    value = theirs.compute()
    assert value.dtype == torch.float64 and ours == pytest.approx(float(value), rel=1e-9)


@pytest.mark.filterwarnings("ignore:.*(will save all extracted features|degrees of freedom).*:UserWarning")
def test_the_feature_network_inside_torchmetrics_gives_what_the_plugins_compute():
    """The plugins feed torchmetrics the shared feature pass; running the network as torchmetrics' feature module agrees."""
    from torch import nn
    from torchmetrics.image.inception import InceptionScore
    from torchmetrics.image.kid import KernelInceptionDistance

    from gan_core.evaluation.featurenet import load_feature_net
    from gan_core.evaluation.features import extract, make_extractor

    net, _ = load_feature_net("mnist", torch.device("cpu"))

    class Network(nn.Module):
        def __init__(self, logits: bool) -> None:
            super().__init__()
            self.logits = logits

        def forward(self, images):
            with torch.no_grad():
                features = net.features(images.float() / 127.5 - 1)
                return (net.classifier(features) if self.logits else features).double()

    g = torch.Generator().manual_seed(0)
    real_images = torch.randint(0, 256, (40, 1, 28, 28), generator=g, dtype=torch.uint8)
    fake_images = (torch.randint(0, 256, (40, 1, 28, 28), generator=g) // 2).to(torch.uint8)
    extractor = make_extractor("mnist", torch.device("cpu"))
    real, fake = extract(extractor, real_images), extract(extractor, fake_images)

    kid = KernelInceptionDistance(feature=Network(logits=False), subsets=1, subset_size=40)
    kid.update(real_images, real=True)
    kid.update(fake_images, real=False)
    ours = KID(KIDOptions()).compute(real, fake)
    assert ours["kid"] == pytest.approx(float(kid.compute()[0]), rel=1e-4)

    score = InceptionScore(feature=Network(logits=True), splits=1)
    score.update(fake_images)
    mine = ClassifierScore(ClassifierScoreOptions(splits=1)).compute(real, fake)
    assert mine["is"] == pytest.approx(float(score.compute()[0]), rel=1e-4)
