"""The statistics behind every table: t-intervals, two-sample tests and corrections for multiplicity.

A GAN's figure moves by several units from one seed to the next, and the
tables put dozens of such figures side by side, so a difference of means is
only read with its uncertainty (Agarwal et al. 2021, "Deep RL at the edge of
the statistical precipice": intervals over point estimates). Everything here
works on plain lists of floats and imports scipy's special functions only
when an interval or a p-value is asked for, which keeps ``gan compare``'s
start-up light.

- :func:`t_interval`: the 95 % Student-t interval of a mean (n - 1 degrees of freedom).
- :func:`welch`: difference of two independent groups' means, Welch's
  unequal-variance t-test and its Welch-Satterthwaite interval.
- :func:`paired`: difference when the two groups are the same units measured
  twice (a sampler on the same generator, a run evaluated twice), the paired
  t-test (Bouthillier et al. 2021 recommend paired designs wherever they exist).
- :func:`holm` and :func:`benjamini_hochberg`: adjusted p-values for a family
  of tests; Holm (1979) controls the family-wise error, BH (1995) the false
  discovery rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LEVEL = 0.95


def _t_quantile(df: float, level: float = LEVEL) -> float:
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.5 + level / 2))


def _two_sided_p(t: float, df: float) -> float:
    from scipy.special import stdtr

    if math.isnan(t):
        return math.nan
    return float(2 * stdtr(df, -abs(t)))


def mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def sample_std(values: list[float]) -> float | None:
    """The ddof=1 standard deviation, None for a single value; by hand, since statistics.stdev raises on NaN and inf."""
    if len(values) < 2:
        return None
    centre = mean(values)
    return math.sqrt(math.fsum((v - centre) ** 2 for v in values) / (len(values) - 1))


def t_interval(values: list[float], level: float = LEVEL) -> tuple[float, float] | None:
    """The ``level`` confidence interval of the mean of ``values`` (Student t, n - 1 df); None below 2 values."""
    std = sample_std(values)
    if std is None:
        return None
    centre = mean(values)
    half = _t_quantile(len(values) - 1, level) * std / math.sqrt(len(values))
    return centre - half, centre + half


@dataclass(frozen=True)
class Difference:
    """``estimate`` = mean(a) - mean(b) with its interval and two-sided p-value, and which test gave them."""

    estimate: float
    low: float
    high: float
    p: float
    test: str  # "welch" or "paired"
    n_a: int
    n_b: int

    @property
    def interval(self) -> tuple[float, float]:
        return self.low, self.high


def welch(a: list[float], b: list[float], level: float = LEVEL) -> Difference | None:
    """Welch's t-test of mean(a) - mean(b) for independent groups; None when either has fewer than 2 values.

    Welch rather than Student's pooled test because rows' spreads differ
    widely (a diverging loss's seeds spread ten times more than a stable one's).
    """
    if len(a) < 2 or len(b) < 2:
        return None
    estimate = mean(a) - mean(b)
    va, vb = sample_std(a) ** 2 / len(a), sample_std(b) ** 2 / len(b)  # type: ignore[operator]
    se = math.sqrt(va + vb)
    if se == 0:
        p = 1.0 if estimate == 0 else 0.0
        return Difference(estimate, estimate, estimate, p, "welch", len(a), len(b))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = _t_quantile(df, level) * se
    return Difference(estimate, estimate - half, estimate + half, _two_sided_p(estimate / se, df), "welch",
                      len(a), len(b))


def paired(a: list[float], b: list[float], level: float = LEVEL) -> Difference | None:
    """The paired t-test of a - b, unit by unit (``a[i]`` and ``b[i]`` measure the same unit); None below 2 pairs."""
    if len(a) != len(b):
        raise ValueError(f"paired samples must have equal length, got {len(a)} and {len(b)}")
    differences = [x - y for x, y in zip(a, b)]
    if len(differences) < 2:
        return None
    estimate = mean(differences)
    std = sample_std(differences)
    assert std is not None
    if std == 0:
        p = 1.0 if estimate == 0 else 0.0
        return Difference(estimate, estimate, estimate, p, "paired", len(a), len(b))
    se = std / math.sqrt(len(differences))
    df = len(differences) - 1
    half = _t_quantile(df, level) * se
    return Difference(estimate, estimate - half, estimate + half, _two_sided_p(estimate / se, df), "paired",
                      len(a), len(b))


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input's order (NaN stays NaN and is not counted).

    The k-th smallest of m p-values is multiplied by m - k + 1, and the
    adjusted values are made non-decreasing in that order, capped at 1.
    """
    order = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    m = len(order)
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg q-values, in the input's order (NaN stays NaN and is not counted).

    The k-th smallest of m p-values becomes p * m / k, made non-increasing
    from the largest down, capped at 1.
    """
    order = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    m = len(order)
    adjusted = [math.nan] * len(pvalues)
    running = 1.0
    for rank in range(m - 1, -1, -1):
        p, i = order[rank]
        running = min(running, p * m / (rank + 1))
        adjusted[i] = running
    return adjusted


def kendall_tau(x: list[float], y: list[float]) -> float:
    """Kendall's tau-b between two rankings of the same items (ties counted as neither concordant nor discordant)."""
    if len(x) != len(y):
        raise ValueError(f"rankings must have equal length, got {len(x)} and {len(y)}")
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denominator if denominator else math.nan


@dataclass(frozen=True)
class BestOfK:
    """The distribution of the best value among k trials drawn without replacement from a method's trials."""

    k: int
    expected: float
    low: float  # its 2.5th percentile
    high: float  # its 97.5th percentile


def best_of_k(values: list[float], k: int, higher_is_better: bool = False) -> BestOfK | None:
    """Lucic et al. (2018)'s equal-budget view of a random search: what the best of ``k`` trials would score.

    Exact rather than bootstrapped: with the n values sorted best first, the
    best of a random k-subset is the i-th with probability C(n-i, k-1) / C(n, k)
    (i = 1..n). None when fewer than ``k`` values are given.
    """
    n = len(values)
    if k < 1 or n < k:
        return None
    ordered = sorted(values, reverse=higher_is_better)
    total = math.comb(n, k)
    weights = [math.comb(n - i, k - 1) / total for i in range(1, n + 1)]
    expected = math.fsum(w * v for w, v in zip(weights, ordered))

    def quantile(q: float) -> float:
        running = 0.0
        for weight, value in zip(weights, ordered):
            running += weight
            if running >= q - 1e-12:
                return value
        return ordered[-1]

    # the best value comes first: the "low" tail of the best-of-k is the lucky end
    return BestOfK(k, expected, quantile(1 - 0.5 - LEVEL / 2), quantile(0.5 + LEVEL / 2))
