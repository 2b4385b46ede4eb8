"""gan-outside's tests: gan's conformance suite, and each component on inputs small enough to check by hand."""

from __future__ import annotations

import math

import torch
from gan_core import Batch, Discriminator, FeatureSet, NoOptions, TrainedModel
from gan_core.testing import conformance_suite

import gan_outside
from gan_outside.hypersphere import Hypersphere, HypersphereOptions
from gan_outside.mean_gap import MeanGap
from gan_outside.ragan import RaGAN
from gan_outside.top_k import TopK, TopKOptions

test_conformance = conformance_suite(gan_outside)


class FirstPixel(Discriminator):
    """A critic whose output is each image's first pixel, so a test chooses D's outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.head = torch.nn.Identity()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :1]


def images(*values: float) -> torch.Tensor:
    return torch.tensor(values).view(-1, 1, 1, 1)


def test_ragan_matches_the_formula_on_known_outputs():
    # C(real) = [1, 3] (mean 2), C(fake) = [0, 2] (mean 1).
    # D: BCE([1, 3] - 1, 1) + BCE([0, 2] - 2, 0) = mean(sp(0), sp(-2)) + mean(sp(-2), sp(0)) = log 2 + sp(-2)
    # G: BCE([0, 2] - 2, 1) + BCE([1, 3] - 1, 0) = mean(sp(2), sp(0)) + mean(sp(0), sp(2)) = log 2 + sp(2)
    softplus = lambda x: math.log1p(math.exp(x))
    loss, d = RaGAN(NoOptions()), FirstPixel()
    real, fake = Batch(images(1.0, 3.0)), Batch(images(0.0, 2.0))
    assert math.isclose(loss.d_loss(d, real, fake).item(), math.log(2) + softplus(-2), rel_tol=1e-6)
    assert math.isclose(loss.g_loss(d, fake, real).item(), math.log(2) + softplus(2), rel_tol=1e-6)
    # the core calls g_loss through generator_loss, which hands the real batch only to a g_loss that takes it
    assert torch.equal(loss.generator_loss(d, fake, real), loss.g_loss(d, fake, real))


def test_ragan_generator_loss_falls_as_fakes_overtake_the_reals():
    loss, d, real = RaGAN(NoOptions()), FirstPixel(), Batch(images(0.0, 0.0))
    worse, better = (loss.g_loss(d, Batch(images(v, v)), real).item() for v in (-1.0, 1.0))
    assert better < worse


def test_hypersphere_codes_lie_on_the_sphere():
    prior = Hypersphere(HypersphereOptions(scale=0.5), latent_dim=16)
    z = prior.sample(100).z
    assert z.shape == (100, 16)
    assert torch.allclose(z.norm(dim=1), torch.full((100,), 0.5 * 4.0))


class Identity(torch.nn.Module):
    """A generator whose image is its code's first coordinate, squashed into [-1, 1]."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z[:, :1]).view(-1, 1, 1, 1)


def test_top_k_keeps_the_candidates_d_scores_highest():
    prior = Hypersphere(HypersphereOptions(), latent_dim=2)
    model = TrainedModel(Identity(), FirstPixel(), prior, RaGAN(NoOptions()), torch.device("cpu"), (1, 1, 1))
    torch.manual_seed(0)
    candidates = model.generate(20).images.flatten()
    torch.manual_seed(0)
    result = TopK(TopKOptions(factor=4)).sample(model, 5)
    assert result.proposals == 20 and result.images.shape == (5, 1, 1, 1)
    assert torch.equal(result.images.flatten().sort().values, candidates.topk(5).values.sort().values)


def test_mean_gap_reads_the_images():
    def pixels(value: int) -> FeatureSet:
        return FeatureSet(torch.zeros(4, 2), None, images=torch.full((4, 1, 2, 2), value, dtype=torch.uint8))

    values = MeanGap(NoOptions()).compute(pixels(51), pixels(102))
    assert math.isclose(values["mean-gap"], 0.2) and math.isclose(values["mean-real"], 0.2)
