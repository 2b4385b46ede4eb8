"""``gan report``: a folder with index.html and PNG figures about runs or sweeps, readable offline in any browser.

The same grouping as ``gan compare`` decides what is drawn together: runs
that differ only by seed become one line (their mean) with the 95 %
t-interval of that mean as a band, and one line of dots (each seed's final
value) beside the mean and its interval. With ``--against ROW`` the page
also sets every row against that one, as ``gan compare --against`` does, and
draws the difference against epochs for runs evaluated during training, so a
claim can name the budget from which it holds.

Every figure names a row by its number in the results table (``#3``); a key
on the page says, as ``gan compare`` does in a narrow terminal, the usual
value of each differing setting once and per row only what departs from it.
Committed records (run.json, evaluations, metrics.jsonl and the last sample
grid, no weights) make a whole report but for the views that need the model,
which the page and the command say once.

Everything is written into a hidden staging folder and renamed into place at
the end, so a failure never leaves half a report, and ``--out`` may only
replace an empty folder or an earlier report (marked by its report.json).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..directions import LOWER, lookup
from ..errors import GanError
from ..runs import WEIGHTS_FILE, checkpoint_file
from ..safefiles import staged_folder
from ..terminal import output_console
from . import page
from .against import ALPHA, compare_against, format_difference, format_p, is_paired, select_row
from .compare import (
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
    key_table,
    metrics_of,
    pick_metric,
    setting_columns,
    sort_rows,
    status_note,
)
from .runindex import RunRecord, find_runs, with_sampler_evals

if TYPE_CHECKING:
    from .figures import BandPoint, Panel  # figures imports matplotlib: only when a report is drawn

MARKER = "report.json"
RESULTS_CSV = "results.csv"
GENERATOR = "gan report"
#: the eval metrics drawn per epoch, in panel order (any others stay in the table)
CURVE_METRICS = ("fid", "precision", "recall", "density", "coverage", "classes")
SAMPLER_METRICS = ("fid", "precision", "recall")
#: the final metrics drawn seed by seed, in panel order; also each run's own numbers under its grid
SEED_METRICS = ("fid", "precision", "recall")
BAND = "95 % t-interval of the mean over seeds"
#: a one-row report names its row by its settings, cut at this many characters (several rows are #1, #2...)
LABEL_LIMIT = 60
#: above this many differing settings, the results table lists them in one column
MAX_SETTING_COLUMNS = 6
#: the setting whose values have losses of unlike scales: one row of loss panels per value
LOSS_FAMILY = "loss"


@dataclass
class Built:
    """What a report holds: the page's sections and every picture, for index.html and report.json, and the
    notes that concern the whole report (said once on the page and by the command)."""

    sections: list[page.Section] = field(default_factory=list)
    pictures: list[page.Picture] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def report(
    paths: Annotated[list[Path], typer.Argument(help="Run directories, or folders searched for runs (a sweep).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write index.html and figures into (an earlier report there is replaced).")] = Path("report"),
    samplers: Annotated[bool, typer.Option("--samplers", help="Also a results row per post-hoc sampler the runs were evaluated with, as gan compare --samplers.")] = False,
    against: Annotated[str | None, typer.Option("--against", help="Set every row against this one: its number in the table (#) or settings that pick it, e.g. prior=normal,loss=vanilla. Gives each difference with its 95 % interval and a Holm-corrected p, and draws the difference against epochs.")] = None,
) -> None:
    """Write an HTML report of runs: loss and metric curves, samples, per-component images, the results table."""
    check_out(out)  # before reading runs: a wrong --out is the cheaper mistake to report
    records = find_runs(list(paths))
    if samplers:
        records = with_sampler_evals(records)
    index = write_report(records, out, [str(p) for p in paths], against=against)
    console = output_console()
    console.print(f"Wrote {index}: {sum(not r.posthoc for r in records)} runs; open it in a browser",
                  soft_wrap=True, highlight=False)
    for note in report_notes(out):
        console.print(f"note: {note}", soft_wrap=True, highlight=False, markup=False)


def write_report(records: list[RunRecord], out: Path, inputs: list[str] | None = None, metric: str | None = None,
                 against: str | None = None) -> Path:
    """Write the report of ``records`` to ``out`` (replacing an earlier report there) and return its index.html.

    Built in a hidden folder beside ``out`` and renamed into place, so ``out``
    holds the old report or the new one, never a mixture. For callers such as
    ``gan sweep`` that already hold the records. ``against`` names the row to
    set the others against (:func:`.against.select_row`); a spec that picks no
    single row is a GanError raised before anything is written. What the
    report says about all of it once (runs without weights) is in
    :func:`report_notes`.
    """
    check_out(out)
    records = [replace(r, path=relative_path(r.path)) for r in records]  # headings and notes name paths short
    plan = plan_rows(records, metric, against)  # a wrong --against fails here, before any staging folder
    with staged_folder(out, replace=True) as staging:
        build_report(records, staging, inputs if inputs is not None else [str(r.path) for r in records], metric,
                     against, plan)
    return out / "index.html"


def report_notes(out: Path) -> list[str]:
    """The notes a report at ``out`` makes about all its runs (each one line), for the command to repeat."""
    try:
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    notes = marker.get("notes") if isinstance(marker, dict) else None
    return [str(n) for n in notes] if isinstance(notes, list) else []


def relative_path(path: Path) -> Path:
    """``path`` relative to the current directory when it lies under it (as typed otherwise)."""
    if not path.is_absolute():
        return path
    try:
        resolved, here = path.resolve(), Path.cwd().resolve()
    except OSError:
        return path
    return resolved.relative_to(here) if resolved.is_relative_to(here) else path


def check_out(out: Path) -> None:
    """Refuse an --out that holds something other than an earlier report: it would be replaced."""
    if not out.exists():
        return
    if not out.is_dir():
        raise GanError(f"{out} is a file; pass a folder for --out")
    if any(out.iterdir()) and not is_report(out):
        raise GanError(f"{out} is not empty and holds no earlier gan report; choose another --out")


def is_report(folder: Path) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("generator") == GENERATOR


@dataclass
class Plan:
    """The rows as the report shows them: grouped and sorted as gan compare does, and the --against row."""

    rows: list[Row]
    metric: str | None
    directions: dict[str, str]
    base: int | None


def plan_rows(records: list[RunRecord], metric: str | None = None, against: str | None = None) -> Plan:
    """Group and sort ``records`` into the table's rows and find the ``against`` row among them."""
    rows = compare_rows(records)
    directions = directions_of(records)
    metric = pick_metric(rows, metric)
    rows = sort_rows(rows, metric, directions)
    base = select_row(rows, against) if against is not None else None
    if base is not None and metric is None:
        raise GanError("--against needs metrics and no run has any; run 'gan eval RUN' first")
    return Plan(rows, metric, directions, base)


