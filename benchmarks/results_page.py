"""Write docs/results.md's tables from the committed records: the leaderboards, the claims, the samplers.

    python benchmarks/results_page.py            # rewrite the generated blocks of docs/results.md
    python benchmarks/results_page.py --check    # exit 1, naming the block, if the page is not what the records give
    python benchmarks/results_page.py --print claims   # one block on stdout

The claims, the budgets and the tables are declared in benchmarks/claims.toml.
Each generated block sits between ``<!-- generated: NAME -->`` and
``<!-- end: NAME -->``; the prose around it is the page's own. Nothing here is
typed by hand: rerunning the command on the same records gives the same page.

The tier rule (stated on the page, under the table):

- supported: Holm-corrected p < 0.05 with the difference in the claimed direction;
- contradicted: Holm-corrected p < 0.05 in the other direction;
- suggestive: neither, but Benjamini-Hochberg q < 0.1 in the claimed direction;
- not shown: the effect is inside the noise (or points the other way with q >= 0.1).

The family both corrections run over is every test the claims table shows
(each claim at each budget that measures it).
"""

from __future__ import annotations

import argparse
import math
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan_core.experiments import stats
from gan_core.experiments.against import difference, format_difference, format_p, matches_setting
from gan_core.experiments.compare import (Row, Stat, compare_rows, directions_of, format_number, format_stat,
                                          format_value, sort_rows)
from gan_core.experiments.runindex import RunRecord, find_runs, read_feature_spaces, with_sampler_evals

REPO = Path(__file__).resolve().parents[1]
CLAIMS = REPO / "benchmarks" / "claims.toml"
PAGE = REPO / "docs" / "results.md"
ALPHA, SUGGESTIVE_Q = 0.05, 0.1
#: the optimiser settings that make two rows' "footing"
FOOTING = ("optimizer", "lr-g", "lr-d", "betas", "d-steps")
#: leaderboard table columns: metric -> header
TABLE_METRICS = {"fid": "FID", "precision": "precision", "recall": "recall", "classes": "digits",
                 "classes_max_share": "max share"}


class SpecError(Exception):
    """claims.toml asks for something the records cannot give (a selector matching no row, or several)."""


# --------------------------------------------------------------------------- reading records


@dataclass
class Budget:
    name: str
    label: str
    records: list[RunRecord]
    rows: list[Row]
    sampler_rows: list[Row]  # the rows with each post-hoc evaluation as a row of its own
    features: str | None = None  # a second feature space its runs were also scored in


def load_budgets(spec: dict[str, Any]) -> dict[str, Budget]:
    budgets = {}
    for name, entry in spec["budget"].items():
        records = [r for r in find_runs([REPO / p for p in entry["paths"]]) if r.status == "finished"]
        budgets[name] = Budget(name, entry["label"], records, compare_rows(records),
                               compare_rows(with_sampler_evals(records)), entry.get("features"))
    return budgets


def select(rows: list[Row], selector: dict[str, Any], sampler: str = "none") -> Row | None:
    """The one row whose settings match ``selector`` (and ``sampler``); None if none does; SpecError if several."""
    wanted = {**selector, "sampler": sampler}
    found = [row for row in rows if all(matches_setting(row.settings.get(k), v) for k, v in wanted.items())]
    if len(found) > 1:
        differing = sorted({k for row in found for k in row.settings
                            if len({format_value(r.settings.get(k)) for r in found}) > 1})
        raise SpecError(f"{selector} matches {len(found)} rows; name one of: {', '.join(differing)}")
    return found[0] if found else None


def footing(a: Row, b: Row) -> str:
    """'same optimiser', or what differs between the two rows' optimiser settings."""
    differs = [k for k in FOOTING if format_value(a.settings.get(k)) != format_value(b.settings.get(k))]
    if not differs:
        return "same optimiser"
    return "own optimisers (" + "; ".join(
        f"{k} {format_value(a.settings.get(k))} vs {format_value(b.settings.get(k))}" for k in differs) + ")"


# --------------------------------------------------------------------------- claims


@dataclass
class Test:
    claim: dict[str, Any]
    budget: Budget
    treatment: Row | None
    control: Row | None
    result: stats.Difference | None
    better_sign: int = 1  # +1: a positive difference is an improvement (higher is better)
    p_holm: float = math.nan
    q: float = math.nan
    #: the same test in the budget's second feature space (its own family), where the budget names one
    other: Test | None = None

    @property
    def improvement(self) -> float:
        return self.better_sign * self.result.estimate if self.result else math.nan

    @property
    def tier(self) -> str:
        if self.result is None:
            return "not measured"
        if self.p_holm < ALPHA:
            return "supported" if self.improvement > 0 else "contradicted"
        if self.q < SUGGESTIVE_Q and self.improvement > 0:
            return "suggestive"
        return "not shown"


