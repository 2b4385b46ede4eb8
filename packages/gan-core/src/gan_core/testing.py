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

A command plugin's commands are there too (``run_cli`` builds the CLI from
the plugins in use). To test a plugin on its own, without the installed
ones, build its CLI with :func:`cli_for`::

    result = CliRunner().invoke(cli_for(gan_hello, builtins=False), ["hello"])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from typer.testing import CliRunner, Result

from .conformance import Case, ConformanceFailure, Skip, cases_for
from .plugins import PluginManager, PluginOrigin, load_plugins
from .registry import Registry, get_registry, use_registry

if TYPE_CHECKING:
    import typer

__all__ = [
    "Case",
    "ConformanceFailure",
    "cli_for",
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
    of being registered a second time. The plugins are loaded afresh for the
    block, and what was in use before is in use again after it.
    """
    with use_registry(_registry_with(plugin, name, package, load_plugins()).collect()) as registry:
        yield registry


def cli_for(plugin: object, name: str | None = None, package: str = "test", *, builtins: bool = True) -> typer.Typer:
    """The ``gan`` CLI of a registry holding ``plugin``, which need not be installed: its commands included.

    ``builtins=False`` leaves out everything else (gan-core's components and
    the installed plugins), to test the plugin alone. Invoke it with
    ``typer.testing.CliRunner``; it uses its own registry while a command
    runs, and changes nothing for the rest of the process.
    """
    from .cli import make_app

    manager = load_plugins() if builtins else PluginManager()
    return make_app(_registry_with(plugin, name, package, manager))


def run_cli(args: Sequence[str], **kwargs: Any) -> Result:
    """Run ``gan ARGS`` in this process and return Typer's result (exit_code, output).

    The CLI is built from the plugins in use when it is called, so inside
    :func:`plugin_registered` the plugin's own commands are there too.
    """
    from .cli import make_app

    return CliRunner().invoke(make_app(), list(args), **kwargs)


def _registry_with(plugin: object, name: str | None, package: str, manager: PluginManager) -> Registry:
    """A registry of ``manager`` with ``plugin`` registered in it (unless it is there already)."""
    if not manager.is_registered(plugin):
        manager.register(plugin, name or getattr(plugin, "__name__", "test-plugin"), PluginOrigin(package, "0"))
    return Registry(manager)


def _plugin_name(plugin: object) -> str | None:
    manager = get_registry().manager
    return manager.get_name(plugin) if manager.is_registered(plugin) else None


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
        names = {n for n, o in registry.manager.origins.items() if plugin in (n, o.package)}
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
