"""What ``gan compare`` shows: which settings made the difference, seeds pooled into a mean with its interval.

A sweep's table is only readable when the settings every run shares are said
once and the columns are the ones that vary; runs that differ only by seed
are repeats of one experiment, so they become one row with their spread.
The grouping (:func:`compare_rows`) is pure, so ``gan report`` builds its
results table and its seed bands from the same rows.
"""

from __future__ import annotations

import csv as csv_module
import difflib
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..directions import HIGHER, lookup, sign as direction_sign
from ..errors import GanError
from . import stats
from .runindex import DEFAULT_DIRECTIONS, RunRecord, Scalar, checkpoint_step

SEED = "seed"
#: the pseudo-setting that keeps runs evaluated differently (n, reference, feature network) in rows of their own
EVALUATION = "evaluated"


@dataclass
class Stat:
    """One metric over the runs of a row: the mean and its 95 % t-interval, the sample std (ddof=1) and range.

    ``low``/``high`` are None for a single value; ``eval_std`` is the runs'
    evaluation spread (root mean square of each run's std over ``gan eval
    --repeats`` draws) where every run has one, else None.
    """

    mean: float
    std: float | None
    n: int
    min: float
    max: float
    low: float | None = None
    high: float | None = None
    values: list[float] = field(default_factory=list)
    eval_std: float | None = None

    @classmethod
    def of(cls, values: list[float], eval_stds: list[float] | None = None) -> Stat:
        interval = stats.t_interval(values)
        eval_std = (math.sqrt(math.fsum(s * s for s in eval_stds) / len(eval_stds))
                    if eval_stds and len(eval_stds) == len(values) else None)
        return cls(stats.mean(values), stats.sample_std(values), len(values), min(values), max(values),
                   *(interval or (None, None)), values=list(values), eval_std=eval_std)

    @property
    def half_width(self) -> float | None:
        """Half the 95 % interval's width: the ``±`` the tables print."""
        return None if self.low is None or self.high is None else (self.high - self.low) / 2


@dataclass
class Row:
    """Runs that share the grouping settings: ``settings`` holds those values, ``stats`` their metrics."""

    settings: dict[str, Scalar]
    runs: list[RunRecord]
    stats: dict[str, Stat] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def seeds(self) -> list[Scalar]:
        return [r.settings.get(SEED) for r in self.runs]


def compare_rows(records: list[RunRecord], by: list[str] | None = None) -> list[Row]:
    """Group runs: by every setting but the seed (``by`` None), or by the ``by`` settings only.

    Rows keep the order in which their first run was given. A ``by`` setting
    that no run has is a GanError listing the settings there are.
    """
    keys = list(by) if by else [k for k in _all_keys(records) if k != SEED]
    if by:
        known = _all_keys(records)
        for key in by:
            if key not in known:
                raise GanError(f"no run has a setting named '{key}'; {did_you_mean(key, known)}"
                               f"--by takes one of: {', '.join(known)}")
    # Metrics measured on another n, reference or feature network are different quantities
    # (precision alone moves threefold with n), so such runs are never pooled into one mean.
    split = len({r.protocol for r in records if r.protocol is not None}) > 1
    filled = recorded_later(records)
    groups: dict[tuple[str, ...], Row] = {}
    for record in records:
        values = {k: record.settings[k] if record.settings.get(k) is not None else filled.get(k) for k in keys}
        if split:
            values[EVALUATION] = record.protocol
        ident = tuple(json.dumps(v) for v in values.values())
        groups.setdefault(ident, Row(values, [])).runs.append(record)
    rows = list(groups.values())
    for row in rows:
        for metric in _all_metrics(row.runs):
            have = [r for r in row.runs if metric in r.final]
            row.stats[metric] = Stat.of([r.final[metric] for r in have],
                                        [r.eval_std[metric] for r in have if metric in r.eval_std])
    return rows


