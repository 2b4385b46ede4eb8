"""SAN's discriminator head and the spectral normalisation of D, imported when a SAN loss prepares D."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import _SpectralNorm  # torch's own class, subclassed for vmap (see below)

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


class _StackableSpectralNorm(_SpectralNorm):
    """torch's spectral norm with the power iteration written without ``out=`` arguments.

    The same arithmetic, state (``_u``, ``_v``) and state-dict keys as
    ``torch.nn.utils.parametrizations.spectral_norm``; writing the updated
    vectors with ``copy_`` instead of ``out=`` lets ``torch.func.vmap`` run
    it, so each member of a stacked group iterates on its own vectors.
    """

    def _power_method(self, weight_mat: torch.Tensor, n_power_iterations: int) -> None:
        with torch.no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(torch.mv(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(torch.mv(weight_mat.H, self._u), dim=0, eps=self.eps))


def spectral_norm(layer: nn.Module) -> nn.Module:
    """``torch.nn.utils.parametrizations.spectral_norm(layer)`` (one power iteration per forward), stackable."""
    from torch.nn.utils import parametrize

    dim = 1 if isinstance(layer, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)) else 0
    parametrize.register_parametrization(layer, "weight", _StackableSpectralNorm(layer.weight, 1, dim, 1e-12))
    return layer


def normalise_after_first(discriminator: Discriminator) -> None:
    """Spectral normalisation on every conv and linear layer of D's features but the first (the head aside).

    simple-san's discriminator leaves its first conv plain and normalises
    the ones after it; an architecture plugin's D gets the same treatment.
    """
    layers = [m for name, m in discriminator.named_modules()
              if isinstance(m, (nn.Conv2d, nn.Linear)) and not name.startswith("head")]
    for layer in layers[1:]:
        spectral_norm(layer)
