"""What a sweep folder remembers between runs (sweep.json), and how the embedded Ray is kept private.

None of these start Ray: the one test that does is tests/test_sweep_security.py.
"""

from __future__ import annotations

import io
import json
import stat
import types

import pytest

from gan_core import GanError
from gan_core.experiments.sweep_run import SWEEP_FILE, plan, save_plan
from gan_core.experiments.sweep_spec import SweepSpec, expand, spec_from_flags
from gan_core.testing import run_cli


def record(out) -> dict:
    return json.loads((out / SWEEP_FILE).read_text())


# --------------------------------------------------------------------------- trial ids of a grown sweep


def test_a_row_that_prints_like_an_existing_trial_leaves_its_id_alone(tmp_path):
    """0.5 and 0.50001 print alike; the trial already run keeps its folder, the new one gets a digest."""
    out = tmp_path / "sweep"
    first = SweepSpec(base={"epochs": 1}, include=[{"prior.std": 0.5}])
    save_plan(plan(first, out, {}))
    assert list(record(out)["trials"]) == ["prior.std=0.5,seed=0"]

    grown = SweepSpec(base={"epochs": 1}, include=[{"prior.std": 0.5}, {"prior.std": 0.50001}])
    ids = [t.id for t in plan(grown, out, {}).trials]
    assert ids[0] == "prior.std=0.5,seed=0"
    assert ids[1].startswith("prior.std=0.5,seed=0-") and len(set(ids)) == 2
    assert [t.id for t in expand(grown)] != ids  # a fresh folder names both by digest: ids follow the folder's history


def test_kept_ids_are_the_recorded_ones_whichever_way_they_were_written():
    from gan_core.experiments.sweep_spec import keep_ids

    spec = SweepSpec(base={"epochs": 1}, include=[{"prior.std": 0.5}, {"prior.std": 0.50001}])
    fresh = expand(spec)
    saved = {t.id: t.assignments for t in fresh}  # both run with their digests: they keep them
    assert [t.id for t in keep_ids(fresh, saved)] == [t.id for t in fresh]
    assert [t.id for t in keep_ids(fresh, {})] == [t.id for t in fresh]


# --------------------------------------------------------------------------- --final-n between runs


def test_a_changed_final_n_is_refused_in_one_sentence(tmp_path, monkeypatch):
    import gan_core.experiments.sweep_run as sweep_run

    out = tmp_path / "sweep"
    spec = spec_from_flags({"epochs": 1}, ["prior.std=0.5,1"], seeds=1, samples=0)
    save_plan(plan(spec, out, {"final_n": 100}))

    monkeypatch.setattr(sweep_run, "run_sweep", lambda *a: pytest.fail("a changed --final-n must stop before Ray"))
    result = run_cli(["sweep", "-s", "prior.std=0.5,1", "--epochs", "1", "--final-n", "200", "--out", str(out)])
    message = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "was run with --final-n 100, not 200" in message and "pass --final-n 100" in message
    assert plan(spec, out, {"final_n": 100}).final_n == 100  # the same value continues the sweep
    with pytest.raises(GanError, match="--final-n 100, not 10000"):  # the default counts as a change too
        plan(spec, out, {})


def test_a_record_written_before_final_n_was_kept_is_still_accepted(tmp_path):
    out = tmp_path / "sweep"
    spec = spec_from_flags({"epochs": 1}, ["prior.std=0.5,1"], seeds=1, samples=0)
    save_plan(plan(spec, out, {"final_n": 100}))
    old = record(out)
    del old["final_n"]
    (out / SWEEP_FILE).write_text(json.dumps(old))
    assert plan(spec, out, {"final_n": 200}).final_n == 200


# --------------------------------------------------------------------------- stopped early, recorded as it happens


