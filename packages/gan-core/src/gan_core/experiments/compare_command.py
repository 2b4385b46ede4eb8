"""``gan compare``: the command, its table of means with 95 % intervals, and its ``--against`` view.

The grouping and statistics live in :mod:`.compare` (pure, shared with
``gan report``) and :mod:`.against`; this module only prints them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..directions import lookup
from ..errors import GanError
from .against import ALPHA, against_dicts, compare_against, format_difference, format_p, select_row
from .compare import (
    INTERVAL_NOTE,
    Row,
    arrow,
    common_settings,
    compare_rows,
    csv_text,
    directions_of,
    evaluation_note,
    format_stat,
    format_value,
    headline_metrics,
    metrics_of,
    natural_width,
    pick_metric,
    pooled_settings,
    render_table,
    rows_as_dicts,
    setting_cells,
    setting_columns,
    sort_rows,
    status_note,
    to_csv,
)
from .runindex import find_runs, with_sampler_evals


def compare(
    paths: Annotated[list[Path], typer.Argument(help="Run directories, or folders searched for runs (a sweep).")],
    by: Annotated[list[str] | None, typer.Option("--by", help="Group by this setting only, e.g. prior or prior.k (repeatable); runs are pooled over the rest.")] = None,
    metric: Annotated[str | None, typer.Option(help="Sort by this metric, best first. [default: fid, else the first]")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
    samplers: Annotated[bool, typer.Option("--samplers", help="Also a row per post-hoc sampler the runs were evaluated with (gan eval --sampler, a sweep's eval-samplers).")] = False,
    against: Annotated[str | None, typer.Option("--against", help="Set every row against this one: its number in the table (#) or settings that pick it, e.g. prior=normal,loss=vanilla. Gives each difference with its 95 % interval and a Holm-corrected p.")] = None,
) -> None:
    """Compare runs: the settings that differ and their final metrics, each mean with its 95 % interval over seeds."""
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
    base = select_row(rows, against) if against is not None else None
    if base is not None and chosen is None:
        raise GanError("--against needs metrics and no run has any; run 'gan eval RUN' first")
    if csv or as_json:
        if base is not None:
            items = against_dicts(rows, base, metrics, columns)
            if csv:
                fields = columns + ["metric", "n", "n_against", "difference", "ci_low", "ci_high", "p", "p_holm", "test"]
                print(to_csv(items, fields), end="")
            else:
                print(json.dumps(items, indent=2))
            return
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
    if base is not None:
        assert chosen is not None
        _print_against(console, rows, base, chosen, columns, directions)
    else:
        shown = headline_metrics(metrics, directions, chosen)
        for stacked, merged in ((False, False), (True, False), (True, True)):  # the first layout that fits
            table = render_table(rows, chosen, columns, directions, shown, title=title, stacked=stacked, merged=merged)
            if natural_width(table) <= console.width:
                break
        console.print(table)
        if metrics:
            console.print(INTERVAL_NOTE)
        hidden = [m for m in metrics if m not in shown]
        if hidden:
            console.print(f"also measured (see --csv or --json): {escape(', '.join(hidden))}")
    for note in (evaluation_note(records), status_note(records)):
        if note:
            console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if not metrics:
        console.print("no run has metrics yet: run 'gan eval RUN', or train with --eval-every")


def _print_against(console: Console, rows: list[Row], base: int, metric: str, columns: list[str],
                   directions: dict[str, str]) -> None:
    """The --against table: each row's mean, its difference from the base row, the interval, p and Holm's p."""
    comparisons = {id(c.row): c for c in compare_against(rows, base, metric)}
    way = lookup(directions, metric)
    title = f"{metric} ({way} is better) against #{base + 1}: difference = row - #{base + 1}"
    for merged in (False, True):
        table = Table(title=title, box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False, show_lines=merged)
        table.add_column("#", justify="right")
        for column in ["settings"] if merged else columns:
            table.add_column(escape(column), overflow="fold")
        for header in ("n", f"{metric} {arrow(way)}", "difference [95 %]", "p", "p Holm", "test"):
            table.add_column(escape(header), justify="right")
        for number, row in enumerate(rows, 1):
            comparison = comparisons.get(id(row))
            if comparison is None:
                tail = ["(against)", "", "", ""]
            else:
                d = comparison.difference
                significant = d is not None and comparison.p_holm < ALPHA
                cell = format_difference(d)
                tail = [f"[bold]{escape(cell)}[/bold]" if significant else escape(cell),
                        format_p(d.p) if d else "-", format_p(comparison.p_holm), d.test if d else "-"]
            table.add_row(str(number), *setting_cells(row, columns, merged), str(row.n),
                          format_stat(row.stats.get(metric), " ", row.n), *tail)
        if natural_width(table) <= console.width:
            break
    console.print(table)
    family = len(comparisons)
    console.print(f"p: Welch's t-test, or the paired t-test where both rows are the same runs (test 'paired'); "
                  f"p Holm: corrected across these {family} comparisons; bold: Holm p < {ALPHA}. "
                  "Each difference's interval is its own 95 % interval, not corrected.")
