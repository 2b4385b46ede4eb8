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
from matplotlib.ticker import MaxNLocator

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


def curves_figure(series: Sequence[Series], keys: Sequence[str], titles: dict[str, str], path: Path,
                  title: str, x: str = "epoch", columns: int = 3) -> tuple[int, int]:
    """Small multiples, one panel per key, every series overlaid on each; returns the PNG's (width, height)."""
    columns = max(1, min(columns, len(keys)))
    rows = math.ceil(len(keys) / columns)
    ncols = 2 if max((len(s.label) for s in series), default=0) <= 45 else 1
    legend_rows = math.ceil(len(series) / ncols) if len(series) > 1 else 0
    size = (CURVES_PANEL[0] * columns, CURVES_PANEL[1] * rows + 0.25 * legend_rows + 0.4)
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    colors = _colors(len(series))
    for ax, key in zip(axes, keys):
        for color, one in zip(colors, series):
            _draw_series(ax, one, x, key, color)
        ax.set_title(titles.get(key, key))
        ax.set_xlabel(x)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(title)
    if len(series) > 1:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize="small", frameon=False)
    return _save(fig, path)


def _draw_series(ax, series: Series, x: str, key: str, color) -> None:
    """The mean over runs at each x, and the 95 % t-interval of that mean where two or more runs have a value."""
    _draw_band(ax, mean_band(series.runs, key, x), series.label, color)


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
                      x: str = "epoch") -> tuple[int, int]:
    """Each row's difference from the base row against ``x``, with its band, and a line at zero.

    Early evaluations differ by far more than late ones, which would flatten
    the end of training where a budget's claim is read; so with four or more
    x's a second panel shows the later half on its own scale.
    """
    ncols = 2 if max((len(label) for label, _ in lines), default=0) <= 45 else 1
    legend_rows = math.ceil(len(lines) / ncols)
    wheres = sorted({p.x for _, points in lines for p in points})
    zoom = wheres[len(wheres) // 2] if len(wheres) >= 4 else None
    panels = 2 if zoom is not None else 1
    size = (DIFFERENCE_SIZE[0] * (1.5 if panels == 2 else 1), DIFFERENCE_SIZE[1] + 0.25 * legend_rows)
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False).ravel()
    colors = _colors(len(lines))
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
    size = (SEEDS_PANEL[0] * len(metrics) + 3.2, SEEDS_PANEL[1] * len(rows) + 1.7)
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
                    directions: dict[str, str], path: Path, title: str) -> tuple[int, int]:
    """Grouped bars: one panel per metric, samplers along x, one bar per row (``bars[row][sampler][metric]``)."""
    samplers = _ordered_samplers(bars)
    ncols = 2 if max((len(label) for label in bars), default=0) <= 45 else 1
    size = (SAMPLERS_SIZE[0], SAMPLERS_SIZE[1] + 0.25 * math.ceil(len(bars) / ncols))
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False).ravel()
    colors = _colors(len(bars))
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


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _save(fig: Figure, path: Path) -> tuple[int, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    width, height = fig.get_size_inches()
    return round(width * DPI), round(height * DPI)
