"""``gan plugin new``: each kind's skeleton passes its own tests, installs, registers and trains.

The generated packages are tested in subprocesses, the way their authors
run them: for every kind without installing (PYTHONPATH=src), and once,
for a loss, after a real ``pip install --target``. Their conformance suites
combine the new component with every plugin installed here, so a template
that only suits the core's own components fails.
"""

import os
import subprocess
import sys

import pytest

import gan_core.safefiles
import gan_core.scaffold
from gan_core.kinds import names as kind_names
from gan_core.scaffold import TEMPLATES, write_skeleton
from gan_core.testing import run_cli

#: ``gan`` in a subprocess (``python -m gan_core.cli`` does not run the app)
GAN = [sys.executable, "-c", "from gan_core.cli import main; main()"]


def run(args, *, cwd, **env):
    """Run ``args`` with this process's environment plus ``env``; fail with its output unless it exits 0."""
    proc = subprocess.run(args, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def run_own_tests(pkg, **env):
    return run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(pkg / "tests")], cwd=pkg,
               **env)


def listed(output):
    """The component table of ``gan plugins``, without the table of plugins that failed to load."""
    return output.split("plugins that failed to load")[0]


@pytest.mark.parametrize("kind", sorted(kind_names()))
def test_skeleton_passes_its_own_tests_uninstalled(tmp_path, kind):
    name = f"zz-{kind}"  # a hyphen, so the module name (gan_zz_...) differs from the entry-point name
    pkg = write_skeleton(name, kind, tmp_path / f"gan-{name}")
    assert f'{name} = "gan_zz_{kind}"' in (pkg / "pyproject.toml").read_text()
    proc = run_own_tests(pkg, PYTHONPATH=str(pkg / "src"))
    if kind in ("prior", "loss", "architecture"):  # they stack: the kit's stacked-equals-separate check ran, and passed
        assert f"PASSED tests/test_conformance.py::test_conformance[{kind}:{name}:stacked]" in proc.stdout, proc.stdout


def test_installed_skeleton_is_listed_trains_and_passes_its_tests(tmp_path, mnist_dir):
    pkg = write_skeleton("zz", "loss", tmp_path / "gan-zz")
    site = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         "--target", str(site), str(pkg)], cwd=tmp_path)
    installed = {"PYTHONPATH": str(site)}

    plugins = run([*GAN, "plugins"], cwd=tmp_path, **installed).stdout
    assert "zz" in listed(plugins) and "gan-zz" in listed(plugins), plugins

    run([*GAN, "train", "--prior", "gm-static", "--loss", "zz", "-o", "dataset.limit=256", "--batch-size", "32",
         "--steps", "2", "--device", "cpu", "--out", str(tmp_path / "run")], cwd=tmp_path, **installed)
    assert (tmp_path / "run" / "run.json").is_file()

    run_own_tests(pkg, **installed)  # the plugin now arrives through its entry point


def test_default_folder_is_gan_name_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(["plugin", "new", "zz", "--kind", "metric"])
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(tmp_path / "gan-zz").as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["README.md", "pyproject.toml", "src/gan_zz/__init__.py", "tests/test_conformance.py"]


def test_an_empty_folder_is_filled(tmp_path):
    (tmp_path / "here").mkdir()
    assert write_skeleton("zz", "dataset", tmp_path / "here") == tmp_path / "here"
    assert (tmp_path / "here" / "src" / "gan_zz" / "__init__.py").is_file()


@pytest.mark.parametrize("name", ["Bad_Name", "1zz", "zz-", "zz--a", "z z", ""])
def test_bad_name_is_refused_and_nothing_written(tmp_path, name):
    result = run_cli(["plugin", "new", name, "--kind", "loss", "--out", str(tmp_path / "gan-x")])
    assert result.exit_code == 2, result.output
    assert "cannot name a plugin" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "kind", "reason"), [("vanilla", "loss", "exists already"),
                                                      ("core", "prior", "is installed already")])
def test_taken_name_is_refused(tmp_path, name, kind, reason):
    result = run_cli(["plugin", "new", name, "--kind", kind, "--out", str(tmp_path / "gan-x")])
    assert result.exit_code == 2 and reason in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_is_refused(tmp_path):
    out = tmp_path / "gan-zz"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run_cli(["plugin", "new", "zz", "--kind", "loss", "--out", str(out)])
    assert result.exit_code == 2 and "not an empty folder" in result.output, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["gan-zz"] and [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(gan_core.safefiles.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_skeleton("zz", "prior", tmp_path / "gan-zz")
    assert list(tmp_path.iterdir()) == []


def test_every_kind_of_the_table_has_a_skeleton():
    assert set(TEMPLATES) == set(kind_names())
