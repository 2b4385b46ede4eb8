"""Component lookup: collects what plugins register and finds it by name.

Plugins are collected one at a time, in registration order (built-ins
first), and each registers all of its components or none: a hook that
raises, a class that breaks its contract (see :mod:`gan_core.contracts`) or a
name already taken — by a built-in or another plugin — refuses the whole
plugin, which ``gan plugins`` then lists with the reason. Asking for a
component of a refused or unloadable plugin names that plugin and its error
instead of suggesting an unrelated name.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .components import Component
from .contracts import NAME, ContractError, check_component_class
from .errors import GanError
from .plugins import PluginFailure, PluginHost, _on_reset, get_host

HOOK_FOR_KIND = {
    "prior": "register_priors",
    "loss": "register_losses",
    "architecture": "register_architectures",
    "sampler": "register_samplers",
    "metric": "register_metrics",
    "dataset": "register_datasets",
}


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
    def __init__(self, host: PluginHost) -> None:
        self.host = host
        self.failures: list[PluginFailure] = list(host.failures)
        self._entries: dict[str, dict[str, ComponentEntry]] = {kind: {} for kind in HOOK_FOR_KIND}
        self._networks: dict[str, FeatureNetworkEntry] = {}
        #: (kind, name) -> the failure of the plugin that tried to register it
        self._refused: dict[tuple[str, str], PluginFailure] = {}
        failed = {f.plugin for f in host.failures}  # e.g. its commands failed: all or none
        for plugin_name in host.plugin_names():
            if plugin_name not in failed:
                self._collect(plugin_name)

    # ------------------------------------------------------------------ loading

    def _collect(self, plugin_name: str) -> None:
        origin = self.host.origins[plugin_name]
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
                self.host.call(hook, plugin_name, register=entry_for(kind))
            self.host.call("register_feature_networks", plugin_name, register=register_network)
        except Exception as exc:  # one bad plugin must not hide the others; it registers nothing
            failure = PluginFailure(plugin_name, origin.package, " ".join(f"{type(exc).__name__}: {exc}".split()))
            self.failures.append(failure)
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
        kinds = [kind] if kind else list(HOOK_FOR_KIND)
        return [entry for k in kinds for entry in self._entries[k].values()]

    def names(self, kind: str) -> list[str]:
        return list(self._entries[kind])

    def get(self, kind: str, name: str) -> ComponentEntry:
        """The component ``name`` of ``kind``, or a GanError naming why it is not there."""
        entries = self._entries[kind]
        if name in entries:
            return entries[name]
        raise GanError(self._missing(kind, name, sorted(entries)))

    def find(self, name: str) -> list[ComponentEntry]:
        """Every component called ``name``, whatever its kind."""
        return [entries[name] for entries in self._entries.values() if name in entries]

    def feature_networks(self) -> dict[str, FeatureNetworkEntry]:
        return dict(self._networks)

    def feature_network(self, name: str) -> FeatureNetworkEntry:
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


_registry: Registry | None = None


def get_registry() -> Registry:
    global _registry
    if _registry is None:
        _registry = Registry(get_host())
    return _registry


def reset_registry() -> None:
    global _registry
    _registry = None


_on_reset.append(reset_registry)
