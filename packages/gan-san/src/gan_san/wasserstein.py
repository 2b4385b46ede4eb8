"""WGAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017).

The critic's score is unbounded; the critic maximises E[D(real)] - E[D(fake)]
and the generator maximises E[D(fake)]. WGAN keeps the critic Lipschitz by
clipping its weights after every step, WGAN-GP by penalising gradient norms
away from 1 on points between real and fake samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gan_core import Batch, Discriminator, Loss, TrainingDefaults, discriminate, option

if TYPE_CHECKING:
    import torch

UNBOUNDED_CRITIC = "unbounded-critic"


def wasserstein_gap(d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
    """E[D(real)] - E[D(fake)]: the critic's estimate of the Wasserstein-1 distance."""
    r, f = discriminate(d, real.images, fake.images)
    return r.mean() - f.mean()


@dataclass(frozen=True)
class WGANOptions:
    clip: float = option(0.01, "critic weights are clipped to [-clip, clip] after every critic step", min=0.0)
    lr: float = option(5e-5, "RMSProp learning rate of G and D (explicit --lr-g/--lr-d win)", min=0.0)
    critic_steps: int = option(5, "critic steps per generator step (explicit --d-steps wins)", min=1)
    warmup: bool = option(False, "the reference code's schedule: 100 critic steps for the first 25 generator steps "
                          "and every 500th")


class WGAN(Loss):
    """Wasserstein GAN with weight clipping and RMSProp."""

    name = "wgan"
    Options = WGANOptions
    stacks = True
    member_options = ("clip", "lr")
    provided = frozenset({UNBOUNDED_CRITIC})

    def defaults(self) -> TrainingDefaults:
        o = self.options
        return TrainingDefaults(optimizer="rmsprop", lr_g=o.lr, lr_d=o.lr, d_steps=o.critic_steps)

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        return -wasserstein_gap(d, real, fake)

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        return -d(fake.images).mean()

    def after_d_step(self, d: Discriminator) -> None:
        import torch

        with torch.no_grad():
            for p in d.parameters():
                # not clamp_: in a stacked group clip is each member's 0-d tensor, and vmap batches clamp, not clamp_
                p.copy_(p.clamp(-self.options.clip, self.options.clip))

    def critic_steps(self, step: int) -> int | None:
        """martinarjovsky/WassersteinGAN main.py: Diters = 100 while gen_iterations < 25 or % 500 == 0."""
        if self.options.warmup and (step < 25 or step % 500 == 0):
            return 100
        return None


@dataclass(frozen=True)
class WGANGPOptions:
    lambda_: float = option(10.0, "weight of the gradient penalty", min=0.0)
    lr: float = option(1e-4, "Adam learning rate of G and D (explicit --lr-g/--lr-d win)", min=0.0)
    critic_steps: int = option(5, "critic steps per generator step (explicit --d-steps wins)", min=1)


class WGANGP(Loss):
    """Wasserstein GAN with a gradient penalty; Adam (0, 0.9)."""

    name = "wgan-gp"
    Options = WGANGPOptions
    stacks = True
    member_options = ("lambda_", "lr")
    provided = frozenset({UNBOUNDED_CRITIC})

    def defaults(self) -> TrainingDefaults:
        o = self.options
        return TrainingDefaults(optimizer="adam", lr_g=o.lr, lr_d=o.lr, betas=(0.0, 0.9), d_steps=o.critic_steps)

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        from gan_core import gradient_penalty

        return -wasserstein_gap(d, real, fake) + self.options.lambda_ * gradient_penalty(d, real.images, fake.images)

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        return -d(fake.images).mean()
