"""SAN's discriminator head and the spectral normalisation of D, imported when a SAN loss prepares D."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core import Discriminator


class SANHead(nn.Module):
    """f(h) = s * <omega, h> with omega = v / |v|: no bias, no sigmoid."""

    def __init__(self, in_features: int, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        if weight is None:
            weight = nn.Linear(in_features, 1).weight.detach()
        # Start from the replaced layer: omega = w / |w|, s = |w| (as SAN's reference code does),
        # so D's initial outputs keep the architecture's scale instead of jumping to |s| = 1.
        self.direction = nn.Parameter(weight.detach().clone().view(1, in_features))
        self.scale = nn.Parameter(weight.detach().norm().clamp(min=1e-12).view(1))

    @property
    def omega(self) -> torch.Tensor:
        return F.normalize(self.direction, dim=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.scale * F.linear(h, self.omega)

    def split_scores(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(score training h and s with omega fixed, score training omega with h and s fixed)."""
        fun = self.scale * F.linear(h, self.omega.detach())
        direction = self.scale.detach() * F.linear(h.detach(), self.omega)
        return fun, direction


def normalise_after_first(discriminator: Discriminator) -> None:
    """Spectral normalisation on every conv and linear layer of D's features but the first (the head aside).

    simple-san's discriminator leaves its first conv plain and normalises
    the ones after it; an architecture plugin's D gets the same treatment.
    """
    from torch.nn.utils.parametrizations import spectral_norm

    layers = [m for name, m in discriminator.named_modules()
              if isinstance(m, (nn.Conv2d, nn.Linear)) and not name.startswith("head")]
    for layer in layers[1:]:
        spectral_norm(layer)