def claim_tests(spec: dict[str, Any], budgets: dict[str, Budget]) -> list[Test]:
    """Each claim at each budget, with Holm's p and BH's q over all of them (the table's family)."""
    tests = []
    for claim in spec["claim"]:
        for budget in budgets.values():
            rows = budget.sampler_rows if "sampler" in claim else budget.rows
            control = select(rows, claim["control"])
            treatment = (select(rows, claim["control"], claim["sampler"]) if "sampler" in claim
                         else select(rows, claim["treatment"]))
            result = difference(treatment, control, claim["metric"]) if treatment and control else None
            way = directions_of(budget.records).get(claim["metric"], "lower")
            test = Test(claim, budget, treatment, control, result, 1 if way == "higher" else -1)
            if budget.features and treatment and control:
                test.other = Test(claim, budget, treatment, control,
                                  space_difference(treatment, control, claim["metric"], budget.features),
                                  test.better_sign)
            tests.append(test)
    correct([t for t in tests if t.result is not None])
    correct([t.other for t in tests if t.other is not None and t.other.result is not None])
    return tests


def correct(family: list[Test]) -> None:
    """Holm's p and BH's q over one family of tests."""
    for test, p, q in zip(family, stats.holm([t.result.p for t in family]),
                          stats.benjamini_hochberg([t.result.p for t in family])):
        test.p_holm, test.q = p, q


def space_value(metric: str, space: str):
    """How a run's ``metric`` in feature space ``space`` is read (None where it was not scored there)."""
    return lambda run: read_feature_spaces(run).get(space, {}).get(metric)


def space_values(row: Row, metric: str, space: str) -> list[float]:
    """The row's runs' ``metric`` in feature space ``space``, for those scored there."""
    read = space_value(metric, space)
    return [v for v in map(read, row.runs) if v is not None]


def space_difference(a: Row, b: Row, metric: str, space: str) -> stats.Difference | None:
    """:func:`difference` in another feature space; None unless every run of both rows was scored there."""
    if len(space_values(a, metric, space)) < len(a.runs) or len(space_values(b, metric, space)) < len(b.runs):
        return None  # some run was never scored there: no partial rows
    return difference(a, b, metric, space_value(metric, space))


def claims_block(tests: list[Test], budgets: dict[str, Budget]) -> str:
    by_claim: dict[int, list[Test]] = {}
    for test in tests:
        by_claim.setdefault(id(test.claim), []).append(test)
    shown = [b for b in budgets.values() if any(t.result for t in tests if t.budget is b)]
    lines = ["| claim (source) | metric | " + " | ".join(b.label for b in shown) + " | footing | verdict |",
             "|---|---|" + "---|" * len(shown) + "---|---|"]
    for group in by_claim.values():
        claim = group[0].claim
        cells, footings = [], set()
        for budget in shown:
            test = next(t for t in group if t.budget is budget)
            if test.result is None:
                cells.append("not measured")
                continue
            d = test.result
            n = f"n {d.n_a}/{d.n_b}" + (", paired" if d.test == "paired" else "")
            cell = f"{format_difference(d)}, p {format_p(test.p_holm)} ({n}): **{test.tier}**"
            if test.other is not None:
                other = test.other
                same = "same tier" if other.tier == test.tier else f"**{other.tier}**"
                cell += (f"; in {test.budget.features}: {format_difference(other.result)}, "
                         f"p {format_p(other.p_holm)}, {same}" if other.result else
                         f"; not scored in {test.budget.features}")
            cells.append(cell)
            footings.add("paired: same generators" if d.test == "paired" else footing(test.treatment, test.control))
        lines.append(f"| {claim['text']} ({claim['source']}) | {claim['metric']} | " + " | ".join(cells)
                     + f" | {'; '.join(sorted(footings)) or '-'} | {verdict(group)} |")
    measured = [t for t in tests if t.result]
    lines += ["", f"Each cell: treatment − control with its 95 % interval, Holm-corrected p over the {len(measured)} "
              "tests of this table, the runs on each side, and the tier. Tiers: **supported**, Holm p < 0.05 in the "
              "claimed direction; **contradicted**, Holm p < 0.05 in the other; **suggestive**, "
              "Benjamini-Hochberg q < 0.1 in the claimed direction; **not shown**, inside the noise. Welch's test, "
              "or the paired t-test where both sides are the same generators. Where a budget's runs were also "
              "scored in a second feature network, the same test there follows (corrected within its own family), "
              "and its tier is named where it differs: there the verdict depends on the feature space."]
    return "\n".join(lines)


