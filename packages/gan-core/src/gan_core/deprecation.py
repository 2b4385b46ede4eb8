"""Compatibility shims say so: each warns once, naming the plugin API version that drops it.

Plugin API 1.x keeps every form a released plugin relies on (see
:mod:`gan_core.api_version`). What only exists for old plugins, old runs or
old import paths warns with :class:`GanDeprecationWarning`, so authors see
what to change long before API 2.0 removes it. Python shows a
DeprecationWarning raised from library code only under ``-W`` or in tests;
ours subclasses it, so ``-W error::DeprecationWarning`` catches them too.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

#: the plugin API version that removes every shim below
REMOVED_IN = "2.0"

_warned: set[str] = set()


class GanDeprecationWarning(DeprecationWarning):
    """A form gan-core still accepts for plugin API 1.x, and API 2.0 will not."""


def deprecated(what: str, instead: str, *, key: str | None = None, stacklevel: int = 3) -> None:
    """Warn once per process (per ``key``, default ``what``) that ``what`` goes with API 2.0; ``instead`` says the fix."""
    key = key or what
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn(f"{what} is deprecated and will stop working with gan plugin API {REMOVED_IN}; {instead}",
                  GanDeprecationWarning, stacklevel=stacklevel)


def moved(module: str, moves: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that still serves names which moved to another module, with a warning.

    ``moves`` maps each old name to the module (``gan_core.x``) now defining it.
    """

    def __getattr__(name: str) -> Any:
        target = moves.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        deprecated(f"importing {name} from {module}", f"import it from {target}", stacklevel=3)
        return getattr(importlib.import_module(target), name)

    return __getattr__
