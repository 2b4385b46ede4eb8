"""``gan report``: a folder with index.html and PNG figures about runs or sweeps, readable offline in any browser.

The same grouping as ``gan compare`` decides what is drawn together: runs
that differ only by seed become one line (their mean) with the 95 %
t-interval of that mean as a band, and one line of dots (each seed's final
value) beside the mean and its interval. With ``--against ROW`` the page
also sets every row against that one, as ``gan compare --against`` does, and
draws the difference against epochs for runs evaluated during training, so a
claim can name the budget from which it holds.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ..directions import lookup
from ..errors import GanError
from ..safefiles import staged_folder
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
    metrics_of,
    pick_metric,
    setting_columns,
    sort_rows,
    status_note,
)
from .runindex import RunRecord, find_runs, with_sampler_evals

if TYPE_CHECKING:
    from .figures import BandPoint  # figures imports matplotlib: only when a report is drawn

MARKER = "report.json"
RESULTS_CSV = "results.csv"
GENERATOR = "gan report"
#: the eval metrics drawn per epoch, in panel order (any others stay in the table)
CURVE_METRICS = ("fid", "precision", "recall", "density", "coverage", "classes")
SAMPLER_METRICS = ("fid", "precision", "recall")
#: the final metrics drawn seed by seed, in panel order
SEED_METRICS = ("fid", "precision", "recall")
BAND = "95 % t-interval of the mean over seeds"
#: row labels beside the per-seed dots are cut shorter than legends: they share the width with the panels
DOTS_LABEL_LIMIT = 40
#: legend labels longer than this are cut (the results table, numbered alike, has every setting)
LABEL_LIMIT = 60
#: above this many differing settings, the results table lists them in one column
MAX_SETTING_COLUMNS = 6


@dataclass
class Built:
    """What a report holds: the page's sections and every picture, for index.html and report.json."""

    sections: list[page.Section] = field(default_factory=list)
    pictures: list[page.Picture] = field(default_factory=list)


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
    Console().print(f"Wrote {index}: {sum(not r.posthoc for r in records)} runs; open it in a browser")


def write_report(records: list[RunRecord], out: Path, inputs: list[str] | None = None, metric: str | None = None,
                 against: str | None = None) -> Path:
    """Write the report of ``records`` to ``out`` (replacing an earlier report there) and return its index.html.

    Built in a hidden folder beside ``out`` and renamed into place, so ``out``
    holds the old report or the new one, never a mixture. For callers such as
    ``gan sweep`` that already hold the records. ``against`` names the row to
    set the others against (:func:`.against.select_row`); a spec that picks no
    single row is a GanError raised before anything is written.
    """
    check_out(out)
    plan = plan_rows(records, metric, against)  # a wrong --against fails here, before any staging folder
    with staged_folder(out, replace=True) as staging:
        build_report(records, staging, inputs if inputs is not None else [str(r.path) for r in records], metric,
                     against, plan)
    return out / "index.html"


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


