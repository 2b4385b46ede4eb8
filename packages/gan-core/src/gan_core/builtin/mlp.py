"""The reference course's fully connected generator and discriminator."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..components import ENCODER, Architecture, Discriminator, Networks, NetworkSpec
from ..options import option
from ..plugins import hookimpl


@dataclass(frozen=True)
class MLPOptions:
    dropout: float = option(0.0, "dropout after each hidden layer of D (0: none)", min=0.0, max=0.95)
    slope: float = option(0.2, "negative slope of the LeakyReLU activations", min=0.0, max=1.0)


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


class MLP(Architecture):
    """Fully connected G (latent-256-512-1024-pixels, tanh) and D (pixels-1024-512-256-out)."""

    name = "mlp"
    Options = MLPOptions
    provided = frozenset({ENCODER})

    def build_encoder(self, spec: NetworkSpec, outputs: int) -> nn.Module:
        return mlp_encoder(spec.image_shape, outputs, self.options.slope)

    def build(self, spec: NetworkSpec) -> Networks:
        o = self.options
        return Networks(
            generator=MLPGenerator(spec.latent_dim, spec.image_shape, o.slope),
            discriminator=MLPDiscriminator(spec.image_shape, spec.d_outputs, o.slope, o.dropout),
        )


@hookimpl
def register_architectures(register) -> None:
    register(MLP)
