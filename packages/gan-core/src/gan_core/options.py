"""Typed component options: declaration, parsing and validation.

A component declares its options as a dataclass whose fields are made with
:func:`option` (a default, one line of help, optional bounds). Values arrive
as strings from ``-o kind.key=value``, as typed values from a TOML config or
from a saved ``run.json``; all three go through :func:`build_options`, so a
bad key or value is refused the same way before any work starts.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import GanError

def __getattr__(name: str) -> Any:
    if name == "OPTION_PREFIXES":  # derived from the kinds table; a module attribute as before
        from .kinds import option_prefixes

        return option_prefixes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: the option types a component may declare (also inside ``X | None`` and ``tuple[...]``)
SCALAR_TYPES = (int, float, bool, str)


def option(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    choices: Iterable[Any] | None = None,
    legacy: Any = dataclasses.MISSING,
) -> Any:
    """Declare one option field: its default, one line of help and its bounds.

    ``legacy`` is the value for runs saved before the option existed, when
    that differs from the default: a component that gains an option changing
    its networks (spectral normalisation, say) still reopens its old runs as
    they were trained.
    """
    metadata = {"help": help, "min": min, "max": max, "choices": tuple(choices) if choices else None}
    if legacy is not dataclasses.MISSING:
        metadata["legacy"] = legacy
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class NoOptions:
    """For components without options."""


@dataclass(frozen=True)
class OptionInfo:
    name: str
    type_name: str
    default: Any
    help: str
    bounds: str


def check_options_class(options_cls: type, owner: str) -> None:
    """Refuse a malformed ``Options`` class at registration, with one sentence saying what to fix.

    Every field must have a default of its declared type (one of
    :data:`SCALAR_TYPES`, a ``Literal``, ``X | None`` or a ``tuple`` of
    those) that lies within its own bounds, and the class must build with
    no arguments. Caught here, such mistakes cannot surface at step 1 or
    after training.
    """
    if not dataclasses.is_dataclass(options_cls) or not isinstance(options_cls, type):
        raise TypeError(f"{owner}: Options must be a dataclass (decorate it with @dataclass(frozen=True))")
    try:
        hints = typing.get_type_hints(options_cls)
    except Exception as exc:
        raise TypeError(f"{owner}: the type hints of {options_cls.__name__} cannot be resolved ({exc})") from exc
    for f in dataclasses.fields(options_cls):
        what = f"{owner} option '{f.name}'"
        if f.name.startswith("_"):
            raise TypeError(f"{what}: option names must not start with '_'")
        if not _supported(hints[f.name]):
            raise TypeError(
                f"{what} has type {hints[f.name]!r}, which options cannot hold; use int, float, bool, str, "
                "a Literal, X | None or a tuple of those"
            )
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            raise TypeError(f"{what} has no default; declare it with option(default, help)")
        try:
            value = coerce(default, hints[f.name], what)
            _check_bounds(value, f.metadata, what)
        except GanError as exc:
            raise TypeError(f"the default of {exc.message}") from exc
        if value != default and not (value != value and default != default):  # nan is its own type's default
            raise TypeError(f"{what}: the default {default!r} is not of the declared type")
    try:
        options_cls()
    except Exception as exc:
        raise TypeError(f"{owner}: {options_cls.__name__}() fails with its own defaults ({exc})") from exc


def _supported(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return all(isinstance(a, SCALAR_TYPES) for a in args)
    if origin in (typing.Union, types.UnionType):
        return all(a is type(None) or _supported(a) for a in args)
    if origin is tuple:
        items = [a for a in args if a is not Ellipsis]
        return bool(items) and all(a in SCALAR_TYPES for a in items)
    return tp in SCALAR_TYPES


def describe_options(options_cls: type) -> list[OptionInfo]:
    """One row per option, for ``gan plugins show``."""
    hints = typing.get_type_hints(options_cls)
    rows = []
    for f in dataclasses.fields(options_cls):
        meta = f.metadata
        bounds = []
        if meta.get("min") is not None:
            bounds.append(f">= {meta['min']}")
        if meta.get("max") is not None:
            bounds.append(f"<= {meta['max']}")
        if meta.get("choices"):
            bounds.append("one of " + ", ".join(map(str, meta["choices"])))
        rows.append(
            OptionInfo(f.name, _type_name(hints[f.name]), f.default, meta.get("help", ""), "; ".join(bounds))
        )
    return rows


def parse_assignments(assignments: Iterable[str]) -> dict[str, dict[str, str]]:
    """Split ``["prior.k=10", "loss.lambda_=1"]`` into ``{"prior": {"k": "10"}, ...}``."""
    from .kinds import option_prefixes

    prefixes = option_prefixes()
    parsed: dict[str, dict[str, str]] = {}
    for text in assignments:
        key, sep, value = text.partition("=")
        prefix, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise GanError(
                f"option '{text}' is not of the form KIND.KEY=VALUE; write for example -o prior.k=10"
            )
        kind = prefixes.get(prefix)
        if kind is None:
            raise GanError(
                f"option '{text}' names no component kind '{prefix}'; "
                f"use one of {', '.join(sorted(prefixes))}"
            )
        parsed.setdefault(kind, {})[name] = value.strip()
    return parsed


def build_options(options_cls: type, values: Mapping[str, Any], owner: str, *, saved: bool = False) -> Any:
    """Make an options instance from raw values, refusing unknown keys and bad values.

    ``owner`` names the component in messages, e.g. ``"loss 'vanilla'"``.
    ``saved``: the values come from a saved run, so options it predates take
    their ``legacy`` value instead of the default.
    """
    hints = typing.get_type_hints(options_cls)
    fields = {f.name: f for f in dataclasses.fields(options_cls)}
    if saved:
        values = {**{n: f.metadata["legacy"] for n, f in fields.items() if "legacy" in f.metadata}, **values}
    kwargs = {}
    for key, raw in values.items():
        if key not in fields:
            valid = ", ".join(fields) or "none"
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise GanError(f"{owner} has no option '{key}'{hint}; its options are: {valid}")
        value = coerce(raw, hints[key], f"{owner} option '{key}'")
        _check_bounds(value, fields[key].metadata, f"{owner} option '{key}'")
        kwargs[key] = value
    try:
        return options_cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise GanError(f"{owner}: {exc}") from exc


def options_to_dict(options: Any) -> dict[str, Any]:
    """A JSON-ready copy of an options instance (tuples become lists)."""
    return {
        f.name: list(v) if isinstance(v := getattr(options, f.name), tuple) else v
        for f in dataclasses.fields(options)
    }


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "|".join(map(str, typing.get_args(tp)))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is tuple:
        return "tuple"
    return getattr(tp, "__name__", str(tp))


def coerce(raw: Any, tp: Any, what: str) -> Any:
    """Turn ``raw`` (a CLI string or a TOML/JSON value) into type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if raw is None or (isinstance(raw, str) and raw.lower() in ("none", "null")):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(raw, arg, what)
            except GanError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is typing.Literal:
        for choice in args:
            if raw == choice or (isinstance(raw, str) and str(choice) == raw):
                return choice
        raise GanError(f"{what} must be one of {', '.join(map(str, args))}, not '{raw}'")
    if origin is tuple:
        items = raw
        if isinstance(raw, str):
            items = [s for s in raw.strip("()[] ").split(",") if s.strip()]
        if not isinstance(items, (list, tuple)):
            raise GanError(f"{what} must be a comma-separated list, not '{raw}'")
        item_types = [args[0]] * len(items) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(item_types) != len(items):
            raise GanError(f"{what} needs {len(item_types)} comma-separated values, not '{raw}'")
        return tuple(coerce(v, t, what) for v, t in zip(items, item_types))
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(raw, str) and raw.lower() in ("false", "no", "0", "off"):
            return False
        raise GanError(f"{what} must be true or false, not '{raw}'")
    if tp in (int, float):
        if isinstance(raw, bool):
            raise GanError(f"{what} must be a number, not '{raw}'")
        if tp is float and isinstance(raw, int):
            return float(raw)
        if isinstance(raw, tp):
            return raw
        if isinstance(raw, str):
            try:
                return tp(raw.strip())
            except ValueError:
                pass
        kind = "an integer" if tp is int else "a number"
        raise GanError(f"{what} must be {kind}, not '{raw}'")
    if tp is str:
        if isinstance(raw, str):
            return raw
        raise GanError(f"{what} must be text, not '{raw}'")
    raise TypeError(f"unsupported option type {tp!r} for {what}")


def _check_bounds(value: Any, meta: Mapping[str, Any], what: str) -> None:
    if value is None or isinstance(value, (str, bool, tuple)):
        values = value if isinstance(value, tuple) else ()
    else:
        values = (value,)
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if meta.get("min") is not None and v < meta["min"]:
                raise GanError(f"{what} must be at least {meta['min']}, not {v}")
            if meta.get("max") is not None and v > meta["max"]:
                raise GanError(f"{what} must be at most {meta['max']}, not {v}")
    if meta.get("choices") and value is not None and value not in meta["choices"]:
        raise GanError(f"{what} must be one of {', '.join(map(str, meta['choices']))}, not '{value}'")
