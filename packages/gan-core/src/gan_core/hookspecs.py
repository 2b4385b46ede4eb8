"""Hook declarations: one ``register_<kind>(register)`` per component kind, plus commands and feature networks.

Each hook receives a ``register`` callable; call it once per component class
you provide. The core's own baseline components arrive through these same
hooks (see ``gan_core.plugins.DEFAULT_PLUGINS``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("gan")

Register = Callable[[type], None]


@hookspec
def register_priors(register: Register) -> None:
    """Register latent priors: subclasses of ``gan_core.Prior``."""


@hookspec
def register_losses(register: Register) -> None:
    """Register adversarial losses: subclasses of ``gan_core.Loss``."""


@hookspec
def register_architectures(register: Register) -> None:
    """Register network builders: subclasses of ``gan_core.Architecture``."""


@hookspec
def register_samplers(register: Register) -> None:
    """Register post-hoc samplers: subclasses of ``gan_core.Sampler``."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register evaluation metrics: subclasses of ``gan_core.Metric``."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register image datasets: subclasses of ``gan_core.Dataset``."""


@hookspec
def register_commands(app: Any) -> None:
    """Add sub-commands to the ``gan`` Typer app (``@app.command()``)."""


@hookspec
def register_feature_networks(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register evaluation feature networks: ``register(name, build)``.

    ``name`` is a dataset name (or any name ``gan eval --features`` accepts)
    and ``build(device)`` returns a ``gan_core.FeatureExtractor``. A dataset
    plugin brings the network its images are evaluated with this way.
    """