def test_a_trial_stopped_early_is_recorded_before_the_sweep_ends(tmp_path):
    """ASHA stops a trial, then the driver dies: the record must already say the trial was stopped."""
    pytest.importorskip("ray.tune")
    from ray import tune
    from rich.console import Console

    from gan_core.experiments.sweep_live import LiveTable
    from gan_core.experiments.sweep_run import _run_locked

    spec = spec_from_flags({"eval_every": 1, "epochs": 2}, ["prior.std=0.5,1"], seeds=1, samples=0)
    sweep = plan(spec, tmp_path / "sweep", {"early_stop": "fid"})
    stopped = sweep.trials[0].id

    class CrashingTuner:
        """Tune as far as one trial stopped early, then a crash of the driver."""

        def __init__(self, trainable, param_space, tune_config, run_config):
            self.callbacks = run_config.callbacks

        def fit(self):
            trial = types.SimpleNamespace(config={"trial": {"id": stopped}})
            for callback in self.callbacks:
                callback.on_trial_start(iteration=0, trials=[], trial=trial)
            for callback in self.callbacks:
                callback.on_trial_complete(iteration=1, trials=[], trial=trial)  # no final report: ASHA stopped it
            raise RuntimeError("driver killed")

    fake_tune = types.SimpleNamespace(**{name: getattr(tune, name) for name in
                                         ("with_resources", "grid_search", "RunConfig", "TuneConfig", "Callback")},
                                      Tuner=CrashingTuner)
    ray = types.SimpleNamespace(is_initialized=lambda: True)  # a Ray already running: nothing to start
    with pytest.raises(RuntimeError, match="driver killed"):
        _run_locked(sweep, Console(file=io.StringIO()), ray, fake_tune, LiveTable)
    assert record(sweep.out)["stopped_early"] == [stopped]
    assert plan(spec, tmp_path / "sweep", {"early_stop": "fid"}).state_of(sweep.trials[0]) == "stopped"


# --------------------------------------------------------------------------- the embedded Ray's privacy


def test_the_token_of_an_embedded_ray_is_private_and_the_users_own_settings_win(tmp_path, monkeypatch):
    from gan_core.experiments.sweep_run import private_folder, token_settings

    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    with private_folder() as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        settings = token_settings(folder)
        token = folder / "auth_token"
        assert settings == {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
        assert stat.S_IMODE(token.stat().st_mode) == 0o600 and len(token.read_text()) == 64
    assert not folder.exists()

    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "mine"))
    assert token_settings(tmp_path) == {"RAY_AUTH_MODE": "token"}
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    assert token_settings(tmp_path) == {}
    assert not (tmp_path / "auth_token").exists()


def test_only_a_loopback_node_address_is_accepted_for_an_embedded_ray():
    from gan_core.experiments.sweep_run import check_loopback

    for address in ("127.0.0.1", "::1", "localhost"):
        check_loopback(address)
    for address in ("192.0.2.7", "0.0.0.0", "::", "node-1"):
        with pytest.raises(GanError, match="rather than loopback"):
            check_loopback(address)


def test_the_cluster_is_the_address_given_else_ray_address_else_embedded(monkeypatch):
    from gan_core.experiments.sweep_run import cluster_address

    sweep = types.SimpleNamespace(address=None)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert cluster_address(sweep) is None
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.2:6379")
    assert cluster_address(sweep) == "10.0.0.2:6379"
    assert cluster_address(types.SimpleNamespace(address="ray://head:10001")) == "ray://head:10001"
    monkeypatch.setenv("RAY_ADDRESS", "local")
    assert cluster_address(sweep) is None


# --------------------------------------------------------------------------- packing trials into stacked groups


def test_trials_that_differ_in_seed_lr_and_member_options_share_one_stacked_group(tmp_path):
    from gan_core.experiments.sweep_run import pack, unit_config

    spec = spec_from_flags({"loss": "san", "epochs": 1}, ["loss.lambda_=0.5,2", "lr-g=1e-4,2e-4", "batch-size=32,64"], 2, 0)
    sweep = plan(spec, tmp_path / "sweep", {})
    units = pack(sweep, sweep.trials)
    assert sorted(map(len, units)) == [8, 8]  # batch size splits them; lambda, lr and seed do not
    for unit in units:
        assert len({trial_settings_of(sweep, t)["batch_size"] for t in unit}) == 1
    config = unit_config(sweep, units[0])
    assert config["ids"] == [t.id for t in units[0]] and len(config["members"]) == 8


def test_trials_are_not_packed_with_early_stopping_or_a_component_that_cannot_stack(tmp_path):
    from gan_core.experiments.sweep_run import pack

    dropout = spec_from_flags({"epochs": 1, "options": {"architecture": {"dropout": 0.3}}}, ["lr-g=1e-4,2e-4"], 2, 0)
    sweep = plan(dropout, tmp_path / "a", {})
    assert all(len(u) == 1 for u in pack(sweep, sweep.trials))
    early = spec_from_flags({"epochs": 2, "eval_every": 1}, ["lr-g=1e-4,2e-4"], 2, 0)
    sweep = plan(early, tmp_path / "b", {"early_stop": "fid"})
    assert all(len(u) == 1 for u in pack(sweep, sweep.trials))


def trial_settings_of(sweep, trial) -> dict:
    from gan_core.experiments.sweep_spec import trial_settings

    return trial_settings(sweep.spec.base, trial.assignments)
