"""Slicing Adversarial Networks (Takida et al., ICLR 2024).

The discriminator is f(x) = <w, h(x)> with h everything up to the last layer
and w = s * omega its last linear layer, split into a scale s and a unit
direction omega. In the D step two scores are computed: one trains h and s
with omega held fixed (the base GAN loss), the other trains only omega with
h held fixed (the Wasserstein gap along omega). Optimising omega this way
makes the discriminator's slice direction optimal, which is what makes the
GAN objective a distance between the distributions (the paper's
"metrizability"). The generator's loss is the base loss through the full f.

Any architecture works: the loss replaces D's ``head`` (the contract of
``gan_core.Discriminator``) with :class:`SANHead` in ``prepare_discriminator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gan_core import Batch, Discriminator, GanError, Loss, Prior, TrainingDefaults, option


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


@dataclass(frozen=True)
class SANOptions:
    lambda_: float = option(1.0, "weight of the direction (Wasserstein) term in the D loss", min=0.0)
    spectral_norm: bool = option(True, "spectrally normalise D's layers after the first, as sony/san's simple-san does",
                                 legacy=False)


class _SAN(Loss):
    Options = SANOptions

    def discriminator_outputs(self, prior: Prior) -> int:
        return 1

    def defaults(self) -> TrainingDefaults:
        """sony/san's simple-san (hparams/params.json): Adam, lr 1e-3 for G and D, betas (0.0, 0.99)."""
        return TrainingDefaults(optimizer="adam", lr_g=1e-3, lr_d=1e-3, betas=(0.0, 0.99), d_steps=1)

    def prepare_discriminator(self, discriminator: Discriminator) -> Discriminator:
        if self.options.spectral_norm:
            normalise_after_first(discriminator)
        head = discriminator.head
        if not isinstance(head, nn.Linear) or head.out_features != 1:
            raise GanError(
                f"loss '{self.name}' needs a discriminator whose head is one nn.Linear with one output, "
                f"not {type(head).__name__}; see docs/plugins.md on the discriminator contract"
            )
        discriminator.head = SANHead(head.in_features, head.weight).to(head.weight.device)
        return discriminator

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        if d.joint_batches:
            h = d.features(torch.cat([real.images, fake.images]))
        else:
            h = torch.cat([d.features(real.images), d.features(fake.images)])
        fun, direction = d.head.split_scores(h)  # type: ignore[operator]
        n = len(real.images)
        # negative Wasserstein gap along omega: maximising it aligns omega with real - fake
        gap = direction[:n].mean() - direction[n:].mean()
        return self.base_d(fun[:n], fun[n:]) - self.options.lambda_ * gap

    def g_loss(self, d: Discriminator, fake: Batch) -> torch.Tensor:
        return self.base_g(d(fake.images))

    def base_d(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def base_g(self, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class LogisticSAN(_SAN):
    """SAN on the logistic (vanilla) GAN loss, non-saturating generator."""

    name = "san"

    def base_d(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return F.softplus(-real).mean() + F.softplus(fake).mean()

    def base_g(self, fake: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake).mean()


class HingeSAN(_SAN):
    """SAN on the hinge loss."""

    name = "hinge-san"

    def base_d(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()

    def base_g(self, fake: torch.Tensor) -> torch.Tensor:
        return -fake.mean()
