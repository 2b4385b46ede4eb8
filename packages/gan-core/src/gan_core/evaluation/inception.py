"""Inception-v3 features, for FIDs comparable with the literature, when the weights are on disk.

Uses torch-fidelity's port of the TF-FID Inception network (the one
torchmetrics' FID uses). Nothing is downloaded: the weights file must already
be in torch's hub cache or be named by ``GAN_INCEPTION_WEIGHTS``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import GanError
from .extractor import FeatureExtractor

WEIGHTS_NAME = "weights-inception-2015-12-05-6726825d.pth"


def inception_weights() -> Path:
    explicit = os.environ.get("GAN_INCEPTION_WEIGHTS")
    path = Path(explicit) if explicit else Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_NAME
    if not path.is_file():
        raise GanError(
            f"the Inception-v3 weights are not on disk (looked for {path}); put {WEIGHTS_NAME} there "
            "or set GAN_INCEPTION_WEIGHTS, or use the default --features"
        )
    return path


def inception_extractor(device: torch.device) -> FeatureExtractor:
    path = inception_weights()
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError as exc:
        raise GanError("--features inception needs torch-fidelity: pip install torch-fidelity") from exc
    import hashlib

    net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path))
    net = net.to(device).eval()

    @torch.no_grad()
    def run(images: torch.Tensor) -> tuple[torch.Tensor, None]:
        x = images.to(device)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        (features,) = net(x.contiguous())
        return features, None

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return FeatureExtractor("inception", digest, None, run, device, "Inception-v3 (TF-FID port), 2048 features",
                            has_classes=False)
