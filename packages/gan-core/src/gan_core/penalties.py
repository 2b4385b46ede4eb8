"""Regularisers shared by losses and samplers from different packages."""

from __future__ import annotations

from collections.abc import Callable

import torch


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor, one_sided: bool = False
) -> torch.Tensor:
    """E[(||grad_x critic(x)|| - 1)^2] at random points x on segments between real and fake samples.

    The soft 1-Lipschitz constraint of WGAN-GP (Gulrajani et al. 2017); works
    for images or flat vectors alike. ``one_sided`` penalises only gradients
    steeper than 1 (the Lipschitz penalty of Petzka et al. 2018): the
    two-sided form also pushes small gradients up, which walls a critic that
    starts with the wrong orientation into it (its slope cannot pass through 0).

    In a stacked group's step (inside ``torch.func.vmap``, see
    :mod:`gan_core.rng`) the input gradient comes from ``torch.func.grad``,
    which composes with vmap and with the outer backward pass as
    ``torch.autograd.grad(create_graph=True)`` does alone; the critic must
    then not update buffers in its forward pass (no BatchNorm, which a
    gradient penalty forbids anyway).
    """
    from . import rng

    eps = rng.uniform(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    between = eps * real + (1 - eps) * fake
    if rng.stacking():
        grad = torch.func.grad(lambda x: critic(x).sum())(between)
    else:
        between = between.requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    excess = grad.flatten(1).norm(dim=1) - 1
    return (excess.clamp(min=0) if one_sided else excess).square().mean()
