"""A metric's direction has one encoding; the bool of the plugin API, the files' strings and Tune's modes derive from it."""

from __future__ import annotations

import pytest

from gan_core import Metric
from gan_core.directions import DEFAULT, HIGHER, LOWER, better, direction_of, lookup, parse, sign, tune_mode


class Up(Metric):
    """Higher is better (a test double)."""

    name = "up"
    higher_is_better = True

    def compute(self, real, fake):
        return {"up": 1.0}


class Down(Metric):
    """Declares nothing: lower is better, as for every metric before directions were declared."""

    name = "down"

    def compute(self, real, fake):
        return {"down": 1.0}


def test_the_direction_of_a_class_an_instance_and_a_registry_entry():
    from gan_core.registry import ComponentEntry

    assert direction_of(Up) == direction_of(Up(None)) == HIGHER
    assert direction_of(Down) == direction_of(Down(None)) == LOWER
    assert direction_of(ComponentEntry("metric", "up", Up, "p", "gan-p", "1")) == HIGHER


def test_files_keep_their_strings_and_tune_gets_its_modes():
    assert (HIGHER, LOWER) == ("higher", "lower")  # what eval.json holds on disk
    assert tune_mode(HIGHER) == "max" and tune_mode(LOWER) == "min"
    assert parse("higher") == HIGHER and parse("max") is None and parse(None) is None
    assert lookup({"precision": "higher", "odd": "sideways"}, "precision") == HIGHER
    assert lookup({"odd": "sideways"}, "odd") == DEFAULT == LOWER  # unknown or unreadable: the historical default
    with pytest.raises(ValueError, match="'higher' or 'lower', not 'max'"):
        tune_mode("max")


def test_better_is_strict_and_sign_sorts_best_first():
    assert better(0.9, 0.8, HIGHER) and not better(0.8, 0.8, HIGHER)
    assert better(10.0, 12.0, LOWER) and not better(12.0, 12.0, LOWER)
    assert sorted([3.0, 1.0, 2.0], key=lambda v: sign(HIGHER) * v) == [3.0, 2.0, 1.0]
    assert sorted([3.0, 1.0, 2.0], key=lambda v: sign(LOWER) * v) == [1.0, 2.0, 3.0]


def test_the_fallbacks_for_old_files_agree_with_gan_cores_metric_classes():
    """runindex's defaults (for evaluation files without directions) say what the metrics themselves declare."""
    from gan_core.assembly import choose, construct
    from gan_core.experiments.runindex import DEFAULT_DIRECTIONS
    from gan_core.registry import get_registry

    registry = get_registry()
    declared = {}
    for entry in registry.all("metric"):
        if entry.package == "gan-core":
            metric = construct(choose(registry, "metric", entry.name, None))
            declared[metric.headline] = direction_of(metric)
    assert declared and {m: DEFAULT_DIRECTIONS[m] for m in declared} == declared


def test_the_sweep_asks_tune_for_the_metrics_own_mode():
    from gan_core.experiments.sweep_run import metric_direction

    assert metric_direction("fid") == "min" and metric_direction("precision") == "max"
