"""gan-sampling: post-hoc samplers that improve a trained GAN's samples without retraining.

Only hook implementations live here; each sampler has its own module.
"""

from gan_core import hookimpl

GAN_PLUGIN_API = ">=1.0,<2"  # the gan plugin API versions this package is written for


@hookimpl
def register_samplers(register) -> None:
    from .drs import DiscriminatorRejection
    from .latent_ga import LatentGradientAscent
    from .latent_rs import LatentRejection
    from .mh import MetropolisHastings

    register(DiscriminatorRejection)
    register(LatentRejection)
    register(LatentGradientAscent)
    register(MetropolisHastings)
