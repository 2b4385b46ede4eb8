"""gan-cluster: ClusterGAN (Mukherjee et al., AAAI 2019) as gan plugins.

Only hook implementations live here: the priors, the loss, and the
``gan cluster`` and ``gan explore`` commands each have their own module.
"""

from gan_core import hookimpl

GAN_PLUGIN_API = ">=1.0,<2"  # the gan plugin API versions this package is written for


@hookimpl
def register_priors(register) -> None:
    from .priors import ClusterGMM, OneHotCluster

    register(OneHotCluster)
    register(ClusterGMM)


@hookimpl
def register_losses(register) -> None:
    from .loss import ClusterGANLoss

    register(ClusterGANLoss)


@hookimpl
def register_commands(app) -> None:
    from .commands import cluster, explore

    app.command("cluster")(cluster)
    app.command("explore")(explore)
