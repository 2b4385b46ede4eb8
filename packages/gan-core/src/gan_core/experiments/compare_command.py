"""``gan compare``: the command, its table of means with 95 % intervals, and its ``--against`` view.

The grouping and statistics live in :mod:`.compare` (pure, shared with
``gan report``) and :mod:`.against`; this module only prints them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Callable

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..directions import HIGHER, lookup, sign as direction_sign
from ..errors import GanError
from ..terminal import output_console
from . import stats
from .against import ALPHA, against_dicts, compare_against, format_difference, format_p, select_row
from .compare import (
    EVAL_SD_NOTE,
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
    key_table,
    print_rows,
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
    by: Annotated[list[str] | None, typer.Option("--by", help="Group by this setting only, e.g. prior or prior.k (repeatable); runs are pooled over the rest. [default: every setting but the seed]")] = None,
    metric: Annotated[str | None, typer.Option(help="Sort by this metric, best first. [default: fid, else the first]")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
    samplers: Annotated[bool, typer.Option("--samplers", help="Also a row per post-hoc sampler the runs were evaluated with (gan eval --sampler, a sweep's eval-samplers).")] = False,
    best_of: Annotated[int | None, typer.Option("--best-of", min=1, help="Equal tuning budget (Lucic et al. 2018): per row, the distribution of the best of K of its runs, e.g. K random-search trials of one method with --by loss. Rows rank by its expected value.")] = None,
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
    if best_of is not None and against is not None:
        raise GanError("--best-of and --against are two views; pass one of them")
    if (best_of is not None or against is not None) and chosen is None:
        raise GanError(f"{'--best-of' if best_of else '--against'} needs metrics and no run has any; run 'gan eval RUN' first")
    best = {id(row): best_of_row(row, chosen, best_of, directions) for row in rows} if best_of else {}
    if best_of:
        rows = sorted(rows, key=lambda row: _best_key(best[id(row)], chosen, directions))
    base = select_row(rows, against) if against is not None else None
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
        if best_of:
            for item, row in zip(items, rows):
                result = best[id(row)]
                item.update({f"{chosen}_best_of_{best_of}": result.expected if result else None,
                             f"{chosen}_best_of_{best_of}_low": result.low if result else None,
                             f"{chosen}_best_of_{best_of}_high": result.high if result else None})
        if as_json:
            for item, row in zip(items, rows):
                item["runs"] = [str(r.path) for r in row.runs]
            print(json.dumps(items, indent=2))
        else:
            text = csv_text(rows, columns, metrics)
            if best_of:
                extra = [f"{chosen}_best_of_{best_of}", f"{chosen}_best_of_{best_of}_low", f"{chosen}_best_of_{best_of}_high"]
                text = to_csv(items, text.splitlines()[0].split(",") + extra)
            print(text, end="")
        return
    console = output_console()
    common = common_settings(records, columns)
    if common:
        text = ", ".join(f"{k}={format_value(v)}" for k, v in common.items())
        console.print(f"[bold]common:[/bold] {escape(text)}")
    pooled = pooled_settings(records, columns)
    if by and pooled:
        console.print(f"[bold]pooled over:[/bold] {escape(', '.join(pooled))}")
    title = (f"{plural(len(records), 'run')} in {plural(len(rows), 'row')}"
             + (f", by {chosen} ({lookup(directions, chosen)} is better)" if chosen else ""))
    if base is not None:
        assert chosen is not None
        _print_against(console, rows, base, chosen, columns, directions)
    elif best_of:
        assert chosen is not None
        _print_best_of(console, rows, best, best_of, chosen, columns, directions)
    else:
        shown = headline_metrics(metrics, directions, chosen)
        left_out = print_rows(console, rows, chosen, columns, directions, shown, title)
        if metrics:
            console.print(INTERVAL_NOTE)
        if any(stat.eval_std is not None for row in rows for stat in row.stats.values()):
            console.print(EVAL_SD_NOTE)
        hidden = [m for m in metrics if m not in shown] + left_out
        if hidden:
            console.print(f"also measured (see --csv, --json or a wider terminal): {escape(', '.join(hidden))}")
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

    def cells(row: Row) -> list[str]:
        comparison = comparisons.get(id(row))
        mean = format_stat(row.stats.get(metric), " ", row.n)
        if comparison is None:
            return [str(row.n), mean, "(against)", "", "", ""]
        d = comparison.difference
        text = escape(format_difference(d))
        return [str(row.n), mean, f"[bold]{text}[/bold]" if d is not None and comparison.p_holm < ALPHA else text,
                format_p(d.p) if d else "-", format_p(comparison.p_holm), d.test if d else "-"]

    _print_fitted(console, f"{metric} ({way} is better) against #{base + 1}: difference = row - #{base + 1}", rows,
                  columns, ("n", f"{metric} {arrow(way)}", "difference [95 %]", "p", "p Holm", "test"), cells)
    console.print(f"p: Welch's t-test, or the paired t-test where both rows are the same runs (test 'paired'); "
                  f"p Holm: corrected across these {len(comparisons)} comparisons; bold: Holm p < {ALPHA}. "
                  "Each difference's interval is its own 95 % interval, not corrected.")


def _print_fitted(console: Console, title: str, rows: list[Row], columns: list[str], headers: tuple[str, ...],
                  cells: Callable[[Row], list[str]]) -> None:
    """A table of ``#``, the setting columns and ``headers``; where the settings do not fit, one line per row
    and the key of each row's settings under the table."""
    for keyed in (False, True):
        table = Table(title=title, box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
        table.add_column("#", justify="right")
        for column in [] if keyed else columns:
            table.add_column(escape(column), overflow="fold")
        for header in headers:
            table.add_column(escape(header), justify="right")
        for number, row in enumerate(rows, 1):
            table.add_row(str(number), *setting_cells(row, [] if keyed else columns), *cells(row))
        if natural_width(table) <= console.width:
            break
    console.print(table)
    if keyed:
        console.print(key_table(rows, columns))


def best_of_row(row: Row, metric: str | None, k: int, directions: dict[str, str]) -> stats.BestOfK | None:
    """The best-of-``k`` distribution of ``row``'s runs in ``metric`` (None when it has fewer than k runs)."""
    values = [r.final[metric] for r in row.runs if metric in r.final]
    return stats.best_of_k(values, k, higher_is_better=lookup(directions, metric or "") == HIGHER)


def _best_key(result: stats.BestOfK | None, metric: str | None, directions: dict[str, str]) -> tuple[int, float]:
    if result is None or math.isnan(result.expected):
        return (1, 0.0)
    return (0, direction_sign(lookup(directions, metric or "")) * result.expected)


def _print_best_of(console: Console, rows: list[Row], best: dict[int, stats.BestOfK | None], k: int, metric: str,
                   columns: list[str], directions: dict[str, str]) -> None:
    """The --best-of table: each row's mean over all its runs, and what the best of k of them would score."""
    way = lookup(directions, metric)

    def cells(row: Row) -> list[str]:
        result = best[id(row)]
        tail = (["-", f"needs {k} runs"] if result is None else
                [f"{result.expected:.4g}", f"[{result.low:.4g}, {result.high:.4g}]"])
        return [str(row.n), format_stat(row.stats.get(metric), " ", row.n), *tail]

    _print_fitted(console, f"{metric} ({way} is better): the best of {k} runs per row, ranked by its expected value",
                  rows, columns, ("n", f"{metric} {arrow(way)}", f"best of {k}", "95 % of draws"), cells)
    console.print(f"best of {k}: the expected {metric} of the best of {k} runs drawn at random without replacement "
                  f"from the row's runs (exact over every subset), and the range holding 95 % of such draws. Give "
                  "each method the same number of random-search trials for this to be an equal tuning budget.")



def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
