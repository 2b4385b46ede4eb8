"""Do two feature spaces rank the same rows the same way? Kendall's tau between their rankings.

Every FID, precision and recall here is measured in one small MNIST
classifier's features, which mostly track class frequencies. A ranking of
methods that holds in a second, independently trained network (another
architecture and seed, shipped beside the first) does not hang on that one
network's quirks. For every row (runs differing only by seed) evaluated in
both spaces, this prints the row's mean metric in each, and Kendall's tau-b
between the two rankings with its two-sided p (scipy.stats.kendalltau).

    # evaluate each run in the second space first (writes evals/none@mnist-resnet.json):
    python benchmarks/noise_and_features.py benchmarks/results/agreement
    python benchmarks/feature_agreement.py benchmarks/results/agreement --features mnist-resnet [--metric fid]
    python benchmarks/feature_agreement.py ... --json OUT.json     # also write the table as JSON

A row is left out when any of its runs lacks either space's evaluation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gan_core.experiments.compare import compare_rows, format_value, setting_columns
from gan_core.experiments.runindex import find_runs, read_feature_spaces
from gan_core.experiments.stats import mean


def agreement(paths: list[Path], other: str, metric: str) -> dict:
    records = find_runs(paths)
    rows = compare_rows(records)
    base = {r.final_from.get("features") for r in records if r.final_from}
    if len(base) != 1:
        raise SystemExit(f"error: the runs' main evaluations use {len(base)} feature spaces ({base}); pass runs of one")
    [first] = base
    table = []
    differing = setting_columns(rows)
    for row in rows:
        spaces = [read_feature_spaces(run) for run in row.runs]
        if not all(metric in s.get(first, {}) and metric in s.get(other, {}) for s in spaces):
            continue
        label = ", ".join(f"{k}={format_value(row.settings.get(k))}" for k in differing
                          if row.settings.get(k) is not None)
        table.append({"row": label, "n": row.n, first: mean([s[first][metric] for s in spaces]),
                      other: mean([s[other][metric] for s in spaces])})
    if len(table) < 3:
        raise SystemExit(f"error: only {len(table)} rows are evaluated in both {first} and {other}; "
                         f"run 'gan eval RUN --features {other}' on more runs")
    from scipy.stats import kendalltau

    result = kendalltau([t[first] for t in table], [t[other] for t in table])
    return {"metric": metric, "spaces": [first, other], "rows": table, "kendall_tau": float(result.statistic),
            "p": float(result.pvalue), "n_rows": len(table)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--features", required=True, help="the second feature network's name, as gan eval --features")
    parser.add_argument("--metric", default="fid")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    result = agreement(args.paths, args.features, args.metric)
    first, other = result["spaces"]
    ranked_first = sorted(result["rows"], key=lambda t: t[first])
    rank_other = {id(t): i + 1 for i, t in enumerate(sorted(result["rows"], key=lambda t: t[other]))}
    print(f"{args.metric} by row, ranked in {first} features (rank in {other} beside it)")
    for i, t in enumerate(ranked_first, 1):
        print(f"  {i:2d}  {t[first]:8.2f}   {t[other]:8.2f} (#{rank_other[id(t)]})   n={t['n']}  {t['row']}")
    print(f"Kendall's tau = {result['kendall_tau']:.3f} over {result['n_rows']} rows (p = {result['p']:.3g})")
    if args.json:
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        tmp.replace(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
