"""gan-core's feature networks: the shipped MNIST / Fashion-MNIST classifiers and Inception-v3.

The shipped classifiers are ``mnist`` and ``fashion-mnist`` (each dataset's
default network, named after it) and ``mnist-resnet``, a second MNIST
network of another architecture and seed. Registered through
``register_feature_networks`` like any plugin's, so a dataset plugin brings
its own network the same way. Registering imports no torch: each network's
module is imported when the network is built.
"""

from __future__ import annotations

from importlib import resources

from ..plugins import hookimpl


def _shipped_names() -> list[str]:
    """The classifiers shipped in gan_core/weights (``NAME-features.json``), as featurenet reads them.

    NAME is a dataset's name for its default network; the JSON's ``dataset``
    says what any of them was trained on.
    """
    folder = resources.files("gan_core") / "weights"
    return sorted(p.name.removesuffix("-features.json") for p in folder.iterdir() if p.name.endswith("-features.json"))


def _shipped(name: str):
    def build(device):
        from ..evaluation.featurenet import shipped_extractor

        return shipped_extractor(name, device)

    return build


def _inception(device):
    from ..evaluation.inception import inception_extractor

    return inception_extractor(device)


@hookimpl
def register_feature_networks(register) -> None:
    for name in _shipped_names():
        register(name, _shipped(name))
    register("inception", _inception)