def verdict(group: list[Test]) -> str:
    """Where the claim holds, is suggested or is contradicted; "holds at every budget" only when it does."""
    measured = [t for t in group if t.result is not None]
    if not measured:
        return "not measured"
    where = {tier: [t.budget.label.split(" (")[0] for t in measured if t.tier == tier]
             for tier in ("supported", "suggestive", "contradicted")}
    depends = [f"{t.other.tier} in {t.budget.features} at {t.budget.label.split(' (')[0]}" for t in measured
               if t.other is not None and t.other.result is not None and t.other.tier != t.tier]
    said = _where(where, measured)
    return f"{said}; depends on the feature space: {', '.join(depends)}" if depends else said


def _where(where: dict[str, list[str]], measured: list[Test]) -> str:
    if len(where["supported"]) == len(measured) > 1:
        return "**holds at every budget measured**"
    parts = []
    for tier, word in (("supported", "holds"), ("suggestive", "suggestive"), ("contradicted", "contradicted")):
        if where[tier]:
            parts.append(f"{word} at {' and '.join(where[tier])}")
    return ("**" + "; ".join(parts) + "**" if where["supported"] or where["contradicted"] else "; ".join(parts)) \
        if parts else "inside the noise at every budget measured"


# --------------------------------------------------------------------------- tables


def label(row: Row, rows: list[Row]) -> str:
    """``prior · loss``, then the settings in which rows of the same prior and loss differ."""
    base = f"{format_value(row.settings.get('prior'))} · {format_value(row.settings.get('loss'))}"
    kin = [r for r in rows if all(r.settings.get(k) == row.settings.get(k) for k in ("prior", "loss"))]
    # a setting only older records lack (None) is not a difference
    keys = [k for k in row.settings if k not in ("prior", "loss", "evaluated", "sampler")
            and row.settings.get(k) is not None
            and len({format_value(r.settings.get(k)) for r in kin if r.settings.get(k) is not None}) > 1]
    extra = ", ".join(f"{k} {format_value(row.settings.get(k))}" for k in keys)
    return f"{base} ({extra})" if extra else base


def leaderboard_block(budget: Budget) -> str:
    rows = sort_rows(budget.rows, "fid", directions_of(budget.records))
    lines = ["| # | prior · loss | n | " + " | ".join(TABLE_METRICS.values()) + " |",
             "|---:|---|---:|" + "---:|" * len(TABLE_METRICS)]
    for number, row in enumerate(rows, 1):
        cells = [format_stat(row.stats.get(m), " ", row.n) for m in TABLE_METRICS]
        lines.append(f"| {number} | {label(row, rows)} | {row.n} | " + " | ".join(cells) + " |")
    lines += ["", "Mean ± half the 95 % t-interval over the row's n seeds (t(2) = 4.30: with 3 seeds the interval "
              "is 2.5 times the standard deviation)."]
    return "\n".join(lines)


def samplers_block(spec: dict[str, Any], budgets: dict[str, Budget]) -> str:
    """Per run row and sampler, the paired change of each metric at each budget; Holm across the whole table."""
    conf = spec["samplers"]
    cells: dict[tuple[int, str], list[tuple[stats.Difference | None]]] = {}
    flat: list[stats.Difference] = []
    for index, entry in enumerate(conf["rows"]):
        selector = {k: v for k, v in entry.items() if k != "label"}
        for sampler in conf["samplers"]:
            line = cells.setdefault((index, sampler), [])
            for budget_name in conf["budgets"]:
                rows = budgets[budget_name].sampler_rows
                plain, treated = select(rows, selector), select(rows, selector, sampler)
                for metric in conf["metrics"]:
                    result = difference(treated, plain, metric) if plain and treated else None
                    line.append(result)
                    if result is not None:
                        flat.append(result)
    corrected = dict(zip(map(id, flat), stats.holm([d.p for d in flat])))
    header = [f"Δ{TABLE_METRICS.get(m, m)} {budgets[b].label.split(' (')[0]}" for b in conf["budgets"]
              for m in conf["metrics"]]
    lines = ["| run | sampler | " + " | ".join(header) + " |", "|---|---|" + "---:|" * len(header)]
    for (index, sampler), results in cells.items():
        texts = ["-" if d is None else (f"**{format_difference(d)}**" if corrected[id(d)] < ALPHA
                                         else format_difference(d)) for d in results]
        lines.append(f"| {conf['rows'][index]['label']} | {sampler} | " + " | ".join(texts) + " |")
    lines += ["", f"Paired change sampler − plain on the same generators, with its 95 % interval (paired t-test "
              f"over the seeds); bold: Holm-corrected p < 0.05 across the {len(flat)} tests of this table."]
    return "\n".join(lines)


