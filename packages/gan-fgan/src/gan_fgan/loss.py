"""f-GAN losses: D is a variational lower bound on an f-divergence, G lowers the bound.

With T(x) = g_f(V(x)) and V D's raw output, D maximises

    F(T) = E_data[T(x)] - E_gen[f*(T(x))]            (a lower bound on D_f(P_data || P_gen))

and G, in the paper's saddle objective, minimises F, i.e. -E_gen[f*(T)].
By default G instead maximises E_gen[T(G(z))] (the paper's alternative,
non-saturating update, Section 3.2: like the non-saturating GAN it keeps
gradients strong while D wins); ``-o loss.saddle=true`` gives the saddle
form. Every divergence has its own loss, ``fgan-<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gan_core import Batch, Discriminator, Loss, discriminate, option

from .divergences import DIVERGENCES, Divergence

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class FGANOptions:
    saddle: bool = option(False, "G minimises the saddle objective -E[f*(T)] instead of maximising E[T]")


class FGANLoss(Loss):
    """The f-GAN objective for one divergence (set by each subclass)."""

    Options = FGANOptions
    stacks = True
    divergence: ClassVar[Divergence]

    def bound(self, real_v: torch.Tensor, fake_v: torch.Tensor) -> torch.Tensor:
        """F = E_data[g_f(v)] - E_gen[f*(g_f(v))]: what D maximises."""
        div = self.divergence
        return div.activation(real_v).mean() - div.conjugate_of_activation(fake_v).mean()

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        real_v, fake_v = discriminate(d, real.images, fake.images)
        return -self.bound(real_v, fake_v)

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        v = d(fake.images)
        if self.options.saddle:
            return -self.divergence.conjugate_of_activation(v).mean()
        return -self.divergence.activation(v).mean()

    def describe(self) -> dict[str, Any]:
        return {"divergence": self.divergence.title, "generator objective": "saddle" if self.options.saddle else "alternative"}


def loss_class(divergence: Divergence) -> type[FGANLoss]:
    """The registered loss class ``fgan-<name>`` for one divergence."""
    return type(
        f"FGAN_{divergence.name.replace('-', '_')}",
        (FGANLoss,),
        {
            "name": f"fgan-{divergence.name}",
            "divergence": divergence,
            "__doc__": f"f-GAN with the {divergence.title} divergence (Nowozin et al. 2016).",
            "__module__": __name__,
        },
    )


LOSSES: tuple[type[FGANLoss], ...] = tuple(loss_class(d) for d in DIVERGENCES)
