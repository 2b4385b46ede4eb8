"""``gan compare``: which settings made the difference, with seeds pooled into mean ± std.

A sweep's table is only readable when the settings every run shares are said
once and the columns are the ones that vary; runs that differ only by seed
are repeats of one experiment, so they become one row with their spread.
The grouping (:func:`compare_rows`) is pure, so ``gan report`` builds its
results table and its seed bands from the same rows.
"""

from __future__ import annotations

import csv as csv_module
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..directions import HIGHER, lookup, sign as direction_sign
from ..errors import GanError
from .runindex import DEFAULT_DIRECTIONS, RunRecord, Scalar, checkpoint_step, find_runs, with_sampler_evals

SEED = "seed"


@dataclass
class Stat:
    """One metric over the runs of a row: mean, sample std (ddof=1; None for a single value), range."""

    mean: float
    std: float | None
    n: int
    min: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Stat:
        # by hand: statistics.stdev raises on NaN and inf, which a diverged run can report
        mean = math.fsum(values) / len(values)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else None
        return cls(mean, std, len(values), min(values), max(values))


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
                raise GanError(f"no run has a setting named '{key}'; --by takes one of: {', '.join(known)}")
    groups: dict[tuple[str, ...], Row] = {}
    for record in records:
        values = {k: record.settings.get(k) for k in keys}
        ident = tuple(json.dumps(v) for v in values.values())
        groups.setdefault(ident, Row(values, [])).runs.append(record)
    rows = list(groups.values())
    for row in rows:
        for metric in _all_metrics(row.runs):
            row.stats[metric] = Stat.of([r.final[metric] for r in row.runs if metric in r.final])
    return rows


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
    """The ``by`` settings, or (without ``by``) the settings whose values differ between rows."""
    if by:
        return list(by)
    if not rows:
        return []
    keys = list(rows[0].settings)
    return [k for k in keys if len({json.dumps(row.settings.get(k)) for row in rows}) > 1]


def common_settings(records: list[RunRecord], columns: list[str]) -> dict[str, Scalar]:
    """Settings with one value in every run, other than the table's columns: said once, above the table."""
    out: dict[str, Scalar] = {}
    for key in _all_keys(records):
        if key in columns:
            continue
        values = {json.dumps(r.settings.get(key)) for r in records}
        if len(values) == 1:
            out[key] = records[0].settings.get(key)
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
            raise GanError(f"no run has the metric '{metric}'; metrics available: {have}")
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


def format_stat(stat: Stat | None, separator: str = " ") -> str:
    """``418 ± 12``: the mean to the precision of two significant digits of the std.

    ``separator`` goes before the ``±``: a newline stacks the std under the
    mean, which keeps columns narrow in a narrow terminal.
    """
    if stat is None:
        return "-"
    if stat.std is None or not math.isfinite(stat.std) or not math.isfinite(stat.mean):
        return f"{stat.mean:.4g}"
    if stat.std == 0:
        return f"{stat.mean:.4g}{separator}± 0"
    decimals = min(6, max(0, 1 - math.floor(math.log10(stat.std))))
    return f"{stat.mean:.{decimals}f}{separator}± {stat.std:.{decimals}f}"


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
                 title: str | None = None, stacked: bool = False, merged: bool = False) -> Table:
    """The rows as a rich table: the setting columns, n, then each metric (↑/↓ says which way is better).

    Left out, ``columns`` are the settings that differ between rows,
    ``directions`` those the runs declared, and ``metrics`` the headline ones
    (:func:`headline_metrics`). For narrow terminals, ``stacked`` puts each
    ± std under its mean and ``merged`` lists a row's settings as ``key=value``
    lines of one column instead of a column each.
    """
    columns = setting_columns(rows) if columns is None else columns
    directions = directions_of([r for row in rows for r in row.runs]) if directions is None else directions
    metrics = headline_metrics(metrics_of(rows), directions, metric) if metrics is None else metrics
    separator = "\n" if stacked else " "
    table = Table(title=title, box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False, show_lines=merged)
    for column in ["settings"] if merged else columns:
        table.add_column(escape(column), overflow="fold")
    table.add_column("n", justify="right")
    for name in metrics:
        header = f"{name}{separator}{arrow(lookup(directions, name))}"
        table.add_column(f"[bold]{escape(header)}[/bold]" if name == metric else escape(header), justify="right")
    for row in rows:
        cells = [escape(format_value(row.settings.get(c))) for c in columns]
        if merged:  # a setting a run lacks (another prior's option) is left out rather than shown as '-'
            cells = ["\n".join(f"{escape(c)}={cell}" for c, cell in zip(columns, cells) if cell != "-")]
        table.add_row(*cells, str(row.n), *(format_stat(row.stats.get(m), separator) for m in metrics))
    return table


def natural_width(table: Table) -> int:
    """Columns the table needs to show every cell on one line (rich would otherwise crop headers)."""
    wide = Console(width=10_000, file=io.StringIO(), color_system=None)
    with wide.capture() as capture:
        wide.print(table)
    return max((cell_len(line.rstrip()) for line in capture.get().splitlines()), default=0)


