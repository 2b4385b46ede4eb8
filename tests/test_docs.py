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
