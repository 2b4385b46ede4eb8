"""Stacked groups: N runs in one model, each member exactly the run it would be alone.

The central test trains every built-in and method-package component as a
stacked group of 3 and as 3 separate runs, and holds losses and weights to
float tolerance. Adam moves each weight by about its learning rate per step
whatever the size of the gradient, so float noise (a batched matrix product
against single ones) can flip the sign of a near-zero gradient, and Adam's
first steps can move a weight by a few learning rates: weights are compared
by the share of elements that agree to 1e-5 (most) and by a bound of a few
learning rates per step on any (members that mixed would differ by the size
of the weights themselves), losses tightly on the first step.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from gan_core.config import TrainConfig
from gan_core.features import MetricsLog
from gan_core.group import parse_seeds, stack_refusal, train_group
from gan_core.runs import read_checkpoint
from gan_core.stacking import StackedOptimizer
from gan_core.training import train

QUIET = Console(stderr=True, quiet=True)
SEEDS = (0, 1, 2)
STEPS = 2


def _losses(run: Path) -> list[float]:
    """D and G losses of each logged step, flat: [d_1, g_1, d_2, g_2, ...]."""
    return [v for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "d_loss" in r
            for v in (r["d_loss"], r["g_loss"])]


def _assert_same_run(solo: Path, member: Path, lr: float, steps: int) -> None:
    a, b = _losses(solo), _losses(member)
    assert len(a) == len(b) == 2 * steps
    assert a[:2] == pytest.approx(b[:2], rel=1e-5, abs=1e-6), "the first step differs"
    assert a == pytest.approx(b, rel=5e-4, abs=1e-5)
    _, ta, _ = read_checkpoint(solo)
    _, tb, _ = read_checkpoint(member)
    for file in ta:
        assert set(ta[file]) == set(tb[file]), f"{file} holds other tensors"
        for key, x in ta[file].items():
            y = tb[file][key]
            assert x.shape == y.shape and x.dtype == y.dtype, key
            if not x.is_floating_point():
                if "rng" not in key:  # the generators' states are compared through the losses they drew
                    assert torch.equal(x, y), key
                continue
            diff = (x.float() - y.float()).abs()
            assert diff.max() <= max(4 * lr * steps, 1e-4), f"{file}:{key} differs by {diff.max():.2e}"
            assert (diff <= 1e-5).float().mean() >= 0.8, f"{file}:{key}: {(diff > 1e-5).sum()} elements differ"


COMBINATIONS = [
    pytest.param("normal", "vanilla", "mlp", {}, id="normal-vanilla-mlp"),
    pytest.param("uniform", "hinge", "dcgan", {"architecture": {"width": "8"}}, id="uniform-hinge-dcgan"),
    pytest.param("gm-static", "lsgan", "mlp", {}, id="gm-static-lsgan"),
    pytest.param("gm-dynamic", "wgan-gp", "mlp", {"prior": {"scale_form": "diagonal"}}, id="gm-dynamic-wgan-gp"),
    pytest.param("normal", "wgan-gp", "dcgan", {"architecture": {"width": "8"}}, id="normal-wgan-gp-dcgan"),
    pytest.param("normal", "wgan", "mlp", {}, id="normal-wgan-clip"),
    pytest.param("gm-dynamic", "san", "mlp", {}, id="gm-dynamic-san"),
    pytest.param("normal", "hinge-san", "dcgan", {"architecture": {"width": "8"}}, id="normal-hinge-san-dcgan"),
    pytest.param("normal", "fgan-kl", "mlp", {}, id="fgan-kl"),
    pytest.param("gm-supervised", "gm-supervised", "mlp", {}, id="gm-supervised"),
    pytest.param("gm-supervised", "gm-aux", "mlp", {"loss": {"fake_classes": "true"}}, id="gm-aux"),
    pytest.param("cluster", "clustergan", "dcgan", {"architecture": {"width": "8"}}, id="clustergan-dcgan-wgan-gp"),
    pytest.param("cluster-gmm", "clustergan", "mlp", {"loss": {"base": "vanilla"}}, id="clustergan-gmm-mlp"),
]


@pytest.mark.parametrize("prior,loss,arch,options", COMBINATIONS)
def test_stacked_group_trains_what_separate_runs_train(mnist_dir, tmp_path, prior, loss, arch, options):
    base = TrainConfig(prior=prior, loss=loss, arch=arch, steps=STEPS, batch_size=16, log_every=1, device="cpu",
                       options={"dataset": {"limit": "160"}, **options})
    assert stack_refusal(base) is None
    configs = [dataclasses.replace(base, seed=s) for s in SEEDS]
    members = train_group(configs, tmp_path / "group", features_for=lambda m: [MetricsLog()], console=QUIET)
    assert [p.name for p in members] == [f"seed={s}" for s in SEEDS]
    for config, member in zip(configs, members):
        solo = train(dataclasses.replace(config, out=str(tmp_path / f"solo{config.seed}")), features=[MetricsLog()],
                     console=QUIET)
        info = json.loads((solo / "run.json").read_text())
        _assert_same_run(solo, member, max(info["train"]["lr_g"], info["train"]["lr_d"]), STEPS)


def test_members_may_differ_in_learning_rate_and_member_options(mnist_dir, tmp_path):
    """SAN's lambda and the learning rates differ per member; each member still trains as alone."""
    base = TrainConfig(prior="normal", loss="san", steps=STEPS, batch_size=16, log_every=1, device="cpu",
                       options={"dataset": {"limit": "160"}})
    configs = [dataclasses.replace(base, seed=0, lr_g=1e-3, options={**base.options, "loss": {"lambda_": "0.5"}}),
               dataclasses.replace(base, seed=1, lr_g=3e-4, lr_d=5e-4, options={**base.options, "loss": {"lambda_": "2"}})]
    members = train_group(configs, tmp_path / "group", features_for=lambda m: [MetricsLog()], console=QUIET)
    for config, member in zip(configs, members):
        solo = train(dataclasses.replace(config, out=str(tmp_path / f"solo{config.seed}")), features=[MetricsLog()],
                     console=QUIET)
        _assert_same_run(solo, member, 1e-3, STEPS)


