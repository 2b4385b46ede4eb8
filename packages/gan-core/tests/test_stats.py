"""The statistics module agrees with scipy.stats on small samples, and the corrections with their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from gan_core.experiments import stats

A = [12.1, 13.4, 12.9, 14.0, 13.1]
B = [18.5, 17.9, 19.2, 16.8, 18.0, 20.1]


def test_t_interval_matches_scipy():
    low, high = stats.t_interval(A)
    expected = scipy_stats.t.interval(0.95, len(A) - 1, loc=np.mean(A), scale=scipy_stats.sem(A))
    assert (low, high) == pytest.approx(expected)
    assert stats.t_interval([3.0]) is None


def test_welch_matches_scipy_ttest_ind_unequal_var():
    result = stats.welch(A, B)
    reference = scipy_stats.ttest_ind(A, B, equal_var=False)
    assert result.p == pytest.approx(reference.pvalue)
    assert result.estimate == pytest.approx(np.mean(A) - np.mean(B))
    ci = reference.confidence_interval(0.95)
    assert (result.low, result.high) == pytest.approx((ci.low, ci.high))
    assert result.test == "welch" and stats.welch([1.0], B) is None


def test_paired_matches_scipy_ttest_rel():
    b = [a + d for a, d in zip(A, [0.4, 0.1, 0.6, 0.3, 0.5])]
    result = stats.paired(A, b)
    reference = scipy_stats.ttest_rel(A, b)
    assert result.p == pytest.approx(reference.pvalue)
    ci = reference.confidence_interval(0.95)
    assert (result.low, result.high) == pytest.approx((ci.low, ci.high))
    # pairing removes the between-unit spread: the same numbers as independent groups are not significant
    assert stats.welch(A, b).p > 0.3 > 0.05 > result.p
    with pytest.raises(ValueError):
        stats.paired(A, B)


def test_holm_by_its_definition():
    p = [0.01, 0.04, 0.03, 0.005, math.nan]
    adjusted = stats.holm(p)
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> made monotone: 0.06
    assert adjusted[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert math.isnan(adjusted[4])
    assert stats.holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])


def test_benjamini_hochberg_matches_scipy():
    p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.5]
    assert stats.benjamini_hochberg(p) == pytest.approx(list(scipy_stats.false_discovery_control(p)))


def test_kendall_tau_matches_scipy_with_ties():
    x, y = [1, 2, 3, 4, 5, 5], [2, 1, 3, 5, 4, 4]
    assert stats.kendall_tau(x, y) == pytest.approx(scipy_stats.kendalltau(x, y).statistic)


def test_best_of_k_is_the_exact_distribution_of_the_best_of_a_random_subset():
    import itertools

    values = [30.0, 12.0, 25.0, 18.0, 40.0, 22.0]
    result = stats.best_of_k(values, 3)
    bests = [min(c) for c in itertools.combinations(values, 3)]
    assert result.expected == pytest.approx(np.mean(bests))
    assert result.low == 12.0 and result.high == pytest.approx(np.quantile(bests, 0.975, method="inverted_cdf"))
    assert stats.best_of_k(values, 1).expected == pytest.approx(np.mean(values))
    assert stats.best_of_k(values, 6).expected == 12.0 and stats.best_of_k(values, 7) is None
    higher = stats.best_of_k([0.1, 0.4, 0.3], 2, higher_is_better=True)
    assert higher.expected == pytest.approx(np.mean([0.4, 0.3, 0.4]))
