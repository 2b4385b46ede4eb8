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
``gan_core.Discriminator``) with :class:`~gan_san.head.SANHead` in ``prepare_discriminator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gan_core import Batch, Discriminator, GanError, Loss, Prior, TrainingDefaults, option

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class SANOptions:
    lambda_: float = option(1.0, "weight of the direction (Wasserstein) term in the D loss", min=0.0)
    spectral_norm: bool = option(True, "spectrally normalise D's layers after the first, as sony/san's simple-san does",
                                 legacy=False)


class _SAN(Loss):
    Options = SANOptions
    stacks = True
    member_options = ("lambda_",)

    def discriminator_outputs(self, prior: Prior) -> int:
        return 1

    def defaults(self) -> TrainingDefaults:
        """sony/san's simple-san (hparams/params.json): Adam, lr 1e-3 for G and D, betas (0.0, 0.99)."""
        return TrainingDefaults(optimizer="adam", lr_g=1e-3, lr_d=1e-3, betas=(0.0, 0.99), d_steps=1)

    def prepare_discriminator(self, discriminator: Discriminator) -> Discriminator:
        from torch import nn

        from .head import SANHead, normalise_after_first

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
        import torch

        if d.joint_batches:
            h = d.features(torch.cat([real.images, fake.images]))
        else:
            h = torch.cat([d.features(real.images), d.features(fake.images)])
        fun, direction = d.head.split_scores(h)  # type: ignore[operator]
        n = len(real.images)
        # negative Wasserstein gap along omega: maximising it aligns omega with real - fake
        gap = direction[:n].mean() - direction[n:].mean()
        return self.base_d(fun[:n], fun[n:]) - self.options.lambda_ * gap

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        return self.base_g(d(fake.images))

    def base_d(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def base_g(self, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class LogisticSAN(_SAN):
    """SAN on the logistic (vanilla) GAN loss, non-saturating generator."""

    name = "san"

    def base_d(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        return F.softplus(-real).mean() + F.softplus(fake).mean()

    def base_g(self, fake: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        return F.softplus(-fake).mean()


class HingeSAN(_SAN):
    """SAN on the hinge loss."""

    name = "hinge-san"

    def base_d(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()

    def base_g(self, fake: torch.Tensor) -> torch.Tensor:
        return -fake.mean()
