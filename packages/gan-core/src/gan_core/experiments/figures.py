"""The report's charts: numbers in, PNG files out (matplotlib's Agg renderer, no window, no pyplot).

Every band and error bar is a 95 % interval over seeds (:mod:`.stats`: the
Student-t interval of a mean; Welch's or the paired one for a difference),
computed by the pure functions :func:`mean_band`, :func:`difference_band`
and :func:`mean_interval`, so what a figure shows can be checked without
reading pixels.

Figures are built as ``matplotlib.figure.Figure`` objects rather than through
pyplot, so making a report never switches the caller's backend or leaves
global figures open. Every figure has a fixed size in pixels (``size`` x
``DPI``): legends go outside the axes inside that size, so tests and page
layout can rely on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, ScalarFormatter

from ..directions import lookup
from . import stats

DPI = 100
#: inches; pixels are these times DPI
CURVES_PANEL = (4.0, 3.0)
SAMPLERS_SIZE = (12.0, 4.0)
MEANS_SIZE = (4.2, 3.8)
#: one panel of per-seed dots: width, and height per row of the results table
SEEDS_PANEL = (4.0, 0.34)
DIFFERENCE_SIZE = (8.0, 4.2)
#: lines beyond this are unreadable on one axes; the caller keeps the best ones
MAX_SERIES = 10


@dataclass
class Series:
    """One line of a figure: a row of the results table, drawn from each of its runs' records.

    ``runs`` holds one list of records per run (``{"epoch": 1.0, "fid": ...}``);
    several runs (seeds) are drawn as their mean with the 95 % t-interval of that mean as a band.
    """

    label: str
    runs: list[list[dict[str, float]]]
    #: which colour of the palette: the row's position in the results table, so a row keeps its colour in
    #: every figure (None: its position in the figure)
    color: int | None = None


@dataclass
class Panel:
    """One axes of a curves figure: ``key`` of the series at ``members`` (indices into the figure's series).

    ``log_ok``: a log y axis where the plotted values span more than an
    order of magnitude (:func:`wants_log_axis`); for distances such as FID,
    not for losses.
    """

    key: str
    title: str
    members: list[int] | None = None
    log_ok: bool = False


@dataclass
class Bar:
    """One bar: the values of a row's runs for one sampler and metric (mean drawn, 95 % t-interval as error bar)."""

    values: list[float]


@dataclass(frozen=True)
class BandPoint:
    """One x of a band: the mean (or difference of means) there, its 95 % interval (None below 2 values), n."""

    x: float
    estimate: float
    low: float | None
    high: float | None
    n: int


@dataclass
class Dots:
    """One row of the per-seed figure: its label and, per metric, the final value of each of its runs."""

    label: str
    values: dict[str, list[float]]


def _per_x(records: list[dict[str, float]], key: str, x: str) -> dict[float, float]:
    """One run's finite ``key`` values by ``x`` (a later record at the same x replaces an earlier one)."""
    out: dict[float, float] = {}
    for record in records:
        value, where = record.get(key), record.get(x)
        if value is None or where is None or not math.isfinite(value) or not math.isfinite(where):
            continue
        out[where] = value
    return out


def mean_band(runs: Sequence[list[dict[str, float]]], key: str, x: str = "epoch") -> list[BandPoint]:
    """Per x, the mean of ``key`` over the runs that have it there and the 95 % t-interval of that mean
    (:func:`stats.t_interval`; no interval where fewer than 2 runs have a value)."""
    by_x: dict[float, list[float]] = {}
    for records in runs:
        for where, value in _per_x(records, key, x).items():
            by_x.setdefault(where, []).append(value)
    points = []
    for where in sorted(by_x):
        values = by_x[where]
        interval = stats.t_interval(values)
        points.append(BandPoint(where, stats.mean(values), *(interval or (None, None)), len(values)))
    return points


def difference_band(runs: Sequence[list[dict[str, float]]], base: Sequence[list[dict[str, float]]], key: str,
                    paired: bool, x: str = "epoch") -> list[BandPoint]:
    """Per x that both groups have, mean(runs) - mean(base) in ``key`` with its 95 % interval.

    ``paired``: ``runs[i]`` and ``base[i]`` are the same run (equal lengths), compared run by run with
    :func:`stats.paired` on the runs that have both values; otherwise the groups are independent and
    :func:`stats.welch` gives the interval. No interval where a test has fewer than 2 values a side.
    """
    if paired and len(runs) != len(base):
        raise ValueError(f"paired groups must hold the same runs, got {len(runs)} and {len(base)}")
    mine = [_per_x(records, key, x) for records in runs]
    theirs = [_per_x(records, key, x) for records in base]
    wheres = sorted({w for m in mine for w in m} & {w for t in theirs for w in t})
    points = []
    for where in wheres:
        if paired:
            pairs = [(m[where], t[where]) for m, t in zip(mine, theirs) if where in m and where in t]
            if not pairs:
                continue
            a, b = [p[0] for p in pairs], [p[1] for p in pairs]
            d = stats.paired(a, b)
            n = len(pairs)
        else:
            a = [m[where] for m in mine if where in m]
            b = [t[where] for t in theirs if where in t]
            d = stats.welch(a, b)
            n = min(len(a), len(b))
        estimate = stats.mean(a) - stats.mean(b)
        points.append(BandPoint(where, d.estimate if d else estimate, d.low if d else None,
                                d.high if d else None, n))
    return points


def clear_of_zero_from(points: Sequence[BandPoint]) -> float | None:
    """The first x from which every later interval excludes zero (to the last x), None if the last one does not."""
    since = None
    for point in reversed(points):
        if point.low is None or point.high is None or point.low <= 0 <= point.high:
            break
        since = point.x
    return since


def mean_interval(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """The mean of ``values`` and its 95 % t-interval (None, None for a single value)."""
    interval = stats.t_interval(list(values))
    return (stats.mean(list(values)), *(interval or (None, None)))


def choose_x(runs: Sequence[list[dict[str, float]]]) -> str:
    """What to plot records against: ``"epoch"``, or ``"step"`` for runs that say little per epoch.

    Steps where some run never gets past its first epoch (a ``--steps`` run:
    on an epoch axis its whole curve sits in a sliver at the left, or is one
    dot), where some run's epochs do not tell its records apart, or where
    records carry no epoch.
    """
    epochs_seen = False
    for records in runs:
        by_epoch: dict[float, float] = {}
        last = None
        for record in records:
            step, epoch = record.get("step"), record.get("epoch")
            if epoch is None or not math.isfinite(epoch):
                if step is not None:
                    return "step"
                continue
            epochs_seen = True
            last = epoch if last is None else max(last, epoch)
            if step is not None and by_epoch.setdefault(epoch, step) != step:
                return "step"  # two records at one epoch: the epoch axis would merge them
        if last is not None and last <= 1:
            return "step"
    return "epoch" if epochs_seen else "step"


def wants_log_axis(values: Sequence[float]) -> bool:
    """A log axis for ``values`` (all finite ones positive) that span more than an order of magnitude:
    FID falls from ~200 to ~10, and on a linear axis the first evaluations flatten every later one."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite or min(finite) <= 0:
        return False
    return max(finite) / min(finite) > 10


def curves_figure(series: Sequence[Series], panels: Sequence[Panel], path: Path, title: str, x: str = "epoch",
                  columns: int = 3, panel_legends: bool = False) -> tuple[int, int]:
    """Small multiples: one panel per :class:`Panel`, its series overlaid; returns the PNG's (width, height).

    Without ``panel_legends`` one legend under the panels names every series
    (they are on every panel); with it, each row of panels gets a legend of its
    own series at its right (panels that show different series, such as one
    loss family each).
    """
    columns = max(1, min(columns, len(panels)))
    rows = math.ceil(len(panels) / columns)
    colors = _series_colors(series)
    longest = max((len(s.label) for s in series), default=0)
    legend_width = 0.0
    legend_rows = 0
    ncols = 1
    if panel_legends:
        legend_width = 0.35 + 0.075 * longest
    elif len(series) > 1:
        ncols = _legend_columns([s.label for s in series], CURVES_PANEL[0] * columns)
        legend_rows = math.ceil(len(series) / ncols)
    size = (CURVES_PANEL[0] * columns + legend_width, CURVES_PANEL[1] * rows + 0.25 * legend_rows + 0.4)
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    flat = axes.ravel()
    for ax, panel in zip(flat, panels):
        members = panel.members if panel.members is not None else list(range(len(series)))
        plotted: list[float] = []
        for i in members:
            points = mean_band(series[i].runs, panel.key, x)
            _draw_band(ax, points, series[i].label, colors[i])
            plotted += [p.estimate for p in points]
        logged = panel.log_ok and wants_log_axis(plotted)
        if logged:
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 10, 20, 50, 100: read without exponents
            ax.yaxis.set_major_formatter(ScalarFormatter())
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(panel.title + (" (log scale)" if logged else ""), fontsize="medium")
        ax.set_xlabel(x)
        ax.set_ylabel(panel.key)
        ax.grid(alpha=0.3, which="both" if logged else "major")
        if x == "step":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in flat[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title)
    if panel_legends:
        for line in axes:
            shown = [ax for ax in line if ax.get_visible()]
            handles, labels = shown[-1].get_legend_handles_labels() if shown else ([], [])
            if handles:
                shown[-1].legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small",
                                 frameon=False)
    elif len(series) > 1:
        handles, labels = _all_handles(flat)
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize="small", frameon=False)
    return _save(fig, path)


def _legend_columns(labels: Sequence[str], width: float) -> int:
    """How many legend entries fit side by side in ``width`` inches (about 7 px a character, 45 px a marker)."""
    longest = max((len(label) for label in labels), default=0)
    return max(1, min(len(labels), int(width * DPI // (7 * longest + 45))))


def _all_handles(axes) -> tuple[list, list[str]]:
    """Every labelled line of ``axes`` once, in the order drawn on the first axes that has it."""
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    return handles, labels


def _draw_band(ax, points: Sequence[BandPoint], label: str, color) -> None:
    """A line through the estimates and a shaded band over the x's that have an interval."""
    if not points:
        return
    marker = "o" if len(points) <= 30 else None
    ax.plot([p.x for p in points], [p.estimate for p in points], color=color, marker=marker, markersize=3,
            linewidth=1.5, label=label)
    banded = [p for p in points if p.low is not None and p.high is not None]
    if banded:
        ax.fill_between([p.x for p in banded], [p.low for p in banded], [p.high for p in banded],
                        color=color, alpha=0.2, linewidth=0)


def difference_figure(lines: Sequence[tuple[str, Sequence[BandPoint]]], path: Path, title: str, ylabel: str,
                      x: str = "epoch", color_indices: Sequence[int] | None = None) -> tuple[int, int]:
    """Each row's difference from the base row against ``x``, with its band, and a line at zero.

    ``color_indices``: each line's colour in the palette (its row's place in the table), as in the other figures.

    Early evaluations differ by far more than late ones, which would flatten
    the end of training where a budget's claim is read; so with four or more
    x's a second panel shows the later half on its own scale.
    """
    ncols = _legend_columns([label for label, _ in lines], DIFFERENCE_SIZE[0])
    legend_rows = math.ceil(len(lines) / ncols)
    wheres = sorted({p.x for _, points in lines for p in points})
    zoom = wheres[len(wheres) // 2] if len(wheres) >= 4 else None
    panels = 2 if zoom is not None else 1
    size = (DIFFERENCE_SIZE[0] * (1.5 if panels == 2 else 1), DIFFERENCE_SIZE[1] + 0.25 * legend_rows)
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False).ravel()
    colors = _series_colors([Series(label, [], None if color_indices is None else color_indices[i])
                             for i, (label, _) in enumerate(lines)])
    for ax, since in zip(axes, [None, zoom][:panels]):
        ax.axhline(0.0, color="black", linewidth=0.8, linestyle="--")
        for color, (label, points) in zip(colors, lines):
            _draw_band(ax, [p for p in points if since is None or p.x >= since], label, color)
        ax.set_xlabel(x)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.set_title(f"every {x}" if since is None else f"from {x} {since:g}, own scale", fontsize="medium")
        if all(float(w).is_integer() for w in wheres):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize="small", frameon=False)
    return _save(fig, path)


def seeds_figure(rows: Sequence[Dots], metrics: Sequence[str], directions: dict[str, str], path: Path,
                 title: str) -> tuple[int, int]:
    """One panel per metric, one line per row (top to bottom as given): each run's value as a dot, and
    beside the dots the row's mean with its 95 % t-interval as an error bar."""
    longest = max((len(row.label) for row in rows), default=0)  # room for the row labels (#12: little)
    size = (SEEDS_PANEL[0] * len(metrics) + 0.4 + 0.08 * longest, SEEDS_PANEL[1] * len(rows) + 1.7)
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False, sharey=True).ravel()
    palette = _colors(min(len(rows), 10))  # strong colours, repeated: the y position says which row a dot is
    colors = [palette[i % len(palette)] for i in range(len(rows))]
    ys = list(range(len(rows)))
    for ax, metric in zip(axes, metrics):
        for y, color, row in zip(ys, colors, rows):
            values = [v for v in row.values.get(metric, []) if math.isfinite(v)]
            if not values:
                continue
            ax.scatter(values, [y - 0.15] * len(values), s=14, color=color, alpha=0.8, edgecolors="none", zorder=3)
            centre, low, high = mean_interval(values)
            error = [[centre - low], [high - centre]] if low is not None and high is not None else None
            ax.errorbar([centre], [y + 0.15], xerr=error, fmt="D", markersize=4, color=color, ecolor=color,
                        elinewidth=1.2, capsize=2.5, zorder=2)
        ax.set_title(f"{metric} ({lookup(directions, metric)} is better)", fontsize="medium")
        ax.set_xlabel(metric)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(ys, [row.label for row in rows], fontsize="small")
    axes[0].set_ylim(len(rows) - 0.5, -0.5)  # the table's first row on top
    fig.suptitle(title)
    grey = "0.35"
    handles = [Line2D([], [], linestyle="none", marker="o", markersize=4, color=grey, label="one seed's value"),
               Line2D([], [], color=grey, marker="D", markersize=4, label="mean and its 95 % t-interval")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize="small", frameon=False)
    return _save(fig, path)


