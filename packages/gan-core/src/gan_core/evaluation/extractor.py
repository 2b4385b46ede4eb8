"""The feature-network contract: uint8 images in, (features, class probabilities or None) out.

Every metric is computed in the space of one such network. gan-core
registers its shipped MNIST and Fashion-MNIST classifiers and Inception-v3
through the ``register_feature_networks`` hook; a dataset plugin registers
the network its own images are evaluated with the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..errors import GanError


@dataclass
class FeatureExtractor:
    """A network that maps uint8 images (N, C, H, W) to (float features (N, D), class probabilities (N, K) or None)."""

    name: str
    digest: str  # a hash of its weights: part of every cache key, so a changed network never reads stale features
    image_shape: tuple[int, int, int] | None  # what it accepts; None: anything (it resizes)
    run: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]
    device: torch.device
    description: str
    #: whether ``run`` returns class probabilities (metrics that need classes are skipped otherwise)
    has_classes: bool = True

    def check(self, shape: tuple[int, ...], what: str) -> None:
        if self.image_shape is not None and tuple(shape) != self.image_shape:
            c, h, w = self.image_shape
            raise GanError(
                f"{what} holds {shape[0]}-channel {shape[1]}x{shape[2]} images but the '{self.name}' feature network "
                f"takes {c}-channel {h}x{w} images; pick matching --features"
            )