def did_you_mean(word: str, choices: list[str]) -> str:
    """``did you mean 'fid'? `` for a near miss, else nothing."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def recorded_later(records: list[RunRecord]) -> dict[str, Scalar]:
    """Training settings that older records lack but every run that records them agrees on: key -> that value.

    A run saved before ``deterministic`` existed trained as ``deterministic =
    False`` did, so the missing field is not a difference between rows. Only
    training settings qualify: a component option's absence (``prior.k`` on a
    ``normal`` prior) means another component, which is a difference.
    """
    out: dict[str, Scalar] = {}
    for key in _all_keys(records):
        if "." in key or key == SEED:
            continue
        values = {json.dumps(r.settings.get(key)) for r in records if r.settings.get(key) is not None}
        if len(values) == 1 and any(r.settings.get(key) is None for r in records):
            out[key] = json.loads(values.pop())
    return out


def _all_keys(records: list[RunRecord]) -> list[str]:
    """Every setting name, a name first seen in a later run placed after its neighbour there (loss.lambda_ by loss)."""
    keys: list[str] = []
    for record in records:
        previous = None
        for key in record.settings:
            if key not in keys:
                keys.insert(keys.index(previous) + 1 if previous is not None else 0, key)
            previous = key
    return keys


def _all_metrics(records: list[RunRecord]) -> list[str]:
    metrics: dict[str, None] = {}
    for record in records:
        metrics.update(dict.fromkeys(record.final))
    return list(metrics)


def metrics_of(rows: list[Row]) -> list[str]:
    """Every metric any row has, in first-seen order."""
    return _all_metrics([r for row in rows for r in row.runs])


def setting_columns(rows: list[Row], by: list[str] | None = None) -> list[str]:
    """The ``by`` settings, or (without ``by``) the settings whose values differ between rows; then how the
    rows were evaluated, when that differs."""
    evaluated = [EVALUATION] if rows and EVALUATION in rows[0].settings else []
    if by:
        return list(by) + evaluated
    if not rows:
        return []
    keys = list(rows[0].settings)
    return [k for k in keys if len({json.dumps(row.settings.get(k)) for row in rows}) > 1 or k in evaluated]


def common_settings(records: list[RunRecord], columns: list[str]) -> dict[str, Scalar]:
    """Settings with one value in every run, other than the table's columns: said once, above the table."""
    out: dict[str, Scalar] = {}
    filled = recorded_later(records)
    for key in _all_keys(records):
        if key in columns:
            continue
        values = {json.dumps(r.settings.get(key)) for r in records if r.settings.get(key) is not None or key not in filled}
        if len(values) == 1:
            out[key] = json.loads(values.pop())
    return out


def pooled_settings(records: list[RunRecord], columns: list[str]) -> list[str]:
    """Settings that vary between runs but are not columns: a row's runs were pooled over them."""
    common = common_settings(records, columns)
    return [k for k in _all_keys(records) if k not in columns and k not in common]


def directions_of(records: list[RunRecord]) -> dict[str, str]:
    """Which way is better per metric: what the evaluations declared, else gan-core's defaults, else lower."""
    directions = dict(DEFAULT_DIRECTIONS)
    for record in records:
        directions.update(record.directions)
    return directions


def pick_metric(rows: list[Row], metric: str | None) -> str | None:
    """The metric to sort by: ``metric`` if some run has it (else a GanError), else fid, else the first one."""
    available = metrics_of(rows)
    if metric is not None:
        if metric not in available:
            have = ", ".join(available) if available else "none (run 'gan eval RUN' first)"
            raise GanError(f"no run has the metric '{metric}'; {did_you_mean(metric, available)}metrics available: {have}")
        return metric
    if "fid" in available:
        return "fid"
    return available[0] if available else None


def sort_rows(rows: list[Row], metric: str | None, directions: dict[str, str]) -> list[Row]:
    """Best mean first in ``metric``'s better direction; rows without it (or NaN) last, in their order."""
    if metric is None:
        return list(rows)
    sign = direction_sign(lookup(directions, metric))

    def key(row: Row) -> tuple[int, float]:
        stat = row.stats.get(metric)
        if stat is None or math.isnan(stat.mean):
            return (1, 0.0)
        return (0, sign * stat.mean)

    return sorted(rows, key=key)


def format_value(value: Scalar) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_stat(stat: Stat | None, separator: str = " ", row_n: int | None = None) -> str:
    """``418 ± 12``: the mean and the half-width of its 95 % t-interval, to two significant digits of the latter.

    ``separator`` goes before the ``±``: a newline stacks the interval under
    the mean, which keeps columns narrow in a narrow terminal. Where fewer
    runs than the row's ``row_n`` have the metric, ``(n=K)`` says how many.
    """
    if stat is None:
        return "-"
    suffix = f" (n={stat.n})" if row_n is not None and stat.n != row_n else ""
    half = stat.half_width
    if half is None or not math.isfinite(half) or not math.isfinite(stat.mean):
        return f"{stat.mean:.4g}{suffix}"
    if half == 0:
        return f"{stat.mean:.4g}{separator}± 0{suffix}"
    return f"{format_number(stat.mean, half)}{separator}± {format_number(half, half)}{suffix}"


def format_number(value: float, precision_of: float) -> str:
    """``value`` to the decimals that show two significant digits of ``precision_of`` (an interval's half-width)."""
    if not math.isfinite(value) or not math.isfinite(precision_of) or precision_of == 0:
        return f"{value:.4g}"
    decimals = min(6, max(0, 1 - math.floor(math.log10(abs(precision_of)))))
    return f"{value:.{decimals}f}"


