"""Images to feature sets, and the cached feature set of the real reference images."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

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


def options_text(options: Any) -> str:
    """A dataset's options as canonical JSON (sorted keys): the same options always give the same text."""
    from ..options import options_to_dict

    return json.dumps(options_to_dict(options), sort_keys=True, default=str)


def options_digest(options: Any) -> str:
    """A short stable hash of a dataset's options, so datasets of one name but different data never share a cache entry.

    ``--dataset folder`` is one name for every folder: without this, each run
    would be scored against whichever folder was cached first.
    """
    return hashlib.sha256(options_text(options).encode()).hexdigest()[:12]


def reference_cache_path(extractor: FeatureExtractor, dataset: Any, split: str, n: int) -> Path:
    """Where the reference features of ``dataset`` (with its options) are cached for one protocol and network."""
    key = f"{dataset.name}-{options_digest(dataset.options)}-{split}-{n}-{extractor.name}-{extractor.digest[:16]}"
    return eval_cache_dir() / f"{key}.safetensors"


def reference_features(
    extractor: FeatureExtractor,
    dataset,  # gan_core.Dataset
    split: str,
    n: int,
    data_dir: str | None,
    *,
    with_images: bool = False,
) -> FeatureSet:
    """Features of ``n`` real images of ``split``, cached by dataset and its options, split, n and network hash.

    When ``n`` is smaller than the split, a fixed seeded subset is used, so
    every evaluation with the same protocol compares against the same images.
    """
    path = reference_cache_path(extractor, dataset, split, n)
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
    metadata = {"dataset": dataset.name, "options": options_text(dataset.options), "split": split, "n": str(n),
                "network": extractor.digest}
    save_tensors(path, tensors, metadata)
    return reference
