"""Checks on what components hand back, at the boundary between a plugin and the core.

A plugin's mistake — a sampler that returns half the images asked for,
images in [0, 255] instead of [-1, 1], a loss that returns a vector — would
otherwise be silently clipped, scored and written, or surface as an
"Internal error" far from its cause. Each check raises
:class:`~gan_core.errors.ComponentError`: one sentence naming the component
and what was wrong. Shape and dtype checks cost nothing; the checks that
read values (finiteness, range) cost one host sync and run where the core
already syncs (sampling, evaluation) or once, on a run's first step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from .errors import ComponentError

# Deliberately no import of .components (which calls these checks): results are checked by shape,
# so this module stays a leaf that anything may import.
Component = Any

#: how far outside [-1, 1] generated images may stray (float round-off of a tanh)
RANGE_SLACK = 1e-3


def _who(component: Any) -> str:
    if isinstance(component, str):
        return component
    return f"{component.kind} '{component.name}'"


def checked_latent(prior: Component, latent: Any, n: int, code_dim: int) -> Any:
    """A prior's ``sample(n)``: ``Latent(z (n, code_dim) float, labels (n,) int64 or None)``."""
    who = _who(prior)
    if not isinstance(latent, tuple) or not hasattr(latent, "z"):
        raise ComponentError(f"{who} returned {type(latent).__name__} from sample(); return gan_core.Latent(z, labels)")
    z, labels = latent.z, latent.labels
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise ComponentError(f"{who} returned codes that are not a float tensor ({_describe(z)}); return float z")
    if tuple(z.shape) != (n, code_dim):
        raise ComponentError(f"{who} returned codes of shape {tuple(z.shape)} for sample({n}); expected ({n}, {code_dim})")
    _check_labels(who, labels, n)
    return latent


def checked_images(who: str, images: Any, n: int, shape: tuple[int, ...], *, values: bool = True) -> torch.Tensor:
    """Generated images: float (n, C, H, W) and, when ``values``, finite and within [-1, 1]."""
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise ComponentError(f"{who} returned images that are not a float tensor ({_describe(images)}); return floats in [-1, 1]")
    if tuple(images.shape) != (n, *shape):
        raise ComponentError(f"{who} returned images of shape {tuple(images.shape)}; expected {(n, *shape)}")
    if values and images.numel():
        low, high = torch.aminmax(images.detach())
        low, high = float(low), float(high)  # one host sync
        if math.isnan(low) or math.isnan(high):
            raise ComponentError(f"{who} returned images containing NaN")
        if low < -1 - RANGE_SLACK or high > 1 + RANGE_SLACK:
            raise ComponentError(
                f"{who} returned images with values in [{low:.3g}, {high:.3g}]; images must lie in [-1, 1] "
                "(end the generator with tanh, or rescale x / 127.5 - 1)"
            )
    return images


def checked_outputs(who: str, outputs: Any, n: int, width: int) -> torch.Tensor:
    """D's outputs for ``n`` images: float (n, width)."""
    if not isinstance(outputs, torch.Tensor) or not outputs.is_floating_point():
        raise ComponentError(f"{who} returned {_describe(outputs)} from its discriminator; return a float tensor ({n}, {width})")
    if tuple(outputs.shape) != (n, width):
        raise ComponentError(f"{who}'s discriminator returned shape {tuple(outputs.shape)} for {n} images; expected ({n}, {width})")
    return outputs


def checked_loss(loss: Component, value: Any, which: str) -> torch.Tensor:
    """``d_loss`` / ``g_loss``: a float scalar tensor that autograd can differentiate."""
    who = _who(loss)
    if not isinstance(value, torch.Tensor) or not value.is_floating_point() or value.dim() != 0:
        raise ComponentError(f"{who}'s {which} returned {_describe(value)}; return a float scalar tensor (a 0-d tensor, e.g. x.mean())")
    if not value.requires_grad:
        raise ComponentError(f"{who}'s {which} does not depend on the networks' parameters (no gradient); compute it from D's outputs")
    return value


def checked_scores(loss: Component, scores: Any, n: int) -> torch.Tensor:
    """``Loss.realness``: one float score per image."""
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point() or tuple(scores.shape) != (n,):
        raise ComponentError(f"{_who(loss)}'s realness() returned {_describe(scores)}; expected one float score per image, shape ({n},)")
    return scores


def checked_sample(sampler: Component, result: Any, n: int, shape: tuple[int, ...]) -> Any:
    """A sampler's ``sample(model, n)``: exactly n images in [-1, 1], labels for each or None, proposals >= n."""
    who = _who(sampler)
    if not isinstance(result, tuple) or not hasattr(result, "images"):
        raise ComponentError(f"{who} returned {type(result).__name__}; return gan_core.SampleResult(images, labels, proposals)")
    if isinstance(result.images, torch.Tensor) and result.images.dim() >= 1 and result.images.shape[0] != n:
        raise ComponentError(f"{who} returned {result.images.shape[0]} images when {n} were asked for; return exactly n")
    checked_images(who, result.images, n, shape)
    _check_labels(who, result.labels, n)
    if isinstance(result.proposals, bool) or not isinstance(result.proposals, int) or result.proposals < n:
        raise ComponentError(f"{who} reported {result.proposals!r} proposals for {n} images; report how many candidates it drew (at least n)")
    return result


def checked_data(dataset: Component, data: Any) -> Any:
    """A dataset's ``load``: an ImageData of uint8 (N, C, H, W) images, int64 (N,) labels or None."""
    who = _who(dataset)
    if not all(hasattr(data, a) for a in ("images", "labels", "num_classes", "source")):
        raise ComponentError(f"{who} returned {type(data).__name__} from load(); return gan_core.ImageData")
    images = data.images
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
        raise ComponentError(f"{who} returned images as {_describe(images)}; return one uint8 tensor (N, C, H, W)")
    _check_labels(who, data.labels, images.shape[0])
    if data.labels is not None and data.num_classes is None:
        raise ComponentError(f"{who} returned labels but num_classes None; set num_classes")
    return data


def checked_metric(metric: Component, headline: str, values: Any) -> dict[str, float]:
    """A metric's ``compute``: a dict of finite-or-nan floats that holds its headline value."""
    who = _who(metric)
    if not isinstance(values, Mapping):
        raise ComponentError(f"{who} returned {type(values).__name__} from compute(); return a dict of name -> float")
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ComponentError(f"{who} returned {key!r}: {_describe(value)}; every value must be a float under a name")
        out[key] = float(value)
    if headline not in out:
        raise ComponentError(f"{who} returned {sorted(out)} but not its headline value '{headline}'")
    return out


def checked_extractor(entry: Any, extractor: Any) -> Any:
    """A registered feature network's ``build(device)``: a ``gan_core.FeatureExtractor``."""
    from .evaluation.extractor import FeatureExtractor

    if not isinstance(extractor, FeatureExtractor):
        raise ComponentError(
            f"feature network '{entry.name}' ({entry.package}) built {type(extractor).__name__}; "
            "return a gan_core.FeatureExtractor"
        )
    return extractor


def _check_labels(who: str, labels: Any, n: int) -> None:
    if labels is None:
        return
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64 or tuple(labels.shape) != (n,):
        raise ComponentError(f"{who} returned labels as {_describe(labels)}; return int64 labels of shape ({n},) or None")


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    return f"{type(value).__name__} {value!r}"[:80]
