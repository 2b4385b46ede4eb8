"""k-nearest-neighbour metrics on feature sets: precision, recall, density, coverage.

Precision and recall follow Kynkäänniemi et al. 2019 (k=3): a sample is in
the other set's manifold when it falls inside the ball around some point of
that set whose radius is the point's distance to its k-th nearest neighbour.
Density and coverage follow Naeem et al. 2020 (k=5), with balls around real
points only. Distances are computed in blocks, so memory stays bounded.
"""

from __future__ import annotations

import torch

BLOCK = 2048


def kth_neighbour_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each row of ``x`` to its k-th nearest other row."""
    radii = []
    for start in range(0, len(x), BLOCK):
        d = torch.cdist(x[start : start + BLOCK], x)
        # k + 1 smallest: the first is the point itself (distance 0)
        radii.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(radii)


def ball_counts(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """For each query, how many balls (centre, radius) contain it."""
    counts = []
    for start in range(0, len(queries), BLOCK):
        d = torch.cdist(queries[start : start + BLOCK], centres)
        counts.append((d <= radii[None, :]).sum(1))
    return torch.cat(counts)


def precision(real: torch.Tensor, real_radii: torch.Tensor, fake: torch.Tensor) -> float:
    """Share of fake samples inside at least one real ball."""
    return (ball_counts(fake, real, real_radii) > 0).double().mean().item()


def recall(real: torch.Tensor, fake: torch.Tensor, fake_radii: torch.Tensor) -> float:
    """Share of real samples inside at least one fake ball."""
    return (ball_counts(real, fake, fake_radii) > 0).double().mean().item()


def density(real: torch.Tensor, real_radii: torch.Tensor, fake: torch.Tensor, k: int) -> float:
    """Mean number of real balls holding each fake sample, divided by k."""
    return ball_counts(fake, real, real_radii).double().sum().item() / (k * len(fake))


def coverage(real: torch.Tensor, real_radii: torch.Tensor, fake: torch.Tensor) -> float:
    """Share of real balls holding at least one fake sample (its nearest fake is within the radius)."""
    nearest = torch.cat([torch.cdist(real[s : s + BLOCK], fake).min(1).values for s in range(0, len(real), BLOCK)])
    return (nearest <= real_radii).double().mean().item()
