"""Checks on a component class when a plugin registers it.

Whatever can be known about a class without running it is checked here, so
a broken component is a ``gan plugins`` line naming what to fix, not a
traceback at step 1 or a run that cannot be reopened after hours of
training.
"""

from __future__ import annotations

import re

from .components import COMPONENT_BASES, Component
from .kinds import KINDS
from .options import check_options_class

#: a component name: lower case, digits, '-', '.', '_', starting with a letter or digit
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

#: the methods each kind must override (the base class's raise NotImplementedError)
REQUIRED_METHODS: dict[str, tuple[str, ...]] = {k.name: k.required for k in KINDS}


class ContractError(TypeError):
    """A component class that breaks its kind's contract; the message says what to fix."""


def check_component_class(kind: str, cls: object) -> None:
    """Raise :class:`ContractError` unless ``cls`` is a well-formed component of ``kind``."""
    base = COMPONENT_BASES[kind]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ContractError(f"{cls!r} is not a subclass of gan_core.{base.__name__}")
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not NAME.match(name):
        raise ContractError(
            f"{cls.__name__}.name must be a short lower-case name (letters, digits, '-', '.', '_'), not {name!r}"
        )
    owner = f"{kind} '{name}' ({cls.__module__}.{cls.__qualname__})"
    missing = [m for m in REQUIRED_METHODS[kind] if getattr(cls, m, None) is getattr(base, m, None)]
    if missing:
        raise ContractError(f"{owner} does not implement {', '.join(m + '()' for m in missing)}; every {kind} must")
    try:
        check_options_class(cls.Options, owner)
    except TypeError as exc:
        raise ContractError(str(exc)) from exc
    _check_declarations(cls, owner)


def _check_declarations(cls: type[Component], owner: str) -> None:
    requires = cls.__dict__.get("requires", getattr(cls, "requires", {}))
    if not isinstance(requires, (dict, property)) and not hasattr(requires, "items"):
        raise ContractError(f"{owner}: requires must map each capability to the reason it is needed")
    provided = getattr(cls, "provided", frozenset())
    if isinstance(provided, str) or not hasattr(provided, "__iter__"):
        raise ContractError(f"{owner}: provided must be a set of capability names, not {provided!r}")
    higher = getattr(cls, "higher_is_better", False)
    if not isinstance(higher, bool):
        raise ContractError(f"{owner}: higher_is_better must be True or False, not {higher!r}")
