"""gan-outside: a third-party gan plugin written only against gan's public API.

It adds one component of four kinds: the ``ragan`` loss, the ``hypersphere``
prior, the ``top-k`` sampler and the ``mean-gap`` metric. This module is the
entry point, imported on every ``gan`` call, so it holds only the hook
implementations; each imports its component (and with it torch) when gan
asks for it, which keeps ``gan --help`` fast.
"""

from gan_core import hookimpl

#: the plugin API versions this package is written for; gan refuses it, with a reason, outside them
GAN_PLUGIN_API = ">=1.0,<2"


@hookimpl
def register_losses(register) -> None:
    from .ragan import RaGAN

    register(RaGAN)


@hookimpl
def register_priors(register) -> None:
    from .hypersphere import Hypersphere

    register(Hypersphere)


@hookimpl
def register_samplers(register) -> None:
    from .top_k import TopK

    register(TopK)


@hookimpl
def register_metrics(register) -> None:
    from .mean_gap import MeanGap

    register(MeanGap)
