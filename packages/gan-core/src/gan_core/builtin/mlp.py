"""The reference course's fully connected generator and discriminator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..components import ENCODER, Architecture, Networks, NetworkSpec
from ..options import option
from ..plugins import hookimpl

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class MLPOptions:
    dropout: float = option(0.0, "dropout after each hidden layer of D (0: none)", min=0.0, max=0.95)
    slope: float = option(0.2, "negative slope of the LeakyReLU activations", min=0.0, max=1.0)


class MLP(Architecture):
    """Fully connected G (latent-256-512-1024-pixels, tanh) and D (pixels-1024-512-256-out)."""

    name = "mlp"
    Options = MLPOptions
    provided = frozenset({ENCODER})
    stacks = True

    def stack_refusal(self) -> str | None:
        if self.options.dropout > 0:
            return "its dropout draws masks from torch's global generator, which members would share"
        return None

    def build_encoder(self, spec: NetworkSpec, outputs: int) -> nn.Module:
        from .networks import mlp_encoder

        return mlp_encoder(spec.image_shape, outputs, self.options.slope)

    def build(self, spec: NetworkSpec) -> Networks:
        from .networks import MLPDiscriminator, MLPGenerator

        o = self.options
        return Networks(
            generator=MLPGenerator(spec.latent_dim, spec.image_shape, o.slope),
            discriminator=MLPDiscriminator(spec.image_shape, spec.d_outputs, o.slope, o.dropout),
        )


@hookimpl
def register_architectures(register) -> None:
    register(MLP)
