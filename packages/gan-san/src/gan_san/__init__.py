"""gan-san: the Wasserstein family and Slicing Adversarial Networks as gan plugins.

Only hook implementations live here; each loss has its own module.
"""

from gan_core import hookimpl

GAN_PLUGIN_API = ">=1.0,<2"  # the gan plugin API versions this package is written for


@hookimpl
def register_losses(register) -> None:
    from .san import HingeSAN, LogisticSAN
    from .wasserstein import WGAN, WGANGP

    register(WGAN)
    register(WGANGP)
    register(LogisticSAN)
    register(HingeSAN)
