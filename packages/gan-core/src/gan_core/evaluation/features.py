"""Images to feature sets, and the cached feature set of the real reference images (and subsets of it)."""

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


def reference_cache_path(extractor: FeatureExtractor, dataset: Any, split: str, n: int | str) -> Path:
    """Where the reference features of ``dataset`` (with its options) are cached for one protocol and network.

    ``n`` is the protocol's size, or ``"all"`` for the whole split (:func:`reference_pool`).
    """
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
    images = _load_split(dataset, split, data_dir)
    if n < len(images):
        images = images[subset_indices(len(images), n, None)]
    if path.is_file():  # features cached; the metrics also want the images themselves
        tensors, _ = load_tensors(path)
        return FeatureSet(tensors["features"], tensors.get("probs"), images=images)
    return _extract_and_cache(extractor, dataset, split, n, images, path, with_images)


def reference_pool(
    extractor: FeatureExtractor,
    dataset,  # gan_core.Dataset
    split: str,
    n: int,
    data_dir: str | None,
    *,
    with_images: bool = False,
) -> FeatureSet | None:
    """Features of every image of ``split``, to draw fresh subsets of ``n`` from; None when it holds no more than ``n``.

    Cached like :func:`reference_features`, under the size ``all``: the real
    images are seen by the network once, however many subsets are drawn.
    """
    path = reference_cache_path(extractor, dataset, split, "all")
    if path.is_file() and not with_images:
        tensors, _ = load_tensors(path)
        pool = FeatureSet(tensors["features"], tensors.get("probs"))
        return pool if len(pool) > n else None
    images = _load_split(dataset, split, data_dir)
    if len(images) <= n:  # known before any feature is computed
        return None
    if path.is_file():
        tensors, _ = load_tensors(path)
        return FeatureSet(tensors["features"], tensors.get("probs"), images=images)
    return _extract_and_cache(extractor, dataset, split, "all", images, path, with_images)


def subset_indices(size: int, n: int, seed: int | None) -> torch.Tensor:
    """Which ``n`` of ``size`` reference images to use: ``seed`` None gives the fixed subset every
    protocol of this ``n`` compares with; a seed gives a fresh one, drawn from a generator seeded by
    a hash of it (so no seed reproduces the fixed subset by chance).
    """
    if seed is None:
        generator = torch.Generator().manual_seed(0)
    else:
        digest = hashlib.sha256(f"reference subset {seed}".encode()).digest()
        generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))
    return torch.randperm(size, generator=generator)[:n]


def reference_subset(pool: FeatureSet, n: int, seed: int) -> FeatureSet:
    """``n`` of the pool's real images (features, class probabilities, images if it holds them), chosen by ``seed``."""
    index = subset_indices(len(pool), n, seed)
    return FeatureSet(pool.features[index], pool.probs[index] if pool.probs is not None else None,
                      images=pool.images[index] if pool.images is not None else None)


def _load_split(dataset: Any, split: str, data_dir: str | None) -> torch.Tensor:
    data = dataset.load(DataRequest(split=split, data_dir=Path(data_dir) if data_dir else None))
    return data.images


def _extract_and_cache(extractor: FeatureExtractor, dataset: Any, split: str, n: int | str, images: torch.Tensor,
                       path: Path, with_images: bool) -> FeatureSet:
    """Features of ``images``, written to the cache at ``path``."""
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
