"""Sweep expansion (grid, random, seeds, includes) and validation before anything runs."""

from __future__ import annotations

import pytest

from gan_core import GanError
from gan_core.experiments.sweep_spec import (
    Range,
    SweepSpec,
    expand,
    parse_axis,
    spec_from_file,
    spec_from_flags,
    trial_settings,
    validate,
)


def test_a_grid_is_the_cross_product_times_the_seeds():
    spec = spec_from_flags({"prior": "gm-static"}, ["prior.k=5,10,15", "prior.sigma=0.15,0.7"], seeds=3, samples=0)
    trials = expand(spec)
    assert len(trials) == 3 * 2 * 3
    assert trials[0].assignments == {"prior.k": 5, "prior.sigma": 0.15, "seed": 0}
    assert {t.assignments["seed"] for t in trials} == {0, 1, 2}
    assert len({t.id for t in trials}) == len(trials)
    assert trials[0].id == "prior.k=5,prior.sigma=0.15,seed=0"


def test_values_are_typed_as_toml_reads_them():
    assert parse_axis("lr-g=1e-4,2e-4") == ("lr-g", [1e-4, 2e-4])
    assert parse_axis("loss=san,hinge-san") == ("loss", ["san", "hinge-san"])
    assert parse_axis("arch.dropout=0,0.3")[1] == [0, 0.3]
    assert parse_axis("lr-g=loguniform(1e-5, 1e-3)")[1] == Range("loguniform", 1e-5, 1e-3)


def test_random_search_draws_the_same_trials_every_time():
    axes = ["lr-g=loguniform(1e-5,1e-3)", "loss=vanilla,hinge", "prior.std=uniform(0.5,1.5)"]
    first = expand(spec_from_flags({}, axes, seeds=2, samples=4))
    again = expand(spec_from_flags({}, axes, seeds=2, samples=4))
    assert [t.assignments for t in first] == [t.assignments for t in again]
    assert len(first) == 8
    draws = [t.assignments for t in first if t.assignments["seed"] == 0]
    assert all(1e-5 <= d["lr-g"] <= 1e-3 and 0.5 <= d["prior.std"] <= 1.5 for d in draws)
    assert {d["loss"] for d in draws} <= {"vanilla", "hinge"}
    with pytest.raises(GanError, match="needs random search: add --samples N"):
        spec_from_flags({}, ["lr-g=uniform(1,2)"], seeds=1, samples=0)


def test_includes_add_a_baseline_without_the_base_component_options(tmp_path):
    file = tmp_path / "sweep.toml"
    file.write_text("""
[sweep]
seeds = 2
metric = "fid"
[base]
prior = "gm-static"
epochs = 1
[base.options.prior]
k = 10
[grid]
"prior.c" = [0.1, 1.0]
[[include]]
prior = "normal"
""")
    spec, settings = spec_from_file(file)
    trials = expand(spec)
    assert settings == {"metric": "fid"} and len(trials) == (2 + 1) * 2
    baseline = [t for t in trials if t.assignments.get("prior") == "normal"]
    assert len(baseline) == 2
    assert trial_settings(spec.base, baseline[0].assignments)["options"] == {}
    gm = trial_settings(spec.base, trials[0].assignments)
    assert gm["prior"] == "gm-static" and gm["options"]["prior"] == {"k": 10, "c": 0.1} and gm["seed"] == 0
    validate(spec, trials)


@pytest.mark.parametrize(
    "axes, fragment",
    [
        (["prior.kk=5,10"], "prior 'gm-static' has no option 'kk' (did you mean 'k'?)"),
        (["prior.k=5,0"], "option 'k' must be at least 1, not 0"),
        (["loss=vanilla,hinj"], "no loss named 'hinj'; did you mean 'hinge'?"),
        (["lr-gg=0.1,0.2"], "unknown setting 'lr_gg'"),
    ],
)
def test_a_bad_trial_is_refused_before_anything_runs(axes, fragment):
    spec = spec_from_flags({"prior": "gm-static"}, axes, seeds=1, samples=0)
    with pytest.raises(GanError, match="^trial ") as caught:
        validate(spec, expand(spec))
    assert fragment in caught.value.message


def test_repeated_values_are_refused():
    with pytest.raises(GanError, match="two trials with the same settings"):
        expand(SweepSpec(grid={"prior.k": [5, 5]}))


def test_bad_axis_text_is_one_sentence():
    with pytest.raises(GanError, match="KEY=V1,V2"):
        parse_axis("prior.k")