@dataclass
class Names:
    """How the page names rows and runs: ``#k`` labels, each row's key text, the runs' ids on the page."""

    #: id(row) -> the label figures use: ``#k`` (its number in the table), or for a lone row its settings
    labels: dict[int, str]
    #: id(row) -> its number in the table (1 = first)
    numbers: dict[int, int]
    #: the usual value of each differing setting (``k=v, k=v``), or None
    usual: str | None
    #: id(row) -> the settings in which the row departs from the usual ones
    keys: dict[int, str]
    #: resolved run path -> the id of its card on the page
    anchors: dict[Path, str]
    #: the folder that holds every run, and each run's path below it
    base: Path
    below: dict[Path, str]


def name_rows(rows: list[Row], columns: list[str], records: list[RunRecord]) -> Names:
    numbered = len(rows) > 1
    numbers = {id(row): i + 1 for i, row in enumerate(rows)}
    labels = {id(row): f"#{numbers[id(row)]}" if numbered else row_label(row, columns) for row in rows}
    usual, keys = key_entries(rows, columns)
    slugs = run_slugs(records)
    anchors = {r.path.resolve(): f"run-{slugs[id(r)]}" for r in records}
    base = runs_folder(records)
    below = {}
    for r in records:
        resolved = r.path.resolve()
        below[resolved] = resolved.relative_to(base).as_posix() if resolved != base else r.path.name
    return Names(labels, numbers, usual, {id(row): text for row, text in zip(rows, keys)}, anchors, base, below)


def key_entries(rows: list[Row], columns: list[str]) -> tuple[str | None, list[str]]:
    """``gan compare``'s key (:func:`.compare.key_table`) as text: the usual settings, and per row what departs."""
    from rich.text import Text

    table = key_table(rows, columns)
    names = [Text.from_markup(str(cell)).plain for cell in table.columns[0].cells]
    texts = [Text.from_markup(str(cell)).plain for cell in table.columns[1].cells]
    if names and names[0] == "usual":
        return texts[0], texts[1:]
    return None, texts


