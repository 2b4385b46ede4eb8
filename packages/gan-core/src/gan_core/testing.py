"""A kit for testing plugins: register a throwaway plugin, run the CLI in-process.

Example, in a plugin package's tests::

    from gan_core.testing import plugin_registered, run_cli

    def test_my_prior_is_listed():
        with plugin_registered(my_plugin_module):
            result = run_cli(["plugins"])
        assert "my-prior" in result.output
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from typer.testing import CliRunner, Result

from .plugins import PluginOrigin, get_host, reset_host
from .registry import Registry, get_registry


@contextmanager
def plugin_registered(plugin: object, name: str = "test-plugin", package: str = "test") -> Iterator[Registry]:
    """Register ``plugin`` (a module or object with hook implementations) for the block's duration."""
    reset_host()
    host = get_host()
    host.register(plugin, name, PluginOrigin(package, "0"))
    try:
        yield get_registry()
    finally:
        reset_host()


def run_cli(args: Sequence[str], **kwargs: Any) -> Result:
    """Run ``gan ARGS`` in this process and return Typer's result (exit_code, output)."""
    from .cli import app

    return CliRunner().invoke(app, list(args), **kwargs)
