"""The plugin manager: built-in plugins, entry-point plugins, load failures.

Built-in components are plain plugin modules listed in ``DEFAULT_PLUGINS`` and
registered exactly like third-party ones, so nothing built in is special.
Third-party plugins are found through the ``gan`` entry-point group.

Loading never breaks the CLI: a plugin that fails to import, declares an
API range this gan-core does not implement, implements a hook that does not
exist (``register_prior``) or with the wrong arguments is recorded in
``failures`` (shown by ``gan plugins``) and left out; every other plugin
still loads.

Environment variables (each name may be an entry-point name, a distribution
name such as ``gan-gm``, or a built-in module such as
``gan_core.builtin.losses``; ``gan-core`` names every built-in):

* ``GAN_LOAD_PLUGINS=a,b`` loads only the named entry-point plugins
  (empty: none), the way out when a broken plugin breaks everything;
* ``GAN_DISABLE_PLUGINS=a,b`` skips the named plugins, built-in ones included;
* ``GAN_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pluggy

from . import hookspecs
from .api_version import API_ATTRIBUTE, DEFAULT_RANGE, PLUGIN_API_VERSION, supports

hookimpl = pluggy.HookimplMarker("gan")

DEFAULT_PLUGINS: tuple[str, ...] = (
    "gan_core.builtin.priors",
    "gan_core.builtin.losses",
    "gan_core.builtin.mlp",
    "gan_core.builtin.dcgan",
    "gan_core.builtin.datasets",
    "gan_core.builtin.samplers",
    "gan_core.builtin.metrics",
    "gan_core.builtin.features",
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


def hook_names() -> list[str]:
    """Every hook gan calls, in declaration order."""
    return [name for name, obj in vars(hookspecs).items() if name.startswith("register_") and callable(obj)]


def tracing() -> bool:
    return bool(os.environ.get("GAN_TRACE_PLUGINS"))


def trace(text: str) -> None:
    """One line on stderr when ``GAN_TRACE_PLUGINS`` is set."""
    if tracing():
        sys.stderr.write(f"[gan plugins] {text}\n")


class PluginHost:
    """A pluggy manager plus what ``gan plugins`` needs to know about each plugin."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("gan")
        self.pm.add_hookspecs(hookspecs)
        self.origins: dict[str, PluginOrigin] = {}
        self.failures: list[PluginFailure] = []

    def register(self, plugin: object, name: str, origin: PluginOrigin) -> bool:
        """Add one plugin after checking its hooks and API range; a refused one becomes a failure."""
        problem = self.problem_with(plugin)
        if problem is None:
            try:
                self.pm.register(plugin, name=name)
            except Exception as exc:  # pluggy's own validation, in one line
                problem = " ".join(f"{type(exc).__name__}: {exc}".split())
        if problem is not None:
            self.failures.append(PluginFailure(name, origin.package, problem))
            return False
        self.origins[name] = origin
        trace(f"registered {name} ({origin.package} {origin.version})")
        return True

    def is_registered(self, plugin: object) -> bool:
        return self.pm.is_registered(plugin)

    def plugin_names(self) -> list[str]:
        """Registered plugins in registration order (built-ins first)."""
        return list(self.origins)

    def call(self, hook: str, plugin_name: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of ``hook`` (None if it has none), traced."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin_name == plugin_name:
                trace(f"{hook}({', '.join(kwargs)}) -> {plugin_name}")
                result = impl.function(**kwargs)
                trace(f"{hook} <- {plugin_name}: {result!r}" if result is not None else f"{hook} <- {plugin_name}: done")
                return result
        return None

    def implementers(self, hook: str) -> list[str]:
        """Names of the plugins implementing ``hook``, in registration order."""
        impls = {impl.plugin_name for impl in getattr(self.pm.hook, hook).get_hookimpls()}
        return [name for name in self.plugin_names() if name in impls]

    def problem_with(self, plugin: object) -> str | None:
        """Why ``plugin`` cannot be loaded (unknown hooks, wrong arguments, API range), or None."""
        declared = getattr(plugin, API_ATTRIBUTE, None) or DEFAULT_RANGE
        if declared:
            try:
                fits = supports(str(declared))
            except ValueError as exc:
                return f"its {API_ATTRIBUTE} is invalid: {exc}"
            if not fits:
                return (
                    f"incompatible: it supports gan plugin API {declared} but this gan-core provides "
                    f"{PLUGIN_API_VERSION}; install a release of it made for API {PLUGIN_API_VERSION}"
                )
        known = hook_names()
        for attr in dir(plugin):
            try:
                opts = self.pm.parse_hookimpl_opts(plugin, attr)
            except Exception:  # an attribute that cannot even be read
                continue
            if opts is None:
                continue
            if attr not in known:
                close = difflib.get_close_matches(attr, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; gan's hooks are {', '.join(known)}"
                return f"it implements '{attr}', which is not a gan hook{hint}"
            expected = list(inspect.signature(getattr(hookspecs, attr)).parameters)
            try:
                given = list(inspect.signature(getattr(plugin, attr)).parameters)
            except (TypeError, ValueError):
                continue
            kinds = {p.name: p.kind for p in inspect.signature(getattr(plugin, attr)).parameters.values()}
            unknown = [p for p in given if p not in expected and kinds[p] is not inspect.Parameter.VAR_KEYWORD]
            if unknown:
                return (
                    f"its hook {attr}({', '.join(given)}) takes {', '.join(map(repr, unknown))}, but gan passes "
                    f"{', '.join(map(repr, expected))}; rename the argument to match"
                )
        return None

    def load_defaults(self) -> None:
        version = _version_of(CORE_DISTRIBUTION)
        for module_name in DEFAULT_PLUGINS:
            if _selected(module_name, CORE_DISTRIBUTION, "GAN_DISABLE_PLUGINS"):
                continue
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # reported by `gan plugins`, like any broken plugin
                self.failures.append(PluginFailure(module_name, CORE_DISTRIBUTION, f"{type(exc).__name__}: {exc}"))
                continue
            self.register(module, module_name, PluginOrigin(CORE_DISTRIBUTION, version))

    def load_entrypoints(self) -> None:
        only = "GAN_LOAD_PLUGINS" in os.environ
        for ep in importlib.metadata.entry_points(group="gan"):
            dist = ep.dist.name if ep.dist else "unknown"
            version = ep.dist.version if ep.dist else "?"
            if _selected(ep.name, dist, "GAN_DISABLE_PLUGINS") or (only and not _selected(ep.name, dist, "GAN_LOAD_PLUGINS")):
                continue
            if self.pm.get_plugin(ep.name) is not None:
                other = self.origins.get(ep.name)
                if other is not None and other.package != dist:
                    self.failures.append(PluginFailure(ep.name, dist, f"its entry-point name '{ep.name}' is already "
                                                       f"used by {other.package}; one of the two must rename it"))
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not break the CLI
                self.failures.append(PluginFailure(ep.name, dist, f"{type(exc).__name__}: {exc}"))
                continue
            if self.pm.is_registered(plugin):  # two entry points naming one module
                continue
            self.register(plugin, ep.name, PluginOrigin(dist, version))


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _names_in(variable: str) -> set[str]:
    return {_normalise(n) for n in os.environ.get(variable, "").split(",") if n.strip()}


def _selected(plugin: str, distribution: str, variable: str) -> bool:
    """Whether the variable names this plugin, by plugin (entry-point, module) or distribution name."""
    names = _names_in(variable)
    return _normalise(plugin) in names or _normalise(distribution) in names


def _version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_host: PluginHost | None = None
#: called whenever the host is dropped, so caches built from it (the registry) follow
_on_reset: list[Callable[[], None]] = []


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
    for forget in _on_reset:
        forget()