def test_a_component_that_does_not_stack_trains_its_runs_one_after_another(mnist_dir, tmp_path):
    base = TrainConfig(steps=1, batch_size=16, device="cpu", options={"dataset": {"limit": "64"}, "architecture": {"dropout": "0.3"}})
    assert "dropout" in stack_refusal(base)
    said = Console(record=True, width=200)
    members = train_group([dataclasses.replace(base, seed=s) for s in (4, 7)], tmp_path / "g",
                          features_for=lambda m: [MetricsLog()], console=said)
    assert [p.name for p in members] == ["seed=4", "seed=7"]
    text = said.export_text()
    assert "one after another" in text and "dropout" in text
    assert json.loads((tmp_path / "g" / "group.json").read_text())["stacked"] is False


def test_the_stacked_optimiser_is_torchs_adam_and_rmsprop_per_member():
    torch.manual_seed(0)
    lrs = torch.tensor([1e-3, 2e-4, 5e-2])
    for kind, make in (("adam", lambda p, lr: torch.optim.Adam([p], lr=lr, betas=(0.5, 0.999), fused=True)),
                       ("rmsprop", lambda p, lr: torch.optim.RMSprop([p], lr=lr))):
        stacked = torch.randn(3, 4, 5, requires_grad=True)
        alone = [stacked[m].detach().clone().requires_grad_(True) for m in range(3)]
        opt = StackedOptimizer(kind, [stacked], lrs, (0.5, 0.999))
        opts = [make(p, float(lr)) for p, lr in zip(alone, lrs)]
        for _ in range(5):
            grads = torch.randn(3, 4, 5)
            opt.zero_grad()
            stacked.grad = grads.clone()
            opt.step()
            for m, (p, o) in enumerate(zip(alone, opts)):
                o.zero_grad()
                p.grad = grads[m].clone()
                o.step()
        for m, p in enumerate(alone):
            torch.testing.assert_close(stacked[m].detach(), p.detach(), rtol=2e-5, atol=5e-6)


