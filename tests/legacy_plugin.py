"""A plugin written against gan-core 0.1, before the plugin API was versioned: it must keep working.

Frozen on purpose; do not modernise it. It uses what 0.1 offered and nothing
newer: a prior constructed as ``Cls(options, latent_dim)`` with its own
``__init__``, a two-argument ``g_loss(d, fake)``, a class-level
``needs_fit``, a metric that reads only features, no ``GAN_PLUGIN_API``.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gan_core import Latent, Loss, Metric, Prior, SampleResult, Sampler, discriminate, hookimpl, option


@dataclass(frozen=True)
class ShiftedOptions:
    shift: float = option(0.5, "added to every coordinate")


class ShiftedNormal(Prior):
    """N(shift, 1): a prior with its own constructor, as 0.1 plugins wrote them."""

    name = "legacy-shifted"
    Options = ShiftedOptions

    def __init__(self, options, latent_dim):
        super().__init__(options, latent_dim)
        self.register_buffer("offset", torch.full((latent_dim,), options.shift))

    def sample(self, n, *, component=None):
        return Latent(torch.randn(n, self.latent_dim, device=self.device) + self.offset)


class OldLoss(Loss):
    """The non-saturating loss with 0.1's two-argument g_loss."""

    name = "legacy-loss"

    def d_loss(self, d, real, fake):
        real_out, fake_out = discriminate(d, real.images, fake.images)
        return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()

    def g_loss(self, d, fake):
        return F.softplus(-d(fake.images)).mean()


class FirstN(Sampler):
    """Keeps every image (a 0.1 sampler with needs_fit on the class)."""

    name = "legacy-sampler"
    needs_fit = False

    @torch.no_grad()
    def sample(self, model, n, *, component=None, max_proposals=None):
        batch = model.generate(n, component=component)
        return SampleResult(batch.images, batch.labels, n)


class FeatureNorm(Metric):
    """Mean feature norm of the generated set (reads features only)."""

    name = "legacy-norm"

    def compute(self, real, fake):
        return {"legacy-norm": float(fake.features.norm(dim=1).mean())}


@hookimpl
def register_priors(register):
    register(ShiftedNormal)


@hookimpl
def register_losses(register):
    register(OldLoss)


@hookimpl
def register_samplers(register):
    register(FirstN)


@hookimpl
def register_metrics(register):
    register(FeatureNorm)