def row_label(row: Row, columns: list[str], limit: int = LABEL_LIMIT) -> str:
    """How figures name a row that is the only one (several are ``#1``, ``#2``...): its differing settings
    (cut at ``limit`` characters), or its run's name, and how many seeds it pools."""
    text = settings_text(row, columns)
    if not text:
        text = row.runs[0].name if row.n == 1 else "all runs"
    if len(text) > limit:
        text = text[: limit - 1].rstrip(", ") + "…"
    return text + (f" ({row.n} seeds)" if row.n > 1 else "")


def settings_text(row: Row, columns: list[str]) -> str:
    """``k=v, k=v`` of the row's differing settings, leaving out those it lacks (another prior's options)."""
    return ", ".join(f"{k}={format_value(row.settings[k])}" for k in columns if row.settings.get(k) is not None)


def build_report(records: list[RunRecord], folder: Path, inputs: list[str] | None = None,
                 metric: str | None = None, against: str | None = None, plan: Plan | None = None) -> Built:
    """Write index.html, report.json and every figure for ``records`` into ``folder``."""
    plan = plan or plan_rows(records, metric, against)
    rows, metric, directions = plan.rows, plan.metric, plan.directions
    columns = setting_columns(rows)
    numbered = len(rows) > 1
    names = name_rows(rows, columns, [r for r in records if not r.posthoc])
    # rows of post-hoc evaluations (with_sampler_evals) share their runs' training: drawn once, with the plain row
    trained = [row for row in rows if not all(run.posthoc for run in row.runs)]
    records = [r for r in records if not r.posthoc]
    built = Built()
    results = results_section(records, rows, columns, metric, directions, numbered, names)
    results.pictures += seeds_pictures(rows, names, directions, metric, folder)
    built.sections.append(results)
    (folder / RESULTS_CSV).write_text(csv_text(rows, columns, metrics_of(rows)), encoding="utf-8")
    if plan.base is not None:
        assert metric is not None
        built.sections += against_sections(rows, plan.base, metric, columns, directions, trained, names, folder)
    built.sections += curve_sections(trained, names, metric, directions, folder, numbered)
    built.sections += sampler_sections(trained, names, metric, directions, folder, numbered)
    runs, built.notes = run_sections(trained, names, metric, directions, folder, numbered)
    built.sections += runs
    built.pictures = [p for s in built.sections for p in s.pictures + [q for c in s.cards for q in c.pictures]]
    when = dt.datetime.now(dt.timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    shown_inputs = [str(relative_path(Path(i))) for i in inputs or []]
    meta = (f"{len(records)} run{'s' if len(records) != 1 else ''} in {len(rows)} row{'s' if len(rows) != 1 else ''}, "
            f"made {when} by gan report from {', '.join(shown_inputs)}")
    (folder / "index.html").write_text(page.render_page("gan report", meta, built.sections), encoding="utf-8")
    marker = {
        "generator": GENERATOR,
        "created": when,
        "inputs": inputs or [],
        "runs": [str(r.path) for r in records],
        "notes": built.notes,
        "figures": [{"src": p.src, "caption": p.caption, "width": p.width, "height": p.height}
                    for p in built.pictures],
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return built


def results_section(records: list[RunRecord], rows: list[Row], columns: list[str], metric: str | None,
                    directions: dict[str, str], numbered: bool = False, names: Names | None = None) -> page.Section:
    names = names or name_rows(rows, columns, [r for r in records if not r.posthoc])
    metrics = headline_metrics(metrics_of(rows), directions, metric)
    # many differing settings (a leaderboard of unlike methods): one column of what each row sets apart from
    # the usual settings (said above the table), so the metrics stay in view instead of past a dozen columns
    merged = len(columns) > MAX_SETTING_COLUMNS
    shown = ["settings (besides the usual)" if merged and names.usual else "settings"] if merged else columns
    header = (["#"] if numbered else []) + shown + ["n"] + [f"{m} {arrow(lookup(directions, m))}" for m in metrics]
    seeds = all(by_seed(row) for row in rows)
    header.append("seeds" if seeds else "runs")
    body: list[list[page.Cell]] = []
    for i, row in enumerate(rows):
        cells: list[page.Cell] = [str(i + 1)] if numbered else []
        cells += [names.keys[id(row)]] if merged else setting_cells(row, columns)
        cells.append(str(row.n))
        cells += [format_stat(row.stats.get(m), row_n=row.n) for m in metrics]
        cells.append(run_links(row, names, seeds))
        body.append(cells)
    common = common_settings(records, columns)
    parts = []
    if common:
        parts.append(page.paragraph("common: " + ", ".join(f"{k}={format_value(v)}" for k, v in common.items()),
                                    "common"))
    if merged and names.usual:
        parts.append(page.paragraph(f"usual: {names.usual}", "common"))
    parts.append(page.render_table(header, body, len(shown) + numbered, best=0 if metric else None,
                                   names_column=True, wrap_settings=merged))
    sorted_by = (f"Sorted by {metric} ({lookup(directions, metric)} is better), best first (tinted). "
                 if metric else "No run has been evaluated yet. ")
    explained = (sorted_by + "Runs that differ only by seed share a row: the mean over the seeds ± half its 95 % "
                 "t-interval; n counts the runs, (n=K) says only K of them have that metric. Each "
                 f"{'seed' if seeds else 'run'} links to the run's sample grid and own metrics below.")
    if numbered:
        explained += " Every figure names a row by its number here."
    parts.append(page.paragraph(explained, "meta"))
    if metrics_of(rows):
        parts.append(page.download("Every metric (diagnostics too), one row per group, as gan compare --csv prints it:",
                                   RESULTS_CSV, RESULTS_CSV))
    notes = [n for n in (evaluation_note(records), status_note(records)) if n]
    return page.Section("Results", body="\n".join(parts), notes=notes, anchor="results")


def by_seed(row: Row) -> bool:
    """Whether the row's runs are told apart by their seeds (each has one, all different)."""
    seeds = [run.settings.get("seed") for run in row.runs]
    return None not in seeds and len({format_value(s) for s in seeds}) == len(seeds)


def run_links(row: Row, names: Names, seeds: bool) -> list[page.Link]:
    """Links to the row's runs on the page, named by their seeds (``seeds``) or else their folders."""
    links = []
    for run in row.runs:
        resolved = run.path.resolve()
        text = format_value(run.settings.get("seed")) if seeds else names.below.get(resolved, run.name)
        links.append(page.Link(text, names.anchors.get(resolved, ""), names.below.get(resolved, run.name)))
    return links


def setting_cells(row: Row, columns: list[str]) -> list[str]:
    """A row's settings as table cells, one per column."""
    return [format_value(row.settings.get(c)) for c in columns]


def key_html(rows: list[Row], names: Names, metric: str | None, directions: dict[str, str]) -> str:
    """Which settings each ``#k`` of a figure stands for (``rows``: those it draws): the usual value of each
    differing setting once, then per row what departs from it, as ``gan compare`` prints its key."""
    header = ["#", "settings" + (" (besides the usual)" if names.usual else ""), "n"]
    if metric:
        header.append(f"{metric} {arrow(lookup(directions, metric))}")
    body: list[list[page.Cell]] = []
    for row in rows:
        cells: list[page.Cell] = [names.labels[id(row)], names.keys[id(row)], str(row.n)]
        if metric:
            cells.append(format_stat(row.stats.get(metric), row_n=row.n))
        body.append(cells)
    parts = ['<p class="meta"><strong>Key</strong> to the figures\' labels (numbers of the results table)</p>']
    if names.usual:
        parts.append(page.paragraph(f"usual: {names.usual}", "common"))
    parts.append(page.render_table(header, body, 2, best=None, wrap_settings=True))
    return '<div class="key">' + "\n".join(parts) + "</div>"


def seeds_pictures(rows: list[Row], names: Names, directions: dict[str, str], metric: str | None,
                   folder: Path) -> list[page.Picture]:
    """The final value of every run as a dot, beside its row's mean and 95 % t-interval, rows as in the table
    (nothing where no row pools several runs: the table says it all)."""
    from . import figures

    if not any(stat.n > 1 for row in rows for stat in row.stats.values()):
        return []
    metrics = [m for m in SEED_METRICS if any(m in row.stats for row in rows)]
    if metric is not None and metric not in metrics:
        metrics.insert(0, metric)
    if not metrics:
        return []
    dots = [figures.Dots(names.labels[id(row)], {m: list(row.stats[m].values) for m in metrics if m in row.stats})
            for row in rows]
    width, height = figures.seeds_figure(dots, metrics, directions, folder / "seeds.png",
                                         "Final metrics seed by seed")
    caption = ("Each run's final metric as a dot (one per seed), and below the dots the row's mean (diamond) with "
               f"the {BAND} as an error bar; rows in the order of the results table, numbered alike (see the key).")
    return [page.Picture("seeds.png", caption, width, height)]


def against_sections(rows: list[Row], base: int, metric: str, columns: list[str], directions: dict[str, str],
                     trained: list[Row], names: Names, folder: Path) -> list[page.Section]:
    """Every row against row ``base`` in ``metric``: the table of differences, and the difference per epoch."""
    from . import figures

    base_row = rows[base]
    way = lookup(directions, metric)
    comparisons = {id(c.row): c for c in compare_against(rows, base, metric)}
    notes = []
    # per epoch: rows with curves of their own (a post-hoc sampler's row has its runs' training curves, not its own)
    bands: dict[int, list[figures.BandPoint]] = {}
    if any(row is base_row for row in trained):
        for row in trained:
            if row is base_row:
                continue
            points = figures.difference_band(*difference_runs(row, base_row), metric, is_paired(row, base_row))
            if points:
                bands[id(row)] = points
    elif any(metric in rec for row in trained for run in row.runs for rec in run.curves.evals):
        notes.append(f"#{base + 1} is a post-hoc sampler's evaluation, which has no curves of its own: "
                     "no difference is drawn per epoch")
    merged = len(columns) > MAX_SETTING_COLUMNS
    apart = "settings (besides the usual)" if names.usual else "settings"
    header = ["#"] + ([apart] if merged else columns) + ["n", f"{metric} {arrow(way)}",
                                                             "difference [95 %]", "p", "p Holm", "test"]
    if bands:
        header.append("interval excludes 0 from epoch")
    body: list[list[page.Cell]] = []
    for number, row in enumerate(rows, 1):
        comparison = comparisons.get(id(row))
        cells: list[page.Cell] = [str(number)]
        cells += [names.keys[id(row)]] if merged else setting_cells(row, columns)
        cells += [str(row.n), format_stat(row.stats.get(metric), row_n=row.n)]
        if comparison is None:
            cells += ["(against)", "", "", ""]
        else:
            d = comparison.difference
            cells += [format_difference(d), format_p(d.p) if d else "-", format_p(comparison.p_holm),
                      d.test if d else "-"]
        if bands:
            cells.append(budget_cell(bands.get(id(row))) if comparison is not None else "")
        body.append(cells)
    parts = [page.render_table(header, body, 1 + (1 if merged else len(columns)), best=None,
                               wrap_settings=merged)]
    explained = (f"Difference = row − #{base + 1} in the final {metric} ({way} is better). p: Welch's t-test, or the "
                 "paired t-test where both rows are the same runs (test 'paired'); p Holm: corrected across these "
                 f"{len(comparisons)} comparisons, below {ALPHA} is significant. Each interval is its own 95 % "
                 "interval, not corrected.")
    if bands:
        explained += (f" The last column: the first epoch from which the 95 % interval of the difference in {metric} "
                      "during training excludes zero at every later evaluation (- if it does not at the last; no curves: "
                     "a post-hoc sampler's row, whose runs were evaluated during training with their own sampler).")
    parts.append(page.paragraph(explained, "meta"))
    pictures = []
    if bands:
        shown = [row for row in trained if id(row) in bands][: figures.MAX_SERIES]
        if len(shown) < len(bands):
            notes.append(f"only the {len(shown)} best of {len(bands)} rows are drawn per epoch; the table lists them all")
        width, height = figures.difference_figure(
            [(names.labels[id(row)], bands[id(row)]) for row in shown], folder / "against.png",
            f"{metric} during training, each row minus #{base + 1} ({way} is better)", f"{metric} difference",
            color_indices=[names.numbers[id(row)] - 1 for row in shown])
        pictures.append(page.Picture(
            "against.png", f"The difference in {metric} from #{base + 1} at each epoch, "
            "from the evaluations during training (--eval-every), at the epochs both rows have; the band is its 95 % "
            "interval (Welch's, or paired where both rows are the same runs); none where a side has a single run. "
            f"Below zero the row's {metric} is lower.", width, height))
    return [page.Section(f"Against #{base + 1}", body="\n".join(parts), pictures=pictures, notes=notes,
                         anchor="against", short=f"Against #{base + 1}")]


def budget_cell(points: list[BandPoint] | None) -> str:
    """The first epoch from which a row's difference stays clear of zero; ``-`` if not at the end, ``no curves``
    for a row with no curves of its own (a post-hoc sampler's) or no epoch in common with the base row."""
    from . import figures

    if not points:
        return "no curves"
    since = figures.clear_of_zero_from(points)
    return format_value(since) if since is not None else "-"


def difference_runs(row: Row, base: Row) -> tuple[list[list[dict[str, float]]], list[list[dict[str, float]]]]:
    """The two rows' eval curves, run by run; for the same runs (:func:`is_paired`) in the same order."""
    if is_paired(row, base):
        order = {run.path: i for i, run in enumerate(row.runs)}
        ordered = sorted(base.runs, key=lambda run: order[run.path])
        return [run.curves.evals for run in row.runs], [run.curves.evals for run in ordered]
    return [run.curves.evals for run in row.runs], [run.curves.evals for run in base.runs]


def curve_sections(rows: list[Row], names: Names, metric: str | None, directions: dict[str, str], folder: Path,
                   numbered: bool = True) -> list[page.Section]:
    """Loss curves and eval-metric curves, the best rows overlaid: losses in one row of panels per loss family
    (a WGAN-GP critic near -12 would flatten a SAN one near 1), metrics on a log axis where they span a decade;
    beside them the key to the rows they draw."""
    from . import figures

    shown = rows[: figures.MAX_SERIES]
    notes = []
    if len(rows) > len(shown):
        notes.append(f"only the {len(shown)} best of {len(rows)} groups are drawn; the table lists them all")
    seeds = any(row.n > 1 for row in shown)
    how = (f" Lines are the mean over seeds; the shaded band is the {BAND} at each point (none where a single "
           "run has a value)." if seeds else "")
    how += " Rows are numbered as in the results table (see the key)." if numbered else ""
    title_suffix = " (mean over seeds, band: 95 % t-interval)" if seeds else ""
    pictures = []
    logs = [figures.Series(names.labels[id(r)], [run.curves.logs for run in r.runs], names.numbers[id(r)] - 1)
            for r in shown]
    keys = [k for k in ("d_loss", "g_loss") if any(k in rec for s in logs for run in s.runs for rec in run)]
    if keys:
        x = figures.choose_x([run for s in logs for run in s.runs])
        panels, families = loss_panels(shown, keys)
        width, height = figures.curves_figure(
            logs, panels, folder / "losses.png", "Training losses" + title_suffix, x=x, columns=len(keys),
            panel_legends=len(families) > 1)
        split = (f" One row of panels per loss ({', '.join(families)}), each on its own scale." if len(families) > 1
                 else "")
        pictures.append(page.Picture("losses.png", f"Discriminator and generator loss per {x}, as logged during "
                                     f"training.{split}{how}", width, height))
        if all(len(figures.mean_band([run], k, x)) <= 1 for s in logs for run in s.runs for k in keys):
            notes.append("every run logged its losses once, so each is a single point: train with a smaller "
                         "--log-every for a curve")
    evals = [figures.Series(names.labels[id(r)], [run.curves.evals for run in r.runs], names.numbers[id(r)] - 1)
             for r in shown]
    keys = [m for m in CURVE_METRICS if any(m in rec for s in evals for run in s.runs for rec in run)]
    if keys:
        x = figures.choose_x([run for s in evals for run in s.runs])
        titles = {m: f"{m} ({lookup(directions, m)} is better)" for m in keys}
        panels = [figures.Panel(m, titles[m], log_ok=lookup(directions, m) == LOWER) for m in keys]
        width, height = figures.curves_figure(evals, panels, folder / "metrics.png",
                                              "Evaluation during training" + title_suffix, x=x)
        pictures.append(page.Picture("metrics.png", "Metrics of the evaluations made during training "
                                     f"(--eval-every), per {x}; a distance spanning more than a decade is drawn on "
                                     "a log axis." + how, width, height))
    elif any(r.curves.logs for row in rows for r in row.runs):
        notes.append("no run evaluated during training (train with --eval-every 1 to draw metrics per epoch)")
    if not pictures:
        return []
    aside = key_html(shown, names, metric, directions) if numbered else ""
    return [page.Section("Training curves", pictures=pictures, notes=notes, anchor="curves", aside=aside)]


def loss_panels(rows: list[Row], keys: list[str]) -> tuple[list[Panel], list[str]]:
    """The loss figure's panels: per loss family (the rows' ``loss`` setting), one panel per key with that
    family's rows; and the families, in the order of their best row."""
    from . import figures

    families: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        families.setdefault(format_value(row.settings.get(LOSS_FAMILY)), []).append(i)
    titles = {"d_loss": "D loss", "g_loss": "G loss"}
    if len(families) == 1:
        return [figures.Panel(k, titles.get(k, k)) for k in keys], list(families)
    panels = [figures.Panel(k, f"{LOSS_FAMILY}={family}: {titles.get(k, k)}", members)
              for family, members in families.items() for k in keys]
    return panels, [f"{LOSS_FAMILY}={family}" for family in families]


def sampler_sections(rows: list[Row], names: Names, metric: str | None, directions: dict[str, str], folder: Path,
                     numbered: bool = True) -> list[page.Section]:
    """Grouped bars of each sampler's metrics, for the rows whose runs were evaluated with several samplers."""
    from . import figures

    bars: dict[str, dict[str, dict[str, figures.Bar]]] = {}
    drawn = []
    for row in rows:
        if not any(len(run.evals) > 1 for run in row.runs):
            continue
        drawn.append(row)
        per_sampler = bars.setdefault(names.labels[id(row)], {})
        for run in row.runs:
            for sampler, values in run.evals.items():
                for name, value in values.items():
                    per_sampler.setdefault(sampler, {}).setdefault(name, figures.Bar([])).values.append(value)
    metrics = [m for m in SAMPLER_METRICS if any(m in per for s in bars.values() for per in s.values())]
    if not bars or not metrics:
        return []
    width, height = figures.samplers_figure(bars, metrics, directions, folder / "samplers.png",
                                            "Samplers compared (gan eval --sampler)",
                                            [names.numbers[id(row)] - 1 for row in drawn])
    caption = ("Each sampler's metrics from its last gan eval (eval.json, evals/*.json); "
               f"with several seeds a bar is their mean and its error bar the {BAND}. Rows numbered as in the table.")
    return [page.Section("Samplers", pictures=[page.Picture("samplers.png", caption, width, height)],
                         anchor="samplers", aside=key_html(drawn, names, metric, directions) if numbered else "")]


def run_sections(rows: list[Row], names: Names, metric: str | None, directions: dict[str, str], folder: Path,
                 numbered: bool) -> tuple[list[page.Section], list[str]]:
    """Per row of the table, its runs side by side: each run's last sample grid with its own final metrics,
    and where the weights are there, images per prior component and the prior's means in 2-D.

    Returns the sections and the notes about every run at once (runs without weights, models that could not
    be rebuilt), each said once however many runs it concerns.
    """
    slugs = {path: anchor.removeprefix("run-") for path, anchor in names.anchors.items()}
    intro = ("Per row of the results table, each run's last sample grid written during training, with the run's "
             "own final metrics under it; where the run's weights are there, also 8 images drawn from each prior "
             "component (row k is component k; seed 0) and the prior's component means on their two principal axes. "
             "Each run is headed by its path" + folder_phrase(names.base) + ".")
    weightless: list[RunRecord] = []
    failures: dict[str, list[str]] = {}
    sections = []
    for row in rows:
        number = names.numbers[id(row)]
        cards = []
        for run in row.runs:
            resolved = run.path.resolve()
            card = run_card(run, names.below[resolved], names.anchors[resolved], metric, directions)
            card.pictures += sample_pictures(run, slugs[resolved], folder)
            if not checkpoint_file(run.path, WEIGHTS_FILE).is_file():
                weightless.append(run)
            else:
                try:
                    card.pictures += model_pictures(run, slugs[resolved], folder)
                except GanError as exc:
                    failures.setdefault(exc.message, []).append(names.below[resolved])
                except Exception as exc:  # noqa: BLE001 - an optional view of one run must not sink a report of many
                    failures.setdefault(f"rebuilding the model failed ({type(exc).__name__}: {exc})", []).append(
                        names.below[resolved])
            cards.append(card)
        if numbered:
            title = f"#{number} · {names.keys[id(row)]}" + (f" ({row.n} seeds)" if row.n > 1 else "")
        else:
            title = names.labels[id(row)]
        stats = " · ".join(f"{m} {format_stat(row.stats[m], row_n=row.n)}" for m in card_metrics(metric)
                           if m in row.stats)
        sections.append(page.Section(title, sub=True, anchor=f"row-{number}", short=f"#{number}" if numbered else "",
                                     meta=("mean over the row's runs: " + stats) if stats and row.n > 1 else "",
                                     cards=cards))
    notes = []
    if weightless:
        total = sum(row.n for row in rows)
        who = ("The run has no" if total == 1 else f"None of the {total} runs has" if len(weightless) == total
               else f"{len(weightless)} of {total} runs have no")
        notes.append(f"{who} weights ({WEIGHTS_FILE}; committed records keep run.json, the evaluations, metrics.jsonl "
                     "and the last sample grid): curves, metrics and sample grids are shown; images per prior component "
                     "and the prior's means need the weights")
    for message, runs in failures.items():
        notes.append(f"the model of {len(runs)} run{'s' if len(runs) > 1 else ''} ({', '.join(runs[:3])}"
                     f"{', ...' if len(runs) > 3 else ''}) could not be rebuilt, so no per-component images: {message}")
    head = page.Section("Runs", body=page.paragraph(intro, "meta"), notes=notes, anchor="runs")
    return [head] + sections, notes


def folder_phrase(base: Path) -> str:
    """`` in FOLDER`` for the folder that holds the runs, relative to the current one (nothing if it is that one)."""
    shown = relative_path(base)
    return "" if shown == Path(".") else f" in {shown.as_posix()}"


def card_metrics(metric: str | None) -> list[str]:
    """The metrics a run's card (and its row's heading) shows: the sort metric, then fid, precision and recall."""
    return ([metric] if metric and metric not in SEED_METRICS else []) + list(SEED_METRICS)


def run_card(run: RunRecord, title: str, anchor: str, metric: str | None, directions: dict[str, str]) -> page.Card:
    """One run's card: where it is, its seed and status, and its own final metrics (pictures are added after)."""
    seed = run.settings.get("seed")
    step = (run.info.get("checkpoint") or {}).get("step")
    final = run.final_from
    meta = f"seed {format_value(seed)} · {run.status} at step {step}"
    if final:
        meta += f" · final metrics from {final['source']}" + (
            f" (sampler {final['sampler']}, n={final['n']})" if final.get("sampler") else f" (n={final.get('n')})")
    facts = [(f"{m} {arrow(lookup(directions, m))}", f"{run.final[m]:.4g}") for m in card_metrics(metric)
             if m in run.final]
    return page.Card(title, anchor, meta=meta, facts=facts)


def sample_pictures(run: RunRecord, slug: str, folder: Path) -> list[page.Picture]:
    """The run's last sample grid, copied into the report (none if samples/ has none)."""
    samples = last_samples(run)
    if samples is None:
        return []
    target = folder / "runs" / f"{slug}-samples.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(samples, target)
    return [_picture(target, folder, f"last samples ({samples.name})")]


def model_pictures(run: RunRecord, slug: str, folder: Path) -> list[page.Picture]:
    from . import figures, modelviews

    model = modelviews.open_model(run.path)
    pictures = []
    grid = folder / "runs" / f"{slug}-components.png"
    count = modelviews.component_grid(model, grid)
    if count is not None:
        total = model.prior.num_components
        more = f" (the first {count} of {total})" if count < total else ""
        pictures.append(_picture(grid, folder, f"{modelviews.PER_COMPONENT} images per prior component{more}: "
                                               "row k is component k"))
    means = modelviews.means_2d(model)
    if means is not None:
        points, explained = means
        target = folder / "runs" / f"{slug}-means.png"
        width, height = figures.means_figure(points, explained, target,
                                             f"{model.prior.name}: component means, PCA to 2-D")
        pictures.append(_picture(target, folder, "the prior's component means on their first two principal axes, "
                                                 "labelled by component index", (width, height)))
    return pictures


def _picture(path: Path, folder: Path, caption: str, size: tuple[int, int] | None = None) -> page.Picture:
    from PIL import Image

    if size is None:
        with Image.open(path) as image:
            size = image.size
    scale = 1.5 if max(size) < 400 else 1.0  # 28-pixel digits are too small to judge at 1x
    return page.Picture(path.relative_to(folder).as_posix(), caption, size[0], size[1], scale)


def last_samples(run: RunRecord) -> Path | None:
    """The latest grid in samples/: epoch-N.png and step-N.png compared by the step they were written at."""
    folder = run.path / "samples"
    if not folder.is_dir():
        return None
    per_epoch = (run.info.get("data") or {}).get("steps_per_epoch") or 1

    def step_of(path: Path) -> tuple[int, bool, str]:
        match = re.fullmatch(r"(epoch|step)-(\d+)", path.stem)
        if match is None:
            return (-1, False, path.name)
        number = int(match.group(2))
        return (number * per_epoch if match.group(1) == "epoch" else number, match.group(1) == "step", path.name)

    grids = sorted(folder.glob("*.png"), key=step_of)
    return grids[-1] if grids else None


def runs_folder(records: list[RunRecord]) -> Path:
    """The folder that holds every run (resolved): their common folder, or a lone run's parent."""
    resolved = [r.path.resolve() for r in records]
    if not resolved:
        return Path.cwd().resolve()
    return Path(os.path.commonpath(resolved)) if len(resolved) > 1 else resolved[0].parent


def run_slugs(records: list[RunRecord]) -> dict[int, str]:
    """A unique file-name-safe name per run, from its path below the runs' common folder."""
    base = runs_folder(records)
    slugs: dict[int, str] = {}
    taken: set[str] = set()
    for record in records:
        path = record.path.resolve()
        rel = path.relative_to(base).as_posix() if path != base else path.name
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", rel.replace("/", "-")).strip("._-") or "run"
        unique, i = slug, 2
        while unique in taken:
            unique, i = f"{slug}-{i}", i + 1
        taken.add(unique)
        slugs[id(record)] = unique
    return slugs
