"""A toy 1-D "GAN": G is the identity on N(0, 1) codes, D a fixed linear score."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_core import Discriminator, ImageData, TrainedModel, create_component


class Identity(nn.Module):
    def forward(self, z):
        return z.view(len(z), 1, 1, 1)


class LinearD(Discriminator):
    """score(x) = slope * x + offset on one-pixel images."""

    def __init__(self, slope: float, offset: float = 0.0):
        super().__init__()
        self.body = nn.Flatten()
        self.head = nn.Linear(1, 1)
        with torch.no_grad():
            self.head.weight.fill_(slope)
            self.head.bias.fill_(offset)

    def features(self, x):
        return self.body(x)


def toy_model(slope: float, offset: float = 0.0) -> TrainedModel:
    prior = create_component("prior", "normal", latent_dim=1)
    loss = create_component("loss", "vanilla")
    return TrainedModel(Identity(), LinearD(slope, offset).requires_grad_(False), prior, loss, torch.device("cpu"))


def pixels(values: torch.Tensor) -> ImageData:
    """Real one-pixel images with values in [-1, 1], stored as uint8 like every dataset."""
    images = ((values.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).view(-1, 1, 1, 1)
    return ImageData(images, None, None, "toy")


@pytest.fixture
def seeded():
    torch.manual_seed(0)
