"""The kit for testing plugins: conformance checks, a registered plugin, the CLI in-process.

The conformance suite, in a plugin package's tests (it works whether or not
the package is pip-installed)::

    import gan_laplace
    from gan_core.testing import conformance_suite

    test_conformance = conformance_suite(gan_laplace)

pytest then runs one test per check of every component the plugin
registers (ids like ``prior:laplace:state``), each combined with every
installed component of the other kinds where it trains; see
:mod:`gan_core.conformance` for the list. ``options={"name": {...}}`` sets
component options for the checks (a short fit, say).

And for your own tests::

    from gan_core.testing import plugin_registered, run_cli

    def test_my_prior_is_listed():
        with plugin_registered(gan_laplace):
            result = run_cli(["plugins"])
        assert "laplace" in result.output
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from typer.testing import CliRunner, Result

from .conformance import Case, ConformanceFailure, Skip, cases_for
from .plugins import PluginOrigin, get_host, reset_host
from .registry import Registry, get_registry

__all__ = [
    "Case",
    "ConformanceFailure",
    "conformance_cases",
    "conformance_suite",
    "plugin_registered",
    "run_cli",
]


@contextmanager
def plugin_registered(plugin: object, name: str | None = None, package: str = "test") -> Iterator[Registry]:
    """``plugin`` (a module or object with hook implementations) registered for the block's duration.

    ``name`` defaults to the module's name. A plugin that is already loaded
    (pip-installed, found through its entry point) is used as it is instead
    of being registered a second time.
    """
    reset_host()
    host = get_host()
    if not host.is_registered(plugin):
        host.register(plugin, name or getattr(plugin, "__name__", "test-plugin"), PluginOrigin(package, "0"))
    try:
        yield get_registry()
    finally:
        reset_host()


def run_cli(args: Sequence[str], **kwargs: Any) -> Result:
    """Run ``gan ARGS`` in this process and return Typer's result (exit_code, output)."""
    from .cli import app

    return CliRunner().invoke(app, list(args), **kwargs)


def _plugin_name(plugin: object) -> str | None:
    host = get_host()
    return host.pm.get_name(plugin) if host.is_registered(plugin) else None


def conformance_cases(plugin: object, *, package: str = "local",
                      options: Mapping[str, Mapping[str, Any]] | None = None) -> list[Case]:
    """Every conformance check for the components ``plugin`` registers (a module, or an installed package's name).

    A plugin that fails to register gives one case that fails with the reason.
    """
    with _available(plugin, package) as (registry, plugin_names):
        label = ", ".join(sorted(plugin_names))
        failure = next((f for f in registry.failures if f.plugin in plugin_names), None)
        if failure is not None:
            return [Case("plugin", failure.plugin, "registers", options={"error": {"message": failure.error}})]
        entries = [e for e in registry.all() if e.plugin in plugin_names]
        if not entries:
            return [Case("plugin", label, "registers", options={"error": {"message": "it registers no component"}})]
        return cases_for(registry, entries, options or {})


def conformance_suite(plugin: object, *, package: str = "local",
                      options: Mapping[str, Mapping[str, Any]] | None = None) -> Any:
    """A pytest test function parametrised over :func:`conformance_cases`; assign it to a ``test_`` name."""
    import pytest

    cases = conformance_cases(plugin, package=package, options=options)

    @pytest.mark.parametrize("case", cases, ids=[case.id for case in cases])
    def test_conformance(case: Case) -> None:
        run_case(plugin, case, package)

    return test_conformance


def run_case(plugin: object, case: Case, package: str = "local") -> None:
    """Run one case with ``plugin`` available; pytest.skip when it does not apply, AssertionError when it fails."""
    import pytest

    if case.check == "registers":
        raise ConformanceFailure(f"plugin '{case.name}' was not loaded: {case.options['error']['message']}")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the checks' tensors are tiny: threads cost more than they give (4x on 2 cores)
    try:
        with _available(plugin, package) as (registry, _):
            case.run(registry)
    except Skip as exc:
        pytest.skip(str(exc))
    finally:
        torch.set_num_threads(threads)


@contextmanager
def _available(plugin: object, package: str) -> Iterator[tuple[Registry, set[str]]]:
    """The registry with ``plugin`` in it, and the names of the plugin(s) it stands for there."""
    if isinstance(plugin, str):  # installed plugins, by entry-point or distribution name (gan-core: every built-in)
        registry = get_registry()
        names = {n for n, o in registry.host.origins.items() if plugin in (n, o.package)}
        names |= {f.plugin for f in registry.failures if plugin in (f.plugin, f.package)}
        if not names:
            raise LookupError(f"no installed gan plugin is named {plugin!r}; pip install it or pass its module")
        yield registry, names
        return
    existing = _plugin_name(plugin)
    if existing is not None:
        yield get_registry(), {existing}
        return
    name = getattr(plugin, "__name__", "plugin-under-test")
    with plugin_registered(plugin, name=name, package=package) as registry:
        yield registry, {name}
