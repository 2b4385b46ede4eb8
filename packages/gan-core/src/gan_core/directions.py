"""Which way a metric gets better, in one encoding: the strings ``"higher"`` and ``"lower"``.

A metric class says it with the bool ``higher_is_better`` (the plugin API,
kept as it is), evaluation files store the strings (``"directions"`` in
eval.json: files on disk, kept as they are), and Ray Tune wants a mode,
``"max"`` or ``"min"``. Everything in gan converts through this module, so
no second spelling of a direction, nor a second guess for a metric that
declares none, can drift from the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Direction = Literal["higher", "lower"]

HIGHER: Direction = "higher"
LOWER: Direction = "lower"
#: every direction, as evaluation files spell them
DIRECTIONS: tuple[Direction, ...] = (HIGHER, LOWER)
#: what a metric recorded nowhere is taken as: most of them are distances (fid, kid)
DEFAULT: Direction = LOWER


def direction_of(metric: object) -> Direction:
    """The direction of a metric: its class, an instance, or a registry entry of one (``.cls``)."""
    flag = getattr(metric, "higher_is_better", None)
    if flag is None:
        flag = getattr(getattr(metric, "cls", None), "higher_is_better", False)
    return HIGHER if flag is True else LOWER


def parse(text: object) -> Direction | None:
    """A direction as read from a file, or None when the text is none (an older or foreign file)."""
    return HIGHER if text == HIGHER else LOWER if text == LOWER else None


def lookup(directions: Mapping[str, str], metric: str) -> Direction:
    """``metric``'s direction in a mapping of recorded ones; :data:`DEFAULT` when it is not there."""
    return parse(directions.get(metric)) or DEFAULT


def tune_mode(direction: str) -> Literal["max", "min"]:
    """Ray Tune's ``mode`` for a direction."""
    return "max" if _checked(direction) == HIGHER else "min"


def better(a: float, b: float, direction: str) -> bool:
    """Whether ``a`` is strictly better than ``b`` (a tie is not an improvement)."""
    return a > b if _checked(direction) == HIGHER else a < b


def sign(direction: str) -> float:
    """+1.0 for lower-is-better and -1.0 for higher: multiply a value by it and ascending order is best first."""
    return -1.0 if _checked(direction) == HIGHER else 1.0


def _checked(direction: str) -> Direction:
    known = parse(direction)
    if known is None:
        raise ValueError(f"a metric direction is {HIGHER!r} or {LOWER!r}, not {direction!r}")
    return known