def arrow(direction: str) -> str:
    return "↑" if direction == HIGHER else "↓"


def headline_metrics(metrics: list[str], directions: dict[str, str], metric: str | None) -> list[str]:
    """The metrics a terminal table shows: those with a declared better direction, and the sort metric.

    Evaluations also report diagnostics (classes_kl, classes_max_share...)
    that would push the table past a terminal's width; --csv and --json keep them.
    """
    return [m for m in metrics if m in directions or m == metric]


def render_table(rows: list[Row], metric: str | None = None, columns: list[str] | None = None,
                 directions: dict[str, str] | None = None, metrics: list[str] | None = None,
                 title: str | None = None, stacked: bool = False, keyed: bool = False) -> Table:
    """The rows as a rich table: #, the setting columns, n, then each metric (↑/↓ says which way is better).

    Left out, ``columns`` are the settings that differ between rows,
    ``directions`` those the runs declared, and ``metrics`` the headline ones
    (:func:`headline_metrics`). For narrow terminals, ``stacked`` puts each
    ± under its mean, and ``keyed`` leaves the settings out: the caller prints
    :func:`key_table` under it, so each row stays one line.
    """
    columns = setting_columns(rows) if columns is None else columns
    directions = directions_of([r for row in rows for r in row.runs]) if directions is None else directions
    metrics = headline_metrics(metrics_of(rows), directions, metric) if metrics is None else metrics
    separator = "\n" if stacked else " "
    table = Table(title=title, box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    table.add_column("#", justify="right")
    for column in [] if keyed else columns:
        table.add_column(escape(column), overflow="fold")
    table.add_column("n", justify="right")
    for name in metrics:
        header = f"{name}{separator}{arrow(lookup(directions, name))}"
        table.add_column(f"[bold]{escape(header)}[/bold]" if name == metric else escape(header), justify="right")
    # evaluation noise beside seed noise, where runs were scored with gan eval --repeats
    noisy = metric is not None and any(getattr(row.stats.get(metric), "eval_std", None) is not None for row in rows)
    if noisy:
        table.add_column(escape(f"{metric}{separator}eval sd"), justify="right")
    for number, row in enumerate(rows, 1):
        cells = [format_stat(row.stats.get(m), separator, row.n) for m in metrics]
        if noisy:
            stat = row.stats.get(metric)
            cells.append("-" if stat is None or stat.eval_std is None else
                         format_number(stat.eval_std, stat.eval_std))
        table.add_row(str(number), *setting_cells(row, [] if keyed else columns), str(row.n), *cells)
    return table


def setting_cells(row: Row, columns: list[str]) -> list[str]:
    """A row's setting cells, escaped."""
    return [escape(format_value(row.settings.get(c))) for c in columns]


def key_table(rows: list[Row], columns: list[str]) -> Table:
    """Which settings each row number stands for: the usual value of each column once, then per row only
    where it departs from it (leaving out options its components lack), wrapped with the number hanging."""
    usual: dict[str, str] = {}
    for column in columns:
        counts = Counter(format_value(row.settings[column]) for row in rows if row.settings.get(column) is not None)
        if counts:
            value, count = counts.most_common(1)[0]
            if count > 1:
                usual[column] = value
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(overflow="fold")
    if usual:
        table.add_row("usual", escape(", ".join(f"{c}={v}" for c, v in usual.items())))
    for number, row in enumerate(rows, 1):
        parts = [f"{c}={format_value(row.settings.get(c))}" for c in columns
                 if row.settings.get(c) is not None and format_value(row.settings.get(c)) != usual.get(c)]
        table.add_row(f"#{number}", escape(", ".join(parts)) if parts else "the usual settings")
    return table


def print_rows(console: Console, rows: list[Row], metric: str | None, columns: list[str],
               directions: dict[str, str], metrics: list[str], title: str | None = None) -> list[str]:
    """The table of means in the first layout that fits the console; returns the metrics it had to leave out.

    Settings as columns when they fit; else one line per row with a key of
    each row's settings under the table; metrics are dropped from the right
    (never the sort metric) until a row fits on one line.
    """
    shown = list(metrics)
    table = render_table(rows, metric, columns, directions, shown, title=title)
    if natural_width(table) <= console.width:
        console.print(table)
        return []
    while True:
        table = render_table(rows, metric, columns, directions, shown, title=title, keyed=True)
        droppable = [m for m in shown if m != metric]
        if natural_width(table) <= console.width or not droppable:
            break
        shown.remove(droppable[-1])
    console.print(table)
    console.print(key_table(rows, columns))
    return [m for m in metrics if m not in shown]


#: said under every table of means, so nobody reads the ± as a standard deviation
INTERVAL_NOTE = "±: half the 95 % t-interval of the mean over the row's n runs; (n=K): only K runs have that metric"
#: said when the table has an eval sd column
EVAL_SD_NOTE = ("eval sd: the spread of one run's score over repeated evaluations (gan eval --repeats), "
                "the part of the seed spread that is measurement")


def natural_width(table: Table) -> int:
    """Columns the table needs to show every cell on one line (rich would otherwise crop headers)."""
    wide = Console(width=10_000, file=io.StringIO(), color_system=None)
    with wide.capture() as capture:
        wide.print(table)
    return max((cell_len(line.rstrip()) for line in capture.get().splitlines()), default=0)


#: per metric in CSV and JSON: the mean, its 95 % t-interval, the seed std, the runs that have it, and the
#: evaluation std (gan eval --repeats; empty where a run has a single draw)
STAT_FIELDS = ("mean", "ci_low", "ci_high", "std", "n", "eval_std")


def rows_as_dicts(rows: list[Row], columns: list[str], metrics: list[str]) -> list[dict[str, Any]]:
    """Flat records for CSV and JSON: the columns, n, then ``<metric>_<field>`` for each of STAT_FIELDS (None: n/a)."""
    out = []
    for row in rows:
        item: dict[str, Any] = {c: row.settings.get(c) for c in columns}
        item["n"] = row.n
        for name in metrics:
            stat = row.stats.get(name)
            item[f"{name}_mean"] = finite(stat.mean) if stat else None
            item[f"{name}_ci_low"] = finite(stat.low) if stat else None
            item[f"{name}_ci_high"] = finite(stat.high) if stat else None
            item[f"{name}_std"] = finite(stat.std) if stat else None
            item[f"{name}_n"] = stat.n if stat else 0
            item[f"{name}_eval_std"] = finite(stat.eval_std) if stat else None
        out.append(item)
    return out


def finite(value: float | None) -> float | None:
    """``value``, or None where it is missing or not finite (JSON has no NaN)."""
    return value if value is not None and math.isfinite(value) else None


def to_csv(items: list[dict[str, Any]], fieldnames: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv_module.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow({k: "" if item.get(k) is None else item[k] for k in fieldnames})
    return buffer.getvalue()


def csv_text(rows: list[Row], columns: list[str], metrics: list[str]) -> str:
    """The rows as CSV: the setting columns, n, then ``<metric>_<field>`` for each of STAT_FIELDS, every metric."""
    fields = columns + ["n"] + [f"{m}_{part}" for m in metrics for part in STAT_FIELDS]
    return to_csv(rows_as_dicts(rows, columns, metrics), fields)


def evaluation_note(records: list[RunRecord]) -> str | None:
    """A warning when the runs were evaluated differently (then kept in separate rows) or some never were,
    or when some evaluations were left out because they scored an older checkpoint."""
    notes = [note for note in (_unlike_note(records), stale_note(records)) if note]
    return "; ".join(notes) if notes else None


def _unlike_note(records: list[RunRecord]) -> str | None:
    protocols = {r.protocol for r in records if r.protocol is not None}
    unscored = [r for r in records if r.protocol is None and not r.stale]
    parts = []
    if len(protocols) > 1:
        parts.append(f"the runs were evaluated {len(protocols)} ways ({'; '.join(sorted(protocols))}), which are "
                     f"never pooled: the '{EVALUATION}' column says which rows compare")
    if unscored and len(unscored) < len(records):
        parts.append(f"{len(unscored)} run{'s were' if len(unscored) > 1 else ' was'} never evaluated "
                     "(run 'gan eval RUN')")
    return "; ".join(parts) if parts else None


def stale_note(records: list[RunRecord]) -> str | None:
    """Runs resumed after ``gan eval``: their eval.json scored an older checkpoint, so it was left out."""
    stale = [r for r in records if r.stale]
    if not stale:
        return None
    described = [f"{r.path} ({', '.join(f'{file} of step {step}' for file, step in r.stale.items())}; "
                 f"checkpoint now at step {checkpoint_step(r.info)})" for r in stale]
    return (f"{len(stale)} run{'s were' if len(stale) > 1 else ' was'} trained on after gan eval, so the evaluation "
            "of the older checkpoint is left out (run 'gan eval RUN' again): " + ", ".join(described))


def status_note(records: list[RunRecord]) -> str | None:
    """A warning when some runs are not finished: their metrics are not final."""
    unfinished = [f"{r.path} ({r.status})" for r in records if r.status != "finished"]
    if not unfinished:
        return None
    return f"{len(unfinished)} run{'s have' if len(unfinished) > 1 else ' has'} not finished: " + ", ".join(unfinished)
