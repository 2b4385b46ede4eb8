"""What only the trained model can show: images per prior component, and where the components sit.

This is the one part of a report that loads weights (on the CPU, through the
public ``load_run``), so a run whose plugins are missing still gets its
curves and samples; the caller reports the GanError instead of these views.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..api import load_run, save_grid
from ..components import TrainedModel

#: images drawn per component (one grid row each)
PER_COMPONENT = 8
#: rows beyond this make a grid taller than a page; the first ones are drawn
MAX_COMPONENTS = 30


def open_model(path: Path) -> TrainedModel:
    """The run's TrainedModel on the CPU (a GanError when it cannot be rebuilt)."""
    return load_run(path, "cpu").model


def component_grid(model: TrainedModel, path: Path, per_component: int = PER_COMPONENT) -> int | None:
    """``per_component`` images of each component, one row per component (row k is component k).

    Returns how many components were drawn, or None when the prior has no
    components. The draw is seeded (0) without disturbing the caller's RNG,
    so a report made twice shows the same images.
    """
    k = model.prior.num_components
    if not k:
        return None
    count = min(int(k), MAX_COMPONENTS)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        images = [model.generate(per_component, component=c).images for c in range(count)]
    pixels = ((torch.cat(images).float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    save_grid(pixels, path, columns=per_component)
    return count


def means_2d(model: TrainedModel) -> tuple[list[tuple[float, float]], tuple[float, float]] | None:
    """The prior's ``means`` (K, d) on their first two principal axes, with the share of variance each explains.

    None when the prior has no ``means`` matrix (a plain Gaussian prior).
    """
    means = getattr(model.prior, "means", None)
    if not isinstance(means, torch.Tensor) or means.dim() != 2 or means.shape[0] < 1:
        return None
    x = means.detach().float().cpu()
    x = x - x.mean(dim=0, keepdim=True)
    _, s, vh = torch.linalg.svd(x, full_matrices=False)
    coords = x @ vh[:2].T
    if coords.shape[1] < 2:  # one mean, or 1-D latents: a flat second axis
        coords = torch.cat([coords, torch.zeros(coords.shape[0], 2 - coords.shape[1])], dim=1)
    variance = s.pow(2)
    total = float(variance.sum())
    shares = [float(v) / total if total > 0 else 0.0 for v in variance[:2].tolist()] + [0.0, 0.0]
    return [(float(a), float(b)) for a, b in coords.tolist()], (shares[0], shares[1])
