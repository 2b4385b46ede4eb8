"""Plugin API 1.0: each failure an outside author met, reproduced, and what the contract now promises."""

from __future__ import annotations

import dataclasses
import json
import types
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_core import (
    PLUGIN_API_VERSION,
    Architecture,
    Discriminator,
    FeatureExtractor,
    ImageData,
    Latent,
    Loss,
    Metric,
    Networks,
    Prior,
    SampleResult,
    Sampler,
    create_component,
    discriminate,
    hookimpl,
    option,
)
from gan_core.sampling import fit_record
from gan_core.testing import plugin_registered, run_cli

from . import legacy_plugin
from .conftest import SLICE


def plugin(**hooks):
    """A plugin object whose hooks are the given functions."""
    namespace = types.SimpleNamespace()
    for name, func in hooks.items():
        setattr(namespace, name, hookimpl(func))
    return namespace


def one_line(result) -> str:
    return " ".join(result.output.split())


class Constant(Prior):
    """Every code is zero (a test double)."""

    name = "brand-new"

    def sample(self, n, *, component=None):
        return Latent(torch.zeros(n, self.latent_dim, device=self.device))


# --------------------------------------------------------------------------- loading never breaks the CLI


def test_a_hook_with_a_wrongly_named_argument_is_listed_and_the_cli_works():
    broken = plugin(register_priors=lambda reg: reg(Constant))
    with plugin_registered(broken, name="gan_wrong", package="gan-wrong"):
        assert run_cli(["--help"]).exit_code == 0
        listing = run_cli(["plugins"])
        trained_names = run_cli(["plugins", "show", "normal"])
    assert listing.exit_code == 0 and trained_names.exit_code == 0
    text = one_line(listing)
    assert "gan-wrong" in text and "register_priors(reg) takes 'reg'" in text and "rename the argument" in text


def test_a_misspelt_hook_is_reported_not_ignored():
    misspelt = plugin(register_prior=lambda register: register(Constant))
    with plugin_registered(misspelt, name="gan_typo", package="gan-typo") as registry:
        errors = [f.error for f in registry.failures if f.package == "gan-typo"]
    assert errors and "'register_prior', which is not a gan hook; did you mean 'register_priors'?" in errors[0]


def test_a_component_of_a_plugin_that_failed_to_import_names_that_plugin(monkeypatch):
    from gan_core.plugins import load_plugins
    from gan_core.registry import Registry

    class BrokenEntryPoint:
        name = "ragan"
        dist = types.SimpleNamespace(name="gan-ragan", version="0.1")

        def load(self):
            raise ImportError("No module named 'gan_ragan.losses'")

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [BrokenEntryPoint()])
    with pytest.raises(Exception) as caught:
        Registry(load_plugins()).get("loss", "ragan")
    message = str(caught.value)
    assert "there is no loss named 'ragan'" in message
    assert "'ragan' (gan-ragan: ImportError: No module named 'gan_ragan.losses')" in message


def test_a_refused_plugin_registers_nothing_and_its_components_name_the_reason():
    class Vanilla(Constant):
        """Clashes with the built-in loss name... as a prior named like a built-in prior."""

        name = "normal"

    class BrandNew2(Constant):
        """Another test double."""

        name = "brand-new2"

    clash = plugin(register_priors=lambda register: [register(c) for c in (Constant, Vanilla, BrandNew2)])
    with plugin_registered(clash, name="gan_clash", package="gan-clash") as registry:
        assert "brand-new" not in registry.names("prior") and "brand-new2" not in registry.names("prior")
        assert registry.get("prior", "normal").package == "gan-core"
        result = run_cli(["train", "--prior", "brand-new", "--steps", "1", "--out", "never"])
    assert result.exit_code == 2
    text = one_line(result)
    assert "prior 'brand-new' comes from plugin 'gan_clash' (gan-clash), which was not loaded" in text
    assert "prior 'normal' is already registered by gan-core" in text


def test_a_plugin_command_cannot_replace_a_builtin_one():
    from gan_core.cli import make_app

    def register_commands(app):
        @app.command("hello-api")
        def hello():
            print("hello")

        @app.command("train")
        def train():
            print("hijacked")

    with plugin_registered(plugin(register_commands=register_commands), name="gan_hijack", package="gan-hijack") as registry:
        app = make_app(registry)
        names = [c.name or c.callback.__name__ for c in app.registered_commands]
        assert "hello-api" not in names  # all or none: hello-api is not added either
        assert any("command 'train' is already taken" in f.error for f in registry.failures)
        trains = [c for c in app.registered_commands if (c.name or c.callback.__name__) == "train"]
        assert len(trains) == 1 and trains[0].callback.__module__ == "gan_core.cli"
        listing = one_line(run_cli(["plugins"]))
    assert "gan_hijack (gan-hijack): ValueError: command 'train' is already taken" in listing