def test_each_member_draws_from_its_own_generator_inside_vmap():
    from gan_core import rng

    generators = [torch.Generator().manual_seed(s) for s in (3, 5)]
    expected = [torch.Generator().manual_seed(s) for s in (3, 5)]

    def one(index):
        with rng.member_draws(generators, index):
            return rng.normal(4), rng.integers(10, 3)

    normal, integers = torch.func.vmap(one, randomness="same")(torch.arange(2))
    for m, g in enumerate(expected):
        assert torch.equal(normal[m], torch.randn(4, generator=g))
        assert torch.equal(integers[m], torch.randint(0, 10, (3,), generator=g))
    assert not rng.stacking()


def test_parse_seeds():
    assert parse_seeds("3") == [0, 1, 2]
    assert parse_seeds("2", first=5) == [5, 6]
    assert parse_seeds("0,3,7") == [0, 3, 7]
    for bad in ("0,0", "x", "0", "-1,2"):
        with pytest.raises(Exception, match="--seeds"):
            parse_seeds(bad)


def test_gan_train_seeds_writes_members_that_sample_evaluate_and_resume(mnist_dir, tmp_path, monkeypatch):
    """The issue's acceptance: R/seed=K for each seed; each samples, evaluates and resumes; first losses match alone."""
    from gan_core.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    common = ["--steps", "4", "--batch-size", "16", "--log-every", "1", "-o", "dataset.limit=96", "--device", "cpu"]
    result = runner.invoke(app, ["train", "--prior", "normal", "--loss", "vanilla", "--seeds", "3", "--out", "R", *common])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in Path("R").iterdir()) == ["group.json", "seed=0", "seed=1", "seed=2"]
    for seed in (0, 2):
        alone = runner.invoke(app, ["train", "--seed", str(seed), "--out", f"alone{seed}", *common])
        assert alone.exit_code == 0, alone.output
        assert _losses(Path(f"alone{seed}"))[:2] == pytest.approx(_losses(Path(f"R/seed={seed}"))[:2], rel=1e-5)
    sample = runner.invoke(app, ["sample", "R/seed=1", "--n", "8", "--out", "s.npz"])
    assert sample.exit_code == 0, sample.output
    for run in ("R/seed=2", "alone2"):  # the member's final metrics are the run's alone, to evaluation noise
        evaluated = runner.invoke(app, ["eval", run, "--n", "64"])
        assert evaluated.exit_code == 0, evaluated.output
    member, alone = (json.loads(Path(run, "eval.json").read_text())["metrics"] for run in ("R/seed=2", "alone2"))
    assert member["fid"] == pytest.approx(alone["fid"], rel=0.01)
    assert member["precision"] == pytest.approx(alone["precision"], abs=0.05)
    # the whole group continues, then one member alone; both as the same runs trained straight through
    more = runner.invoke(app, ["train", "--resume", "R", "--steps", "6"])
    assert more.exit_code == 0, more.output
    alone = runner.invoke(app, ["train", "--resume", "R/seed=0", "--steps", "7"])
    assert alone.exit_code == 0, alone.output
    straight = runner.invoke(app, ["train", "--seed", "0", "--out", "straight", *common[:0], "--steps", "7",
                                   "--batch-size", "16", "--log-every", "1", "-o", "dataset.limit=96", "--device", "cpu"])
    assert straight.exit_code == 0, straight.output
    assert _losses(Path("R/seed=0")) == pytest.approx(_losses(Path("straight")), rel=1e-4, abs=1e-5)
    assert json.loads(Path("R/seed=0/run.json").read_text())["checkpoint"]["step"] == 7
    assert json.loads(Path("R/seed=1/run.json").read_text())["checkpoint"]["step"] == 6


