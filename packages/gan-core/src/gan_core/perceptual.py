"""The perceptual regulariser: G also matches real images in a fixed network's feature maps.

``gan train --perceptual BETA`` adds BETA * L_perceptual to the generator's
loss, whatever the loss plugin:

    L_perceptual = sum_l mean_elements( (mean_batch phi_l(real) - mean_batch phi_l(fake))^2 )

over the three feature maps phi_l of :class:`PerceptualNet`. The mean over
a layer's elements is the per-layer weight lambda_l = 1 / size(phi_l), so
each layer counts the same. The real and generated batches are not pairs, so
the distance is taken between their batch means (feature matching, Salimans
et al. 2016): the per-pair form E ||phi(x) - phi(G(z))||^2 would pull every
generated image towards the *average* real image, a pressure towards mode
collapse.

The network is NOT the evaluation classifier: a regulariser in the metrics'
own feature space would improve the figures without improving the images.
It is a small LeNet-style CNN without batch statistics, trained once on
MNIST and Fashion-MNIST together by ``scripts/train_perceptual_net.py`` and
shipped with gan-core (sha256 in its JSON), so it works for both datasets
and needs no download.
"""

from __future__ import annotations

import hashlib
import json

import torch
from torch import nn

from .errors import GanError

WEIGHTS = "perceptual.safetensors"
META = "perceptual.json"
IMAGE_SHAPE = (1, 28, 28)


class PerceptualNet(nn.Module):
    """conv16(5)-pool-conv32(5)-pool-conv64(3)-fc20 on 1x28x28 images in [-1, 1]."""

    def __init__(self, num_classes: int = 20) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU()),
            nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 32, 5, padding=2), nn.ReLU()),
            nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU()),
        ])
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, num_classes))

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        maps = []
        for block in self.blocks:
            x = block(x)
            maps.append(x)
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.feature_maps(x)[-1])


def load_perceptual_net(device: torch.device) -> PerceptualNet:
    """The shipped network, checked against its recorded sha256, frozen and in eval mode."""
    from safetensors.torch import load_file

    from .evaluation.featurenet import weights_dir

    meta_path = weights_dir() / META
    if not meta_path.is_file():
        raise GanError("gan-core's perceptual network is missing; reinstall gan-core or drop --perceptual")
    meta = json.loads(meta_path.read_text())
    path = weights_dir() / meta["file"]
    if hashlib.sha256(path.read_bytes()).hexdigest() != meta["sha256"]:
        raise GanError(f"{path} does not match its recorded sha256; reinstall gan-core")
    net = PerceptualNet()
    net.load_state_dict(load_file(str(path)))
    return net.to(device).eval().requires_grad_(False)


class PerceptualLoss(nn.Module):
    """beta * L_perceptual(real, fake); gradients reach only the generated batch."""

    def __init__(self, net: PerceptualNet, beta: float) -> None:
        super().__init__()
        self.net, self.beta = net, beta

    def forward(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            targets = [m.mean(0) for m in self.net.feature_maps(real)]
        total = fake.new_zeros(())
        for target, produced in zip(targets, self.net.feature_maps(fake), strict=True):
            total = total + (produced.mean(0) - target).square().mean()
        return self.beta * total


def perceptual_regulariser(beta: float, image_shape: tuple[int, ...], device: torch.device) -> PerceptualLoss:
    """The regulariser ``gan train --perceptual BETA`` adds to G's loss, after checking the data fits it."""
    if tuple(image_shape) != IMAGE_SHAPE:
        shape = "x".join(map(str, image_shape))
        raise GanError(
            f"--perceptual needs 1x28x28 images (its network was trained on MNIST and Fashion-MNIST), not {shape}; "
            "drop --perceptual for this dataset"
        )
    return PerceptualLoss(load_perceptual_net(device), beta)
