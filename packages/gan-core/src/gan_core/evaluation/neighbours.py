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
#: squared distances come from matrix products whose rounding differs between
#: two computations of the same pair; a point exactly on a ball's boundary
#: (the k-th neighbour that set its radius) must still count as inside
SLACK = 1 + 1e-4


def _limits(radii: torch.Tensor) -> torch.Tensor:
    return radii * radii * SLACK


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """All ||a_i - b_j||^2 in one matrix product (no square roots: radii are compared squared)."""
    d = torch.addmm((b * b).sum(1)[None, :], a, b.T, beta=1, alpha=-2)
    return d.add_((a * a).sum(1)[:, None]).clamp_(min=0)


def nearest_squared_distances(x: torch.Tensor, k: int) -> torch.Tensor:
    """Squared distances of each row of ``x`` to its nearest rows, sorted; column 0 is the row itself."""
    return torch.cat(
        [squared_distances(x[s : s + BLOCK], x).topk(k + 1, dim=1, largest=False).values for s in range(0, len(x), BLOCK)]
    )


def kth_neighbour_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each row of ``x`` to its k-th nearest other row."""
    return nearest_squared_distances(x, k)[:, k].sqrt()


def _blocks(queries: torch.Tensor, centres: torch.Tensor, distances: torch.Tensor | None):
    """Squared query-to-centre distances, block by block (from ``distances`` when given)."""
    for s in range(0, len(queries), BLOCK):
        yield distances[s : s + BLOCK] if distances is not None else squared_distances(queries[s : s + BLOCK], centres)


def ball_counts(
    queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, distances: torch.Tensor | None = None
) -> torch.Tensor:
    """For each query, how many balls (centre, radius) contain it."""
    limits = _limits(radii)[None, :]
    return torch.cat([(d <= limits).sum(1) for d in _blocks(queries, centres, distances)])


def precision(real: torch.Tensor, real_radii: torch.Tensor, fake: torch.Tensor, distances: torch.Tensor | None = None) -> float:
    """Share of fake samples inside at least one real ball (``distances``: fake x real, squared)."""
    return (ball_counts(fake, real, real_radii, distances) > 0).double().mean().item()


def recall(real: torch.Tensor, fake: torch.Tensor, fake_radii: torch.Tensor, fake_to_real: torch.Tensor | None = None) -> float:
    """Share of real samples inside at least one fake ball (``fake_to_real``: fake x real, squared)."""
    if fake_to_real is not None:
        return (fake_to_real <= _limits(fake_radii)[:, None]).any(0).double().mean().item()
    return (ball_counts(real, fake, fake_radii) > 0).double().mean().item()


def density(
    real: torch.Tensor, real_radii: torch.Tensor, fake: torch.Tensor, k: int, distances: torch.Tensor | None = None
) -> float:
    """Mean number of real balls holding each fake sample, divided by k (``distances``: fake x real)."""
    return ball_counts(fake, real, real_radii, distances).double().sum().item() / (k * len(fake))


def coverage(real: torch.Tensor, real_radii: torch.Tensor, fake: torch.Tensor, fake_to_real: torch.Tensor | None = None) -> float:
    """Share of real balls holding at least one fake sample (``fake_to_real``: fake x real, squared)."""
    if fake_to_real is not None:
        nearest = fake_to_real.min(0).values
    else:
        nearest = torch.cat([d.min(1).values for d in _blocks(real, fake, None)])
    return (nearest <= _limits(real_radii)).double().mean().item()
