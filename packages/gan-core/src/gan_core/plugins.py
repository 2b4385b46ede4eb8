"""The plugin manager: built-in plugins, entry-point plugins, load failures.

Built-in components are plain plugin modules listed in ``DEFAULT_PLUGINS`` and
registered exactly like third-party ones, so nothing built in is special.
Third-party plugins are found through the ``gan`` entry-point group.

One :class:`PluginManager` (a ``pluggy.PluginManager``) holds every plugin
of a process, or of a test, and is handed to what needs it, the way pytest
hands out ``config.pluginmanager``: a :class:`gan_core.registry.Registry` is
built from one, and the CLI from a registry (``gan_core.cli.make_app``). The
process default is ``gan_core.registry.get_registry()``; there is no second
global to keep in step with it.

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
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy

from . import hookspecs
from .api_version import API_ATTRIBUTE, DEFAULT_RANGE, PLUGIN_API_VERSION, supports

#: pluggy's project name: the marker below and the entry-point group
PROJECT = "gan"

hookimpl = pluggy.HookimplMarker(PROJECT)

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


#: the attribute of a stand-in module that holds the unhashable plugin it stands for
_HELD = "__gan_plugin__"

#: the origin of a plugin registered without one (a test's object, say)
UNKNOWN_ORIGIN = PluginOrigin("unknown", "?")


def hook_names() -> list[str]:
    """Every hook gan calls, in declaration order."""
    return [name for name, obj in vars(hookspecs).items() if name.startswith("register_") and callable(obj)]


def tracing() -> bool:
    return bool(os.environ.get("GAN_TRACE_PLUGINS"))


def trace(text: str) -> None:
    """One line on stderr when ``GAN_TRACE_PLUGINS`` is set."""
    if tracing():
        sys.stderr.write(f"[gan plugins] {text}\n")


def one_line(exc: BaseException) -> str:
    """An exception as the one line ``gan plugins`` shows (pluggy's messages span several)."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, plus where each plugin came from and which plugins failed to load.

    Hooks are called through pluggy itself (``self.hook``,
    :meth:`call` for one plugin's implementation); what gan adds is checking a
    plugin before pluggy sees it, so that a refused plugin is a line in
    ``failures`` instead of an exception that stops every command.
    """

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.add_hookspecs(hookspecs)
        #: plugin name -> the distribution it came from, in registration order (built-ins first)
        self.origins: dict[str, PluginOrigin] = {}
        #: plugins left out, and why; ``gan plugins`` lists them
        self.failures: list[PluginFailure] = []
        if tracing():
            self.add_hookcall_monitoring(_trace_call, _trace_result)

    @property
    def pm(self) -> PluginManager:
        """This manager (it used to wrap a separate pluggy manager under this name)."""
        return self

    def register(self, plugin: object, name: str | None = None, origin: PluginOrigin | None = None) -> str | None:
        """Add one plugin after checking its hooks and API range; its name, or None when refused.

        A refused plugin becomes a failure instead of an exception: one broken
        plugin must not take the others (and the CLI) down with it.
        """
        name = name or self.get_canonical_name(plugin)
        origin = origin or UNKNOWN_ORIGIN
        problem = self.problem_with(plugin)
        registered = None
        if problem is None:
            try:
                registered = super().register(self._hashable(plugin), name=name)
            except Exception as exc:  # pluggy's own validation, in one line
                problem = one_line(exc)
        if problem is not None:
            self.fail(name, origin.package, problem)
            return None
        if registered is not None:
            self.origins[registered] = origin
            trace(f"registered {registered} ({origin.package} {origin.version})")
        return registered

    def is_registered(self, plugin: object) -> bool:
        return self.get_name(plugin) is not None

    def get_name(self, plugin: object) -> str | None:
        """The name ``plugin`` is registered under (also when it is held through a stand-in), or None."""
        for name, held in self.list_name_plugin():
            if held is plugin or getattr(held, _HELD, None) is plugin:
                return name
        return None

    def _hashable(self, plugin: object) -> object:
        """``plugin``, or a module holding its hook implementations when it cannot be hashed.

        pluggy keys plugins by hash where it calls a subset of them, and a
        ``SimpleNamespace`` or a dataclass instance has none; such objects were
        always accepted as plugins (tests make them), so they still are.
        """
        try:
            hash(plugin)
            return plugin
        except TypeError:
            pass
        stand_in = types.ModuleType(f"gan-plugin-{id(plugin):x}")
        setattr(stand_in, _HELD, plugin)
        for attr in dir(plugin):
            try:
                if self.parse_hookimpl_opts(plugin, attr) is not None:
                    setattr(stand_in, attr, getattr(plugin, attr))
            except Exception:  # an attribute that cannot even be read is no hook (problem_with agrees)
                continue
        return stand_in

    def fail(self, plugin: str, package: str, error: str) -> PluginFailure:
        """Record that ``plugin`` is left out, and why (once: each CLI built from this manager finds it again)."""
        failure = PluginFailure(plugin, package, error)
        if failure not in self.failures:
            self.failures.append(failure)
        return failure

    def package_of(self, plugin_name: str) -> str:
        return self.origins.get(plugin_name, UNKNOWN_ORIGIN).package

    def plugin_names(self) -> list[str]:
        """Registered plugins in registration order (built-ins first)."""
        return list(self.origins)

    def call(self, hook: str, plugin_name: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of ``hook`` through pluggy; its result (None if it has none).

        Registering is done plugin by plugin so that each plugin's components
        are accepted or refused together; pluggy's subset caller leaves out
        every other plugin.
        """
        if plugin_name not in self.implementers(hook):
            return None
        plugin = self.get_plugin(plugin_name)
        others = [p for _, p in self.list_name_plugin() if p is not None and p is not plugin]
        results = self.subset_hook_caller(hook, remove_plugins=others)(**kwargs)
        return results[0] if results else None

    def implementers(self, hook: str) -> list[str]:
        """Names of the plugins implementing ``hook``, in registration order."""
        impls = {impl.plugin_name for impl in getattr(self.hook, hook).get_hookimpls()}
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
                opts = self.parse_hookimpl_opts(plugin, attr)
            except Exception:  # an attribute that cannot even be read
                continue
            if opts is None:
                continue
            problem = _hook_problem(plugin, attr, known)
            if problem is not None:
                return problem
        return None

    def load_defaults(self) -> None:
        """Register gan-core's built-in plugin modules (those ``GAN_DISABLE_PLUGINS`` leaves)."""
        version = _version_of(CORE_DISTRIBUTION)
        for module_name in DEFAULT_PLUGINS:
            if _selected(module_name, CORE_DISTRIBUTION, "GAN_DISABLE_PLUGINS"):
                continue
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # reported by `gan plugins`, like any broken plugin
                self.fail(module_name, CORE_DISTRIBUTION, f"{type(exc).__name__}: {exc}")
                continue
            self.register(module, module_name, PluginOrigin(CORE_DISTRIBUTION, version))

    def load_entrypoints(self) -> None:
        """Register the ``gan`` entry points that ``GAN_LOAD_PLUGINS`` and ``GAN_DISABLE_PLUGINS`` select."""
        only = "GAN_LOAD_PLUGINS" in os.environ
        for ep in importlib.metadata.entry_points(group=PROJECT):
            dist = ep.dist.name if ep.dist else "unknown"
            version = ep.dist.version if ep.dist else "?"
            if _selected(ep.name, dist, "GAN_DISABLE_PLUGINS") or (only and not _selected(ep.name, dist, "GAN_LOAD_PLUGINS")):
                continue
            if self.get_plugin(ep.name) is not None:
                other = self.origins.get(ep.name)
                if other is not None and other.package != dist:
                    self.fail(ep.name, dist, f"its entry-point name '{ep.name}' is already used by {other.package}; "
                                             "one of the two must rename it")
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not break the CLI
                self.fail(ep.name, dist, f"{type(exc).__name__}: {exc}")
                continue
            if self.is_registered(plugin):  # two entry points naming one module
                continue
            self.register(plugin, ep.name, PluginOrigin(dist, version))


def load_plugins() -> PluginManager:
    """A new manager holding the built-ins and the installed plugins the environment selects."""
    manager = PluginManager()
    manager.load_defaults()
    manager.load_entrypoints()
    return manager


def _hook_problem(plugin: object, attr: str, known: list[str]) -> str | None:
    """Why the hook implementation ``attr`` of ``plugin`` is refused (no such hook, arguments gan does not pass)."""
    if attr not in known:
        close = difflib.get_close_matches(attr, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; gan's hooks are {', '.join(known)}"
        return f"it implements '{attr}', which is not a gan hook{hint}"
    expected = list(inspect.signature(getattr(hookspecs, attr)).parameters)
    try:
        parameters = inspect.signature(getattr(plugin, attr)).parameters
    except (TypeError, ValueError):
        return None
    unknown = [p.name for p in parameters.values() if p.name not in expected and p.kind is not inspect.Parameter.VAR_KEYWORD]
    if unknown:
        return (
            f"its hook {attr}({', '.join(parameters)}) takes {', '.join(map(repr, unknown))}, but gan passes "
            f"{', '.join(map(repr, expected))}; rename the argument to match"
        )
    return None


def _trace_call(hook: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]) -> None:
    """pluggy's before-call monitor: which hook, with which arguments, answered by which plugins."""
    plugins = ", ".join(impl.plugin_name for impl in impls) or "no plugin"
    trace(f"{hook}({', '.join(kwargs)}) -> {plugins}")


def _trace_result(outcome: pluggy.Result[Any], hook: str, impls: Sequence[pluggy.HookImpl],
                  kwargs: Mapping[str, object]) -> None:
    """pluggy's after-call monitor: what came back (or what was raised)."""
    plugins = ", ".join(impl.plugin_name for impl in impls) or "no plugin"
    if outcome.exception is not None:
        trace(f"{hook} <- {plugins}: raised {one_line(outcome.exception)}")
        return
    results = outcome.get_result()
    trace(f"{hook} <- {plugins}: {results!r}" if results else f"{hook} <- {plugins}: done")


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


# --------------------------------------------------------------------------- names of gan-core 0.2, kept for 1.x

#: 0.2's accessors of the default manager; they live with the default now (imported when asked for: the
#: registry imports this module)
_NOW_IN_REGISTRY = ("get_host", "reset_host")


def __getattr__(name: str) -> Any:
    """``PluginHost``, ``get_host`` and ``reset_host``: what this module offered before one manager was handed around."""
    if name == "PluginHost":
        from .deprecation import deprecated

        deprecated("gan_core.plugins.PluginHost", "use gan_core.plugins.PluginManager")
        return PluginManager
    if name in _NOW_IN_REGISTRY:
        return getattr(importlib.import_module(".registry", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
