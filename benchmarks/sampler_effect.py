"""What each post-hoc sampler changes, seed by seed, on the same trained generators.

Reads runs evaluated with several samplers (a sweep's ``eval-samplers``, or
``gan eval RUN --sampler X``) and prints, per group of runs that differ only
by seed and per sampler, the paired difference sampler - plain of each
metric: its mean ± sample standard deviation over the seeds, next to the
seed-to-seed spread (standard deviation) of the plain metric itself. A
sampler's effect is only claimed where the paired mean exceeds both its own
spread and the plain spread.

    python benchmarks/sampler_effect.py benchmarks/results/leaderboard
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from gan_core.experiments.compare import Stat, compare_rows
from gan_core.experiments.runindex import find_runs

METRICS = ("fid", "precision", "recall", "density", "coverage", "classes_kl", "classes_max_share")
#: the class-balance metrics say whether a sampler evens out the digits (a sampler may trade precision for that)
LOWER_IS_BETTER = frozenset({"fid", "classes_kl", "classes_max_share"})


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample std as gan compare computes them (std NaN for a single value)."""
    stat = Stat.of(values)
    return stat.mean, stat.std if stat.std is not None else math.nan


def effects(paths: list[Path]) -> list[dict]:
    records = [r for r in find_runs(paths) if len(r.evals) > 1]
    rows = []
    for group in compare_rows(records):
        own = str(group.settings.get("sampler", "none"))
        label = ", ".join(f"{k}={v}" for k, v in group.settings.items() if k != "sampler")
        samplers = sorted({s for run in group.runs for s in run.evals} - {own})
        for sampler in samplers:
            paired = [run for run in group.runs if sampler in run.evals and own in run.evals]
            row = {"runs": label, "sampler": sampler, "seeds": len(paired)}
            for metric in METRICS:
                plain = [run.evals[own][metric] for run in paired if metric in run.evals[own]]
                diffs = [run.evals[sampler][metric] - run.evals[own][metric] for run in paired
                         if metric in run.evals[sampler] and metric in run.evals[own]]
                if diffs:
                    row[metric] = {"plain": mean_std(plain), "delta": mean_std(diffs)}
            rows.append(row)
    return rows


def verdict(delta: tuple[float, float], plain_std: float, higher_is_better: bool) -> str:
    mean, std = delta
    spread = max(std if std == std else 0.0, plain_std if plain_std == plain_std else 0.0)
    if abs(mean) <= spread:
        return "within spread"
    return "better" if (mean > 0) == higher_is_better else "worse"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = effects(args.paths)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(f"{row['runs']} | {row['sampler']} ({row['seeds']} seeds)")
        for metric in METRICS:
            if metric not in row:
                continue
            (pm, ps), (dm, ds) = row[metric]["plain"], row[metric]["delta"]
            way = verdict((dm, ds), ps, metric not in LOWER_IS_BETTER)
            print(f"    {metric:17s} plain {pm:8.4f} ± {ps:.4f}   change {dm:+8.4f} ± {ds:.4f}   {way}")


if __name__ == "__main__":
    main()
