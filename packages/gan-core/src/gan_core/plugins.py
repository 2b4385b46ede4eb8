"""The plugin manager: built-in plugins, entry-point plugins, load failures.

Built-in components are plain plugin modules listed in ``DEFAULT_PLUGINS`` and
registered exactly like third-party ones, so nothing built in is special.
Third-party plugins are found through the ``gan`` entry-point group. A plugin
that fails to import is recorded in ``failures`` and shown by ``gan plugins``
instead of breaking the CLI.

Environment variables:

* ``GAN_LOAD_PLUGINS=a,b`` loads only the named entry-point plugins
  (empty: none), the way out when a broken plugin breaks everything;
* ``GAN_DISABLE_PLUGINS=a,b`` skips the named plugins, built-in ones included
  (``gan_core.builtin.losses``, say);
* ``GAN_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from dataclasses import dataclass

import pluggy

from . import hookspecs

hookimpl = pluggy.HookimplMarker("gan")

DEFAULT_PLUGINS: tuple[str, ...] = (
    "gan_core.builtin.priors",
    "gan_core.builtin.losses",
    "gan_core.builtin.mlp",
    "gan_core.builtin.dcgan",
    "gan_core.builtin.datasets",
    "gan_core.builtin.samplers",
    "gan_core.builtin.metrics",
)

CORE_DISTRIBUTION = "gan-core"


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    package: str
    error: str


@dataclass(frozen=True)
class PluginOrigin:
    package: str
    version: str


class PluginHost:
    """A pluggy manager plus what ``gan plugins`` needs to know about each plugin."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("gan")
        self.pm.add_hookspecs(hookspecs)
        self.origins: dict[str, PluginOrigin] = {}
        self.failures: list[PluginFailure] = []
        if os.environ.get("GAN_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(lambda text: sys.stderr.write(f"[gan plugins] {text}"))
            self.pm.enable_tracing()

    def register(self, plugin: object, name: str, origin: PluginOrigin) -> None:
        self.pm.register(plugin, name=name)
        self.origins[name] = origin

    def load_defaults(self) -> None:
        disabled = _names_in("GAN_DISABLE_PLUGINS")
        version = _version_of(CORE_DISTRIBUTION)
        for module_name in DEFAULT_PLUGINS:
            if module_name in disabled:
                continue
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # reported by `gan plugins`, like any broken plugin
                self.failures.append(PluginFailure(module_name, CORE_DISTRIBUTION, f"{type(exc).__name__}: {exc}"))
                continue
            self.register(module, module_name, PluginOrigin(CORE_DISTRIBUTION, version))

    def load_entrypoints(self) -> None:
        only = _names_in("GAN_LOAD_PLUGINS") if "GAN_LOAD_PLUGINS" in os.environ else None
        disabled = _names_in("GAN_DISABLE_PLUGINS")
        for ep in importlib.metadata.entry_points(group="gan"):
            if ep.name in disabled or (only is not None and ep.name not in only):
                continue
            if self.pm.get_plugin(ep.name) is not None:
                continue
            dist = ep.dist.name if ep.dist else "unknown"
            version = ep.dist.version if ep.dist else "?"
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not break the CLI
                self.failures.append(PluginFailure(ep.name, dist, f"{type(exc).__name__}: {exc}"))
                continue
            self.register(plugin, ep.name, PluginOrigin(dist, version))


def _names_in(variable: str) -> set[str]:
    return {n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()}


def _version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_host: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, loaded on first use."""
    global _host
    if _host is None:
        host = PluginHost()
        host.load_defaults()
        host.load_entrypoints()
        _host = host
    return _host


def reset_host() -> None:
    """Forget the loaded plugins (tests use it after changing the environment)."""
    global _host
    _host = None
    from . import registry

    registry.reset_registry()
