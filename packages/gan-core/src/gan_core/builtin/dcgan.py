"""A small DCGAN-style convolutional pair for 28x28-sized images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..components import ENCODER, Architecture, Networks, NetworkSpec
from ..errors import GanError
from ..options import option
from ..plugins import hookimpl

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class DCGANOptions:
    width: int = option(64, "channels of the first conv layer of D and last of G", min=8, max=512)
    dropout: float = option(0.0, "dropout before D's head (0: none)", min=0.0, max=0.95)
    encoder_norm: bool = option(False, "batch norm in the encoder E (ClusterGAN's reference encoder has none)",
                                legacy=True)


class DCGAN(Architecture):
    """Convolutional G and D for images whose sides are multiples of 4 (28x28 MNIST)."""

    name = "dcgan"
    Options = DCGANOptions
    provided = frozenset({ENCODER})
    stacks = True

    def stack_refusal(self) -> str | None:
        if self.options.dropout > 0:
            return "its dropout draws masks from torch's global generator, which members would share"
        return None

    def build_encoder(self, spec: NetworkSpec, outputs: int) -> nn.Module:
        from .networks import dcgan_encoder

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
        from .networks import DCGANDiscriminator, DCGANGenerator

        self.check_shape(spec)
        o = self.options
        return Networks(
            generator=DCGANGenerator(spec.latent_dim, spec.image_shape, o.width),
            discriminator=DCGANDiscriminator(spec.image_shape, spec.d_outputs, o.width, o.dropout),
        )


@hookimpl
def register_architectures(register) -> None:
    register(DCGAN)
