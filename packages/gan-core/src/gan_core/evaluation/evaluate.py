"""``gan eval``: generated images (from a run, a folder of PNGs or an .npz) against real ones."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..assembly import check_requirements, choose, construct
from ..checks import checked_metric
from ..builtin.datasets import IMAGE_SUFFIXES
from ..components import FeatureSet, Metric
from ..directions import direction_of
from ..errors import GanError
from ..registry import get_registry
from .features import FeatureExtractor, extract, make_extractor, reference_features, reference_pool, reference_subset


#: the fewest images any evaluation accepts (``gan eval --n`` has the same floor)
MIN_IMAGES = 10
#: the real images folders and .npz files are compared with when no dataset is chosen
DEFAULT_DATASET = "mnist"


@dataclass
class Protocol:
    """What is compared with what: the choices that make two evaluations comparable."""

    n: int = 10_000
    ref: str = "test"
    features: str | None = None  # None: the dataset's own shipped network
    #: None: not chosen, so a run's own dataset, and for folders and .npz files DEFAULT_DATASET
    dataset: str | None = None
    dataset_options: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()  # empty: the default set, every installed metric but those with by_default False
    #: metrics computed besides the default set when ``metrics`` is empty (``--keep-best`` of a metric outside it)
    also: tuple[str, ...] = ()
    data_dir: str | None = None
    #: ``-o metric.KEY=VALUE``: each key goes to every chosen metric that declares it
    metric_options: dict[str, Any] = field(default_factory=dict)

    @property
    def dataset_name(self) -> str:
        """The dataset compared with: the chosen one, else the default (a run's own is set before evaluating)."""
        return self.dataset or DEFAULT_DATASET


class Evaluator:
    """Holds the feature network and the real features, so repeated evaluations (during training) are cheap."""

    def __init__(self, protocol: Protocol, device: torch.device) -> None:
        registry = get_registry()
        default = default_metrics(registry)
        names = protocol.metrics or default + tuple(m for m in protocol.also if m not in default)
        options = {k: v for k, v in protocol.dataset_options.items() if k != "limit"}  # the reference is never cut
        self.dataset = construct(choose(registry, "dataset", protocol.dataset_name, options))
        self.protocol = protocol
        self.extractor: FeatureExtractor = make_extractor(protocol.features or protocol.dataset_name, device)
        self.metrics: list[Metric] = choose_metrics(registry, names, protocol.metric_options, self.extractor,
                                                    named=set(protocol.metrics or protocol.also))
        self._reference: FeatureSet | None = None
        if not self.metrics:
            raise GanError("no metric is installed; gan-core's built-in metrics were disabled")

    @property
    def reference(self) -> FeatureSet:
        if self._reference is None:
            p = self.protocol
            self._reference = reference_features(self.extractor, self.dataset, p.ref, p.n, p.data_dir,
                                                 with_images=any(m.needs_images for m in self.metrics))
        return self._reference

    @property
    def reference_resampled(self) -> bool:
        """Whether the split holds more than ``n`` real images, so that each draw of
        ``gan eval --repeats`` compares with a subset of its own; when False every draw uses the whole split."""
        return self._reference_pool is not None

    def reference_draw(self, seed: int | None) -> FeatureSet:
        """The real side of one evaluation draw: the fixed reference for ``seed`` None (the first draw, and every
        plain evaluation), else a fresh subset of ``n`` chosen by ``seed`` (the same split when it holds no more)."""
        if seed is None or self._reference_pool is None:
            return self.reference
        return reference_subset(self._reference_pool, self.protocol.n, seed)

    @functools.cached_property
    def _reference_pool(self) -> FeatureSet | None:
        """The whole split's features, read once; None when it holds no more than n (reference_pool)."""
        p = self.protocol
        return reference_pool(self.extractor, self.dataset, p.ref, p.n, p.data_dir,
                              with_images=any(m.needs_images for m in self.metrics))

    def evaluate(self, images: torch.Tensor, what: str = "the generated images",
                 reference: FeatureSet | None = None) -> dict[str, float]:
        """Every metric on uint8 images (N, C, H, W), against ``reference`` (default: the fixed reference)."""
        if len(images) < MIN_IMAGES:
            raise GanError(f"{what}: only {len(images)} images, but metrics need at least {MIN_IMAGES}")
        self.extractor.check(tuple(images.shape[1:]), what)
        fake = extract(self.extractor, images)
        fake.images = images
        real = reference if reference is not None else self.reference
        values: dict[str, float] = {}
        for metric in self.metrics:
            values.update(checked_metric(metric, metric.headline, metric.compute(real, fake)))
        return values

    def directions(self) -> dict[str, str]:
        """Each metric's headline name and which way it gets better (gan_core.directions: "higher" or "lower")."""
        return {m.headline: direction_of(m) for m in self.metrics}

    def describe(self) -> dict[str, Any]:
        p = self.protocol
        return {
            "n_reference": len(self.reference),
            "ref": f"{p.dataset_name} {p.ref}",
            "features": {"name": self.extractor.name, "sha256": self.extractor.digest, "about": self.extractor.description},
            # -o metric.k=5 and the like: precision and recall at another k are other quantities
            "metric_options": dict(p.metric_options),
            "directions": self.directions(),
        }


def summarise_draws(draws: list[dict[str, float]]) -> dict[str, Any]:
    """The record of K evaluation draws: ``metrics``, the mean of each metric over the draws (draw 1's own values
    when K is 1), and for K > 1 ``draws`` (metric -> the K values) and ``eval_std`` (their sample std, ddof=1)."""
    if len(draws) == 1:
        return {"metrics": draws[0]}
    from ..experiments.stats import mean, sample_std

    values = {key: [float(d[key]) for d in draws] for key in draws[0]}
    return {"metrics": {key: mean(v) for key, v in values.items()}, "draws": values,
            "eval_std": {key: sample_std(v) for key, v in values.items()}}


def default_metrics(registry: Any) -> tuple[str, ...]:
    """The metrics computed when none is named: every installed one but those that set ``by_default = False``."""
    return tuple(name for name in registry.names("metric") if getattr(registry.get("metric", name).cls, "by_default", True))


def choose_metrics(registry: Any, names: tuple[str, ...], raw_options: dict[str, Any], extractor: FeatureExtractor,
                   named: set[str]) -> list[Metric]:
    """The metrics to compute, with ``-o metric.KEY=VALUE`` given to each that declares KEY.

    A metric whose ``requires`` (or ``needs_classes``) the feature network
    cannot meet is left out when it is not in ``named`` (the default set) and
    refused when it is.
    """
    import dataclasses

    provided = {"classes"} if extractor.has_classes else set()
    metrics: list[Metric] = []
    used: set[str] = set()
    for name in names:
        entry = registry.get("metric", name)
        declared = {f.name for f in dataclasses.fields(entry.cls.Options)}
        mine = {k: v for k, v in raw_options.items() if k in declared}
        used |= set(mine)
        metric: Metric = construct(choose(registry, "metric", name, mine))  # type: ignore[assignment]
        needs = dict(metric.requires)
        if metric.needs_classes:
            needs.setdefault("classes", "it reads the feature network's class probabilities")
        missing = [need for need in needs if need not in provided]
        if missing and name not in named:
            continue
        if missing:
            check_requirements(_WithNeeds(metric, needs), provided, f"the '{extractor.name}' feature network")
        metrics.append(metric)
    unknown = sorted(set(raw_options) - used)
    if unknown:
        raise GanError(
            f"no chosen metric has an option '{unknown[0]}'; see gan plugins show METRIC, or pick the metric with --metrics"
        )
    return metrics


class _WithNeeds:
    """A metric seen with its ``needs_classes`` folded into ``requires``, for the one shared refusal sentence."""

    def __init__(self, metric: Metric, needs: dict[str, str]) -> None:
        self.kind, self.name, self.requires = metric.kind, metric.name, needs


def read_image_folder(folder: Path, limit: int) -> torch.Tensor:
    """uint8 (N, C, H, W) images from a folder of image files, sorted by name."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    if not files:
        raise GanError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)}); pass a folder written by gan sample")
    arrays = []
    for path in files:
        try:
            with Image.open(path) as image:
                array = np.asarray(image.convert("L") if image.mode in ("L", "LA", "P", "I;16", "1") else image.convert("RGB"))
        except (OSError, UnidentifiedImageError) as exc:
            raise GanError(f"{path} is not a readable image ({exc}); remove it from the folder") from exc
        arrays.append(array if array.ndim == 3 else array[..., None])
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise GanError(f"the images in {folder} differ in size or channels ({sorted(shapes)[:2]}); they must all match")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def read_npz(path: Path, limit: int) -> torch.Tensor:
    """uint8 (N, C, H, W) images from an .npz: key 'images' (else the first array), NHWC, NCHW or NHW."""
    try:
        with np.load(path) as archive:
            key = "images" if "images" in archive.files else archive.files[0]
            array = archive[key][:limit]
    except (OSError, ValueError, IndexError) as exc:
        raise GanError(f"{path} is not a readable .npz file ({exc})") from exc
    if array.dtype != np.uint8:
        array = _floats_to_uint8(path, array)
    return torch.from_numpy(np.ascontiguousarray(_to_nchw(path, array)))


#: the channel counts an image array may have (grayscale, RGB)
_CHANNELS = (1, 3)


def _to_nchw(path: Path, array: np.ndarray) -> np.ndarray:
    """(N, C, H, W) from NHW, NHWC or NCHW, guessing the layout only where one reading is possible."""
    accepted = "(N, H, W), (N, H, W, C) or (N, C, H, W) with C 1 or 3"
    if array.ndim == 3:
        return array[:, None]
    if array.ndim != 4:
        raise GanError(f"{path} holds an array of shape {array.shape}; images must be {accepted}")
    channels_last, channels_first = array.shape[3] in _CHANNELS, array.shape[1] in _CHANNELS
    if channels_last and not channels_first:
        return array.transpose(0, 3, 1, 2)
    if channels_first and not channels_last:
        return array
    reason = "either layout could be meant" if channels_first else "neither axis 1 nor axis 3 holds 1 or 3 channels"
    raise GanError(f"{path} holds an array of shape {array.shape}, and {reason}; save the images as {accepted}")


def _floats_to_uint8(path: Path, array: np.ndarray) -> np.ndarray:
    """uint8 images from floats in [0, 1]; anything else is refused with what is wrong with it."""
    if not np.issubdtype(array.dtype, np.floating):
        raise GanError(f"{path}: images must be uint8 or floats in [0, 1], not {array.dtype}")
    nan = int(np.isnan(array).sum())
    if nan:
        raise GanError(f"{path}: the images contain NaN ({nan} of {array.size} pixel values); "
                       "save finite images (uint8, or floats in [0, 1])")
    if not np.isfinite(array).all():
        raise GanError(f"{path}: some pixel values are infinite; save finite images (uint8, or floats in [0, 1])")
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 1:
        raise GanError(f"{path}: float images must lie in [0, 1], but these range from {low:g} to {high:g}; "
                       "rescale them (from [-1, 1]: (x + 1) / 2) or save uint8")
    return (array * 255).round().astype(np.uint8)