def test_trace_prints_every_hook_call(monkeypatch, capfd):
    monkeypatch.setenv("GAN_TRACE_PLUGINS", "1")
    with plugin_registered(plugin(register_priors=lambda register: register(Constant)), name="gan_traced"):
        pass
    err = capfd.readouterr().err
    assert "[gan plugins] register_priors(register) -> gan_traced" in err
    assert "[gan plugins] register_losses(register) -> gan_core.builtin.losses" in err


def test_disable_and_load_accept_distribution_names(monkeypatch):
    from gan_core.registry import get_registry, reset_registry

    monkeypatch.setenv("GAN_DISABLE_PLUGINS", "gan-gm")
    reset_registry()
    assert "gm-static" not in get_registry().names("prior") and "cluster" in get_registry().names("prior")
    monkeypatch.delenv("GAN_DISABLE_PLUGINS")
    monkeypatch.setenv("GAN_LOAD_PLUGINS", "gan-gm")
    reset_registry()
    priors = get_registry().names("prior")
    assert "gm-static" in priors and "cluster" not in priors and "normal" in priors
    monkeypatch.delenv("GAN_LOAD_PLUGINS")
    reset_registry()


# --------------------------------------------------------------------------- contracts checked at registration


class NoGLoss(Loss):
    """Forgot g_loss."""

    name = "no-g-loss"

    def d_loss(self, d, real, fake):
        return d(real.images).mean()


@dataclass(frozen=True)
class WrongType:
    y: int = option("three", "an int with a text default")


@dataclass(frozen=True)
class OutOfBounds:
    y: float = option(5.0, "a default above its own maximum", max=1.0)


@dataclass(frozen=True)
class ListOption:
    y: list[int] = option((1, 2), "lists are not an option type")


def with_options(options_cls, name):
    return type(f"P{name}", (Constant,), {"name": name, "Options": options_cls, "__doc__": "Test double."})


@pytest.mark.parametrize(
    "hook, cls, fragment",
    [
        ("register_losses", NoGLoss, "loss 'no-g-loss' (tests.test_plugin_api.NoGLoss) does not implement g_loss(); every loss must"),
        ("register_priors", with_options(WrongType, "wrong-type"), "option 'y' must be an integer, not 'three'"),
        ("register_priors", with_options(OutOfBounds, "out-of-bounds"), "option 'y' must be at most 1.0, not 5.0"),
        ("register_priors", with_options(ListOption, "list-option"), "option 'y' has type list[int], which options cannot hold"),
    ],
)
def test_broken_contracts_are_refused_at_registration(hook, cls, fragment):
    with plugin_registered(plugin(**{hook: lambda register: register(cls)}), name="gan_bad", package="gan-bad") as registry:
        errors = " ".join(f.error for f in registry.failures if f.package == "gan-bad")
        listing = run_cli(["plugins"])
    assert fragment in errors and cls.name not in registry.names(cls.kind)
    assert listing.exit_code == 0 and "Traceback" not in listing.output


# --------------------------------------------------------------------------- outputs checked at the boundary


@dataclass(frozen=True)
class HowOptions:
    how: str = option("half", "how to break the contract", choices=("half", "bytes", "shape"))


