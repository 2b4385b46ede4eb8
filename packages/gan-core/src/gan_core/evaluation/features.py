"""Images to feature sets, and the cached feature set of the real reference images."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..components import DataRequest, FeatureSet
from ..errors import GanError
from ..runs import load_tensors, save_tensors


@dataclass
class FeatureExtractor:
    """A network that maps uint8 images to (features, class probabilities or None)."""

    name: str
    digest: str  # sha256 of its weights: part of every cache key
    image_shape: tuple[int, int, int] | None  # what it accepts; None: anything (it resizes)
    run: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]
    device: torch.device
    description: str

    def check(self, shape: tuple[int, ...], what: str) -> None:
        if self.image_shape is not None and tuple(shape) != self.image_shape:
            c, h, w = self.image_shape
            raise GanError(
                f"{what} holds {shape[0]}-channel {shape[1]}x{shape[2]} images but the '{self.name}' feature network "
                f"takes {c}-channel {h}x{w} images; pick matching --features"
            )


def shipped_extractor(name: str, device: torch.device) -> FeatureExtractor:
    """One of the small classifiers shipped inside gan-core."""
    from .featurenet import load_feature_net

    net, info = load_feature_net(name, device)
    body = net.fused_features()

    @torch.inference_mode()
    def run(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images.to(device).float().div_(127.5).sub_(1.0).contiguous(memory_format=torch.channels_last)
        features = body(x)
        return features, net.classifier(features).softmax(1)

    description = f"{name} classifier, test accuracy {info.test_accuracy:.4f}"
    return FeatureExtractor(name, info.sha256, (1, 28, 28), run, device, description)


def make_extractor(name: str, device: torch.device) -> FeatureExtractor:
    if name == "inception":
        from .inception import inception_extractor

        return inception_extractor(device)
    return shipped_extractor(name, device)


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
) -> FeatureSet:
    """Features of ``n`` real images of ``split``, cached by dataset, split, n and network hash.

    When ``n`` is smaller than the split, a fixed seeded subset is used, so
    every evaluation with the same protocol compares against the same images.
    """
    path = eval_cache_dir() / f"{dataset.name}-{split}-{n}-{extractor.name}-{extractor.digest[:16]}.safetensors"
    if path.is_file():
        tensors, _ = load_tensors(path)
        return FeatureSet(tensors["features"], tensors.get("probs"))
    data = dataset.load(DataRequest(split=split, data_dir=Path(data_dir) if data_dir else None))  # type: ignore[arg-type]
    images = data.images
    if n < len(images):
        images = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:n]]
    extractor.check(tuple(images.shape[1:]), f"dataset '{dataset.name}'")
    reference = extract(extractor, images)
    tensors = {"features": reference.features}
    if reference.probs is not None:
        tensors["probs"] = reference.probs
    save_tensors(path, tensors, {"dataset": dataset.name, "split": split, "n": str(n), "network": extractor.digest})
    return reference
