"""gan-core: the public surface that plugins import.

Everything a plugin may rely on is importable from ``gan_core`` itself (and
the test kit from ``gan_core.testing``); every other module is internal and
may change in any release. The surface is versioned by
:data:`PLUGIN_API_VERSION` (see :mod:`gan_core.api_version`).

Names are loaded on first use, so ``from gan_core import hookimpl`` in a
plugin's entry-point module does not import torch: ``gan --help`` stays fast
whatever is installed.
"""

# ruff: noqa: F401 - the TYPE_CHECKING block below re-exports for type checkers only
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .api_version import API_ATTRIBUTE, PLUGIN_API_VERSION
from .errors import ComponentError, ExitCode, GanError, TrainingDiverged
from .plugins import hookimpl

__version__ = "0.2.0"

#: public name -> the internal module that defines it
_LAZY: dict[str, str] = {
    # component contracts
    **dict.fromkeys(
        (
            "Architecture", "Batch", "Combination", "Component", "DataRequest", "ENCODER", "Dataset", "Discriminator",
            "FeatureSet", "ImageData", "Latent", "Loss", "Metric", "NetworkSpec", "Networks", "Prior", "SampleResult",
            "Sampler", "TrainedModel", "TrainingDefaults", "discriminate", "joins_batches",
        ),
        "components",
    ),
    "NoOptions": "options",
    "option": "options",
    "FeatureExtractor": "evaluation.extractor",
    "gradient_penalty": "penalties",
    # training as a function, and following it
    "train": "training",
    "TrainConfig": "config",
    "Callback": "callbacks",
    "TensorBoardLogger": "callbacks",
    "StopRequested": "engine",
    # for command plugins
    **dict.fromkeys(
        ("LoadedRun", "load_run", "load_dataset", "check_class_index", "create_component", "resolve_device",
         "atomic_write_json", "save_grid", "progress", "shipped_classifier", "feature_network"),
        "api",
    ),
}

__all__ = [
    "API_ATTRIBUTE",
    "ComponentError",
    "ExitCode",
    "GanError",
    "PLUGIN_API_VERSION",
    "TrainingDiverged",
    "hookimpl",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gan_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .api import (
        LoadedRun,
        atomic_write_json,
        check_class_index,
        create_component,
        feature_network,
        load_dataset,
        load_run,
        progress,
        resolve_device,
        save_grid,
        shipped_classifier,
    )
    from .components import (
        ENCODER,
        Architecture,
        Batch,
        Combination,
        Component,
        DataRequest,
        Dataset,
        Discriminator,
        FeatureSet,
        ImageData,
        Latent,
        Loss,
        Metric,
        NetworkSpec,
        Networks,
        Prior,
        SampleResult,
        Sampler,
        TrainedModel,
        TrainingDefaults,
        discriminate,
        joins_batches,
    )
    from .callbacks import Callback, TensorBoardLogger
    from .config import TrainConfig
    from .engine import StopRequested
    from .evaluation.extractor import FeatureExtractor
    from .training import train
    from .options import NoOptions, option
    from .penalties import gradient_penalty
