"""Codes on a sphere: where a high-dimensional Gaussian puts nearly all its mass anyway."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from gan_core import Latent, Prior, option


@dataclass(frozen=True)
class HypersphereOptions:
    # min > 0: a radius of 0 would hand G one code; option() bounds are inclusive, hence the small floor
    scale: float = option(1.0, "radius as a multiple of sqrt(latent_dim), the typical norm of N(0, I) codes", min=1e-6)


class Hypersphere(Prior):
    """z uniform on the sphere of radius scale * sqrt(d): a normalised Gaussian.

    A d-dimensional standard normal concentrates near the sphere of radius
    sqrt(d); this prior puts every code exactly there, so G never sees the
    rare short or long codes of the Gaussian's tails (interpolating along
    the sphere stays on the support G was trained on).

    ``--sigma-scale`` is refused (``supports_spread = False``): the sphere
    has no mode for codes to gather around, every point is as likely as any
    other. Shrinking the radius instead would move codes off the support G
    learned, which gives worse images, not more typical ones.
    """

    name = "hypersphere"
    Options = HypersphereOptions
    supports_spread = False

    def sample(self, n: int, *, component: int | None = None) -> Latent:
        g = torch.randn(n, self.latent_dim, device=self.device)
        radius = self.options.scale * math.sqrt(self.latent_dim)
        return Latent(g / g.norm(dim=1, keepdim=True).clamp_min(1e-12) * radius)