def test_ctrl_c_checkpoints_every_member_and_the_group_resumes_exactly(mnist_dir, tmp_path):
    import os
    import signal

    from gan_core.callbacks import Callback
    from gan_core.engine import StopRequested

    class CtrlCAtStep3(Callback):
        def on_log(self, record):
            if record["step"] == 3:
                os.kill(os.getpid(), signal.SIGINT)

    base = TrainConfig(steps=6, batch_size=16, log_every=1, device="cpu", options={"dataset": {"limit": "64"}})
    configs = [dataclasses.replace(base, seed=s) for s in (0, 1)]
    features = lambda m: [MetricsLog(), *([CtrlCAtStep3()] if m == 0 else [])]  # noqa: E731
    with pytest.raises(StopRequested):
        train_group(configs, tmp_path / "g", features_for=features, console=QUIET)
    for seed in (0, 1):
        info = json.loads((tmp_path / "g" / f"seed={seed}" / "run.json").read_text())
        assert info["status"] == "interrupted" and info["checkpoint"]["step"] == 3
    resumed = [dataclasses.replace(c, out=None) for c in configs]
    train_group(resumed, tmp_path / "g", resume=True, features_for=lambda m: [MetricsLog()], console=QUIET)
    straight = train_group(configs, tmp_path / "straight", features_for=lambda m: [MetricsLog()], console=QUIET)
    for seed, path in zip((0, 1), straight):
        assert _losses(tmp_path / "g" / f"seed={seed}") == pytest.approx(_losses(path), rel=1e-6)


def test_members_at_different_steps_continue_as_groups_of_their_own(mnist_dir, tmp_path):
    base = TrainConfig(steps=2, batch_size=16, log_every=1, device="cpu", options={"dataset": {"limit": "64"}})
    configs = [dataclasses.replace(base, seed=s) for s in (0, 1)]
    train_group(configs, tmp_path / "g", features_for=lambda m: [MetricsLog()], console=QUIET)
    train(dataclasses.replace(configs[1], steps=3, out=None), resume=tmp_path / "g" / "seed=1", features=[MetricsLog()],
          console=QUIET)
    longer = [dataclasses.replace(c, steps=4) for c in configs]
    train_group(longer, tmp_path / "g", resume=True, features_for=lambda m: [MetricsLog()], console=QUIET)
    for seed in (0, 1):
        steps = [json.loads(line)["step"] for line in (tmp_path / "g" / f"seed={seed}" / "metrics.jsonl").read_text().splitlines()]
        assert steps == [1, 2, 3, 4]


def test_a_group_refuses_members_that_differ_beyond_seed_lr_and_member_options(tmp_path):
    from gan_core import GanError

    base = TrainConfig(steps=1, device="cpu", options={"dataset": {"limit": "64"}})
    other = dataclasses.replace(base, seed=1, options={**base.options, "architecture": {"slope": "0.1"}})
    with pytest.raises(GanError, match="arch.*slope|architecture.slope"):
        train_group([base, other], tmp_path / "g", console=QUIET)
    assert not (tmp_path / "g").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (benchmarks/device_check.sh runs it)")
def test_cuda_the_captured_step_trains_what_the_eager_step_trains(mnist_dir, tmp_path):
    """On CUDA each step is one CUDA graph after 3 eager steps; it must draw and train as the eager step does."""
    for loss in ("vanilla", "wgan-gp", "san"):
        base = TrainConfig(loss=loss, steps=8, batch_size=32, log_every=1, device="cuda", deterministic=True,
                           options={"dataset": {"limit": "1024"}})
        configs = [dataclasses.replace(base, seed=s) for s in (0, 1)]
        said = Console(record=True, width=200)
        captured = train_group(configs, tmp_path / f"{loss}-graph", features_for=lambda m: [MetricsLog()], console=said)
        assert "eagerly" not in said.export_text(), said.export_text()
        eager = train_group(configs, tmp_path / f"{loss}-eager", features_for=lambda m: [MetricsLog()], console=QUIET,
                            capture=False)
        for a, b in zip(captured, eager):
            assert _losses(a) == pytest.approx(_losses(b), rel=1e-3, abs=1e-4), loss
        solo = train(dataclasses.replace(configs[1], out=str(tmp_path / f"{loss}-solo")), features=[MetricsLog()],
                     console=QUIET)
        assert _losses(solo)[:2] == pytest.approx(_losses(captured[1])[:2], rel=1e-4, abs=1e-5), loss

