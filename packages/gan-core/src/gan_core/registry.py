"""Component lookup: collects what plugins register and finds it by name.

Plugins are collected one at a time, in registration order (built-ins
first), and each registers all of its components or none: a hook that
raises, a class that breaks its contract (see :mod:`gan_core.contracts`) or a
name already taken — by a built-in or another plugin — refuses the whole
plugin, which ``gan plugins`` then lists with the reason. Asking for a
component of a refused or unloadable plugin names that plugin and its error
instead of suggesting an unrelated name.

A registry is built from one :class:`gan_core.plugins.PluginManager` and owns
it (``registry.manager``): the two are one plugin state, handed together to
whatever needs plugins (the CLI: ``gan_core.cli.make_app(registry)``).
:func:`get_registry` is the process default, loaded on first use;
:func:`use_registry` puts another in its place for a block (a test).
Components are collected on the first lookup, not when the registry is
made, so ``gan --help`` only imports plugin modules and calls no hook but
``register_commands``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .components import Component
from .contracts import NAME, ContractError, check_component_class
from .kinds import hooks
from .errors import GanError
from .plugins import PluginFailure, PluginManager, load_plugins, one_line

#: kind -> the hook that registers it, from the kinds table (gan_core.kinds)
HOOK_FOR_KIND = dict(hooks())


@dataclass(frozen=True)
class ComponentEntry:
    kind: str
    name: str
    cls: type[Component]
    plugin: str
    package: str
    version: str


@dataclass(frozen=True)
class FeatureNetworkEntry:
    """A feature network for evaluation: ``build(device)`` returns a ``gan_core.FeatureExtractor``."""

    name: str
    build: Callable[..., Any]
    plugin: str
    package: str
    version: str


@dataclass
class _Staged:
    """What one plugin registered, kept apart until all of it turned out valid."""

    components: list[ComponentEntry] = field(default_factory=list)
    networks: list[FeatureNetworkEntry] = field(default_factory=list)
    attempted: list[tuple[str, str]] = field(default_factory=list)  # (kind, name), for error messages


class Registry:
    """The components a plugin manager's plugins register, by kind and name."""

    def __init__(self, manager: PluginManager | None = None) -> None:
        #: the plugins this registry collects from (None: the installed ones, loaded now)
        self.manager = manager if manager is not None else load_plugins()
        self._entries: dict[str, dict[str, ComponentEntry]] = {kind: {} for kind in HOOK_FOR_KIND}
        self._networks: dict[str, FeatureNetworkEntry] = {}
        #: plugins refused while collecting (the manager keeps those refused while loading)
        self._refusals: list[PluginFailure] = []
        #: (kind, name) -> the failure of the plugin that tried to register it
        self._refused: dict[tuple[str, str], PluginFailure] = {}
        self._collected = False

    @property
    def host(self) -> PluginManager:
        """Deprecated name of :attr:`manager`."""
        from .deprecation import deprecated

        deprecated("Registry.host", "use Registry.manager")
        return self.manager

    @property
    def failures(self) -> list[PluginFailure]:
        """Every plugin left out: at loading, at collecting, or refused later (its commands)."""
        self.collect()
        return [*self.manager.failures, *self._refusals]

    def failure_of(self, plugin_name: str) -> PluginFailure | None:
        """Why the registered plugin ``plugin_name`` was left out, or None when it was not.

        Matched by package too: a second package whose entry point reuses the
        name fails, not the plugin that holds the name.
        """
        package = self.manager.package_of(plugin_name)
        return next((f for f in self.failures if f.plugin == plugin_name and f.package == package), None)

    def refuse(self, plugin_name: str, error: str) -> PluginFailure:
        """Leave a plugin out after loading (its commands failed): it keeps none of its components."""
        failure = self.manager.fail(plugin_name, self.manager.package_of(plugin_name), error)
        for entries in self._entries.values():
            for name, entry in list(entries.items()):
                if entry.plugin == plugin_name:
                    del entries[name]
                    self._refused.setdefault((entry.kind, name), failure)
        for name, network in list(self._networks.items()):
            if network.plugin == plugin_name:
                del self._networks[name]
                self._refused.setdefault(("feature network", name), failure)
        return failure

    # ------------------------------------------------------------------ loading

    def collect(self) -> Registry:
        """Call every plugin's ``register_*`` hooks, once; lookups do it on first use."""
        if self._collected:
            return self
        self._collected = True
        failed = {(f.plugin, f.package) for f in self.manager.failures}  # e.g. its commands failed: all or none
        for plugin_name in self.manager.plugin_names():
            if (plugin_name, self.manager.package_of(plugin_name)) not in failed:
                self._collect(plugin_name)
        return self

    def _collect(self, plugin_name: str) -> None:
        origin = self.manager.origins[plugin_name]
        staged = _Staged()

        def entry_for(kind: str) -> Callable[[type], None]:
            def register(cls: type) -> None:
                name = getattr(cls, "name", None)
                staged.attempted.append((kind, str(name)))
                check_component_class(kind, cls)
                self._check_free(kind, cls.name, staged)  # type: ignore[attr-defined]
                staged.components.append(
                    ComponentEntry(kind, cls.name, cls, plugin_name, origin.package, origin.version)  # type: ignore[attr-defined]
                )

            return register

        def register_network(name: str, build: Callable[..., Any]) -> None:
            staged.attempted.append(("feature network", str(name)))
            if not isinstance(name, str) or not NAME.match(name):
                raise ContractError(f"feature network names must be short lower-case names, not {name!r}")
            if not callable(build):
                raise ContractError(f"feature network '{name}': build must be a callable build(device)")
            self._check_free("feature network", name, staged)
            staged.networks.append(FeatureNetworkEntry(name, build, plugin_name, origin.package, origin.version))

        try:
            for kind, hook in HOOK_FOR_KIND.items():
                self.manager.call(hook, plugin_name, register=entry_for(kind))
            self.manager.call("register_feature_networks", plugin_name, register=register_network)
        except Exception as exc:  # one bad plugin must not hide the others; it registers nothing
            failure = PluginFailure(plugin_name, origin.package, one_line(exc))
            self._refusals.append(failure)
            for key in staged.attempted:
                self._refused.setdefault(key, failure)
            return
        for entry in staged.components:
            self._entries[entry.kind][entry.name] = entry
        for network in staged.networks:
            self._networks[network.name] = network

    def _check_free(self, kind: str, name: str, staged: _Staged) -> None:
        if kind == "feature network":
            existing = self._networks.get(name)
            in_plugin = any(n.name == name for n in staged.networks)
        else:
            existing = self._entries[kind].get(name)
            in_plugin = any(e.kind == kind and e.name == name for e in staged.components)
        if existing is not None:
            raise ContractError(
                f"{kind} '{name}' is already registered by {existing.package}; "
                f"rename it in this plugin (names are first come, first served, built-ins first)"
            )
        if in_plugin:
            raise ContractError(f"{kind} '{name}' is registered twice by this plugin")

    # ------------------------------------------------------------------ lookup

    def all(self, kind: str | None = None) -> list[ComponentEntry]:
        self.collect()
        kinds = [kind] if kind else list(HOOK_FOR_KIND)
        return [entry for k in kinds for entry in self._entries[k].values()]

    def names(self, kind: str) -> list[str]:
        self.collect()
        return list(self._entries[kind])

    def get(self, kind: str, name: str) -> ComponentEntry:
        """The component ``name`` of ``kind``, or a GanError naming why it is not there."""
        self.collect()
        entries = self._entries[kind]
        if name in entries:
            return entries[name]
        raise GanError(self._missing(kind, name, sorted(entries)))

    def find(self, name: str) -> list[ComponentEntry]:
        """Every component called ``name``, whatever its kind."""
        self.collect()
        return [entries[name] for entries in self._entries.values() if name in entries]

    def feature_networks(self) -> dict[str, FeatureNetworkEntry]:
        self.collect()
        return dict(self._networks)

    def feature_network(self, name: str) -> FeatureNetworkEntry:
        self.collect()
        if name in self._networks:
            return self._networks[name]
        raise GanError(
            self._missing("feature network", name, sorted(self._networks))
            + "; a dataset plugin adds its own with the register_feature_networks hook"
        )

    def _missing(self, kind: str, name: str, choices: list[str]) -> str:
        refused = self._refused.get((kind, name))
        if refused is not None:
            return (
                f"{kind} '{name}' comes from plugin '{refused.plugin}' ({refused.package}), which was not loaded: "
                f"{refused.error}"
            )
        close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        available = ", ".join(choices) if choices else "none is installed"
        message = f"there is no {kind} named '{name}'; {hint}available: {available}"
        refused = set(self._refused.values())  # their components are named above; the rest never registered anything
        unloaded = [f for f in self.failures if f not in refused]
        if unloaded:
            broken = ", ".join(f"'{f.plugin}' ({f.package}: {f.error})" for f in unloaded[:3])
            message += f" (these plugins failed to load and may provide it: {broken}; see gan plugins)"
        return message


_default: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry (with its plugin manager), loaded on first use."""
    global _default
    if _default is None:
        _default = Registry(load_plugins())
    return _default


def reset_registry() -> None:
    """Forget the default plugins; the next :func:`get_registry` loads them again (after the environment changed)."""
    global _default
    _default = None


@contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """``registry`` as the default for the block: every lookup, built-in commands included, sees its plugins."""
    global _default
    previous, _default = _default, registry
    try:
        yield registry
    finally:
        _default = previous


# --------------------------------------------------------------------------- gan-core 0.2's names (gan_core.plugins)


def get_host() -> PluginManager:
    """Deprecated: the default registry's manager, ``get_registry().manager``."""
    from .deprecation import deprecated

    deprecated("gan_core.plugins.get_host()", "use gan_core.registry.get_registry().manager")
    return get_registry().manager


def reset_host() -> None:
    """Deprecated: :func:`reset_registry`."""
    from .deprecation import deprecated

    deprecated("gan_core.plugins.reset_host()", "use gan_core.registry.reset_registry()")
    reset_registry()