def agreement_block(budget: Budget) -> str:
    """Seed noise beside evaluation noise, and each row in both feature spaces with Kendall's tau between them."""
    from scipy.stats import kendalltau

    space = budget.features
    rows = sort_rows(budget.rows, "fid", directions_of(budget.records))
    lines = [f"| # | prior · loss | n | FID | seed sd | eval sd | FID in {space} | precision | precision in {space} |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    ranked: dict[str, list[tuple[float, float]]] = {"fid": [], "precision": []}
    for number, row in enumerate(rows, 1):
        stat = row.stats.get("fid")
        other = {m: Stat.of(space_values(row, m, space)) if space_values(row, m, space) else None for m in ranked}
        for metric in ranked:
            if row.stats.get(metric) and other[metric]:
                ranked[metric].append((row.stats[metric].mean, other[metric].mean))
        seed_sd = "-" if stat is None or stat.std is None else format_number(stat.std, stat.std)
        eval_sd = "-" if stat is None or stat.eval_std is None else format_number(stat.eval_std, stat.eval_std)
        lines.append(f"| {number} | {label(row, rows)} | {row.n} | {format_stat(stat, ' ', row.n)} | {seed_sd} | "
                     f"{eval_sd} | {format_stat(other['fid'], ' ', row.n)} | "
                     f"{format_stat(row.stats.get('precision'), ' ', row.n)} | "
                     f"{format_stat(other['precision'], ' ', row.n)} |")
    taus = []
    for metric, pairs in ranked.items():
        if len(pairs) >= 3:
            result = kendalltau([a for a, _ in pairs], [b for _, b in pairs])
            taus.append(f"{metric} τ = {result.statistic:.2f} (p {format_p(result.pvalue)}, {len(pairs)} rows)")
    lines += ["", "Seed sd: the standard deviation of the runs' FIDs (training noise plus evaluation noise); eval sd: "
              "the root mean square of each run's standard deviation over its repeated evaluations (gan eval "
              "--repeats), the evaluation noise alone. Kendall's τ between the rows' rankings in the two feature "
              "spaces: " + ("; ".join(taus) if taus else "not enough rows scored in both") + "."]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the page


def blocks(spec: dict[str, Any]) -> dict[str, str]:
    budgets = load_budgets(spec)
    out = {"claims": claims_block(claim_tests(spec, budgets), budgets), "samplers": samplers_block(spec, budgets)}
    for table in spec["table"]:
        out[table["name"]] = leaderboard_block(budgets[table["budget"]])
    for name, budget in budgets.items():
        if budget.features and budget.records:
            out[f"agreement-{name}"] = agreement_block(budget)
    return out


def render(page: str, generated: dict[str, str]) -> str:
    for name, text in generated.items():
        begin, end = f"<!-- generated: {name} -->", f"<!-- end: {name} -->"
        if begin not in page or end not in page:
            raise SpecError(f"{PAGE} has no '{begin}' ... '{end}' block for '{name}'; add the two markers where it goes")
        head, rest = page.split(begin, 1)
        _, tail = rest.split(end, 1)
        page = f"{head}{begin}\n{text}\n{end}{tail}"
    return page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/results.md is not what the records give")
    parser.add_argument("--print", dest="show", metavar="BLOCK", help="print one generated block instead")
    args = parser.parse_args()
    spec = tomllib.loads(CLAIMS.read_text(encoding="utf-8"))
    try:
        generated = blocks(spec)
        if args.show:
            print(generated[args.show])
            return 0
        page = PAGE.read_text(encoding="utf-8")
        new = render(page, generated)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if new != page:
            stale = [n for n, text in generated.items() if f"<!-- generated: {n} -->\n{text}\n<!-- end: {n} -->" not in page]
            print(f"{PAGE} is out of date in: {', '.join(stale)}; run python benchmarks/results_page.py", file=sys.stderr)
            return 1
        return 0
    if new != page:
        tmp = PAGE.with_suffix(".md.tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(PAGE)
    print(f"wrote {len(generated)} blocks into {PAGE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
