"""gan-gm: Gaussian-mixture GANs (Ben-Yosef & Weinshall 2018) as gan plugins.

Only hook implementations live here; each component has its own module.
"""

from gan_core import hookimpl

GAN_PLUGIN_API = ">=1.0,<2"  # the gan plugin API versions this package is written for


@hookimpl
def register_priors(register) -> None:
    from .priors import DynamicGM, StaticGM, SupervisedGM

    register(StaticGM)
    register(DynamicGM)
    register(SupervisedGM)


@hookimpl
def register_losses(register) -> None:
    from .losses import AuxiliaryClassifierLoss, SupervisedLoss

    register(SupervisedLoss)
    register(AuxiliaryClassifierLoss)
