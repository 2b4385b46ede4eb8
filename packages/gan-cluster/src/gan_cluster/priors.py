"""ClusterGAN's latent spaces: a Gaussian part plus a discrete cluster choice.

``cluster`` is the paper's z = (z_n, z_c): z_n ~ N(0, sigma^2 I) and z_c a
one-hot vector over K clusters, concatenated. The small sigma (0.1) keeps
the clusters apart in the code space, so the generator has to use z_c to
vary the digit. ``cluster-gmm`` is the variant where the discrete choice
picks a Gaussian component instead: z = mu_k + sigma * eps, covering the
latent space continuously (no one-hot corners between which G must jump).

Both return the cluster index with each code, so ``gan sample --class k``
draws cluster k and the clustergan loss knows which cluster E should find.
The Gaussian part is ``--latent-dim`` wide (30 by default, as in the
reference code); the first ``latent_dim`` coordinates of every code are the
part E must recover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gan_core import GanError, Latent, Prior, option

if TYPE_CHECKING:
    import torch

#: what cluster priors offer the clustergan loss: labelled codes whose first latent_dim coordinates E recovers
CLUSTER_CODES = "cluster codes"


@dataclass(frozen=True)
class ClusterOptions:
    k: int = option(10, "number of clusters", min=2, max=1000)
    sigma: float = option(0.1, "standard deviation of the Gaussian part z_n", min=1e-6)


class _ClusterPrior(Prior):
    default_latent_dim = 30
    provided = frozenset({CLUSTER_CODES})
    Options = ClusterOptions
    supports_spread = True
    stacks = True
    member_options = ("sigma",)

    def __init__(self, options: Any, latent_dim: int | None = None) -> None:
        super().__init__(options, latent_dim)
        self.num_components = options.k

    def clusters(self, n: int, component: int | None) -> torch.Tensor:
        import torch
        from gan_core import rng

        if component is None:
            return rng.integers(self.num_components, n, device=self.device)
        return torch.full((n,), component, dtype=torch.long, device=self.device)

    def describe(self) -> dict[str, Any]:
        return {"clusters": self.num_components, "gaussian part": self.latent_dim, "code size": self.code_dim}


class OneHotCluster(_ClusterPrior):
    """ClusterGAN's z = (z_n, z_c): z_n ~ N(0, sigma^2 I), z_c one-hot over K clusters."""

    name = "cluster"

    @property
    def code_dim(self) -> int:
        return self.latent_dim + self.num_components

    def sample(self, n: int, *, component: int | None = None) -> Latent:
        import torch
        import torch.nn.functional as F
        from gan_core import rng

        k = self.clusters(n, component)
        z_n = self.spread * self.options.sigma * rng.normal(n, self.latent_dim, device=self.device)
        return Latent(torch.cat([z_n, F.one_hot(k, self.num_components).to(z_n.dtype)], dim=1), k)


@dataclass(frozen=True)
class ClusterGMMOptions(ClusterOptions):
    means: str = option("onehot", "component means: the one-hot basis vectors e_k (ClusterGAN's reference) "
                        "or random unit vectors", choices=("onehot", "random"))


class ClusterGMM(_ClusterPrior):
    """ClusterGAN with a Gaussian mixture: cluster k picks N(mu_k, sigma^2 I), mu_k the basis vector e_k."""

    name = "cluster-gmm"
    Options = ClusterGMMOptions

    def __init__(self, options: Any, latent_dim: int | None = None) -> None:
        import torch
        import torch.nn.functional as F

        super().__init__(options, latent_dim)
        # Saved with the run (a buffer), so a run keeps its means whatever the default becomes.
        # One-hot means (the reference's) are sqrt(2) apart: with sigma 0.1 the components barely overlap.
        if options.means == "onehot":
            if self.latent_dim < options.k:
                raise GanError(f"prior 'cluster-gmm' puts mean k on basis vector e_k, so it needs --latent-dim >= "
                               f"{options.k} (not {self.latent_dim}); or use -o prior.means=random")
            means = torch.eye(options.k, self.latent_dim)
        else:
            means = F.normalize(torch.randn(options.k, self.latent_dim), dim=1)
        self.register_buffer("means", means)

    def sample(self, n: int, *, component: int | None = None) -> Latent:
        from gan_core import rng

        k = self.clusters(n, component)
        eps = rng.normal(n, self.latent_dim, device=self.device)
        return Latent(self.means[k] + self.spread * self.options.sigma * eps, k)

    def describe(self) -> dict[str, Any]:
        import torch

        return {**super().describe(), "closest pair of means": round(float(torch.pdist(self.means).min()), 4)}
