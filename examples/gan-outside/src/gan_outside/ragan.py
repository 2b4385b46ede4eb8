"""Relativistic average GAN: D judges whether real images look more real than the average fake.

Jolicoeur-Martineau, "The relativistic discriminator: a key element missing
from standard GAN", 2018 (arXiv:1807.00734): the RaSGAN loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from gan_core import Batch, Discriminator, GanError, Loss, discriminate


def _relativistic(winners: torch.Tensor, losers: torch.Tensor) -> torch.Tensor:
    """BCE of "each winner beats the average loser" plus "each loser falls short of the average winner"."""
    above = winners - losers.mean()
    below = losers - winners.mean()
    bce = F.binary_cross_entropy_with_logits
    return bce(above, torch.ones_like(above)) + bce(below, torch.zeros_like(below))


class RaGAN(Loss):
    """Relativistic average GAN (Jolicoeur-Martineau 2018): real vs. the average fake, and back.

    With C the critic's raw output, D minimises
    BCE(C(real) - mean C(fake), 1) + BCE(C(fake) - mean C(real), 0), and G
    the same with the targets swapped. Unlike the standard loss, G's
    objective reads the real batch too: raising the fakes' score lowers the
    reals' relative one, the property the paper argues standard GANs lack.
    No options: the loss has no hyper-parameters, and the core's Adam
    defaults (lr 2e-4, betas 0.5, 0.999) are one of the paper's setups.
    """

    name = "ragan"

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        r, f = discriminate(d, real.images, fake.images)
        return _relativistic(r, f)

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch) -> torch.Tensor:
        if real is None:  # only a caller outside the training loop would leave it out
            raise GanError("loss 'ragan' compares fakes with real images; its g_loss needs the real batch")
        r, f = discriminate(d, real.images, fake.images)
        return _relativistic(f, r)
