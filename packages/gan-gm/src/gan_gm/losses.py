"""The two supervised objectives of the Gaussian-mixture GAN.

Both need a class prior (component k stands for class k) and labelled data,
and both give D K+1 outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gan_core import Batch, Discriminator, GanError, Loss, Prior, discriminate, option

from .priors import CLASS_PRIOR

if TYPE_CHECKING:
    import torch

CLASS_CONDITIONAL_LOSS = "class-conditional-loss"
_NEEDS = {
    "labels": "real images need their class",
    CLASS_PRIOR: "generated codes must carry the class they stand for (use --prior gm-supervised)",
}


def _labels(batch: Batch, what: str) -> torch.Tensor:
    if batch.labels is None:
        raise GanError(f"{what} arrived without labels; this loss needs --prior gm-supervised and labelled data")
    return batch.labels


class SupervisedLoss(Loss):
    """Approach 1: a (K+1)-way D, classes for real images and class K for fakes; G aims at its component's class."""

    name = "gm-supervised"
    stacks = True
    requires = _NEEDS
    provided = frozenset({CLASS_CONDITIONAL_LOSS})

    def discriminator_outputs(self, prior: Prior) -> int:
        return (prior.num_components or 0) + 1

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        r, f = discriminate(d, real.images, fake.images)
        fake_class = torch.full((len(f),), f.shape[1] - 1, dtype=torch.long, device=f.device)
        return F.cross_entropy(r, _labels(real, "real data")) + F.cross_entropy(f, fake_class)

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        import torch.nn.functional as F

        return F.cross_entropy(d(fake.images), _labels(fake, "generated codes"))

    def realness(self, outputs: torch.Tensor) -> torch.Tensor:
        """log P(some class) - log P(fake): the logit of "real" in a (K+1)-way softmax."""
        return outputs[:, :-1].logsumexp(1) - outputs[:, -1]


@dataclass(frozen=True)
class AuxOptions:
    class_weight: float = option(1.0, "weight of the class cross-entropy against the real/fake term", min=0.0)
    fake_classes: bool = option(False, "D also learns the class of generated images (AC-GAN, Odena et al. 2017); "
                                "off: the presentation's approach 2, class loss on real images only")


class AuxiliaryClassifierLoss(Loss):
    """Approach 2: K class logits (cross-entropy on real images) plus one real/fake logit (binary cross-entropy)."""

    name = "gm-aux"
    Options = AuxOptions
    stacks = True
    member_options = ("class_weight",)
    requires = _NEEDS
    provided = frozenset({CLASS_CONDITIONAL_LOSS})

    def __init__(self, options: Any) -> None:
        super().__init__(options)

    def discriminator_outputs(self, prior: Prior) -> int:
        return (prior.num_components or 0) + 1

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        import torch.nn.functional as F

        r, f = discriminate(d, real.images, fake.images)
        adversarial = F.softplus(-r[:, -1]).mean() + F.softplus(f[:, -1]).mean()
        classes = F.cross_entropy(r[:, :-1], _labels(real, "real data"))
        if self.options.fake_classes:
            classes = classes + F.cross_entropy(f[:, :-1], _labels(fake, "generated codes"))
        return adversarial + self.options.class_weight * classes

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        import torch.nn.functional as F

        out = d(fake.images)
        adversarial = F.softplus(-out[:, -1]).mean()  # non-saturating
        return adversarial + self.options.class_weight * F.cross_entropy(out[:, :-1], _labels(fake, "generated codes"))

    def realness(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs[:, -1]
