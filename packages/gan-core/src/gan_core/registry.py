"""Component lookup: collects what plugins register and finds it by name.

Every hook implementation is called on its own, so a plugin whose hook raises
is reported as a failure and the other plugins still register. Each class is
checked as it arrives: right base class, a valid unique name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .components import COMPONENT_BASES, Component
from .errors import GanError
from .plugins import PluginFailure, PluginHost, get_host

HOOK_FOR_KIND = {
    "prior": "register_priors",
    "loss": "register_losses",
    "architecture": "register_architectures",
    "sampler": "register_samplers",
    "metric": "register_metrics",
    "dataset": "register_datasets",
}

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class ComponentEntry:
    kind: str
    name: str
    cls: type[Component]
    plugin: str
    package: str
    version: str


class Registry:
    def __init__(self, host: PluginHost) -> None:
        self.host = host
        self.failures: list[PluginFailure] = list(host.failures)
        self._entries: dict[str, dict[str, ComponentEntry]] = {kind: {} for kind in HOOK_FOR_KIND}
        for kind, hook_name in HOOK_FOR_KIND.items():
            hook = getattr(host.pm.hook, hook_name)
            for impl in hook.get_hookimpls():  # in registration order
                self._collect(kind, impl)

    def _collect(self, kind: str, impl) -> None:
        origin = self.host.origins.get(impl.plugin_name)
        package = origin.package if origin else "unknown"
        version = origin.version if origin else "?"
        base = COMPONENT_BASES[kind]

        def register(cls: type) -> None:
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise TypeError(f"{cls!r} is not a subclass of gan_core.{base.__name__}")
            if not _NAME.match(cls.name or ""):
                raise TypeError(f"{cls.__name__}.name must be a short lower-case name, not {cls.name!r}")
            existing = self._entries[kind].get(cls.name)
            if existing is not None:
                raise TypeError(f"{kind} '{cls.name}' is already registered by {existing.package}")
            self._entries[kind][cls.name] = ComponentEntry(kind, cls.name, cls, impl.plugin_name, package, version)

        try:
            impl.function(register=register)
        except Exception as exc:  # one bad plugin must not hide the others
            self.failures.append(PluginFailure(impl.plugin_name, package, f"{type(exc).__name__}: {exc}"))

    def all(self, kind: str | None = None) -> list[ComponentEntry]:
        kinds = [kind] if kind else list(HOOK_FOR_KIND)
        return [entry for k in kinds for entry in self._entries[k].values()]

    def names(self, kind: str) -> list[str]:
        return list(self._entries[kind])

    def get(self, kind: str, name: str) -> ComponentEntry:
        """The component ``name`` of ``kind``, or a GanError suggesting the closest name."""
        entries = self._entries[kind]
        if name in entries:
            return entries[name]
        choices = sorted(entries)
        close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        available = ", ".join(choices) if choices else "none is installed"
        raise GanError(f"there is no {kind} named '{name}'; {hint}available: {available}")

    def find(self, name: str) -> list[ComponentEntry]:
        """Every component called ``name``, whatever its kind."""
        return [entries[name] for entries in self._entries.values() if name in entries]


_registry: Registry | None = None


def get_registry() -> Registry:
    global _registry
    if _registry is None:
        _registry = Registry(get_host())
    return _registry


def reset_registry() -> None:
    global _registry
    _registry = None
