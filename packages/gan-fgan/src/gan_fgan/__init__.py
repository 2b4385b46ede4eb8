"""gan-fgan: f-GAN (Nowozin et al. 2016) as gan plugins, one loss per f-divergence.

Only the hook implementation lives here; see divergences.py and loss.py.
"""

from gan_core import hookimpl

GAN_PLUGIN_API = ">=1.0,<2"  # the gan plugin API versions this package is written for


@hookimpl
def register_losses(register) -> None:
    from .loss import LOSSES

    for loss in LOSSES:
        register(loss)
