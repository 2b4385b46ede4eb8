"""gan-core's feature networks: the shipped MNIST / Fashion-MNIST classifiers and Inception-v3.

Registered through ``register_feature_networks`` like any plugin's, so a
dataset plugin brings its own network the same way.
"""

from __future__ import annotations

from ..evaluation.featurenet import shipped_extractor, shipped_names
from ..plugins import hookimpl


def _shipped(name: str):
    return lambda device: shipped_extractor(name, device)


def _inception(device):
    from ..evaluation.inception import inception_extractor

    return inception_extractor(device)


@hookimpl
def register_feature_networks(register) -> None:
    for name in shipped_names():
        register(name, _shipped(name))
    register("inception", _inception)
