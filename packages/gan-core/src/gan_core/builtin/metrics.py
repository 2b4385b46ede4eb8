"""The standard sample-quality metrics, each a plugin like any other.

The math lives in ``gan_core.evaluation`` as plain functions; these classes
only give it names, options and directions. FID (in float64), precision,
recall, density, coverage and classes are our own code; KID and the
classifier score (``is``) are torchmetrics', fed the same features.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..components import FeatureSet, Metric
from ..options import option
from ..plugins import hookimpl


class FID(Metric):
    """Fréchet distance between Gaussian fits of real and generated features (lower is better)."""

    name = "fid"

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        from ..evaluation.frechet import GaussianStats, frechet_distance

        a, b = GaussianStats.of(real.features), GaussianStats.of(fake.features)
        return {"fid": frechet_distance(a.mean, a.cov, b.mean, b.cov)}


@dataclass(frozen=True)
class PRDCOptions:
    k: int = option(3, "neighbours that set each ball's radius", min=1, max=50)


@dataclass(frozen=True)
class DCOptions:
    k: int = option(5, "neighbours that set each real ball's radius", min=1, max=50)


class Precision(Metric):
    """Fraction of generated samples inside the real manifold (Kynkäänniemi et al. 2019)."""

    name = "precision"
    Options = PRDCOptions
    higher_is_better = True

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        from ..evaluation import neighbours

        k = self.options.k
        return {"precision": neighbours.precision(real.features, real.radii(k), fake.features, fake.distances_to(real))}


class Recall(Metric):
    """Fraction of real samples inside the generated manifold (Kynkäänniemi et al. 2019)."""

    name = "recall"
    Options = PRDCOptions
    higher_is_better = True

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        from ..evaluation import neighbours

        k = self.options.k
        return {"recall": neighbours.recall(real.features, fake.features, fake.radii(k), fake.distances_to(real))}


class Density(Metric):
    """How many real neighbourhoods each generated sample falls in, on average / k (Naeem et al. 2020)."""

    name = "density"
    Options = DCOptions
    higher_is_better = True

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        from ..evaluation import neighbours

        k = self.options.k
        return {"density": neighbours.density(real.features, real.radii(k), fake.features, k, fake.distances_to(real))}


class Coverage(Metric):
    """Fraction of real neighbourhoods holding at least one generated sample (Naeem et al. 2020)."""

    name = "coverage"
    Options = DCOptions
    higher_is_better = True

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        from ..evaluation import neighbours

        k = self.options.k
        return {"coverage": neighbours.coverage(real.features, real.radii(k), fake.features, fake.distances_to(real))}


@dataclass(frozen=True)
class ClassesOptions:
    threshold: float = option(0.01, "share of samples a class needs to count as produced", min=0.0, max=1.0)


class Classes(Metric):
    """How many classes the generator produces, and KL of its class histogram from uniform."""

    name = "classes"
    Options = ClassesOptions
    higher_is_better = True
    needs_classes = True

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        import torch

        assert fake.probs is not None
        num_classes = fake.probs.shape[1]
        share = torch.bincount(fake.probs.argmax(1), minlength=num_classes).double() / len(fake)
        produced = share[share > 0]
        kl = float((produced * (produced * num_classes).log()).sum())
        return {
            "classes": float((share >= self.options.threshold).sum()),
            "classes_kl": kl,
            "classes_max_share": float(share.max()),
        }


@dataclass(frozen=True)
class KIDOptions:
    subsets: int = option(100, "random pairs of subsets KID is averaged over; kid_std is its spread over them",
                          min=1, max=10_000)
    subset_size: int = option(1000, "features per subset; smaller sets use subsets as large as the smaller set",
                              min=2, max=1_000_000)


class KID(Metric):
    """Kernel inception distance, unbiased, mean and std over subsets (torchmetrics; lower is better; only when named).

    The squared MMD with the kernel (x.y / d + 1)^3, by torchmetrics on the
    shared features. 100 subsets of 1000
    cost several CPU seconds, so it is left out of the default set: name it
    (``gan eval --metrics kid``, ``gan train --keep-best kid``).
    """

    name = "kid"
    Options = KIDOptions
    by_default = False

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        from ..evaluation.torchmetrics_bridge import kernel_inception_distance

        mean, std, _ = kernel_inception_distance(real.features, fake.features, subsets=self.options.subsets,
                                                 subset_size=self.options.subset_size)
        return {"kid": mean, "kid_std": std}


@dataclass(frozen=True)
class ClassifierScoreOptions:
    splits: int = option(10, "parts the generated images are cut into; is_std is the score's spread over them",
                         min=1, max=1000)


class ClassifierScore(Metric):
    """Inception Score with the feature network's classifier, the "MNIST score" (torchmetrics; higher is better)."""

    name = "is"
    Options = ClassifierScoreOptions
    higher_is_better = True
    needs_classes = True

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        from ..evaluation.torchmetrics_bridge import classifier_score

        assert fake.probs is not None
        mean, std = classifier_score(fake.probs, splits=self.options.splits)
        return {"is": mean, "is_std": std}


@hookimpl
def register_metrics(register) -> None:
    for metric in (FID, Precision, Recall, Density, Coverage, Classes, KID, ClassifierScore):
        register(metric)

