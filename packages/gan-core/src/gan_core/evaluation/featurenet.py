"""The small classifiers whose penultimate layer is the feature space of every metric.

Each is trained by ``scripts/train_feature_net.py`` on one dataset's training
set and shipped inside gan-core as safetensors, with its sha256, test
accuracy, dataset and architecture in a JSON file beside it, so evaluation
needs no download and its numbers are reproducible. Two architectures exist:
``FeatureNet`` (the ``mnist`` and ``fashion-mnist`` networks) and
``ResNetFeatureNet`` (``mnist-resnet``, a second, independently trained MNIST
feature space). None is ever used as a training signal: a regulariser that
used one would game the metrics.
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

    about = "conv32-conv32-pool-conv64-conv64-pool-fc128, batch norm, ReLU"
    feature_dim = FEATURE_DIM

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


class ResidualBlock(nn.Module):
    """SiLU(x + GN(conv3(SiLU(GN(conv3(x)))))) at a fixed width and resolution."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.GroupNorm(8, width), nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.GroupNorm(8, width),
        )
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.branch(x))


class ResNetFeatureNet(nn.Module):
    """A small residual network, inputs in [-1, 1]: 256 features by global average pooling, then fc10.

    conv32 at 28x28, strided conv48 and a residual block at 14x14, strided
    conv96 and a residual block at 7x7, a 1x1 conv to 256 channels, average
    pooling. GroupNorm and SiLU throughout, no batch norm and no dropout:
    unlike ``FeatureNet`` its features do not depend on batch statistics and
    the spatial layout is pooled away rather than flattened.
    """

    about = "residual CNN conv32-res48/2-res96/2-conv256(1x1)-avgpool, GroupNorm, SiLU"
    feature_dim = 256

    def __init__(self, channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()

        def conv(cin: int, cout: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.GroupNorm(8, cout), nn.SiLU()]

        self.body = nn.Sequential(
            *conv(channels, 32, 1),
            *conv(32, 48, 2), ResidualBlock(48),
            *conv(48, 96, 2), ResidualBlock(96),
            nn.Conv2d(96, self.feature_dim, 1, bias=False), nn.GroupNorm(16, self.feature_dim), nn.SiLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.classifier = nn.Linear(self.feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    def fused_features(self) -> nn.Module:
        """``features`` for inference on channels-last tensors (GroupNorm has nothing to fold)."""
        return self.body.eval().to(memory_format=torch.channels_last)


#: the ``arch`` field of a network's JSON to the class that builds it; a JSON without one means FeatureNet
ARCHITECTURES: dict[str, type[nn.Module]] = {"featurenet": FeatureNet, "resnet": ResNetFeatureNet}
DEFAULT_ARCH = "featurenet"


@dataclass(frozen=True)
class FeatureNetInfo:
    name: str  # the network's name: its dataset's for the first network of a dataset (mnist), else e.g. mnist-resnet
    sha256: str
    test_accuracy: float
    path: Path
    dataset: str  # the dataset it was trained on
    arch: str  # a key of ARCHITECTURES


def weights_dir() -> Path:
    return Path(str(resources.files("gan_core") / "weights"))


def shipped(name: str) -> FeatureNetInfo:
    """The shipped network ``name`` (mnist, fashion-mnist, mnist-resnet), checked against its recorded sha256."""
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
    arch = meta.get("arch", DEFAULT_ARCH)
    if arch not in ARCHITECTURES:
        raise GanError(f"{meta_path} names architecture '{arch}', which this gan-core lacks; upgrade gan-core")
    return FeatureNetInfo(name, digest, meta["test_accuracy"], path, meta.get("dataset", name), arch)


def load_feature_net(name: str, device: torch.device) -> tuple[nn.Module, FeatureNetInfo]:
    """The shipped network ``name``, built by the class its JSON names, frozen and in eval mode."""
    from safetensors.torch import load_file

    info = shipped(name)
    net = ARCHITECTURES[info.arch]()
    net.load_state_dict(load_file(str(info.path)))
    return net.to(device).eval().requires_grad_(False), info


def shipped_names() -> list[str]:
    """The feature networks gan-core ships (``NAME-features.json`` in its weights folder)."""
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

    # the first networks' description predates the others' and stays as it was: it is recorded in eval.json
    kind = "" if info.arch == DEFAULT_ARCH else f" ({net.about}; trained on {info.dataset})"
    description = f"{name} classifier{kind}, test accuracy {info.test_accuracy:.4f}"
    return FeatureExtractor(name, info.sha256, (1, 28, 28), run, device, description)
