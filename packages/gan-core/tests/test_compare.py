"""gan compare: finding runs, flattening settings, pooling seeds, sorting, CSV/JSON, refusals.

Every run here is a hand-made folder holding only the JSON files compare
reads, so the whole file runs in about a second.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from gan_core.errors import GanError
from gan_core.experiments.compare import (
    Stat,
    common_settings,
    compare_rows,
    csv_text,
    directions_of,
    format_stat,
    metrics_of,
    pick_metric,
    render_table,
    setting_columns,
    sort_rows,
)
from gan_core.experiments.compare_command import compare
from gan_core.experiments.runindex import find_runs, flatten_settings, read_curves, with_sampler_evals
from gan_core.testing import run_cli

DIRECTIONS = {"fid": "lower", "precision": "higher", "recall": "higher"}


def run_info(*, sigma: float = 1.0, seed: int = 0, loss: str = "vanilla", epochs: int = 2,
             steps_per_epoch: int = 20, steps: int | None = None, sampler: str = "none") -> dict:
    return {
        "format": 1,
        "status": "finished",
        "components": {
            "dataset": {"name": "mnist", "options": {"limit": 1280}},
            "prior": {"name": "gm-static", "options": {"k": 10, "sigma": sigma}},
            "architecture": {"name": "mlp", "options": {"dropout": 0.0}},
            "loss": {"name": loss, "options": {"lambda_": 10.0} if loss == "wgan-gp" else {}},
            "sampler": {"name": sampler, "options": {}},
        },
        "train": {
            "epochs": epochs, "steps": steps if steps is not None else epochs * steps_per_epoch, "batch_size": 64,
            "latent_dim": 100, "optimizer": "adam", "lr_g": 0.0002, "lr_d": 0.0002, "betas": [0.5, 0.999],
            "d_steps": 1, "seed": seed, "device": "auto", "device_used": "cpu", "log_every": 50,
            "checkpoint_every": 0, "eval_every": 1, "eval_n": 500, "keep_best": None, "perceptual": 0.0,
            "data_dir": None,
        },
        "data": {"steps_per_epoch": steps_per_epoch},
        "checkpoint": {"step": epochs * steps_per_epoch, "epoch": float(epochs)},
    }


def make_run(path: Path, metrics: dict[str, float] | None = None, *, sampler: str = "none",
             curves: list[dict] | None = None, **settings) -> Path:
    """A run folder with run.json, an eval.json of ``metrics`` (none if None) and metrics.jsonl of ``curves``."""
    path.mkdir(parents=True)
    (path / "run.json").write_text(json.dumps(run_info(**settings)))
    if metrics is not None:
        report = {"sampler": sampler, "n": 500, "step": 40, "metrics": metrics, "directions": DIRECTIONS}
        (path / "eval.json").write_text(json.dumps(report))
    if curves is not None:
        (path / "metrics.jsonl").write_text("".join(json.dumps(c) + "\n" for c in curves))
    return path


FIDS = {1.0: [30.0, 34.0, 41.0], 0.5: [20.0, 22.5, 29.0]}
PRECISIONS = {1.0: [0.5, 0.6, 0.7], 0.5: [0.4, 0.45, 0.3]}


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """2 sigmas x 3 seeds in a nested sweep folder, plus one wgan-gp run."""
    root = tmp_path / "sweep"
    for sigma in FIDS:
        for seed in range(3):
            make_run(root / "trials" / f"s{sigma}-{seed}",
                     {"fid": FIDS[sigma][seed], "precision": PRECISIONS[sigma][seed], "recall": 0.1 * seed},
                     sigma=sigma, seed=seed)
    make_run(root / "trials" / "wgan", {"fid": 25.0, "precision": 0.8, "recall": 0.2}, loss="wgan-gp")
    return root


# --------------------------------------------------------------------------- finding and reading runs


def test_find_runs_searches_folders_and_skips_hidden_and_inner_runs(tmp_path):
    root = tmp_path / "sweep"
    for name in ("t2", "t10", "t1"):
        make_run(root / "trials" / name, {"fid": 1.0})
    make_run(root / "trials" / ".t3.partial", {"fid": 1.0})  # an unfinished run: hidden
    make_run(root / "trials" / "t1" / "best", {"fid": 1.0})  # a run's best/ copy is not another run
    single = make_run(tmp_path / "single", {"fid": 2.0})
    records = find_runs([root, single, root / "trials" / "t1"])
    assert [r.path.name for r in records] == ["t1", "t2", "t10", "single"]  # natural order, each once


def test_find_runs_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(GanError, match="there is no run or folder at"):
        find_runs([tmp_path / "missing"])
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(GanError, match="is a file"):
        find_runs([tmp_path / "file.txt"])
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(GanError, match="holds no runs"):
        find_runs([tmp_path / "empty"])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.json").write_text("{not json")
    with pytest.raises(GanError, match="is corrupt"):
        find_runs([tmp_path / "bad"])


def test_settings_are_named_like_the_command_line():
    settings = flatten_settings(run_info(loss="wgan-gp", seed=3))
    assert settings["prior"] == "gm-static" and settings["prior.k"] == 10 and settings["prior.sigma"] == 1.0
    assert settings["loss"] == "wgan-gp" and settings["loss.lambda_"] == 10.0
    assert settings["arch"] == "mlp" and settings["arch.dropout"] == 0.0
    assert settings["dataset"] == "mnist" and settings["dataset.limit"] == 1280 and settings["sampler"] == "none"
    assert settings["betas"] == "0.5,0.999" and settings["lr-g"] == 0.0002 and settings["batch-size"] == 64
    assert settings["d-steps"] == 1 and settings["latent-dim"] == 100 and settings["seed"] == 3
    assert settings["epochs"] == 2 and "steps" not in settings  # steps derived from --epochs
    for bookkeeping in ("device", "device-used", "log-every", "checkpoint-every", "data-dir", "eval-every",
                        "eval-n", "keep-best", "out"):
        assert bookkeeping not in settings


def test_a_run_trained_with_steps_shows_steps_not_the_default_epochs():
    settings = flatten_settings(run_info(epochs=1, steps=50, steps_per_epoch=20))
    assert settings["steps"] == 50 and "epochs" not in settings


def test_final_metrics_prefer_the_runs_own_sampler_then_eval_json_then_training(tmp_path):
    curves = [
        {"step": 20, "epoch": 1.0, "d_loss": 1.0, "g_loss": 2.0, "images_per_s": 9.0},
        {"step": 20, "epoch": 1, "eval": {"fid": 50.0, "precision": 0.1}},
        {"step": 40, "epoch": 2, "eval": {"fid": 40.0, "precision": 0.2}},
    ]
    trained_only = make_run(tmp_path / "a", None, curves=curves)
    [record] = find_runs([trained_only])
    assert record.final == {"fid": 40.0, "precision": 0.2} and record.final_from["source"] == "metrics.jsonl"
    assert [c["epoch"] for c in record.curves.evals] == [1.0, 2.0] and record.curves.logs[0]["d_loss"] == 1.0

    evaluated = make_run(tmp_path / "b", {"fid": 12.0}, sampler="drs", curves=curves)
    [record] = find_runs([evaluated])
    assert record.final == {"fid": 12.0} and record.evals == {"drs": {"fid": 12.0}}  # eval.json, whatever sampler
    (evaluated / "evals").mkdir()
    (evaluated / "evals" / "none.json").write_text(json.dumps({"sampler": "none", "metrics": {"fid": 15.0}}))
    (evaluated / "evals" / "drs.json").write_text(json.dumps({"sampler": "drs", "metrics": {"fid": 99.0}}))
    [record] = find_runs([evaluated])
    assert record.final == {"fid": 15.0} and record.final_from["source"] == "evals/none.json"  # the run's sampler
    assert record.evals == {"none": {"fid": 15.0}, "drs": {"fid": 12.0}}  # eval.json is newer than evals/drs.json


def test_curves_skip_broken_lines_and_keep_the_latest_record_of_a_step(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(
        '{"step": 10, "epoch": 0.5, "d_loss": 1.0, "g_loss": 1.0}\n'
        '{"step": 20, "epoch": 1.0, "d_loss": 9.0, "g_loss": 9.0}\n'
        '{"step": 20, "epoch": 1.0, "d_loss": 2.0, "g_loss": 3.0}\n'  # logged again after a resume
        '{"step": 30, "epo'  # a crash mid-line
    )
    curves = read_curves(path)
    assert [(c["step"], c["d_loss"]) for c in curves.logs] == [(10.0, 1.0), (20.0, 2.0)] and curves.evals == []


# --------------------------------------------------------------------------- grouping


def test_seeds_pool_into_one_row_with_mean_and_sample_std(sweep):
    records = find_runs([sweep])
    rows = compare_rows(records)
    assert [row.n for row in rows] == [3, 3, 1]
    for row in rows[:2]:
        sigma = row.settings["prior.sigma"]
        assert "seed" not in row.settings and sorted(row.seeds) == [0, 1, 2]
        assert row.stats["fid"].mean == pytest.approx(np.mean(FIDS[sigma]))
        assert row.stats["fid"].std == pytest.approx(np.std(FIDS[sigma], ddof=1))
        assert row.stats["precision"].std == pytest.approx(np.std(PRECISIONS[sigma], ddof=1))
    single = rows[2]
    assert single.stats["fid"].mean == 25.0 and single.stats["fid"].std is None
    columns = setting_columns(rows)
    assert columns == ["prior.sigma", "loss", "loss.lambda_"]  # only what differs, in settings order
    common = common_settings(records, columns)
    assert common["prior"] == "gm-static" and common["epochs"] == 2 and common["betas"] == "0.5,0.999"
    assert "seed" not in common and "prior.sigma" not in common


def test_by_groups_on_the_named_settings_only(sweep):
    records = find_runs([sweep])
    rows = compare_rows(records, by=["loss"])
    assert [(row.settings, row.n) for row in rows] == [({"loss": "vanilla"}, 6), ({"loss": "wgan-gp"}, 1)]
    pooled = FIDS[1.0] + FIDS[0.5]
    assert rows[0].stats["fid"].mean == pytest.approx(np.mean(pooled))
    assert rows[0].stats["fid"].std == pytest.approx(np.std(pooled, ddof=1))
    assert setting_columns(rows, ["loss"]) == ["loss"]
    rows = compare_rows(records, by=["seed"])
    assert [row.n for row in rows] == [3, 2, 2]  # seed 0 (two sigmas and the wgan run), 1, 2
    with pytest.raises(GanError, match="no run has a setting named 'prior.q'.*prior.sigma"):
        compare_rows(records, by=["prior.q"])


def test_rows_sort_best_first_in_the_metrics_direction(sweep):
    records = find_runs([sweep])
    directions = directions_of(records)
    rows = compare_rows(records)
    by_fid = sort_rows(rows, "fid", directions)
    assert [r.stats["fid"].mean for r in by_fid] == sorted(r.stats["fid"].mean for r in rows)
    by_precision = sort_rows(rows, "precision", directions)  # higher is better
    assert [r.stats["precision"].mean for r in by_precision] == pytest.approx([0.8, 0.6, np.mean(PRECISIONS[0.5])])
    directions["recall"] = "lower"
    assert sort_rows(rows, "recall", directions)[0].stats["recall"].mean == pytest.approx(0.1)


def test_a_row_without_the_metric_sorts_last(tmp_path):
    make_run(tmp_path / "runs" / "a", None, sigma=0.1)
    make_run(tmp_path / "runs" / "b", {"fid": 3.0}, sigma=0.2)
    records = find_runs([tmp_path / "runs"])
    rows = sort_rows(compare_rows(records), "fid", directions_of(records))
    assert [r.settings["prior.sigma"] for r in rows] == [0.2, 0.1]


def test_the_metric_defaults_to_fid_and_unknown_ones_are_refused(sweep, tmp_path):
    rows = compare_rows(find_runs([sweep]))
    assert pick_metric(rows, None) == "fid" and pick_metric(rows, "recall") == "recall"
    with pytest.raises(GanError, match=r"no run has the metric 'fdi'; did you mean 'fid'\? metrics available: fid, precision, recall"):
        pick_metric(rows, "fdi")
    make_run(tmp_path / "nofid", {"coverage": 0.5, "density": 1.0})
    assert pick_metric(compare_rows(find_runs([tmp_path / "nofid"])), None) == "coverage"


def test_a_diverged_run_with_nan_metrics_does_not_break_the_table(tmp_path, capsys):
    for seed, fid in enumerate([float("nan"), 3.0]):
        make_run(tmp_path / "runs" / f"s{seed}", {"fid": fid}, seed=seed)
    make_run(tmp_path / "runs" / "other", {"fid": float("inf")}, sigma=0.3)
    [other, row] = compare_rows(find_runs([tmp_path / "runs"]))  # "other" sorts before "s0"
    assert row.n == 2 and np.isnan(row.stats["fid"].mean) and np.isnan(row.stats["fid"].std)
    assert other.stats["fid"].mean == float("inf")
    compare([tmp_path / "runs"], by=None, metric=None, csv=False, as_json=True)
    items = json.loads(capsys.readouterr().out)  # strict JSON: no NaN tokens
    assert [i["fid_mean"] for i in items] == [None, None]


def test_the_mean_is_printed_with_its_95_interval_to_the_intervals_precision():
    assert format_stat(Stat(418.2129, 12.34, 3, 400, 430, 406.1, 430.3)) == "418 ± 12"
    assert format_stat(Stat(0.12345, 0.0456, 3, 0, 1, 0.078, 0.169)) == "0.123 ± 0.046"
    assert format_stat(Stat(25.0, None, 1, 25, 25)) == "25"
    assert format_stat(Stat(25.0, None, 1, 25, 25), row_n=3) == "25 (n=1)"  # fewer runs than the row has


def test_a_stat_holds_the_t_interval_of_its_runs():
    from scipy import stats as scipy_stats

    stat = Stat.of(FIDS[1.0])
    expected = scipy_stats.t.interval(0.95, 2, loc=np.mean(FIDS[1.0]), scale=scipy_stats.sem(FIDS[1.0]))
    assert (stat.low, stat.high) == pytest.approx(expected)
    assert format_stat(stat) == "35 ± 14"  # t(2) = 4.30: three seeds give a wide interval
    assert Stat.of([1.0, 2.0], [0.1, 0.3]).eval_std == pytest.approx((0.05) ** 0.5)
    assert Stat.of([1.0, 2.0], [0.1]).eval_std is None  # not every run has an evaluation spread


def test_render_table_has_a_column_per_setting_and_metric(sweep):
    from rich.console import Console

    records = find_runs([sweep])
    rows = compare_rows(records)
    table = render_table(rows, "fid", setting_columns(rows), directions_of(records), metrics_of(rows))
    console = Console(width=200, file=io.StringIO())
    with console.capture() as capture:
        console.print(table)
    text = capture.get()
    assert "prior.sigma" in text and "fid ↓" in text and "precision ↑" in text and "35 ± 14" in text


# --------------------------------------------------------------------------- the command's outputs


def test_csv_output_parses_with_the_documented_columns(sweep, capsys):
    compare([sweep], by=None, metric="precision", csv=True, as_json=False)
    reader = csv.DictReader(io.StringIO(capsys.readouterr().out))
    fields = ["mean", "ci_low", "ci_high", "std", "n", "eval_std"]
    assert reader.fieldnames == ["prior.sigma", "loss", "loss.lambda_", "n"] + [
        f"{metric}_{field}" for metric in ("fid", "precision", "recall") for field in fields]
    rows = list(reader)
    assert [r["n"] for r in rows] == ["1", "3", "3"]  # sorted by precision, best first
    assert rows[0]["loss"] == "wgan-gp" and rows[0]["fid_std"] == "" and rows[0]["fid_ci_low"] == ""
    assert float(rows[1]["fid_std"]) == pytest.approx(np.std(FIDS[1.0], ddof=1))
    assert float(rows[1]["fid_ci_low"]) < float(rows[1]["fid_mean"]) < float(rows[1]["fid_ci_high"])
    assert rows[1]["fid_n"] == "3"
    assert rows[1]["loss.lambda_"] == ""  # vanilla has no lambda_: missing, not zero


def test_json_output_is_a_list_of_flat_rows(sweep, capsys):
    compare([sweep], by=["prior.sigma"], metric=None, csv=False, as_json=True)
    items = json.loads(capsys.readouterr().out)
    assert [(i["prior.sigma"], i["n"]) for i in items] == [(0.5, 3), (1.0, 4)]  # fid 23.8 before 32.5
    assert items[0]["fid_mean"] == pytest.approx(np.mean(FIDS[0.5]))
    assert items[1]["fid_std"] == pytest.approx(np.std(FIDS[1.0] + [25.0], ddof=1))
    assert len(items[1]["runs"]) == 4 and all(Path(p).name.startswith(("s1.0", "wgan")) for p in items[1]["runs"])


def test_text_output_names_the_common_settings_once(sweep, capsys):
    compare([sweep], by=None, metric=None, csv=False, as_json=False)
    out = capsys.readouterr().out
    assert out.startswith("common: ") and "prior=gm-static" in out and "seed" not in out.split("\n")[0]
    assert "7 runs in 3 rows" in out


def test_the_command_refuses_bad_requests(sweep):
    with pytest.raises(GanError, match="--csv and --json"):
        compare([sweep], by=None, metric=None, csv=True, as_json=True)
    with pytest.raises(GanError, match="metrics available"):
        compare([sweep], by=None, metric="nope", csv=False, as_json=False)


def test_csv_text_matches_the_rows(sweep):
    rows = compare_rows(find_runs([sweep]))
    text = csv_text(rows, ["prior.sigma"], ["fid"])
    assert text.splitlines()[0] == "prior.sigma,n,fid_mean,fid_ci_low,fid_ci_high,fid_std,fid_n,fid_eval_std"


# --------------------------------------------------------------------------- through the CLI


def _registered(name: str) -> bool:
    from gan_core.cli import app

    return any(c.name == name for c in app.registered_commands)


needs_compare = pytest.mark.skipif(not _registered("compare"), reason="gan compare is not registered in cli.py yet")


@needs_compare
def test_cli_compare_csv_and_json(sweep):
    result = run_cli(["compare", str(sweep), "--csv", "--metric", "precision"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["n"] for r in rows] == ["1", "3", "3"]
    result = run_cli(["compare", str(sweep), "--by", "loss", "--json"])
    assert result.exit_code == 0, result.output
    assert [i["n"] for i in json.loads(result.output)] == [1, 6]  # wgan-gp's fid 25 beats the pooled 29.4


@needs_compare
def test_cli_compare_refusals_exit_2_with_one_sentence(sweep, tmp_path):
    for args, message in (
        ([str(tmp_path / "missing")], "there is no run or folder"),
        ([str(sweep), "--metric", "nope"], "metrics available: fid, precision, recall"),
        ([str(sweep), "--by", "nope"], "no run has a setting named 'nope'"),
        ([str(sweep), "--csv", "--json"], "--csv and --json"),
    ):
        result = run_cli(["compare", *args])
        assert result.exit_code == 2 and message in result.output, (args, result.output)


def test_a_setting_added_later_does_not_split_seed_groups():
    """A run saved before --holdout existed and one with --holdout 0 are the same configuration."""
    from gan_core.experiments.runindex import flatten_settings

    old = {"components": {}, "train": {"seed": 0, "lr_g": 2e-4}}
    new = {"components": {}, "train": {"seed": 1, "lr_g": 2e-4, "holdout": 0.0}}
    held = {"components": {}, "train": {"seed": 2, "lr_g": 2e-4, "holdout": 0.1}}
    assert "holdout" not in flatten_settings(old) and "holdout" not in flatten_settings(new)
    assert flatten_settings(held)["holdout"] == 0.1


def test_samplers_puts_each_post_hoc_evaluation_in_a_row_of_its_own(tmp_path, capsys):
    root = tmp_path / "runs"
    for seed, (plain, drs) in enumerate([(30.0, 25.0), (34.0, 27.0)]):
        run = make_run(root / f"seed{seed}", {"fid": plain}, seed=seed)
        (run / "evals").mkdir()
        (run / "evals" / "none.json").write_text(json.dumps({"sampler": "none", "step": 40, "metrics": {"fid": plain}}))
        (run / "evals" / "drs.json").write_text(json.dumps({"sampler": "drs", "step": 40, "metrics": {"fid": drs}}))
    records = find_runs([root])
    assert len(compare_rows(records)) == 1  # without --samplers: the runs' own sampler only
    rows = compare_rows(with_sampler_evals(records))
    assert [(r.settings.get("sampler"), r.stats["fid"].mean, r.n) for r in rows] == [("none", 32.0, 2), ("drs", 26.0, 2)]
    assert all(run.posthoc == "drs" for run in rows[1].runs)
    result = run_cli(["compare", str(root), "--samplers", "--csv"])
    assert result.exit_code == 0, result.output
    lines = list(csv.DictReader(io.StringIO(result.output)))
    assert [(line["sampler"], float(line["fid_mean"])) for line in lines] == [("drs", 26.0), ("none", 32.0)]
    pooled = run_cli(["compare", str(root), "--samplers", "--by", "prior", "--csv"])  # the sampler rows stay apart
    assert pooled.exit_code == 0 and len(list(csv.DictReader(io.StringIO(pooled.output)))) == 2, pooled.output
    out = tmp_path / "report"
    assert run_cli(["report", str(root), "--samplers", "--out", str(out)]).exit_code == 0
    assert "2 runs" in (out / "index.html").read_text()


# --------------------------------------------------------------------------- --against and evaluation protocols


def test_against_gives_welch_differences_with_holm_across_the_table(sweep):
    from scipy import stats as scipy_stats

    from gan_core.experiments.against import compare_against, select_row

    rows = sort_rows(compare_rows(find_runs([sweep])), "fid", {"fid": "lower"})
    base = select_row(rows, "prior.sigma=1.0,loss=vanilla")
    assert rows[base].settings["prior.sigma"] == 1.0 and select_row(rows, str(base + 1)) == base
    comparisons = compare_against(rows, base, "fid")
    assert len(comparisons) == 2
    by_sigma = {c.row.settings["prior.sigma"] if c.row.settings["loss"] == "vanilla" else None: c
                for c in comparisons}
    half = by_sigma[0.5].difference
    reference = scipy_stats.ttest_ind(FIDS[0.5], FIDS[1.0], equal_var=False)
    assert half.test == "welch" and half.p == pytest.approx(reference.pvalue)
    assert half.estimate == pytest.approx(np.mean(FIDS[0.5]) - np.mean(FIDS[1.0]))
    assert by_sigma[None].difference is None  # the single wgan-gp run: no interval from one run
    assert by_sigma[0.5].p_holm == pytest.approx(half.p)  # a family of one test (the other has no p)


def test_against_refuses_a_spec_that_picks_no_row_or_several(sweep):
    for args, message in (
        (["--against", "9"], "rows 1 to 3"),
        (["--against", "loss=vanilla"], "picks 2 rows"),
        (["--against", "colour=red"], "not a column"),
        (["--against", "nonsense"], "row number or settings"),
    ):
        result = run_cli(["compare", str(sweep), *args])
        assert result.exit_code == 2 and message in result.output, (args, result.output)


def test_against_pairs_a_sampler_with_its_own_generators(tmp_path):
    from scipy import stats as scipy_stats

    root = tmp_path / "runs"
    plain, drs = [30.0, 34.0, 41.0, 28.0], [29.0, 33.5, 39.0, 27.2]
    for seed in range(4):
        run = make_run(root / f"seed{seed}", {"fid": plain[seed]}, seed=seed)
        (run / "evals").mkdir()
        (run / "evals" / "drs.json").write_text(
            json.dumps({"sampler": "drs", "step": 40, "n": 500, "metrics": {"fid": drs[seed]}}))
    result = run_cli(["compare", str(root), "--samplers", "--against", "sampler=none", "--json"])
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.output)
    assert item["sampler"] == "drs" and item["test"] == "paired"
    assert item["p"] == pytest.approx(scipy_stats.ttest_rel(drs, plain).pvalue)
    assert item["p"] < 0.05 < scipy_stats.ttest_ind(drs, plain, equal_var=False).pvalue  # the pairing is the point
    text = run_cli(["compare", str(root), "--samplers", "--against", "sampler=none"])
    assert text.exit_code == 0 and "paired" in text.output and "Holm" in text.output, text.output


def test_runs_evaluated_on_a_different_n_are_never_pooled(tmp_path, capsys):
    root = tmp_path / "runs"
    for seed in range(2):
        make_run(root / f"big{seed}", {"fid": 20.0 + seed}, seed=seed)
    small = make_run(root / "small", None, seed=5)
    (small / "eval.json").write_text(json.dumps({"sampler": "none", "n": 200, "step": 40, "metrics": {"fid": 140.0}}))
    rows = compare_rows(find_runs([root]))
    assert sorted((row.settings["evaluated"].split(" vs")[0], row.n) for row in rows) == [("200", 1), ("500", 2)]
    compare([root], by=None, metric=None, csv=False, as_json=False)
    out = " ".join(capsys.readouterr().out.split())
    assert "evaluated 2 ways" in out and "never pooled" in out


def test_best_of_k_ranks_rows_by_the_expected_best_of_k_runs(sweep):
    result = run_cli(["compare", str(sweep), "--by", "prior.sigma", "--best-of", "2", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    # sigma 0.5: runs 20, 22.5, 29 -> best of 2 over the 3 pairs: 20, 20, 22.5
    assert items[0]["prior.sigma"] == 0.5 and items[0]["fid_best_of_2"] == pytest.approx((20 + 20 + 22.5) / 3)
    assert (items[0]["fid_best_of_2_low"], items[0]["fid_best_of_2_high"]) == (20.0, 22.5)
    text = run_cli(["compare", str(sweep), "--by", "prior.sigma", "--best-of", "5"])
    assert text.exit_code == 0 and "needs 5 runs" in text.output, text.output
    both = run_cli(["compare", str(sweep), "--best-of", "2", "--against", "1"])
    assert both.exit_code == 2 and "one of them" in both.output


def test_evaluation_noise_shows_beside_seed_noise(tmp_path, capsys):
    root = tmp_path / "runs"
    for seed, (fid, sd) in enumerate([(20.0, 0.3), (24.0, 0.4)]):
        run = make_run(root / f"s{seed}", None, seed=seed)
        (run / "eval.json").write_text(json.dumps({"sampler": "none", "n": 500, "step": 40, "metrics": {"fid": fid},
                                                   "repeats": 3, "eval_std": {"fid": sd}}))
    [row] = compare_rows(find_runs([root]))
    assert row.stats["fid"].eval_std == pytest.approx(((0.09 + 0.16) / 2) ** 0.5)
    compare([root], by=None, metric=None, csv=False, as_json=False)
    out = capsys.readouterr().out
    assert "eval sd" in out and "0.35" in out


def test_a_wide_table_keeps_one_line_per_row_with_a_key_at_80_columns(tmp_path, monkeypatch):
    from rich.cells import cell_len

    root = tmp_path / "runs"
    for i in range(4):
        for seed in range(2):
            make_run(root / f"r{i}s{seed}", {"fid": 10.0 + i + seed, "precision": 0.3 + seed / 100,
                                             "recall": 0.2 + seed / 100, "density": 0.31 + seed / 50,
                                             "coverage": 0.0111 + seed / 1000},
                     sigma=0.1 * (i + 1), loss=["vanilla", "wgan-gp", "hinge", "vanilla"][i], seed=seed)
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli(["compare", str(root)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    numbered = [line for line in lines if line.strip()[:2] in {"1 ", "2 ", "3 ", "4 "}]
    assert len(numbered) == 4, result.output  # one line per row
    assert any(line.strip().startswith("#1 ") for line in lines) and "usual" in result.output
    monkeypatch.delenv("COLUMNS")
    piped = run_cli(["compare", str(root)])  # not a terminal: nothing wrapped
    assert all("\n" not in line for line in piped.output.splitlines())
    assert "1 run in 1 row" not in piped.output and "8 runs in 4 rows" in piped.output


def test_a_setting_only_older_records_lack_is_not_a_difference(tmp_path):
    root = tmp_path / "runs"
    old = make_run(root / "old", {"fid": 20.0}, seed=0)
    new = make_run(root / "new", {"fid": 22.0}, seed=1)
    info = json.loads((new / "run.json").read_text())
    info["train"]["deterministic"] = False
    (new / "run.json").write_text(json.dumps(info))
    records = find_runs([root])
    [row] = compare_rows(records)  # pooled: the old run trained as deterministic=False did
    assert row.n == 2 and common_settings(records, [])["deterministic"] is False
    assert old.exists()


def test_runs_scored_with_other_metric_options_are_not_pooled(tmp_path):
    root = tmp_path / "runs"
    make_run(root / "a", {"precision": 0.30}, seed=0)
    other = make_run(root / "b", None, seed=1)
    (other / "eval.json").write_text(json.dumps({"sampler": "none", "n": 500, "step": 40, "metrics": {"precision": 0.4},
                                                 "metric_options": {"k": 5}}))
    rows = compare_rows(find_runs([root]))
    assert len(rows) == 2 and any(row.settings["evaluated"].endswith("k=5") for row in rows)
