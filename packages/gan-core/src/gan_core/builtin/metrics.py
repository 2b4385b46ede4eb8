"""The standard sample-quality metrics, each a plugin like any other.

The math lives in ``gan_core.evaluation`` as plain functions; these classes
only give it names, options and directions.
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


@hookimpl
def register_metrics(register) -> None:
    for metric in (FID, Precision, Recall, Density, Coverage, Classes):
        register(metric)

