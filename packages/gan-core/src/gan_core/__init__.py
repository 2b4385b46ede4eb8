"""gan-core: the public surface that plugins import.

Plugins subclass the component contracts below, declare options with
:func:`option`, and register their classes from hook implementations marked
with :data:`hookimpl`.
"""

from typing import Any

from .components import (
    Architecture,
    Batch,
    Combination,
    Component,
    DataRequest,
    ENCODER,
    Dataset,
    FeatureSet,
    Discriminator,
    ImageData,
    Latent,
    Loss,
    Metric,
    Networks,
    NetworkSpec,
    Prior,
    SampleResult,
    Sampler,
    TrainedModel,
    TrainingDefaults,
    discriminate,
)
from .errors import ExitCode, GanError, TrainingDiverged
from .options import NoOptions, option
from .plugins import hookimpl

__version__ = "0.1.0"


def create_component(kind: str, name: str, raw_options: dict[str, Any] | None = None) -> Component:
    """An installed component, by kind and name, with its options checked.

    How one plugin builds on another without importing its package (the
    clustergan loss wraps whichever base loss the user names). Not for
    priors, which also need a latent size.
    """
    from .assembly import choose
    from .registry import get_registry

    chosen = choose(get_registry(), kind, name, raw_options)
    return chosen.entry.cls(chosen.options)  # type: ignore[call-arg]


__all__ = [
    "Architecture",
    "Batch",
    "Combination",
    "Component",
    "DataRequest",
    "ENCODER",
    "Dataset",
    "Discriminator",
    "ExitCode",
    "FeatureSet",
    "GanError",
    "ImageData",
    "Latent",
    "Loss",
    "Metric",
    "NetworkSpec",
    "Networks",
    "NoOptions",
    "Prior",
    "SampleResult",
    "Sampler",
    "TrainedModel",
    "TrainingDefaults",
    "TrainingDiverged",
    "create_component",
    "discriminate",
    "hookimpl",
    "option",
]