class Broken(Sampler):
    """Returns what it should not (a test double)."""

    name = "broken"
    Options = HowOptions

    def sample(self, model, n, *, component=None, max_proposals=None):
        images = model.generate(n).images
        if self.options.how == "half":
            images = images[: n // 2]
        elif self.options.how == "bytes":
            images = (images + 1) * 127.5
        else:
            images = images.flatten(1)
        return SampleResult(images, None, n)


@pytest.mark.parametrize(
    "how, fragment",
    [
        ("half", "sampler 'broken' returned 5 images when 10 were asked for; return exactly n"),
        ("bytes", "sampler 'broken' returned images with values in ["),
        ("shape", "sampler 'broken' returned images of shape (10, 784); expected (10, 1, 28, 28)"),
    ],
)
def test_what_a_sampler_returns_is_checked(trained_run, tmp_path, how, fragment):
    with plugin_registered(plugin(register_samplers=lambda register: register(Broken))):
        result = run_cli(["sample", str(trained_run), "--sampler", "broken", "-o", f"sampler.how={how}", "--n", "10",
                          "--out", str(tmp_path / "out.npz")])
    assert result.exit_code == 1 and fragment in one_line(result) and "Internal error" not in result.output
    assert how != "bytes" or "images must lie in [-1, 1]" in one_line(result)
    assert not (tmp_path / "out.npz").exists()


class VectorLoss(Loss):
    """Returns one loss per image instead of a scalar (a test double)."""

    name = "vector-loss"

    def d_loss(self, d, real, fake):
        real_out, fake_out = discriminate(d, real.images, fake.images)
        return F.softplus(-real_out) + F.softplus(fake_out)

    def g_loss(self, d, fake, real):
        return F.softplus(-d(fake.images)).mean()


def test_a_loss_that_returns_a_vector_is_named(in_tmp):
    with plugin_registered(plugin(register_losses=lambda register: register(VectorLoss))):
        result = run_cli(["train", *SLICE, "--loss", "vector-loss", "--steps", "2", "--out", "run"])
    assert result.exit_code == 1
    assert "loss 'vector-loss''s d_loss returned a float32 tensor of shape (32, 1); return a float scalar tensor" in one_line(result)
    assert not (in_tmp / "run").exists()


class ZeroToOne(Architecture):
    """A generator that ends in sigmoid instead of tanh (a test double)."""

    name = "sigmoid-g"

    def build(self, spec):
        c, h, w = spec.image_shape

        class D(Discriminator):
            def __init__(self):
                super().__init__()
                self.body = nn.Flatten()
                self.head = nn.Linear(c * h * w, spec.d_outputs)

            def features(self, x):
                return self.body(x)

        generator = nn.Sequential(nn.Linear(spec.latent_dim, c * h * w), nn.Sigmoid(), nn.Unflatten(1, (c, h, w)),
                                  nn.Linear(w, w))  # the last layer leaves [0, 1]
        with torch.no_grad():
            generator[-1].bias.fill_(2.0)
        return Networks(generator, D())


def test_a_generator_outside_minus_one_one_is_refused_before_training(in_tmp):
    with plugin_registered(plugin(register_architectures=lambda register: register(ZeroToOne))):
        result = run_cli(["train", *SLICE, "--arch", "sigmoid-g", "--steps", "2", "--out", "run"])
    assert result.exit_code == 1 and "images must lie in [-1, 1]" in one_line(result)
    assert "architecture 'sigmoid-g''s generator" in one_line(result) and not (in_tmp / "run").exists()


class BatchNormArch(Architecture):
    """A discriminator with BatchNorm that claims it may be scored jointly (a test double)."""

    name = "bn-joint"

    def build(self, spec):
        c, h, w = spec.image_shape

        class D(Discriminator):
            joint_batches = True

            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, 16), nn.BatchNorm1d(16))
                self.head = nn.Linear(16, spec.d_outputs)

            def features(self, x):
                return self.body(x)

        return Networks(nn.Sequential(nn.Linear(spec.latent_dim, c * h * w), nn.Tanh(), nn.Unflatten(1, (c, h, w))), D())


def test_a_batchnorm_discriminator_is_never_scored_jointly(in_tmp):
    with plugin_registered(plugin(register_architectures=lambda register: register(BatchNormArch))):
        result = run_cli(["train", *SLICE, "--arch", "bn-joint", "--steps", "2", "--out", "run"])
    assert result.exit_code == 1 and "normalises over the batch (BatchNorm) but sets joint_batches = True" in one_line(result)
    # left unset, the core decides: no joint pass for a D with batch statistics
    from gan_core import joins_batches

    d = BatchNormArch(BatchNormArch.Options()).build(types.SimpleNamespace(image_shape=(1, 4, 4), latent_dim=2, d_outputs=1)).discriminator
    d.joint_batches = None
    assert not joins_batches(d)


# --------------------------------------------------------------------------- contract gaps closed


