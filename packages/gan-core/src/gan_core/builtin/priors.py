"""Isotropic priors: the standard normal and the uniform cube."""

from __future__ import annotations

from dataclasses import dataclass

from ..components import Latent, Prior
from ..options import option
from ..plugins import hookimpl


@dataclass(frozen=True)
class NormalOptions:
    std: float = option(1.0, "standard deviation of every latent coordinate", min=0.0)


class NormalPrior(Prior):
    """z ~ N(0, std^2 I): the prior of the vanilla GAN."""

    name = "normal"
    Options = NormalOptions
    supports_spread = True
    stacks = True
    member_options = ("std",)

    def sample(self, n: int, *, component: int | None = None) -> Latent:
        from .. import rng

        return Latent(rng.normal(n, self.latent_dim, device=self.device) * (self.options.std * self.spread))


@dataclass(frozen=True)
class UniformOptions:
    low: float = option(-1.0, "lower bound of every latent coordinate")
    high: float = option(1.0, "upper bound of every latent coordinate")

    def __post_init__(self) -> None:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")


class UniformPrior(Prior):
    """z ~ U[low, high]^d."""

    name = "uniform"
    Options = UniformOptions
    supports_spread = True
    stacks = True
    member_options = ("low", "high")

    def sample(self, n: int, *, component: int | None = None) -> Latent:
        from .. import rng

        low, high = self.options.low, self.options.high
        centre, width = (low + high) / 2, (high - low) * self.spread
        return Latent((rng.uniform(n, self.latent_dim, device=self.device) - 0.5) * width + centre)


@hookimpl
def register_priors(register) -> None:
    register(NormalPrior)
    register(UniformPrior)
