"""Latent gradient ascent (Issenhuth et al., WACV 2022, after Tanaka 2019's DOT).

Moves each prior code a few steps up a score and generates from where it
ends; every code is kept, nothing is rejected. The score is either the
discriminator's realness of the code's image, grad_z D(G(z)) (no fitting,
but G and D run at every step), or the importance weight w(z) that
latent-rs learns (fitted once; the steps never touch G or D, and they follow
what the reweighting found to be good codes rather than D's raw opinion).

Defaults: 10 steps of 0.01, DOT's own example in latent space (its README:
``--optmode sgd --lr 0.01 --N_update 10``; with D divided by its Lipschitz
estimate k_eff, each of DOT's updates moves z by at most about lr, which a
normalised step of 0.01 makes exact). Issenhuth et al. publish no step size.
On the leaderboard's three vanilla runs (5 mlp epochs, 10,000 images each,
docs/results.md's sampler table) 10 x 0.01 changes precision by +0.002,
+0.008 and -0.007 (seeds 0, 1, 2: +0.001, 95 % interval -0.017 to +0.019)
and FID by -0.3 (-1.5 to +0.8): inside the noise. Larger steps
(benchmarks/latent_ga_steps.py, 5,000 images) move the means more
(precision +0.02 to +0.06 for 10 x 0.1 to 1.0) but by less than their
seed-to-seed spread (0.03 to 0.10), with FID changes of ±3.6. So the
default stays small, and ``-o sampler.step_size`` is there to explore. (Runs trained with ``--sampler latent-ga`` before keep the 5 steps their run.json records.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gan_core import ImageData, SampleResult, Sampler, TrainedModel, option

from .latent_rs import LatentRejection, LatentRSOptions

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class LatentGAOptions:
    steps: int = option(10, "gradient steps per code", min=0, max=1000)
    step_size: float = option(0.01, "step size in latent units", min=0.0)
    normalize: bool = option(True, "step along the unit gradient direction, so step_size is a distance")
    score: str = option("discriminator", "what the codes climb: D's realness of G(z), or latent-rs's weight w(z)",
                        choices=("discriminator", "weights"))
    weight_steps: int = option(1500, "training steps of the weight network (score=weights)", min=1)


def ascend(score: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, steps: int, step_size: float,
           normalize: bool) -> torch.Tensor:
    """z moved ``steps`` times by ``step_size`` along the gradient of ``score`` (summed over the batch)."""
    import torch

    for _ in range(steps):
        z = z.detach().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(score(z).sum(), z)
        if normalize:
            grad = grad / grad.norm(dim=1, keepdim=True).clamp(min=1e-12)
        z = z + step_size * grad
    return z.detach()


class LatentGradientAscent(Sampler):
    """Latent gradient ascent: move codes up D's realness score (or latent-rs's weight) before generating."""

    name = "latent-ga"
    Options = LatentGAOptions

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self.needs_fit = options.score == "weights"
        if self.needs_fit:
            self.weighting = LatentRejection(LatentRSOptions(steps=options.weight_steps))

    def fit(self, model: TrainedModel, data: ImageData, progress=None) -> None:
        self.weighting.fit(model, data, progress)

    def load_state_dict(self, state, strict: bool = True, assign: bool = False):  # type: ignore[override]
        """The weight network's size comes from the saved state, so build it before loading."""
        if self.needs_fit and self.weighting.weights is None and "weighting.sizes" in state:
            self.weighting.build(*(int(v) for v in state["weighting.sizes"]))
        return super().load_state_dict(state, strict=strict, assign=assign)

    def ascend(self, model: TrainedModel, z: torch.Tensor) -> torch.Tensor:
        o = self.options
        if o.score == "weights":
            score = self.weighting.weights
        else:
            def score(codes: torch.Tensor) -> torch.Tensor:
                return model.score(model.generator(codes))
        return ascend(score, z, o.steps, o.step_size, o.normalize)

    def sample(self, model, n, *, component=None, max_proposals=None) -> SampleResult:
        import torch

        latent = model.prior.sample(n, component=component)
        z = self.ascend(model, latent.z)
        with torch.no_grad():
            images = model.generator(z)
        return SampleResult(images, latent.labels, n)

    def describe(self) -> dict[str, Any]:
        return {"score": self.options.score, **({"weights trained": self.weighting.weights is not None} if self.needs_fit else {})}
