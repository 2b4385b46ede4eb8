"""Bad input: one sentence, exit code 2, nothing left on disk."""

from __future__ import annotations

import pytest
import torch

from gan_core.testing import run_cli

from .conftest import SLICE


def refused(args, *fragments):
    result = run_cli(args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for fragment in fragments:
        assert fragment in text, text
    assert "Traceback" not in result.output
    return text


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--loss", "vanila"], ["no loss named 'vanila'", "did you mean 'vanilla'"]),
        (["--prior", "norml"], ["no prior named 'norml'", "did you mean 'normal'"]),
        (["--arch", "mpl"], ["did you mean 'mlp'"]),
        (["-o", "arch.dropuot=0.1"], ["architecture 'mlp' has no option 'dropuot'", "did you mean 'dropout'"]),
        (["-o", "arch.dropout=lots"], ["must be a number, not 'lots'"]),
        (["-o", "arch.dropout=2"], ["must be at most 0.95"]),
        (["-o", "nonsense"], ["KIND.KEY=VALUE"]),
        (["--betas", "0.5"], ["needs 2 comma-separated values"]),
        (["--batch-size", "0"], ["must be at least 1"]),
        (["--device", "cuda"] if not torch.cuda.is_available() else ["--device", "tpu"], ["device"]),
        (["--batch-size", "4096"], ["fewer than one step needs"]),
    ],
)
def test_train_refuses_bad_input_and_writes_nothing(in_tmp, args, fragments):
    refused(["train", *SLICE, "--steps", "2", "--out", "run", *args], *fragments)
    assert list(in_tmp.iterdir()) == []


def test_missing_data_names_files_and_folders(in_tmp, monkeypatch):
    monkeypatch.delenv("GAN_DATA_DIR", raising=False)
    text = refused(["train", "--dataset", "mnist", "--data-dir", str(in_tmp / "nowhere"), "--steps", "1",
                    "--out", "run"], "train-images-idx3-ubyte")
    assert "nowhere" in text
    assert not (in_tmp / "run").exists()


def test_folder_dataset_without_images(in_tmp):
    (in_tmp / "empty").mkdir()
    refused(["train", "--dataset", "folder", "-o", f"dataset.path={in_tmp / 'empty'}", "--steps", "1", "--out", "run"],
            "holds no images")
    assert not (in_tmp / "run").exists()


def test_existing_output_is_not_overwritten(in_tmp, trained_run):
    refused(["train", *SLICE, "--steps", "1", "--out", str(trained_run)], "already exists", "--resume")


def test_bad_run_directories(in_tmp, trained_run):
    refused(["sample", str(in_tmp / "missing"), "--out", "x"], "there is no run at")
    (in_tmp / "notarun").mkdir()
    refused(["sample", str(in_tmp / "notarun"), "--out", "x"], "is not a run directory")
    assert not (in_tmp / "x").exists()


def test_pickled_weights_are_refused(in_tmp, trained_run):
    import shutil

    fake = in_tmp / "fake"
    shutil.copytree(trained_run, fake)
    torch.save({"generator.net.0.weight": torch.zeros(1)}, fake / "weights.safetensors")
    refused(["sample", str(fake), "--out", "x"], "is not a safetensors file")


def test_sample_needs_an_output_and_a_valid_class(trained_run, in_tmp):
    refused(["sample", str(trained_run)], "nothing to write")
    refused(["sample", str(trained_run), "--out", "x", "--class", "3"], "has none")
    refused(["sample", str(trained_run), "--sampler", "drx", "--out", "x"], "no sampler named 'drx'")


def test_unknown_config_keys_are_refused(in_tmp):
    (in_tmp / "run.toml").write_text("epocs = 3\n")
    refused(["train", "--config", "run.toml"], "unknown setting 'epocs'")


def test_debug_shows_the_traceback(in_tmp):
    result = run_cli(["--debug", "train", "--loss", "nope", "--steps", "1"])
    assert result.exit_code == 2 and "Traceback" in result.output


def test_impossible_combination_is_refused_before_anything_is_written(in_tmp):
    """A prior that needs labels, with a folder of unlabelled images."""
    import types

    from PIL import Image

    from gan_core import Latent, Prior, hookimpl
    from gan_core.testing import plugin_registered

    class NeedsLabels(Prior):
        """Needs labels (a test double)."""

        name = "needs-labels"
        requires = {"labels": "component k stands for class k"}

        def sample(self, n, *, component=None):
            return Latent(torch.zeros(n, self.latent_dim))

    plugin = types.SimpleNamespace(register_priors=hookimpl(lambda register: register(NeedsLabels)))
    (in_tmp / "imgs").mkdir()
    for i in range(4):
        Image.new("L", (28, 28), i).save(in_tmp / "imgs" / f"{i}.png")
    with plugin_registered(plugin):
        refused(["train", "--prior", "needs-labels", "--dataset", "folder", "-o", f"dataset.path={in_tmp / 'imgs'}",
                        "--batch-size", "2", "--steps", "1", "--out", "run"],
                       "prior 'needs-labels' needs labelled data (component k stands for class k)",
                       "dataset 'folder' has no labels")
    assert not (in_tmp / "run").exists()
