"""``gan compare --against ROW``: every other row's difference from one row, with its interval and a corrected p.

A table of means invites reading every gap as an effect; this view says,
row by row, whether the gap is larger than the noise of the seeds that
produced it. Two design choices follow the literature:

- Paired where the pairing is real (Bouthillier et al. 2021): two rows made
  of the same runs (a post-hoc sampler on the same generators, ``gan compare
  --samplers``; the same runs evaluated twice) are compared run by run with
  the paired t-test, which removes the between-seed spread both rows share.
  Rows of different runs are independent samples: Welch's t-test. Equal seed
  numbers in two methods are not a pairing: the runs share nothing else.
- Holm's correction across the family a table shows (the rows compared on one
  metric), since a table of 23 comparisons at p < 0.05 finds one "effect" by
  chance; the table says which family was corrected.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GanError
from . import stats
from .compare import Row, finite, format_number, format_value
from .runindex import RunRecord

#: the level a corrected p-value is called significant at, in the table's marks and the claims tiers
ALPHA = 0.05


@dataclass
class Comparison:
    """``row``'s metric minus ``base``'s: the difference (None when either side has fewer than 2 runs)."""

    row: Row
    metric: str
    difference: stats.Difference | None
    p_holm: float = math.nan


def select_row(rows: list[Row], spec: str) -> int:
    """The index of the row ``spec`` names: its number in the table (1 = first) or ``key=value,...`` settings.

    Settings must pick exactly one row; a spec that picks none or several is a
    GanError that lists what would work.
    """
    spec = spec.strip().lstrip("#")
    if spec.isdigit():
        number = int(spec)
        if not 1 <= number <= len(rows):
            raise GanError(f"--against {spec}: the table has rows 1 to {len(rows)}; pass one of those numbers")
        return number - 1
    wanted: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise GanError(f"--against takes a row number or settings like 'prior=normal,loss=vanilla', not '{spec}'")
        wanted[key.strip()] = value.strip()
    unknown = [k for k in wanted if all(k not in row.settings for row in rows)]
    if unknown:
        raise GanError(f"--against names '{unknown[0]}', which is not a column of this table; "
                       f"use one of: {', '.join(rows[0].settings) if rows else 'none'}")
    matches = [i for i, row in enumerate(rows) if all(matches_setting(row.settings.get(k), v) for k, v in wanted.items())]
    if len(matches) != 1:
        what = "no row" if not matches else f"{len(matches)} rows (numbers {', '.join(str(i + 1) for i in matches)})"
        raise GanError(f"--against {spec} picks {what}; pass a row number from the table or more settings")
    return matches[0]


def matches_setting(value: Any, typed: Any) -> bool:
    """Whether a setting's value is what the user gave (typed on the command line, or a value in a TOML file): as
    shown in the table, or the same number (1.0 and 1)."""
    if format_value(value) == str(typed):
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(typed) == float(value)
        except (TypeError, ValueError):
            return False
    return False


def is_paired(a: Row, b: Row) -> bool:
    """Whether ``a`` and ``b`` are the same runs (one value each): a sampler on the same generators, a re-evaluation."""
    paths_a, paths_b = [r.path for r in a.runs], [r.path for r in b.runs]
    return len(set(paths_a)) == len(paths_a) and set(paths_a) == set(paths_b)


def difference(row: Row, base: Row, metric: str,
               value: Callable[[RunRecord], float | None] | None = None) -> stats.Difference | None:
    """``row`` minus ``base`` in ``metric``: paired by run where :func:`is_paired`, else Welch's test.

    ``value`` reads a run's figure (default: its final ``metric``; a second
    feature space's, for the claims table); runs without one are left out.
    """
    read = value or (lambda run: run.final.get(metric))
    mine = {r.path: read(r) for r in row.runs}
    theirs = {r.path: read(r) for r in base.runs}
    if is_paired(row, base):
        both = [p for p in mine if mine[p] is not None and theirs.get(p) is not None]
        return stats.paired([mine[p] for p in both], [theirs[p] for p in both])  # type: ignore[misc]
    return stats.welch([v for v in mine.values() if v is not None], [v for v in theirs.values() if v is not None])


def compare_against(rows: list[Row], base_index: int, metric: str) -> list[Comparison]:
    """Every row but the base against it on ``metric``, Holm-corrected across these comparisons."""
    base = rows[base_index]
    out = [Comparison(row, metric, difference(row, base, metric)) for i, row in enumerate(rows) if i != base_index]
    corrected = stats.holm([c.difference.p if c.difference else math.nan for c in out])
    for comparison, p in zip(out, corrected):
        comparison.p_holm = p
    return out


def format_p(p: float) -> str:
    if math.isnan(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_difference(d: stats.Difference | None) -> str:
    """``-5.2 [-8.1, -2.3]``: the difference and its 95 % interval, to the interval's precision."""
    if d is None:
        return "n/a (needs 2 runs each)"
    half = (d.high - d.low) / 2
    return f"{format_number(d.estimate, half)} [{format_number(d.low, half)}, {format_number(d.high, half)}]"


def against_dicts(rows: list[Row], base_index: int, metrics: list[str], columns: list[str]) -> list[dict[str, Any]]:
    """Flat records for CSV and JSON: per row and metric, the difference, its interval, p and Holm's p.

    Holm's family is one metric's comparisons (the rows of one ``--against``
    table), as in the terminal view.
    """
    out: list[dict[str, Any]] = []
    for metric in metrics:
        for comparison in compare_against(rows, base_index, metric):
            d = comparison.difference
            item: dict[str, Any] = {c: comparison.row.settings.get(c) for c in columns}
            item.update({"metric": metric, "n": comparison.row.n, "n_against": rows[base_index].n,
                         "difference": d.estimate if d else None, "ci_low": d.low if d else None,
                         "ci_high": d.high if d else None, "p": finite(d.p) if d else None,
                         "p_holm": finite(comparison.p_holm), "test": d.test if d else None,
                         "runs": [str(Path(r.path)) for r in comparison.row.runs]})
            out.append(item)
    return out
