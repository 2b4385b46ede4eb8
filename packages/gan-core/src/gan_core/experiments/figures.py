"""The report's charts: numbers in, PNG files out (matplotlib's Agg renderer, no window, no pyplot).

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

from ..directions import lookup

DPI = 100
#: inches; pixels are these times DPI
CURVES_PANEL = (4.0, 3.0)
SAMPLERS_SIZE = (12.0, 4.0)
MEANS_SIZE = (4.2, 3.8)
#: lines beyond this are unreadable on one axes; the caller keeps the best ones
MAX_SERIES = 10


@dataclass
class Series:
    """One line of a figure: a row of the results table, drawn from each of its runs' records.

    ``runs`` holds one list of records per run (``{"epoch": 1.0, "fid": ...}``);
    several runs (seeds) are drawn as their mean with a min-max band.
    """

    label: str
    runs: list[list[dict[str, float]]]


@dataclass
class Bar:
    """One bar: the values of a row's runs for one sampler and metric (mean drawn, min-max as error bar)."""

    values: list[float]


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
    """The mean over runs at each x, and a min-max band where two or more runs have a value."""
    by_x: dict[float, list[float]] = {}
    for records in series.runs:
        for record in records:
            value, where = record.get(key), record.get(x)
            if value is None or where is None or not math.isfinite(value) or not math.isfinite(where):
                continue
            by_x.setdefault(where, []).append(value)
    if not by_x:
        return
    xs = sorted(by_x)
    means = [sum(by_x[v]) / len(by_x[v]) for v in xs]
    marker = "o" if len(xs) <= 30 else None
    ax.plot(xs, means, color=color, marker=marker, markersize=3, linewidth=1.5, label=series.label)
    if len(series.runs) > 1:
        spread = [v for v in xs if len(by_x[v]) > 1]
        if spread:
            ax.fill_between(spread, [min(by_x[v]) for v in spread], [max(by_x[v]) for v in spread],
                            color=color, alpha=0.2, linewidth=0)


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
                mean = sum(bar.values) / len(bar.values)
                xs.append(j - 0.4 + width * (i + 0.5))
                heights.append(mean)
                low.append(mean - min(bar.values))
                high.append(max(bar.values) - mean)
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
