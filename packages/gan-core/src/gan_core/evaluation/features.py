"""Images to feature sets, and the cached feature set of the real reference images."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..components import DataRequest, FeatureSet
from ..runs import load_tensors, save_tensors
from .extractor import FeatureExtractor


def make_extractor(name: str, device: torch.device) -> FeatureExtractor:
    """The feature network registered as ``name`` (a dataset's, or ``inception``), built on ``device``."""
    from ..checks import checked_extractor
    from ..registry import get_registry

    entry = get_registry().feature_network(name)
    return checked_extractor(entry, entry.build(device))


def extract(extractor: FeatureExtractor, images: torch.Tensor, batch_size: int = 1000) -> FeatureSet:
    """Features of uint8 images (N, C, H, W), batch by batch."""
    features, probs = [], []
    for start in range(0, len(images), batch_size):
        f, p = extractor.run(images[start : start + batch_size])
        features.append(f.float().cpu())
        if p is not None:
            probs.append(p.float().cpu())
    return FeatureSet(torch.cat(features), torch.cat(probs) if probs else None)


def eval_cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gan" / "eval"


def reference_features(
    extractor: FeatureExtractor,
    dataset,  # gan_core.Dataset
    split: str,
    n: int,
    data_dir: str | None,
    *,
    with_images: bool = False,
) -> FeatureSet:
    """Features of ``n`` real images of ``split``, cached by dataset, split, n and network hash.

    When ``n`` is smaller than the split, a fixed seeded subset is used, so
    every evaluation with the same protocol compares against the same images.
    """
    path = eval_cache_dir() / f"{dataset.name}-{split}-{n}-{extractor.name}-{extractor.digest[:16]}.safetensors"
    if path.is_file() and not with_images:
        tensors, _ = load_tensors(path)
        return FeatureSet(tensors["features"], tensors.get("probs"))
    data = dataset.load(DataRequest(split=split, data_dir=Path(data_dir) if data_dir else None))  # type: ignore[arg-type]
    images = data.images
    if n < len(images):
        images = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:n]]
    if path.is_file():  # features cached; the metrics also want the images themselves
        tensors, _ = load_tensors(path)
        return FeatureSet(tensors["features"], tensors.get("probs"), images=images)
    extractor.check(tuple(images.shape[1:]), f"dataset '{dataset.name}'")
    reference = extract(extractor, images)
    if with_images:
        reference.images = images
    tensors = {"features": reference.features}
    if reference.probs is not None:
        tensors["probs"] = reference.probs
    save_tensors(path, tensors, {"dataset": dataset.name, "split": split, "n": str(n), "network": extractor.digest})
    return reference
