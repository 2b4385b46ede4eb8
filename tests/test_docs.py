"""Documentation cannot fall behind the hooks, and the tutorial's code works."""

from __future__ import annotations

import inspect
import json
import re
import sys
import types
from pathlib import Path

from gan_core import hookspecs
from gan_core.testing import plugin_registered, run_cli

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def hook_names() -> list[str]:
    return [name for name, obj in vars(hookspecs).items() if name.startswith("register_") and callable(obj)]


def test_every_hook_has_a_reference_heading_with_its_arguments():
    text = DOCS.read_text()
    for name in hook_names():
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"### {name}({params})" in text, f"docs/plugins.md lacks '### {name}({params})'"


def tutorial_module(monkeypatch) -> types.ModuleType:
    code = re.search(r"`gan_laplace.py`:\n\n```python\n(.*?)```", DOCS.read_text(), re.S).group(1)
    module = types.ModuleType("gan_laplace")
    monkeypatch.setitem(sys.modules, "gan_laplace", module)  # dataclasses look their module up
    exec(compile(code, "docs/plugins.md", "exec"), module.__dict__)  # noqa: S102 - our own documentation
    return module


def test_the_tutorial_plugin_trains(tmp_path, monkeypatch):
    with plugin_registered(tutorial_module(monkeypatch), name="laplace", package="gan-laplace"):
        assert "laplace" in run_cli(["plugins"]).output
        result = run_cli(["train", "--prior", "laplace", "-o", "prior.scale=0.5", "-o", "dataset.limit=128",
                          "--batch-size", "32", "--steps", "2", "--device", "cpu", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["components"]["prior"] == {"name": "laplace", "options": {"scale": 0.5}, "package": "gan-laplace", "version": "0"}


def block(caption: str, language: str) -> str:
    """The code block that follows ``caption`` in docs/plugins.md."""
    match = re.search(re.escape(caption) + r"[^\n]*\n\n```" + language + r"\n(.*?)```", DOCS.read_text(), re.S)
    assert match, f"docs/plugins.md has no {language} block after {caption!r}"
    return match.group(1)


def test_the_tutorial_package_installs_trains_and_passes_its_tests(tmp_path, mnist_dir):
    """The worked example as a user meets it: pip-installed from the page, then `gan` and pytest."""
    import os
    import subprocess

    package, target = tmp_path / "gan-laplace", tmp_path / "site"
    package.mkdir()
    (package / "gan_laplace.py").write_text(block("`gan_laplace.py`:", "python"))
    (package / "pyproject.toml").write_text(block("`pyproject.toml` beside it:", "toml"))
    (package / "test_laplace.py").write_text(block("`test_laplace.py`:", "python"))
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--target", str(target), str(package)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    env = {**os.environ, "PYTHONPATH": str(target)}
    gan = [sys.executable, "-c", "from gan_core.cli import main; main()"]
    listing = subprocess.run([*gan, "plugins"], env=env, capture_output=True, text=True)
    assert listing.returncode == 0 and "gan-laplace" in listing.stdout, listing.stdout + listing.stderr
    trained = subprocess.run([*gan, "train", "--prior", "laplace", "-o", "prior.scale=0.5", "-o", "dataset.limit=128",
                              "--batch-size", "32", "--steps", "2", "--device", "cpu", "--out", str(tmp_path / "run")],
                             env=env, capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["components"]["prior"]["package"] == "gan-laplace" and info["components"]["prior"]["version"] == "0.1.0"
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_laplace.py"],
                           cwd=package, env=env, capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_results_page_tables_are_what_the_committed_records_give():
    """docs/results.md's figures are generated (benchmarks/results_page.py), never typed: rerunning changes nothing."""
    import subprocess

    result = subprocess.run([sys.executable, str(DOCS.parents[1] / "benchmarks" / "results_page.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