class Relativistic(Loss):
    """RaGAN-style: G's loss needs the real batch (a test double that checks it gets it)."""

    name = "needs-real"
    seen: list[int] = []

    def d_loss(self, d, real, fake):
        real_out, fake_out = discriminate(d, real.images, fake.images)
        return F.softplus(-(real_out - fake_out.mean())).mean() + F.softplus(fake_out - real_out.mean()).mean()

    def g_loss(self, d, fake, real):
        Relativistic.seen.append(len(real.images))
        real_out, fake_out = discriminate(d, real.images, fake.images)
        return F.softplus(real_out - fake_out.mean()).mean() + F.softplus(-(fake_out - real_out.mean())).mean()


def test_g_loss_sees_the_real_batch(in_tmp):
    Relativistic.seen.clear()
    with plugin_registered(plugin(register_losses=lambda register: register(Relativistic))):
        result = run_cli(["train", *SLICE, "--loss", "needs-real", "--steps", "3", "--out", "run"])
    assert result.exit_code == 0, result.output
    assert Relativistic.seen == [32, 32, 32]


@dataclass(frozen=True)
class LaplaceOptions:
    scale: float = option(1.0, "scale b of every coordinate", min=0.0)


class Laplace(Prior):
    """The docs' Laplace prior, which does not apply spread itself."""

    name = "laplace-test"
    Options = LaplaceOptions

    def sample(self, n, *, component=None):
        u = torch.rand(n, self.latent_dim, device=self.device) - 0.5
        return Latent(-self.options.scale * torch.sign(u) * torch.log1p(-2 * u.abs()))


def test_sigma_scale_is_refused_for_a_prior_that_cannot_honour_it(tmp_path):
    with plugin_registered(plugin(register_priors=lambda register: register(Laplace))):
        trained = run_cli(["train", *SLICE, "--prior", "laplace-test", "--steps", "1", "--out", str(tmp_path / "run")])
        assert trained.exit_code == 0, trained.output
        result = run_cli(["sample", str(tmp_path / "run"), "--sigma-scale", "0.5", "--n", "4", "--grid", str(tmp_path / "g.png")])
        plain = run_cli(["sample", str(tmp_path / "run"), "--n", "4", "--grid", str(tmp_path / "g.png")])
    assert result.exit_code == 2 and "prior 'laplace-test' cannot scale its spread" in one_line(result)
    assert plain.exit_code == 0, plain.output


def test_every_kind_is_constructed_the_same_way():
    prior = create_component("prior", "gm-static", {"k": "4"}, latent_dim=6)
    assert prior.latent_dim == 6 and prior.means.shape == (4, 6)
    assert create_component("prior", "cluster").latent_dim == 30  # its own default
    for kind, name in [("loss", "hinge"), ("architecture", "mlp"), ("sampler", "none"), ("metric", "fid"), ("dataset", "mnist")]:
        assert create_component(kind, name).name == name


def test_needs_fit_is_read_on_the_instance(in_tmp):
    """latent-ga fits only with score=weights: a class-level read never fitted it after training."""
    result = run_cli(["train", *SLICE, "--steps", "2", "--sampler", "latent-ga", "-o", "sampler.score=weights",
                      "-o", "sampler.weight_steps=3", "--out", "run"])
    assert result.exit_code == 0, result.output
    assert fit_record(in_tmp / "run", "latent-ga")["options"]["score"] == "weights"


class NeedsEncoder(Sampler):
    """Needs an encoder (a test double)."""

    name = "needs-encoder"
    requires = {"teleporter": "it jumps between modes"}

    def sample(self, model, n, *, component=None, max_proposals=None):
        raise AssertionError("never reached")


def test_a_sampler_requirement_is_checked(trained_run, in_tmp):
    with plugin_registered(plugin(register_samplers=lambda register: register(NeedsEncoder))):
        at_train = run_cli(["train", *SLICE, "--steps", "1", "--sampler", "needs-encoder", "--out", "run"])
        at_sample = run_cli(["sample", str(trained_run), "--sampler", "needs-encoder", "--n", "4", "--grid", "g.png"])
    for result in (at_train, at_sample):
        assert result.exit_code == 2 and "sampler 'needs-encoder' needs teleporter (it jumps between modes)" in one_line(result)
    assert not (in_tmp / "run").exists()


@dataclass(frozen=True)
class BlurOptions:
    k: int = option(2, "pooling window", min=1)


