"""The torch modules of the built-in architectures, imported only when an architecture builds them.

Kept apart from ``mlp.py`` and ``dcgan.py`` so that registering those
architectures (``gan --help``, ``gan plugins``) does not import torch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..components import Discriminator


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int, image_shape: tuple[int, int, int], slope: float) -> None:
        super().__init__()
        self.image_shape = image_shape
        widths = [latent_dim, 256, 512, 1024]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(widths, widths[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(slope)]
        layers += [nn.Linear(widths[-1], math.prod(image_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.image_shape)


class MLPDiscriminator(Discriminator):
    def __init__(self, image_shape: tuple[int, int, int], outputs: int, slope: float, dropout: float) -> None:
        super().__init__()
        widths = [math.prod(image_shape), 1024, 512, 256]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(widths, widths[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(slope)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1], outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.flatten(1))


def mlp_encoder(image_shape: tuple[int, int, int], outputs: int, slope: float) -> nn.Sequential:
    """E shaped like D's body (pixels-1024-512-256) with a linear output of ``outputs`` values."""
    widths = [math.prod(image_shape), 1024, 512, 256]
    layers: list[nn.Module] = [nn.Flatten()]
    for fan_in, fan_out in zip(widths, widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(slope)]
    return nn.Sequential(*layers, nn.Linear(widths[-1], outputs))


class DCGANGenerator(nn.Module):
    """Project the code to a (2w, H/4, W/4) map, then two stride-2 transposed convs."""

    def __init__(self, latent_dim: int, image_shape: tuple[int, int, int], width: int) -> None:
        super().__init__()
        channels, height, wide = image_shape
        self.start = (2 * width, height // 4, wide // 4)
        self.project = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * self.start[1] * self.start[2], bias=False),
            nn.BatchNorm1d(2 * width * self.start[1] * self.start[2]),
            nn.ReLU(),
        )
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(z.shape[0], *self.start))


class DCGANDiscriminator(Discriminator):
    """Two stride-2 convs with LeakyReLU and no batch norm, so gradient penalties stay valid."""

    def __init__(self, image_shape: tuple[int, int, int], outputs: int, width: int, dropout: float) -> None:
        super().__init__()
        channels, height, wide = image_shape
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
        )
        self.head = nn.Linear(2 * width * (height // 4) * (wide // 4), outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def dcgan_encoder(image_shape: tuple[int, int, int], outputs: int, width: int, norm: bool = False) -> nn.Sequential:
    """E shaped like D (two stride-2 convs) with a linear output; batch norm after the second conv if ``norm``.

    ClusterGAN's reference encoder has no batch norm (the default); runs saved
    before the option existed had it, and reopen with it (``legacy=True``).
    """
    channels, height, wide = image_shape
    second: list[nn.Module] = (
        [nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width)] if norm
        else [nn.Conv2d(width, 2 * width, 4, 2, 1)]
    )
    return nn.Sequential(
        nn.Conv2d(channels, width, 4, 2, 1),
        nn.LeakyReLU(0.2),
        *second,
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(2 * width * (height // 4) * (wide // 4), outputs),
    )