def samplers_figure(bars: dict[str, dict[str, dict[str, Bar]]], metrics: Sequence[str],
                    directions: dict[str, str], path: Path, title: str,
                    color_indices: Sequence[int] | None = None) -> tuple[int, int]:
    """Grouped bars: one panel per metric, samplers along x, one bar per row (``bars[row][sampler][metric]``);
    ``color_indices``: each row's colour in the palette, as in the other figures."""
    samplers = _ordered_samplers(bars)
    ncols = _legend_columns(list(bars), SAMPLERS_SIZE[0])
    size = (SAMPLERS_SIZE[0], SAMPLERS_SIZE[1] + 0.25 * math.ceil(len(bars) / ncols))
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False).ravel()
    colors = _series_colors([Series(label, [], None if color_indices is None else color_indices[i])
                             for i, label in enumerate(bars)])
    width = 0.8 / max(1, len(bars))
    for ax, metric in zip(axes, metrics):
        for i, (color, (label, per_sampler)) in enumerate(zip(colors, bars.items())):
            xs, heights, low, high = [], [], [], []
            for j, sampler in enumerate(samplers):
                bar = per_sampler.get(sampler, {}).get(metric)
                if bar is None or not bar.values:
                    continue
                mean, lower, upper = mean_interval(bar.values)
                xs.append(j - 0.4 + width * (i + 0.5))
                heights.append(mean)
                low.append(mean - lower if lower is not None else 0.0)
                high.append(upper - mean if upper is not None else 0.0)
            counts = [len(per_sampler[s][metric].values) for s in samplers
                      if metric in per_sampler.get(s, {}) and per_sampler[s][metric].values]
            bars_drawn = ax.bar(xs, heights, width=width, color=color, label=label, yerr=[low, high],
                                capsize=3 if any(low) or any(high) else 0)
            if any(c > 1 for c in counts):  # say how many seeds each bar averages
                ax.bar_label(bars_drawn, labels=[f"n={c}" for c in counts], fontsize=7, padding=2)
        ax.set_xticks(range(len(samplers)), samplers)
        better = lookup(directions, metric)
        ax.set_title(f"{metric} ({better} is better)")
        ax.set_xlabel("sampler")
        ax.set_ylabel(metric)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    handles, labels = axes[0].get_legend_handles_labels()  # even for one row: the legend says which runs
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize="small", frameon=False)
    return _save(fig, path)


