"""Regularisers shared by losses and samplers from different packages."""

from __future__ import annotations

from collections.abc import Callable

import torch


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[(||grad_x critic(x)|| - 1)^2] at random points x on segments between real and fake samples.

    The soft 1-Lipschitz constraint of WGAN-GP (Gulrajani et al. 2017); works
    for images or flat vectors alike.
    """
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    between = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()
