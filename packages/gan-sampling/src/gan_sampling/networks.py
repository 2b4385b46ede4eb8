"""The weight network and critic of latent rejection sampling, imported when latent-rs builds them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def mlp(inputs: int, width: int = 256) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, width), nn.LeakyReLU(0.2), nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, 1)
    )


class WeightNetwork(nn.Module):
    """w(z) = softplus(MLP(z)) >= 0."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.net = mlp(latent_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return F.softplus(self.net(z)).squeeze(1)
