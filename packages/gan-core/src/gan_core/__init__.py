"""gan-core: the public surface that plugins import.

Plugins subclass the component contracts below, declare options with
:func:`option`, and register their classes from hook implementations marked
with :data:`hookimpl`.
"""

from .components import (
    Architecture,
    Batch,
    Combination,
    Component,
    DataRequest,
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

__all__ = [
    "Architecture",
    "Batch",
    "Combination",
    "Component",
    "DataRequest",
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
    "discriminate",
    "hookimpl",
    "option",
]
