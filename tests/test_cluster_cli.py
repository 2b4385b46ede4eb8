"""gan-cluster through the CLI: clustergan trains, gan cluster scores it, gan explore walks it, bad pairs are refused."""

from __future__ import annotations

import json
import types

import pytest
import torch
from PIL import Image

from gan_core import Architecture, hookimpl
from gan_core.builtin.mlp import MLP
from gan_core.testing import plugin_registered, run_cli

from .conftest import SLICE


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cluster") / "run"
    result = run_cli(["train", *SLICE, "--prior", "cluster", "--loss", "clustergan", "--latent-dim", "8", "--steps", "20",
                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_clustergan_trains_and_saves_its_encoder(cluster_run):
    info = json.loads((cluster_run / "run.json").read_text())
    assert info["train"]["latent_dim"] == 8
    from safetensors.torch import load_file

    weights = load_file(str(cluster_run / "weights.safetensors"))
    assert any(k.startswith("loss.") for k in weights)  # the encoder
    assert weights["generator.net.0.weight"].shape[1] == 8 + 10  # z_n and the one-hot cluster


def test_sample_class_draws_one_cluster(cluster_run, tmp_path):
    import numpy as np

    result = run_cli(["sample", str(cluster_run), "--class", "3", "--n", "6", "--out", str(tmp_path / "c.npz")])
    assert result.exit_code == 0, result.output
    assert (np.load(tmp_path / "c.npz")["labels"] == 3).all()


@pytest.mark.parametrize("prior, arch", [("cluster-gmm", "mlp"), ("cluster", "dcgan")])
def test_other_priors_and_architectures(in_tmp, prior, arch):
    result = run_cli(["train", *SLICE, "--prior", prior, "--loss", "clustergan", "--arch", arch, "--steps", "3", "--out", "r"])
    assert result.exit_code == 0, result.output
    assert run_cli(["cluster", "r", "--device", "cpu"]).exit_code == 0


def test_latent_dim_defaults_to_the_priors(in_tmp):
    assert run_cli(["train", *SLICE, "--prior", "cluster", "--loss", "clustergan", "--steps", "1", "--out", "r"]).exit_code == 0
    assert json.loads((in_tmp / "r" / "run.json").read_text())["train"]["latent_dim"] == 30


def test_gan_cluster_reports_accuracy_nmi_ari(cluster_run):
    table = run_cli(["cluster", str(cluster_run), "--device", "cpu"])
    assert table.exit_code == 0, table.output
    assert all(word in table.output for word in ("accuracy", "nmi", "ari"))
    result = run_cli(["cluster", str(cluster_run), "--device", "cpu", "--kmeans", "--json"])
    report = json.loads(result.output)
    assert report["method"] == "kmeans" and report["n"] == 640 and 0 <= report["accuracy"] <= 1
    assert 0 <= report["generated_accuracy"] <= 1 and "E recovers G's cluster" in table.output
    assert json.loads((cluster_run / "cluster.json").read_text())["method"] == "kmeans"


def test_gan_explore_writes_a_strip(cluster_run, tmp_path):
    out = tmp_path / "path.png"
    result = run_cli(["explore", str(cluster_run), "--target", "7", "--rows", "3", "--frames", "5", "--steps", "10",
                      "--device", "cpu", "--out", str(out)])
    assert result.exit_code == 0, result.output
    width, height = Image.open(out).size
    assert (width, height) == (5 * 30 + 2, 3 * 30 + 2)  # 28-pixel images with 2-pixel padding
    assert "p(7)" in result.output


def test_bad_explore_and_cluster_requests_are_refused(cluster_run, trained_run, tmp_path):
    refused = run_cli(["explore", str(cluster_run), "--target", "12", "--device", "cpu", "--out", str(tmp_path / "x.png")])
    assert refused.exit_code == 2 and "between 0 and 9" in refused.output and not (tmp_path / "x.png").exists()
    refused = run_cli(["cluster", str(trained_run), "--device", "cpu"])
    assert refused.exit_code == 2 and "no encoder" in refused.output


def test_clustergan_needs_a_cluster_prior(in_tmp):
    result = run_cli(["train", *SLICE, "--loss", "clustergan", "--steps", "1", "--out", "r"])
    assert result.exit_code == 2 and "cluster codes" in result.output and not (in_tmp / "r").exists()


def test_an_architecture_without_an_encoder_is_refused(in_tmp):
    class NoEncoder(Architecture):
        """An mlp that cannot build an encoder (a test double)."""

        name = "no-encoder"

        def build(self, spec):
            return MLP(MLP.Options()).build(spec)

    plugin = types.SimpleNamespace(register_architectures=hookimpl(lambda register: register(NoEncoder)))
    with plugin_registered(plugin):
        result = run_cli(["train", *SLICE, "--prior", "cluster", "--loss", "clustergan", "--arch", "no-encoder",
                          "--steps", "1", "--out", "r"])
    assert result.exit_code == 2 and "needs encoder" in " ".join(result.output.split())
    assert not (in_tmp / "r").exists()


def test_mlp_and_dcgan_say_they_provide_an_encoder():
    for arch in ("mlp", "dcgan"):
        assert "provides encoder" in run_cli(["plugins", "show", arch]).output


def test_perceptual_regulariser_trains_with_any_loss(in_tmp):
    result = run_cli(["train", *SLICE, "--perceptual", "1.0", "--steps", "3", "--out", "r"])
    assert result.exit_code == 0, result.output
    assert json.loads((in_tmp / "r" / "run.json").read_text())["train"]["perceptual"] == 1.0
    refused = run_cli(["train", *SLICE, "--perceptual", "-1", "--steps", "3", "--out", "s"])
    assert refused.exit_code == 2 and "0 or more" in refused.output


def test_perceptual_loss_is_zero_for_identical_batches_and_positive_otherwise():
    from gan_core.perceptual import perceptual_regulariser

    regulariser = perceptual_regulariser(2.0, (1, 28, 28), torch.device("cpu"))
    torch.manual_seed(0)
    real = torch.rand(16, 1, 28, 28) * 2 - 1
    assert regulariser(real, real.clone()).item() == pytest.approx(0.0, abs=1e-7)
    fake = torch.full_like(real, -1.0, requires_grad=True)
    value = regulariser(real, fake)
    value.backward()
    assert value.item() > 0 and fake.grad.abs().sum() > 0


def test_the_dcgan_encoder_follows_the_reference_and_old_runs_keep_theirs(tmp_path):
    """No batch norm in E by default (ClusterGAN's reference); a run saved before the option reopens with it."""
    from gan_core import NetworkSpec, create_component

    encoder = create_component("architecture", "dcgan").build_encoder(NetworkSpec((1, 28, 28), 40), 40)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in encoder.modules())
    run = tmp_path / "old"
    result = run_cli(["train", *SLICE, "--prior", "cluster", "--loss", "clustergan", "--arch", "dcgan",
                      "-o", "arch.width=8", "-o", "arch.encoder_norm=true", "--steps", "2", "--out", str(run)])
    assert result.exit_code == 0, result.output
    info = json.loads((run / "run.json").read_text())
    del info["components"]["architecture"]["options"]["encoder_norm"]  # as gan-core 0.1 saved it
    (run / "run.json").write_text(json.dumps(info))
    sampled = run_cli(["sample", str(run), "--n", "4", "--grid", str(tmp_path / "g.png")])
    assert sampled.exit_code == 0, sampled.output