def _ordered_samplers(bars: dict[str, dict[str, dict[str, Bar]]]) -> list[str]:
    names = {s for per_sampler in bars.values() for s in per_sampler}
    return sorted(names, key=lambda s: (s != "none", s))  # the plain generator first: the baseline


def means_figure(points: Sequence[tuple[float, float]], explained: tuple[float, float], path: Path,
                 title: str) -> tuple[int, int]:
    """The prior's component means on their first two principal axes, each labelled with its index."""
    fig = Figure(figsize=MEANS_SIZE, dpi=DPI, layout="constrained")
    ax = fig.subplots()
    colors = _colors(len(points))
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    ax.scatter(xs, ys, c=colors, s=60, edgecolors="black", linewidths=0.5, zorder=2)
    for k, (px, py) in enumerate(points):
        ax.annotate(str(k), (px, py), textcoords="offset points", xytext=(5, 5), fontsize=9)
    ax.set_xlabel(f"PC 1 ({explained[0]:.0%} of the variance)")
    ax.set_ylabel(f"PC 2 ({explained[1]:.0%} of the variance)")
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    ax.margins(0.15)
    return _save(fig, path)


def _series_colors(series: Sequence[Series]) -> list:
    """Each series' colour: its ``color`` index (its row's place in the results table) or its position."""
    indices = [one.color if one.color is not None else i for i, one in enumerate(series)]
    palette = _colors(max(indices, default=0) + 1)
    return [palette[i % len(palette)] for i in indices]


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _save(fig: Figure, path: Path) -> tuple[int, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    width, height = fig.get_size_inches()
    return round(width * DPI), round(height * DPI)
