"""Gaussian-mixture priors: z = mu_k + sigma_k * eps with k drawn uniformly.

Each mode of the data can own one component of the latent space. The
static prior draws its means once and keeps them as buffers (saved with the
run, never rebuilt from a seed); the dynamic prior learns means and scales
with the generator through the reparameterisation; the supervised prior ties
component k to class k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gan_core import GanError, Latent, Prior, option

if TYPE_CHECKING:
    import torch

CLASS_PRIOR = "class-prior"


@dataclass(frozen=True)
class StaticGMOptions:
    k: int = option(10, "number of mixture components", min=1, max=1000)
    c: float = option(1.0, "means are drawn uniformly in [-c, c]^d", min=0.0)
    sigma: float = option(1.0, "standard deviation of every component", min=1e-6)


class StaticGM(Prior):
    """K Gaussians with means drawn once in [-c, c]^d and a shared sigma; component uniform."""

    name = "gm-static"
    Options = StaticGMOptions
    supports_spread = True
    stacks = True
    member_options = ("c", "sigma")  # both only shape the means and scales each member draws at construction

    def __init__(self, options: Any, latent_dim: int | None = None) -> None:
        import torch

        super().__init__(options, latent_dim)
        self.num_components = options.k
        # Buffers: drawn from the seeded RNG at construction, then saved in the run's weights.
        self.register_buffer("means", (torch.rand(options.k, self.latent_dim) * 2 - 1) * options.c)
        self.register_buffer("log_sigma", torch.full((options.k, 1), float(torch.tensor(options.sigma).log())))

    @property
    def sigmas(self) -> torch.Tensor:
        """(K, 1) or (K, d) standard deviations."""
        return self.log_sigma.exp()

    def components(self, n: int, component: int | None) -> torch.Tensor:
        import torch
        from gan_core import rng

        if component is None:
            return rng.integers(self.num_components, n, device=self.device)
        return torch.full((n,), component, dtype=torch.long, device=self.device)

    def sample(self, n: int, *, component: int | None = None) -> Latent:
        from gan_core import rng

        k = self.components(n, component)
        eps = rng.normal(n, self.latent_dim, device=self.device)
        # reparameterised: gradients reach means and sigmas when they are parameters
        return Latent(self.means[k] + self.spread * self.sigmas[k] * eps, k)

    def describe(self) -> dict[str, Any]:
        import torch

        sigmas = self.sigmas.detach().cpu()
        means = self.means.detach().cpu()
        return {
            "components": self.num_components,
            "mean norms": [round(v, 4) for v in means.norm(dim=1).tolist()],
            "sigmas": [round(v, 4) for v in sigmas.mean(dim=1).tolist()],
            "closest pair of means": round(float(torch.pdist(means).min()), 4) if len(means) > 1 else None,
        }


@dataclass(frozen=True)
class DynamicGMOptions(StaticGMOptions):
    scale_form: Literal["scalar", "diagonal"] = option("scalar", "one sigma per component, or one per coordinate")


class DynamicGM(StaticGM):
    """K Gaussians whose means and scales are learned with the generator (reparameterisation)."""

    name = "gm-dynamic"
    Options = DynamicGMOptions

    def __init__(self, options: Any, latent_dim: int | None = None) -> None:
        from torch import nn

        super().__init__(options, latent_dim)
        means, log_sigma = self.means, self.log_sigma
        del self.means, self.log_sigma  # become parameters: trained with G's optimiser, saved with the run
        self.means = nn.Parameter(means)
        width = 1 if options.scale_form == "scalar" else self.latent_dim
        self.log_sigma = nn.Parameter(log_sigma.expand(-1, width).clone())


@dataclass(frozen=True)
class SupervisedGMOptions(DynamicGMOptions):
    learn: bool = option(True, "learn means and scales with the generator (false: keep them fixed)")


class SupervisedGM(DynamicGM):
    """One Gaussian per class: component k stands for class k, and codes carry their label."""

    name = "gm-supervised"
    Options = SupervisedGMOptions
    requires = {"labels": "component k is trained to produce class k", "class-conditional-loss": "only a loss that reads the labels of generated codes makes component k produce class k (gm-supervised or gm-aux)"}
    provided = frozenset({CLASS_PRIOR})

    def __init__(self, options: Any, latent_dim: int | None = None) -> None:
        super().__init__(options, latent_dim)
        self.means.requires_grad_(options.learn)
        self.log_sigma.requires_grad_(options.learn)

    def check(self, combo) -> None:
        classes = combo.data.num_classes
        if classes is not None and classes != self.num_components:
            raise GanError(
                f"prior 'gm-supervised' has {self.num_components} components but dataset '{combo.dataset.name}' "
                f"has {classes} classes; set -o prior.k={classes}"
            )