def rows_as_dicts(rows: list[Row], columns: list[str], metrics: list[str]) -> list[dict[str, Any]]:
    """Flat records for CSV and JSON: the columns, n, ``<metric>_mean`` and ``<metric>_std`` (None: n/a)."""
    out = []
    for row in rows:
        item: dict[str, Any] = {c: row.settings.get(c) for c in columns}
        item["n"] = row.n
        for name in metrics:
            stat = row.stats.get(name)
            item[f"{name}_mean"] = _finite(stat.mean) if stat else None
            item[f"{name}_std"] = _finite(stat.std) if stat else None
        out.append(item)
    return out


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def to_csv(items: list[dict[str, Any]], fieldnames: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv_module.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow({k: "" if item.get(k) is None else item[k] for k in fieldnames})
    return buffer.getvalue()


def csv_text(rows: list[Row], columns: list[str], metrics: list[str]) -> str:
    """The rows as CSV: the setting columns, n, then ``<metric>_mean`` and ``<metric>_std`` for every metric."""
    fields = columns + ["n"] + [f"{m}_{part}" for m in metrics for part in ("mean", "std")]
    return to_csv(rows_as_dicts(rows, columns, metrics), fields)


def evaluation_note(records: list[RunRecord]) -> str | None:
    """A warning when the final metrics were not all measured the same way (sampler, n, or not at all),
    or when some evaluations were left out because they scored an older checkpoint."""
    notes = [note for note in (_unlike_note(records), stale_note(records)) if note]
    return "; ".join(notes) if notes else None


def _unlike_note(records: list[RunRecord]) -> str | None:
    kinds: dict[str, int] = {}
    for record in records:
        where = record.final_from
        if not where:
            label = "evaluated only at an older checkpoint" if record.stale else "never evaluated"
        elif where["source"] != "metrics.jsonl":
            label = f"gan eval with sampler {where.get('sampler')}, n={where.get('n')}"
        else:
            label = f"the last evaluation during training, n={where.get('n')}"
        kinds[label] = kinds.get(label, 0) + 1
    if len(kinds) < 2:
        return None
    parts = [f"{label} ({count} run{'s' if count > 1 else ''})" for label, count in kinds.items()]
    return "the final metrics were not measured alike: " + "; ".join(parts)


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


def compare(
    paths: Annotated[list[Path], typer.Argument(help="Run directories, or folders searched for runs (a sweep).")],
    by: Annotated[list[str] | None, typer.Option("--by", help="Group by this setting only, e.g. prior or prior.k (repeatable); runs are pooled over the rest.")] = None,
    metric: Annotated[str | None, typer.Option(help="Sort by this metric, best first. [default: fid, else the first]")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
    samplers: Annotated[bool, typer.Option("--samplers", help="Also a row per post-hoc sampler the runs were evaluated with (gan eval --sampler, a sweep's eval-samplers).")] = False,
) -> None:
    """Compare runs: the settings that differ and their final metrics, seeds pooled into mean ± std."""
    if csv and as_json:
        raise GanError("--csv and --json both choose the output; pass one of them")
    records = find_runs(list(paths))
    if samplers and by and "sampler" not in by:
        by = [*by, "sampler"]  # each post-hoc sampler's row stays its own, whatever else is pooled
    rows = compare_rows(with_sampler_evals(records) if samplers else records, by)
    chosen = pick_metric(rows, metric)
    directions = directions_of(records)
    rows = sort_rows(rows, chosen, directions)
    columns = setting_columns(rows, by)
    metrics = metrics_of(rows)
    if csv or as_json:
        items = rows_as_dicts(rows, columns, metrics)
        if as_json:
            for item, row in zip(items, rows):
                item["runs"] = [str(r.path) for r in row.runs]
            print(json.dumps(items, indent=2))
        else:
            print(csv_text(rows, columns, metrics), end="")
        return
    console = Console()
    common = common_settings(records, columns)
    if common:
        text = ", ".join(f"{k}={format_value(v)}" for k, v in common.items())
        console.print(f"[bold]common:[/bold] {escape(text)}", soft_wrap=False)
    pooled = pooled_settings(records, columns)
    if by and pooled:
        console.print(f"[bold]pooled over:[/bold] {escape(', '.join(pooled))}")
    title = f"{len(records)} runs in {len(rows)} rows" + (f", by {chosen} ({lookup(directions, chosen)} is better)" if chosen else "")
    shown = headline_metrics(metrics, directions, chosen)
    for stacked, merged in ((False, False), (True, False), (True, True)):  # the first layout that fits
        table = render_table(rows, chosen, columns, directions, shown, title=title, stacked=stacked, merged=merged)
        if natural_width(table) <= console.width:
            break
    console.print(table)
    hidden = [m for m in metrics if m not in shown]
    if hidden:
        console.print(f"also measured (see --csv or --json): {escape(', '.join(hidden))}")
    for note in (evaluation_note(records), status_note(records)):
        if note:
            console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if not metrics:
        console.print("no run has metrics yet: run 'gan eval RUN', or train with --eval-every")