def test_random_draws_that_print_alike_stay_apart():
    trials = expand(spec_from_flags({}, ["lr-g=uniform(0.1,0.2)"], seeds=1, samples=50))
    assert len({t.id for t in trials}) == 50
    choices = expand(spec_from_flags({}, ["loss=vanilla,hinge", "prior=normal,uniform"], seeds=1, samples=10))
    assert len(choices) == len({tuple(sorted(t.assignments.items())) for t in choices}) <= 4  # a repeated draw runs once


def test_early_stopping_is_configured_from_the_trials_and_the_metric(tmp_path):
    pytest.importorskip("ray.tune")
    from ray import tune

    from gan_core.experiments.sweep_run import _tune_config, plan

    spec = spec_from_flags({"eval_every": 1}, ["epochs=2,6", "prior.std=0.5,1"], seeds=1, samples=0)
    sweep = plan(spec, tmp_path / "s", {"early_stop": "fid"})
    config = _tune_config(sweep, tune)
    assert config.mode == "min" and config.metric == "fid"
    assert config.scheduler._max_t == 7  # one past the longest trial: never before a final evaluation
    assert _tune_config(plan(spec, tmp_path / "s", {"early_stop": "precision"}), tune).mode == "max"
    with pytest.raises(GanError, match="--early-stop fdi is not a metric"):
        plan(spec, tmp_path / "s", {"early_stop": "fdi"})
    steps = spec_from_flags({"eval_every": 1, "steps": 100}, ["prior.std=0.5,1"], seeds=1, samples=0)
    with pytest.raises(GanError, match="give every trial --epochs, not --steps"):
        plan(steps, tmp_path / "s", {"early_stop": "fid"})


def test_a_list_of_includes_alone_is_the_list_of_configurations():
    spec = SweepSpec(base={"epochs": 1}, include=[{"loss": "hinge"}, {"loss": "wgan-gp"}], seeds=[0, 1])
    assert [t.id for t in expand(spec)] == ["loss=hinge,seed=0", "loss=hinge,seed=1", "loss=wgan-gp,seed=0", "loss=wgan-gp,seed=1"]


def test_eval_samplers_are_not_part_of_a_trials_name_or_of_the_sweeps_identity():
    """Adding post-hoc samplers to a trained sweep evaluates its runs; it must not rename (retrain) them."""
    plain = SweepSpec(base={"epochs": 1, "holdout": 0.1}, include=[{"loss": "hinge"}, {"prior": "normal"}], seeds=[0])
    evaluated = SweepSpec(base={"epochs": 1, "holdout": 0.1, "eval-samplers": ["latent-rs"]},
                          include=[{"loss": "hinge", "eval-samplers": ["drs", "latent-rs"]}, {"prior": "normal"}],
                          seeds=[0])
    assert [t.id for t in expand(plain)] == [t.id for t in expand(evaluated)]
    assert plain.as_dict() == evaluated.as_dict()
    assert [t.eval_samplers for t in expand(evaluated)] == [("latent-rs", "drs"), ("latent-rs",)]
    validate(evaluated, expand(evaluated))
    assert "eval_samplers" not in trial_settings(evaluated.base, expand(evaluated)[0].assignments)


@pytest.mark.parametrize(("include", "fragment"), [
    ({"eval-samplers": ["nope"]}, "nope"),
    ({"eval-samplers": "drs", "holdout": 0.0}, "add holdout = 0.1"),
    ({"eval-samplers": [3]}, "must be a list of sampler names"),
])
def test_bad_eval_samplers_are_refused_before_anything_runs(include, fragment):
    spec = SweepSpec(base={"epochs": 1}, include=[include])
    with pytest.raises(GanError, match=fragment):
        validate(spec, expand(spec))


def test_a_sweep_may_grow_by_include_rows_and_seeds_and_nothing_else():
    from gan_core.experiments.sweep_run import extends

    saved = SweepSpec(base={"epochs": 1}, include=[{"loss": "hinge"}], seeds=[0, 1]).as_dict()
    grown = SweepSpec(base={"epochs": 1}, include=[{"loss": "hinge"}, {"loss": "wgan-gp"}], seeds=[0, 1]).as_dict()
    assert extends(saved, saved) and extends(grown, saved)
    assert not extends(saved, grown)  # a row dropped: its trials would be orphans
    assert not extends(SweepSpec(base={"epochs": 2}, include=[{"loss": "hinge"}, {"loss": "wgan-gp"}],
                                 seeds=[0, 1]).as_dict(), saved)  # the base changed: same folders, other settings
    more_seeds = SweepSpec(base={"epochs": 1}, include=[{"loss": "hinge"}], seeds=[0, 1, 2]).as_dict()
    assert extends(more_seeds, saved)  # seeds added: new trials beside the old (3 seeds grown to 5)
    assert not extends(saved, more_seeds)  # a seed dropped: its trials would be orphans
    assert not extends(grown, {})
