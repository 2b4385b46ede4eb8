"""Latent gradient ascent (Issenhuth et al., WACV 2022, after Tanaka 2019's DOT).

Moves each prior code a few steps up the gradient of the discriminator's
realness score of its image, z <- z + step * grad_z score(G(z)), and
generates from where it ends. Every code is kept: nothing is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_core import SampleResult, Sampler, option


@dataclass(frozen=True)
class LatentGAOptions:
    steps: int = option(5, "gradient steps per code", min=0, max=1000)
    step_size: float = option(0.01, "step size in latent units", min=0.0)
    normalize: bool = option(True, "step along the unit gradient direction, so step_size is a distance")


class LatentGradientAscent(Sampler):
    """Latent gradient ascent: move codes up D's realness score before generating."""

    name = "latent-ga"
    Options = LatentGAOptions

    def ascend(self, model, z: torch.Tensor) -> torch.Tensor:
        o = self.options
        for _ in range(o.steps):
            z = z.detach().requires_grad_(True)
            with torch.enable_grad():
                (grad,) = torch.autograd.grad(model.score(model.generator(z)).sum(), z)
            if o.normalize:
                grad = grad / grad.norm(dim=1, keepdim=True).clamp(min=1e-12)
            z = z + o.step_size * grad
        return z.detach()

    def sample(self, model, n, *, component=None, max_proposals=None) -> SampleResult:
        latent = model.prior.sample(n, component=component)
        z = self.ascend(model, latent.z)
        with torch.no_grad():
            images = model.generator(z)
        return SampleResult(images, latent.labels, n)