class PixelGap(Metric):
    """Distance between mean real and generated images after k x k pooling (reads images, not features)."""

    name = "pixel-stats"
    Options = BlurOptions
    needs_images = True

    @property
    def headline(self):
        return "pixel-gap"

    def compute(self, real, fake):
        pool = lambda x: F.avg_pool2d(x.float() / 255, self.options.k).mean(0)  # noqa: E731
        return {"pixel-gap": float((pool(real.images) - pool(fake.images)).abs().mean()), "pixel-k": self.options.k}


def test_metric_options_images_and_headline(trained_run, tmp_path):
    with plugin_registered(plugin(register_metrics=lambda register: register(PixelGap))):
        result = run_cli(["eval", str(trained_run), "--metrics", "pixel-stats,precision", "-o", "metric.k=4", "--n", "200", "--json"])
        unknown = run_cli(["eval", str(trained_run), "--metrics", "fid", "-o", "metric.k=4", "--n", "200"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["metrics"]["pixel-k"] == 4.0 and 0 < report["metrics"]["pixel-gap"] < 1
    assert report["directions"] == {"pixel-gap": "lower", "precision": "higher"}
    assert unknown.exit_code == 2 and "no chosen metric has an option 'k'" in one_line(unknown)


def test_a_dataset_plugin_brings_its_own_feature_network(tmp_path):
    from gan_core import DataRequest, Dataset

    class Squares(Dataset):
        """Bright squares on black, 12x12 (a test double)."""

        name = "squares"

        def load(self, request: DataRequest) -> ImageData:
            g = torch.Generator().manual_seed(0 if request.split == "train" else 1)
            images = torch.zeros(256, 1, 12, 12, dtype=torch.uint8)
            corners = torch.randint(0, 8, (256, 2), generator=g)
            for i, (y, x) in enumerate(corners.tolist()):
                images[i, 0, y : y + 4, x : x + 4] = 255
            return ImageData(images, None, None, "generated squares")

    def build(device):
        def run(images):
            x = images.to(device).float() / 255
            return torch.stack([x.mean((1, 2, 3)), x.std((1, 2, 3))], 1), None

        return FeatureExtractor("squares", "v1", (1, 12, 12), run, device, "two pixel statistics", has_classes=False)

    squares = plugin(register_datasets=lambda register: register(Squares),
                     register_feature_networks=lambda register: register("squares", build))
    images = Squares(None).load(DataRequest(split="test")).images.permute(0, 2, 3, 1).numpy()
    np.savez(tmp_path / "s.npz", images=images)
    with plugin_registered(squares):
        result = run_cli(["eval", str(tmp_path / "s.npz"), "--dataset", "squares", "--n", "200", "--metrics", "fid", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["features"]["name"] == "squares" and report["metrics"]["fid"] < 1e-3


# --------------------------------------------------------------------------- versions and old plugins


def test_an_incompatible_plugin_is_reported_by_gan_plugins():
    future = plugin(register_priors=lambda register: register(Constant))
    future.GAN_PLUGIN_API = ">=2.0"
    fitting = plugin(register_priors=lambda register: register(Constant))
    fitting.GAN_PLUGIN_API = f">={PLUGIN_API_VERSION},<2"
    with plugin_registered(future, name="gan_future", package="gan-future") as registry:
        listing = one_line(run_cli(["plugins"]))
        assert "brand-new" not in registry.names("prior")
    assert f"incompatible: it supports gan plugin API >=2.0 but this gan-core provides {PLUGIN_API_VERSION}" in listing
    with plugin_registered(fitting, name="gan_fitting", package="gan-fitting") as registry:
        assert "brand-new" in registry.names("prior")


def test_a_plugin_written_for_gan_core_0_1_keeps_working(tmp_path):
    run = tmp_path / "run"
    with plugin_registered(legacy_plugin, name="legacy", package="gan-legacy") as registry:
        assert not [f for f in registry.failures if f.package == "gan-legacy"]
        trained = run_cli(["train", *SLICE, "--prior", "legacy-shifted", "--loss", "legacy-loss", "--steps", "3", "--out", str(run)])
        assert trained.exit_code == 0, trained.output
        sampled = run_cli(["sample", str(run), "--sampler", "legacy-sampler", "--n", "8", "--out", str(tmp_path / "s.npz")])
        evaluated = run_cli(["eval", str(run), "--metrics", "legacy-norm,fid", "--n", "100", "--json"])
        resumed = run_cli(["train", "--resume", str(run), "--steps", "5"])
    assert sampled.exit_code == 0, sampled.output
    assert evaluated.exit_code == 0 and "legacy-norm" in json.loads(evaluated.output)["metrics"]
    assert resumed.exit_code == 0, resumed.output


def test_plugin_registered_reuses_an_installed_plugin():
    import gan_gm

    with plugin_registered(gan_gm, name="again") as registry:  # gan-gm is pip-installed: loaded by its entry point
        assert not registry.failures and registry.get("prior", "gm-static").package == "gan-gm"


# --------------------------------------------------------------------------- what 0.1 plugins did that must stay valid


def test_g_loss_signatures_of_every_era_are_called_right():
    from gan_core import Batch

    class D(Discriminator):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(1, 1)

        def features(self, x):
            return x.flatten(1)[:, :1]

    seen = {}

    class Weighted(Loss):
        """0.1 style, with an extra defaulted parameter: must not receive the batch as its weight."""

        name = "weighted"

        def d_loss(self, d, real, fake):
            return d(real.images).mean()

        def g_loss(self, d, fake, weight=1.0):
            seen["weight"] = weight
            return weight * d(fake.images).mean()

    class KeywordOnly(Weighted):
        """Takes the real batch as a keyword-only argument."""

        name = "keyword-only"

        def g_loss(self, d, fake, *, real):
            seen["real"] = real
            return d(fake.images).mean()

    real, fake = Batch(torch.zeros(2, 1, 1, 1)), Batch(torch.ones(2, 1, 1, 1))
    Weighted(None).generator_loss(D(), fake, real)
    KeywordOnly(None).generator_loss(D(), fake, real)
    assert seen == {"weight": 1.0, "real": real}


@dataclass(frozen=True)
class ValidOptions:
    threshold: float = option(float("nan"), "nan means: no threshold")
    sizes: tuple[int, ...] = dataclasses.field(default_factory=lambda: (1, 2), metadata={"help": "sizes"})
    k: int | None = option(None, "None: every k", choices=(1, 2, 3))


def test_options_that_0_1_accepted_still_register():
    class Flexible(Constant):
        """Options of every shape 0.1 allowed."""

        name = "flexible"
        Options = ValidOptions

    hook_with_kwargs = lambda register, **kwargs: register(Flexible)  # noqa: E731 - pluggy accepts extra kwargs
    with plugin_registered(plugin(register_priors=hook_with_kwargs), name="gan_flexible") as registry:
        assert registry.get("prior", "flexible") and not [f for f in registry.failures if f.plugin == "gan_flexible"]


def test_a_dataset_with_uint8_labels_still_trains(in_tmp):
    from gan_core import Dataset

    class SmallLabels(Dataset):
        """Random images with uint8 labels, as numpy readers often give them."""

        name = "uint8-labels"

        def load(self, request):
            images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
            return ImageData(images, torch.arange(64, dtype=torch.uint8) % 10, 10, "random")

    with plugin_registered(plugin(register_datasets=lambda register: register(SmallLabels))):
        result = run_cli(["train", "--dataset", "uint8-labels", "--batch-size", "16", "--steps", "2", "--device", "cpu",
                          "--out", "run"])
    assert result.exit_code == 0, result.output


def test_a_loss_can_ask_for_more_critic_steps(tmp_path, mnist_dir):
    """Loss.critic_steps: WGAN's warm-up gets its 100 critic steps without moving the data order."""
    import gan_core

    class Counting(VectorLoss):
        """Counts D steps; wants 7 before generator step 1."""

        name = "counting"
        d_steps_seen: list[int] = []

        def d_loss(self, d, real, fake):
            real_out, fake_out = discriminate(d, real.images, fake.images)
            return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()

        def after_d_step(self, d):
            Counting.d_steps_seen.append(1)

        def critic_steps(self, step):
            return 7 if step == 1 else None

    with plugin_registered(plugin(register_losses=lambda register: register(Counting))):
        gan_core.train({"loss": "counting", "dataset": "mnist", "options": {"dataset": {"limit": 640}}, "batch_size": 32,
                        "steps": 3, "device": "cpu", "out": str(tmp_path / "run")})
    assert len(Counting.d_steps_seen) == 1 + 7 + 1
    from gan_core import create_component

    wgan = create_component("loss", "wgan", {"warmup": True})
    assert [wgan.critic_steps(s) for s in (0, 24, 25, 499, 500)] == [100, 100, None, None, 100]
    assert create_component("loss", "wgan").critic_steps(0) is None  # an option: off unless asked for
