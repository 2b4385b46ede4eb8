"""The small CNN whose penultimate layer is the feature space of every metric.

It is trained by ``scripts/train_feature_net.py`` on the dataset's training
set and shipped inside gan-core as safetensors, with its sha256 and test
accuracy in a JSON file beside it, so evaluation needs no download and its
numbers are reproducible. It is never used as a training signal: a
regulariser that used it would game the metrics.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
from torch import nn

from ..errors import GanError
from .extractor import FeatureExtractor

FEATURE_DIM = 128


class FeatureNet(nn.Module):
    """conv32-conv32-pool-conv64-conv64-pool-fc128-fc10, inputs in [-1, 1]."""

    def __init__(self, channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.body = nn.Sequential(
            *block(channels, 32), *block(32, 32), nn.MaxPool2d(2),
            *block(32, 64), *block(64, 64), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, FEATURE_DIM), nn.BatchNorm1d(FEATURE_DIM), nn.ReLU(),
        )
        self.dropout = nn.Dropout(0.3)
        self.classifier = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.features(x)))

    def fused_features(self) -> nn.Sequential:
        """An inference-only copy of ``features`` with each batch norm folded into the layer before it.

        With channels-last tensors this extracts features about 1.7x faster on
        a CPU; outputs agree with ``features`` to float32 round-off.
        """
        from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

        layers: list[nn.Module] = []
        for module in self.body:
            if isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
                previous = layers.pop()
                fuse = fuse_conv_bn_eval if isinstance(previous, nn.Conv2d) else fuse_linear_bn_eval
                layers.append(fuse(previous, module))
            else:
                layers.append(module)
        return nn.Sequential(*layers).eval().to(memory_format=torch.channels_last)


@dataclass(frozen=True)
class FeatureNetInfo:
    name: str  # the dataset it was trained on
    sha256: str
    test_accuracy: float
    path: Path


def weights_dir() -> Path:
    return Path(str(resources.files("gan_core") / "weights"))


def shipped(name: str) -> FeatureNetInfo:
    """The shipped network for dataset ``name``, checked against its recorded sha256."""
    folder = weights_dir()
    meta_path = folder / f"{name}-features.json"
    if not meta_path.is_file():
        raise GanError(
            f"gan-core ships no feature network for '{name}'; use --features with one of: {', '.join(shipped_names())}"
        )
    meta = json.loads(meta_path.read_text())
    path = folder / meta["file"]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != meta["sha256"]:
        raise GanError(f"{path} does not match its recorded sha256; reinstall gan-core")
    return FeatureNetInfo(name, digest, meta["test_accuracy"], path)


def load_feature_net(name: str, device: torch.device) -> tuple[FeatureNet, FeatureNetInfo]:
    from safetensors.torch import load_file

    info = shipped(name)
    net = FeatureNet()
    net.load_state_dict(load_file(str(info.path)))
    return net.to(device).eval().requires_grad_(False), info


def shipped_names() -> list[str]:
    """Datasets gan-core ships a feature network for."""
    return sorted(p.name.removesuffix("-features.json") for p in weights_dir().glob("*-features.json"))


def shipped_extractor(name: str, device: torch.device) -> FeatureExtractor:
    """One of the small classifiers shipped inside gan-core, as a feature extractor."""
    net, info = load_feature_net(name, device)
    body = net.fused_features()

    @torch.inference_mode()
    def run(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images.to(device).float().div_(127.5).sub_(1.0).contiguous(memory_format=torch.channels_last)
        features = body(x)
        return features, net.classifier(features).softmax(1)

    description = f"{name} classifier, test accuracy {info.test_accuracy:.4f}"
    return FeatureExtractor(name, info.sha256, (1, 28, 28), run, device, description)
