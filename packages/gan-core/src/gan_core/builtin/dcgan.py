"""A small DCGAN-style convolutional pair for 28x28-sized images."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..components import ENCODER, Architecture, Discriminator, Networks, NetworkSpec
from ..errors import GanError
from ..options import option
from ..plugins import hookimpl


@dataclass(frozen=True)
class DCGANOptions:
    width: int = option(64, "channels of the first conv layer of D and last of G", min=8, max=512)
    dropout: float = option(0.0, "dropout before D's head (0: none)", min=0.0, max=0.95)
    encoder_norm: bool = option(False, "batch norm in the encoder E (ClusterGAN's reference encoder has none)",
                                legacy=True)


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


class DCGAN(Architecture):
    """Convolutional G and D for images whose sides are multiples of 4 (28x28 MNIST)."""

    name = "dcgan"
    Options = DCGANOptions
    provided = frozenset({ENCODER})

    def build_encoder(self, spec: NetworkSpec, outputs: int) -> nn.Module:
        self.check_shape(spec)
        return dcgan_encoder(spec.image_shape, outputs, self.options.width, self.options.encoder_norm)

    def check_shape(self, spec: NetworkSpec) -> None:
        _, height, wide = spec.image_shape
        if height % 4 or wide % 4:
            raise GanError(
                f"the dcgan architecture needs image sides that are multiples of 4, not {height}x{wide}; "
                "resize the data (-o dataset.size=28) or use --arch mlp"
            )

    def build(self, spec: NetworkSpec) -> Networks:
        self.check_shape(spec)
        o = self.options
        return Networks(
            generator=DCGANGenerator(spec.latent_dim, spec.image_shape, o.width),
            discriminator=DCGANDiscriminator(spec.image_shape, spec.d_outputs, o.width, o.dropout),
        )


@hookimpl
def register_architectures(register) -> None:
    register(DCGAN)
