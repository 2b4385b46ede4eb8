"""The classic single-logit losses: minimax (non-saturating), hinge, least squares.

All three read D's raw logit; none applies a sigmoid, so they are stable
in float32 and work for any architecture whose head has one output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..components import Batch, Discriminator, Loss, discriminate
from ..plugins import hookimpl

if TYPE_CHECKING:
    import torch


class VanillaLoss(Loss):
    """Minimax GAN on logits with the non-saturating generator loss (Goodfellow et al. 2014)."""

    name = "vanilla"
    stacks = True

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        import torch.nn.functional as F

        r, f = discriminate(d, real.images, fake.images)
        # BCE(sigmoid(r), 1) + BCE(sigmoid(f), 0), written with softplus for stability.
        return F.softplus(-r).mean() + F.softplus(f).mean()

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        import torch.nn.functional as F

        # -log sigmoid(f): the non-saturating form, strong gradients early in training.
        return F.softplus(-d(fake.images)).mean()


class HingeLoss(Loss):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018)."""

    name = "hinge"
    stacks = True

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        import torch.nn.functional as F

        r, f = discriminate(d, real.images, fake.images)
        return F.relu(1 - r).mean() + F.relu(1 + f).mean()

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        return -d(fake.images).mean()


class LeastSquaresLoss(Loss):
    """Least-squares GAN (Mao et al. 2017) with targets 0 (fake) and 1 (real)."""

    name = "lsgan"
    stacks = True

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        r, f = discriminate(d, real.images, fake.images)
        return 0.5 * ((r - 1).square().mean() + f.square().mean())

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        return 0.5 * (d(fake.images) - 1).square().mean()


@hookimpl
def register_losses(register) -> None:
    register(VanillaLoss)
    register(HingeLoss)
    register(LeastSquaresLoss)
