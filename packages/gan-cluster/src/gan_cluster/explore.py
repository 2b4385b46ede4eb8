"""Walking the latent space towards a class: gradient ascent on z under a classifier.

Starting from prior codes, z follows the gradient of log p(target | G(z))
under the evaluation classifier (Adam on z; G and the classifier frozen).
The frames along the way show how the generator morphs one digit into
another, and whether the path stays on the data manifold. The classifier
is the metrics' network on purpose: this is an inspection tool, never a
training signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class LatentPath:
    frames: torch.Tensor  # (rows, frames, C, H, W) images in [-1, 1]
    start_prob: torch.Tensor  # (rows,) p(target) of the first frame
    end_prob: torch.Tensor  # (rows,) p(target) of the last frame
    end_class: torch.Tensor  # (rows,) the classifier's pick for the last frame


def frame_steps(steps: int, frames: int) -> list[int]:
    """``frames`` steps spread evenly over 0..steps, first and last included."""
    return sorted({round(i * steps / max(frames - 1, 1)) for i in range(frames)})


def ascend_to_class(generator: nn.Module, classifier: nn.Module, z0: torch.Tensor, target: int, steps: int,
                    lr: float, frames: int) -> LatentPath:
    z = z0.detach().clone().requires_grad_(True)
    optimiser = torch.optim.Adam([z], lr=lr)
    keep = frame_steps(steps, frames)
    shots, probs = [], []
    for step in range(steps + 1):
        with torch.enable_grad():
            images = generator(z)
            log_p = F.log_softmax(classifier(images), dim=1)
            if step in keep:
                shots.append(images.detach())
                probs.append(log_p.detach().exp())
            if step == steps:
                break
            loss = -log_p[:, target].sum()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
        optimiser.step()
    return LatentPath(torch.stack(shots, dim=1), probs[0][:, target], probs[-1][:, target], probs[-1].argmax(1))
