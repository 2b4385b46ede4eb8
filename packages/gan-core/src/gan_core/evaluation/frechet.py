"""Gaussian statistics that stream, and the Fréchet distance between two of them.

Sums of features and of their outer products accumulate in float64, so
10,000 or 60,000 feature vectors never need to be held at once and the
covariance is not eroded by float32 cancellation.
"""

from __future__ import annotations

import torch


class GaussianStats:
    """Running mean and covariance of feature vectors, in float64."""

    def __init__(self, dim: int) -> None:
        self.n = 0
        self.total = torch.zeros(dim, dtype=torch.float64)
        self.outer = torch.zeros(dim, dim, dtype=torch.float64)

    def update(self, features: torch.Tensor) -> None:
        x = features.detach().to("cpu", torch.float64)
        self.n += x.shape[0]
        self.total += x.sum(0)
        self.outer += x.T @ x

    @property
    def mean(self) -> torch.Tensor:
        return self.total / self.n

    @property
    def cov(self) -> torch.Tensor:
        """Unbiased covariance: (sum x x^T - n mu mu^T) / (n - 1)."""
        mu = self.mean
        return (self.outer - self.n * torch.outer(mu, mu)) / (self.n - 1)

    @classmethod
    def of(cls, features: torch.Tensor) -> GaussianStats:
        stats = cls(features.shape[1])
        stats.update(features)
        return stats


def frechet_distance(mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor, cov2: torch.Tensor) -> float:
    """||mu1 - mu2||^2 + tr(C1) + tr(C2) - 2 tr((C1 C2)^{1/2}), in float64.

    tr((C1 C2)^{1/2}) is the sum of the square roots of the eigenvalues of
    C1 C2, which are real and non-negative for covariance matrices; tiny
    negative or complex parts from round-off are dropped.
    """
    mu1, mu2, cov1, cov2 = (t.to(torch.float64) for t in (mu1, mu2, cov1, cov2))
    eigenvalues = torch.linalg.eigvals(cov1 @ cov2)
    trace_sqrt = eigenvalues.real.clamp(min=0).sqrt().sum()
    value = (mu1 - mu2).square().sum() + cov1.trace() + cov2.trace() - 2 * trace_sqrt
    return float(value.clamp(min=0))
