"""examples/gan-outside, installed the way a user installs a third-party plugin, used through the real CLI.

The package is pip-installed into a temporary folder (not the venv: that
would change the entry points every other test sees) and each ``gan`` call
runs in a subprocess with that folder on PYTHONPATH, so the plugin is found
through its entry point exactly as after ``pip install gan-outside``. Its
components are combined with the built-ins and with gan-gm's prior.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "examples" / "gan-outside"
#: a small MNIST slice on the CPU: a few steps train in about a second
TINY = ["-o", "dataset.limit=256", "--batch-size", "32", "--steps", "3", "--device", "cpu"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the installed gan-outside, for PYTHONPATH.

    Built from a copy of the sources, because an in-tree build leaves
    build/ and *.egg-info behind in the repository.
    """
    root = tmp_path_factory.mktemp("gan-outside")
    source = root / "src"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = root / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet"]
    done = subprocess.run([*pip, "--target", str(target), str(source)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def environment(site: Path) -> dict[str, str]:
    paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "COLUMNS": "200",  # a wide table: names are not wrapped
        "PYTHONDONTWRITEBYTECODE": "1",  # nothing written into the repository's tree
        # Tiny models: threads only contend. One each made the package's suite 4x faster on 2 cores.
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }


def gan(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from gan_core.cli import main; main()", *args]
    return subprocess.run(
        command, cwd=cwd, env=environment(site), capture_output=True, text=True, timeout=120, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def trained() -> dict[str, Path]:
    """Runs trained so far in this module, so the sampling and eval tests share one."""
    return {}


@pytest.fixture
def ragan_run(mnist_dir: Path, site: Path, trained: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of the plugin's loss with gan-gm's prior: two third-party packages in one combination.

    Function-scoped around a module cache because ``mnist_dir`` (skip
    without MNIST) is function-scoped.
    """
    if "R1" not in trained:
        runs = tmp_path_factory.mktemp("runs")
        ok(gan(site, runs, "train", "--prior", "gm-static", "--loss", "ragan", *TINY, "--out", "R1"))
        trained["R1"] = runs / "R1"
    return trained["R1"]


def test_plugins_lists_every_component_from_gan_outside(site, tmp_path):
    listing = json.loads(ok(gan(site, tmp_path, "plugins", "--json")).stdout)
    rows = {(c["kind"], c["name"], c["package"]) for c in listing["components"]}
    for kind, name in [("loss", "ragan"), ("prior", "hypersphere"), ("sampler", "top-k"), ("metric", "mean-gap")]:
        assert (kind, name, "gan-outside") in rows, listing
    assert not [f for f in listing["failures"] if f["package"] == "gan-outside"], listing["failures"]


def test_ragan_trains_with_a_gm_prior(ragan_run):
    info = json.loads((ragan_run / "run.json").read_text())
    assert info["status"] == "finished"
    assert (info["components"]["loss"]["package"], info["components"]["prior"]["package"]) == ("gan-outside", "gan-gm")


def test_hypersphere_trains_with_built_in_loss_and_architecture(site, tmp_path, mnist_dir):
    args = ["train", "--prior", "hypersphere", "--loss", "hinge", "--arch", "dcgan", *TINY, "--out", "R2"]
    ok(gan(site, tmp_path, *args))
    assert json.loads((tmp_path / "R2" / "run.json").read_text())["components"]["prior"]["name"] == "hypersphere"


def test_top_k_samples_exactly_n_images(site, ragan_run, tmp_path):
    ok(gan(site, tmp_path, "sample", str(ragan_run), "--sampler", "top-k", "--n", "20", "--out", "X.npz"))
    assert np.load(tmp_path / "X.npz")["images"].shape[0] == 20


def test_eval_reports_mean_gap_beside_a_built_in_metric(site, ragan_run, tmp_path):
    args = ["eval", str(ragan_run), "--metrics", "mean-gap,fid", "--n", "200", "--device", "cpu", "--json"]
    report = json.loads(ok(gan(site, tmp_path, *args)).stdout)
    assert 0 <= report["metrics"]["mean-gap"] <= 1 and "fid" in report["metrics"]
    assert report["directions"]["mean-gap"] == "lower"


def test_the_package_own_tests_pass_installed(site):
    """Its conformance suite and unit tests, importing gan_outside from the install (src layout: not from the tree)."""
    where = [sys.executable, "-c", "import gan_outside; print(gan_outside.__file__)"]
    found = subprocess.run(where, cwd=REPO, env=environment(site), capture_output=True, text=True, check=False)
    assert Path(found.stdout.strip()).is_relative_to(site), found.stdout + found.stderr
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PACKAGE / "tests")]
    result = subprocess.run(
        command, cwd=REPO, env=environment(site), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
