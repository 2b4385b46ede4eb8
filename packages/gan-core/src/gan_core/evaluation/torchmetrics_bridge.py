"""KID and the classifier score, computed by torchmetrics in our feature space.

torchmetrics' ``KernelInceptionDistance`` and ``InceptionScore`` take a
``feature`` module and call it on whatever ``update`` receives. ``gan eval``
has already run the evaluation network once over each image set (every
metric reads that one pass, and the real set's features are cached on disk),
so the modules handed to torchmetrics here are the last step of that network:
they receive its output and return it in float64. Running the network inside
torchmetrics instead gives the same values (a test checks it) at the cost of a
second pass over every image.

torchmetrics draws its subsets and splits from torch's global generator; both
functions draw them from a fixed seed on a forked generator, so a value is
reproducible and evaluating never moves anyone else's random stream.
torchmetrics is imported only when a value is computed: importing it loads
torchvision and scipy (about a second of CPU time).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class Features(nn.Module):
    """The evaluation network's features, as the ``feature`` module of a torchmetrics metric: (N, D) -> float64 (N, D)."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features  # what torchmetrics' FID reads instead of probing with a dummy image

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features.to(torch.float64)


class ClassifierLogits(nn.Module):
    """The classifier's logits from its class probabilities: log p(y|x), float64 (N, K).

    log p(y|x) = z - logsumexp(z) differs from the logits z by one constant
    per image, which the softmax ``InceptionScore`` applies removes, so the
    score is the same as from z itself, for any feature network with classes.
    A probability that underflowed to 0 becomes the smallest float64 instead
    of giving log 0.
    """

    def forward(self, probs: torch.Tensor) -> torch.Tensor:
        return probs.to(torch.float64).clamp_min(torch.finfo(torch.float64).tiny).log()


@contextmanager
def _seeded_and_quiet(seed: int) -> Iterator[None]:
    """torch's CPU generator forked and seeded; torchmetrics' note that it keeps every feature in memory silenced."""
    with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
        warnings.filterwarnings("ignore", message=".*will save all extracted features in buffer.*")
        warnings.filterwarnings("ignore", message=".*degrees of freedom is <= 0.*")  # one split: std is NaN, said so
        torch.manual_seed(seed)
        yield


def kernel_inception_distance(
    real: torch.Tensor, fake: torch.Tensor, *, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float, int]:
    """Unbiased KID of two feature sets (N, D): mean and std over random subsets, and the subset size used.

    KID is the squared MMD with the kernel k(x, y) = (x.y / D + 1)^3,
    estimated without bias on ``subsets`` pairs of random subsets of
    ``subset_size`` real and generated features (torch-fidelity's and
    clean-fid's protocol: 100 subsets of 1000). Sets smaller than
    ``subset_size`` use subsets as large as the smaller set; when both sets
    are that small every subset is the whole of both, so one suffices and the
    std is 0.
    """
    from torchmetrics.image.kid import KernelInceptionDistance

    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError(f"KID needs at least 2 features in each set, not {len(real)} and {len(fake)}")
    if len(real) == len(fake) == size:
        subsets = 1
    with _seeded_and_quiet(seed):
        metric = KernelInceptionDistance(feature=Features(real.shape[1]), subsets=subsets, subset_size=size)
        metric.update(real, real=True)
        metric.update(fake, real=False)
        mean, std = metric.compute()
    return float(mean), float(std), size


def classifier_score(probs: torch.Tensor, *, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """Inception Score with the evaluation network's classifier: exp(E_x KL(p(y|x) || p(y))), mean and std over splits.

    On MNIST this is the usual "MNIST score": between 1 (every image gets the
    same class distribution) and the number of classes (confident
    predictions, classes equally often). The images are shuffled and cut into
    ``splits`` parts; p(y) is each part's mean prediction. With one split
    the std is NaN: there is no spread to measure.
    """
    from torchmetrics.image.inception import InceptionScore

    with _seeded_and_quiet(seed):
        metric = InceptionScore(feature=ClassifierLogits(), splits=splits)
        metric.update(probs)
        mean, std = metric.compute()
    return float(mean), float(std)