def build_report(records: list[RunRecord], folder: Path, inputs: list[str] | None = None,
                 metric: str | None = None, against: str | None = None, plan: Plan | None = None) -> Built:
    """Write index.html, report.json and every figure for ``records`` into ``folder``."""
    plan = plan or plan_rows(records, metric, against)
    rows, metric, directions = plan.rows, plan.metric, plan.directions
    columns = setting_columns(rows)
    numbered = len(rows) > 1
    labels = {id(row): row_label(row, columns, i + 1 if numbered else None) for i, row in enumerate(rows)}
    # rows of post-hoc evaluations (with_sampler_evals) share their runs' training: drawn once, with the plain row
    trained = [row for row in rows if not all(run.posthoc for run in row.runs)]
    records = [r for r in records if not r.posthoc]
    built = Built()
    results = results_section(records, rows, columns, metric, directions, numbered)
    results.pictures += seeds_pictures(rows, columns, directions, metric, folder)
    built.sections.append(results)
    (folder / RESULTS_CSV).write_text(csv_text(rows, columns, metrics_of(rows)), encoding="utf-8")
    if plan.base is not None:
        assert metric is not None
        built.sections += against_sections(rows, plan.base, metric, columns, directions, trained, labels, folder)
    built.sections += curve_sections(trained, labels, directions, folder)
    built.sections += sampler_sections(trained, labels, directions, folder)
    built.sections += run_sections(records, trained, columns, folder, numbered, rows)
    built.pictures = [p for s in built.sections for p in s.pictures]
    when = dt.datetime.now(dt.timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    meta = f"{len(records)} runs in {len(rows)} groups, made {when} by gan report from {', '.join(inputs or [])}"
    (folder / "index.html").write_text(page.render_page("gan report", meta, built.sections), encoding="utf-8")
    marker = {
        "generator": GENERATOR,
        "created": when,
        "inputs": inputs or [],
        "runs": [str(r.path) for r in records],
        "figures": [{"src": p.src, "caption": p.caption, "width": p.width, "height": p.height}
                    for p in built.pictures],
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return built


def row_label(row: Row, columns: list[str], number: int | None = None, limit: int | None = LABEL_LIMIT) -> str:
    """How a figure's legend names a row: ``#number`` (its line in the results table), its differing
    settings (cut at ``limit`` characters: the table has them all), and how many seeds it pools."""
    text = settings_text(row, columns)
    if not text:
        text = row.runs[0].name if row.n == 1 else "all runs"
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip(", ") + "…"
    prefix = f"#{number} " if number is not None else ""
    return prefix + text + (f" ({row.n} seeds)" if row.n > 1 else "")


def settings_text(row: Row, columns: list[str]) -> str:
    """``k=v, k=v`` of the row's differing settings, leaving out those it lacks (another prior's options)."""
    return ", ".join(f"{k}={format_value(row.settings[k])}" for k in columns if row.settings.get(k) is not None)


def results_section(records: list[RunRecord], rows: list[Row], columns: list[str], metric: str | None,
                    directions: dict[str, str], numbered: bool = False) -> page.Section:
    metrics = headline_metrics(metrics_of(rows), directions, metric)
    # many differing settings (a leaderboard of unlike methods): one column of what each row sets, so the
    # metrics stay in view instead of past a dozen mostly empty columns
    merged = len(columns) > MAX_SETTING_COLUMNS
    shown = ["settings"] if merged else columns
    header = (["#"] if numbered else []) + shown + ["n"] + [f"{m} {arrow(lookup(directions, m))}" for m in metrics]
    header.append("runs")
    body = []
    for i, row in enumerate(rows):
        cells = ([str(i + 1)] if numbered else []) + setting_cells(row, columns, merged)
        cells.append(str(row.n))
        cells += [format_stat(row.stats.get(m), row_n=row.n) for m in metrics]
        cells.append(" ".join(r.name for r in row.runs))
        body.append(cells)
    common = common_settings(records, columns)
    parts = []
    if common:
        parts.append(page.paragraph("common: " + ", ".join(f"{k}={format_value(v)}" for k, v in common.items()),
                                    "common"))
    parts.append(page.render_table(header, body, len(shown) + numbered, best=0 if metric else None,
                                   names_column=True, wrap_settings=merged))
    sorted_by = (f"Sorted by {metric} ({lookup(directions, metric)} is better), best first (tinted). "
                 if metric else "No run has been evaluated yet. ")
    parts.append(page.paragraph(sorted_by + "Runs that differ only by seed share a row: the mean over the seeds "
                                "± half its 95 % t-interval; n counts the runs, (n=K) says only K of them have "
                                "that metric.", "meta"))
    if metrics_of(rows):
        parts.append(page.download("Every metric (diagnostics too), one row per group, as gan compare --csv prints it:",
                                   RESULTS_CSV, RESULTS_CSV))
    notes = [n for n in (evaluation_note(records), status_note(records)) if n]
    return page.Section("Results", body="\n".join(parts), notes=notes)


def setting_cells(row: Row, columns: list[str], merged: bool) -> list[str]:
    """A row's settings as table cells: one per column, or (``merged``) one cell of ``k=v, k=v``."""
    return [settings_text(row, columns)] if merged else [format_value(row.settings.get(c)) for c in columns]


def seeds_pictures(rows: list[Row], columns: list[str], directions: dict[str, str], metric: str | None,
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
    numbered = len(rows) > 1
    dots = [figures.Dots(row_label(row, columns, i + 1 if numbered else None, limit=DOTS_LABEL_LIMIT),
                         {m: list(row.stats[m].values) for m in metrics if m in row.stats})
            for i, row in enumerate(rows)]
    width, height = figures.seeds_figure(dots, metrics, directions, folder / "seeds.png",
                                         "Final metrics seed by seed")
    caption = ("Each run's final metric as a dot (one per seed), and below the dots the row's mean (diamond) with "
               f"the {BAND} as an error bar; rows in the order of the results table, numbered alike.")
    return [page.Picture("seeds.png", caption, width, height)]


def against_sections(rows: list[Row], base: int, metric: str, columns: list[str], directions: dict[str, str],
                     trained: list[Row], labels: dict[int, str], folder: Path) -> list[page.Section]:
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
    header = ["#"] + (["settings"] if merged else columns) + ["n", f"{metric} {arrow(way)}",
                                                             "difference [95 %]", "p", "p Holm", "test"]
    if bands:
        header.append("interval excludes 0 from epoch")
    body = []
    for number, row in enumerate(rows, 1):
        comparison = comparisons.get(id(row))
        cells = [str(number)] + setting_cells(row, columns, merged)
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
            [(labels[id(row)], bands[id(row)]) for row in shown], folder / "against.png",
            f"{metric} during training, each row minus #{base + 1} ({way} is better)", f"{metric} difference")
        pictures.append(page.Picture(
            "against.png", f"The difference in {metric} from #{base + 1} ({labels[id(base_row)]}) at each epoch, "
            "from the evaluations during training (--eval-every), at the epochs both rows have; the band is its 95 % "
            "interval (Welch's, or paired where both rows are the same runs); none where a side has a single run. "
            f"Below zero the row's {metric} is lower.", width, height))
    return [page.Section(f"Against #{base + 1}", body="\n".join(parts), pictures=pictures, notes=notes)]


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


def curve_sections(rows: list[Row], labels: dict[int, str], directions: dict[str, str],
                   folder: Path) -> list[page.Section]:
    """Loss curves and eval-metric curves per epoch, every row overlaid (the best rows if there are many)."""
    from . import figures

    shown = rows[: figures.MAX_SERIES]
    notes = []
    if len(rows) > len(shown):
        notes.append(f"only the {len(shown)} best of {len(rows)} groups are drawn; the table lists them all")
    seeds = any(row.n > 1 for row in shown)
    how = (f" Lines are the mean over seeds; the shaded band is the {BAND} at each epoch (none where a single "
           "run has a value)." if seeds else "")
    title_suffix = " (mean over seeds, band: 95 % t-interval)" if seeds else ""
    pictures = []
    logs = [figures.Series(labels[id(r)], [run.curves.logs for run in r.runs]) for r in shown]
    if any(records for s in logs for records in s.runs):
        keys = [k for k in ("d_loss", "g_loss") if any(k in rec for s in logs for run in s.runs for rec in run)]
        width, height = figures.curves_figure(
            logs, keys, {"d_loss": "D loss", "g_loss": "G loss"}, folder / "losses.png",
            "Training losses" + title_suffix, columns=2)
        pictures.append(page.Picture("losses.png", "Discriminator and generator loss per epoch, as logged during "
                                     "training." + how, width, height))
    evals = [figures.Series(labels[id(r)], [run.curves.evals for run in r.runs]) for r in shown]
    keys = [m for m in CURVE_METRICS if any(m in rec for s in evals for run in s.runs for rec in run)]
    if keys:
        titles = {m: f"{m} ({lookup(directions, m)} is better)" for m in keys}
        width, height = figures.curves_figure(evals, keys, titles, folder / "metrics.png",
                                              "Evaluation during training" + title_suffix)
        pictures.append(page.Picture("metrics.png", "Metrics of the evaluations made during training "
                                     "(--eval-every), per epoch." + how, width, height))
    elif any(r.curves.logs for row in rows for r in row.runs):
        notes.append("no run evaluated during training (train with --eval-every 1 to draw metrics per epoch)")
    if not pictures:
        return []
    return [page.Section("Training curves", pictures=pictures, notes=notes)]


def sampler_sections(rows: list[Row], labels: dict[int, str], directions: dict[str, str],
                     folder: Path) -> list[page.Section]:
    """Grouped bars of each sampler's metrics, for the rows whose runs were evaluated with several samplers."""
    from . import figures

    bars: dict[str, dict[str, dict[str, figures.Bar]]] = {}
    for row in rows:
        if not any(len(run.evals) > 1 for run in row.runs):
            continue
        per_sampler = bars.setdefault(labels[id(row)], {})
        for run in row.runs:
            for sampler, values in run.evals.items():
                for metric, value in values.items():
                    per_sampler.setdefault(sampler, {}).setdefault(metric, figures.Bar([])).values.append(value)
    metrics = [m for m in SAMPLER_METRICS if any(m in per for s in bars.values() for per in s.values())]
    if not bars or not metrics:
        return []
    width, height = figures.samplers_figure(bars, metrics, directions, folder / "samplers.png",
                                            "Samplers compared (gan eval --sampler)")
    caption = ("Each sampler's metrics from its last gan eval (eval.json, evals/*.json); "
               f"with several seeds a bar is their mean and its error bar the {BAND}.")
    return [page.Section("Samplers", pictures=[page.Picture("samplers.png", caption, width, height)])]


def run_sections(records: list[RunRecord], rows: list[Row], columns: list[str], folder: Path,
                 numbered: bool, ranked: list[Row] | None = None) -> list[page.Section]:
    """Per run: its last sample grid, images per prior component, and the prior's means in 2-D."""
    slugs = run_slugs(records)
    sections = [page.Section("Runs", body=page.paragraph(
        "Per run, in the order of the results table: the last sample grid written during training, "
        "8 images drawn from each prior component (row k is component k; seed 0), and the prior's "
        "component means projected on their two principal axes.", "meta"))]
    ranked = ranked or rows  # the table's order, for the row numbers
    for row in rows:
        number = next(i for i, r in enumerate(ranked) if r is row) + 1 if numbered else None
        for run in row.runs:
            label = row_label(row, columns, number, limit=None)
            sections.append(run_section(run, label, slugs[id(run)], folder))
    return sections


def run_section(run: RunRecord, label: str, slug: str, folder: Path) -> page.Section:
    pictures, notes = [], []
    samples = last_samples(run)
    if samples is not None:
        target = folder / "runs" / f"{slug}-samples.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(samples, target)
        pictures.append(_picture(target, folder, f"last samples written in training ({samples.name})"))
    else:
        notes.append("no sample grid in samples/")
    try:
        pictures += model_pictures(run, slug, folder)
    except GanError as exc:
        notes.append(f"the model could not be loaded, so no per-component images: {exc.message}")
    except Exception as exc:  # noqa: BLE001 - an optional view of one run must not sink a report of many
        notes.append(f"no per-component images: rebuilding the model failed ({type(exc).__name__}: {exc})")
    seed = run.settings.get("seed")
    step = (run.info.get("checkpoint") or {}).get("step")
    final = run.final_from
    how = ""
    if final:
        how = f"; final metrics from {final['source']}" + (f" (sampler {final['sampler']}, n={final['n']})"
                                                           if final.get("sampler") else f" (n={final.get('n')})")
    meta = f"{label} · seed {format_value(seed)} · {run.status} at step {step}{how}"
    return page.Section(str(run.path), pictures=pictures, notes=notes, sub=True, meta=meta)


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


def run_slugs(records: list[RunRecord]) -> dict[int, str]:
    """A unique file-name-safe name per run, from its path below the runs' common folder."""
    resolved = [r.path.resolve() for r in records]
    base = Path(os.path.commonpath(resolved)) if len(resolved) > 1 else resolved[0].parent
    slugs: dict[int, str] = {}
    taken: set[str] = set()
    for record, path in zip(records, resolved):
        rel = path.relative_to(base).as_posix() if path != base else path.name
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", rel.replace("/", "-")).strip("._-") or "run"
        unique, i = slug, 2
        while unique in taken:
            unique, i = f"{slug}-{i}", i + 1
        taken.add(unique)
        slugs[id(record)] = unique
    return slugs
