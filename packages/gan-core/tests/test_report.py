"""gan report: every figure written as a valid PNG of the expected size, linked from index.html, atomically.

Three tiny real runs (two seeds of a mixture prior, one plain prior) are
trained once for the module through the CLI, a few seconds on a CPU. The
bands, seed dots and --against are tested on hand-made run folders (JSON
files only), and the numbers behind the bands against scipy's own tests.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from gan_core.errors import GanError
from gan_core.experiments import figures
from gan_core.experiments import report as report_module
from gan_core.experiments.against import compare_against, format_difference, format_p
from gan_core.experiments.compare import compare_rows
from gan_core.experiments.report import report
from gan_core.experiments.runindex import find_runs
from gan_core.testing import run_cli
from PIL import Image

TINY = ["-o", "dataset.limit=640", "--batch-size", "32", "--device", "cpu"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """runs/gm-0 and runs/gm-1 (gm-static, evaluated each epoch; gm-0 by two samplers), runs/plain (normal prior)."""
    if not (Path(os.environ.get("GAN_DATA_DIR", "")) / "mnist").is_dir():
        pytest.skip("MNIST files are expected under $GAN_DATA_DIR/mnist")
    root = tmp_path_factory.mktemp("runs")
    for seed in (0, 1):
        result = run_cli(["train", "--prior", "gm-static", *TINY, "--steps", "40", "--eval-every", "1",
                          "--eval-n", "200", "--seed", str(seed), "--out", str(root / f"gm-{seed}")])
        assert result.exit_code == 0, result.output
    result = run_cli(["train", "--prior", "normal", *TINY, "--steps", "20", "--out", str(root / "plain")])
    assert result.exit_code == 0, result.output
    result = run_cli(["eval", str(root / "gm-0"), "--n", "200", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    # a second sampler's evaluation: the bar chart needs only its file
    evaluation = json.loads((root / "gm-0" / "eval.json").read_text())
    (root / "gm-0" / "evals").mkdir(exist_ok=True)
    (root / "gm-0" / "evals" / "none.json").write_text(json.dumps(evaluation))
    evaluation.update(sampler="drs", metrics={k: v * 0.9 for k, v in evaluation["metrics"].items()})
    (root / "gm-0" / "evals" / "drs.json").write_text(json.dumps(evaluation))
    return root


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def pngs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.png")}


def test_report_draws_every_figure_and_links_each_one(runs, tmp_path, capsys):
    out = tmp_path / "report"
    report([runs], out)
    assert str(out / "index.html") in capsys.readouterr().out
    expected = {"losses.png", "metrics.png", "samplers.png", "seeds.png"}
    expected |= {f"runs/gm-{s}-{kind}.png" for s in (0, 1) for kind in ("samples", "components", "means")}
    expected |= {"runs/plain-samples.png"}  # a plain prior has no components and no means
    assert pngs(out) == expected

    marker = json.loads((out / "report.json").read_text())
    sizes = {f["src"]: (f["width"], f["height"]) for f in marker["figures"]}
    assert set(sizes) == expected
    for name in expected:
        with Image.open(out / name) as image:
            image.verify()
        with Image.open(out / name) as image:
            assert image.format == "PNG" and image.size == sizes[name], name
    assert sizes["runs/gm-0-components.png"] == (8 * 30 + 2, 10 * 30 + 2)  # 8 images x 10 components of 28 px
    assert sizes["losses.png"][0] == 800 and sizes["metrics.png"][0] == 1200 and sizes["runs/gm-0-means.png"] == (420, 380)
    assert (out / "runs/gm-1-samples.png").read_bytes() == (runs / "gm-1" / "samples" / "epoch-0002.png").read_bytes()

    page = (out / "index.html").read_text()
    parser = Images()
    parser.feed(page)
    assert set(parser.sources) == expected and len(parser.sources) == len(expected)
    assert "script" not in parser.tags and "http://" not in page and "https://" not in page
    assert "prior=gm-static" in page and "(2 seeds)" in page and "95 % t-interval of the mean over seeds" in page
    assert (out / "results.csv").read_text().splitlines()[0].startswith("prior,")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_out_may_replace_only_an_earlier_report(runs, tmp_path, monkeypatch):
    plain = runs / "plain"
    out = tmp_path / "report"
    report([plain], out)
    (out / "stale.png").write_bytes(b"x")
    report([plain], out)  # an earlier report is replaced whole
    assert not (out / "stale.png").exists() and (out / "index.html").is_file()

    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep me")
    with pytest.raises(GanError, match="is not empty and holds no earlier gan report"):
        report([plain], other)
    assert [p.name for p in other.iterdir()] == ["todo.txt"]
    with pytest.raises(GanError, match="is a file"):
        report([plain], other / "todo.txt")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    before = (out / "index.html").read_bytes()
    monkeypatch.setattr(report_module, "build_report", broken)
    with pytest.raises(RuntimeError):
        report([plain], out)
    assert (out / "index.html").read_bytes() == before  # the earlier report is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "report"]  # no staging folder left


def test_a_run_whose_model_cannot_be_rebuilt_still_gets_its_curves(runs, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(runs / "gm-1", copy)
    (copy / "weights.safetensors").write_bytes(b"not safetensors")
    out = tmp_path / "report"
    report([copy], out)
    assert pngs(out) == {"losses.png", "metrics.png", "runs/copy-samples.png"}
    html = (out / "index.html").read_text()
    assert html.count("could not be rebuilt, so no per-component images") == 1
    assert "no weights" not in html  # it has them: they are broken


def _registered(name: str) -> bool:
    from gan_core.cli import app

    return any(c.name == name for c in app.registered_commands)


@pytest.mark.skipif(not _registered("report"), reason="gan report is not registered in cli.py yet")
def test_cli_report(runs, tmp_path):
    out = tmp_path / "report"
    result = run_cli(["report", str(runs / "plain"), "--out", str(out)])
    assert result.exit_code == 0 and "index.html" in result.output, result.output
    result = run_cli(["report", str(runs / "plain"), "--out", str(runs / "gm-0")])
    assert result.exit_code == 2 and "holds no earlier gan report" in result.output
    result = run_cli(["report", str(tmp_path / "missing"), "--out", str(out)])
    assert result.exit_code == 2 and "there is no run or folder" in result.output


def test_a_table_of_many_differing_settings_lists_them_in_one_column(tmp_path):
    from gan_core.experiments.compare import compare_rows, setting_columns
    from gan_core.experiments.report import MAX_SETTING_COLUMNS, results_section
    from gan_core.experiments.runindex import Curves, RunRecord

    records = []
    for i in range(MAX_SETTING_COLUMNS + 2):
        settings = {"seed": 0, f"arch.k{i}": i, "loss": f"loss{i}"}  # options: a missing one is a difference
        records.append(RunRecord(path=tmp_path / f"r{i}", info={}, settings=settings, final={"fid": float(i)},
                                 final_from={}, evals={}, curves=Curves(), directions={"fid": "lower"}))
    rows = compare_rows(records)
    columns = setting_columns(rows)
    assert len(columns) > MAX_SETTING_COLUMNS
    html = results_section(records, rows, columns, "fid", {"fid": "lower"}).body
    assert '<th class="setting wrap">settings</th>' in html and "loss=loss3" in html and "arch.k3=3" in html
    assert '<th class="setting">arch.k0</th>' not in html and '<th class="setting wrap">arch.k0</th>' not in html
    # the one column wraps, so the metrics after it stay in view
    assert ('<td class="setting wrap"><span>arch.k0=0</span>, <span>loss=loss0</span></td>' in html
            or '<td class="setting wrap"><span>loss=loss0</span>, <span>arch.k0=0</span></td>' in html)


# --------------------------------------------------------------------------- bands, seed dots, --against (no training)


def t_half(values: list[float]) -> float:
    """Half the 95 % t-interval of the mean, from scipy.stats: the reference the report's numbers must match."""
    from scipy import stats as scipy_stats

    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return float(scipy_stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)


def test_a_curve_band_is_the_t_interval_of_the_mean_over_the_runs_at_each_epoch():
    runs = [
        [{"epoch": 1, "fid": 100.0}, {"epoch": 2, "fid": 50.0}, {"epoch": 3, "fid": 40.0}],
        [{"epoch": 1, "fid": 120.0}, {"epoch": 2, "fid": 55.0}, {"epoch": 3, "fid": float("nan")}],
        [{"epoch": 1, "fid": 90.0}, {"epoch": 2, "fid": 70.0}, {"epoch": 2, "fid": 65.0}],  # a re-eval: the last counts
    ]
    points = figures.mean_band(runs, "fid")
    assert [(p.x, p.n) for p in points] == [(1, 3), (2, 3), (3, 1)]
    for point, values in zip(points[:2], ([100.0, 120.0, 90.0], [50.0, 55.0, 65.0])):
        assert point.estimate == pytest.approx(sum(values) / 3)
        assert point.low == pytest.approx(point.estimate - t_half(values))
        assert point.high == pytest.approx(point.estimate + t_half(values))
    assert points[2].estimate == 40.0 and points[2].low is None and points[2].high is None  # one run: no band
    single = figures.mean_band(runs[:1], "fid")
    assert all(p.low is None and p.high is None for p in single)


def test_a_difference_band_is_welchs_interval_or_the_paired_one_at_the_epochs_both_rows_have():
    from scipy import stats as scipy_stats

    rows = [[{"epoch": e, "fid": v} for e, v in zip((1, 2, 3), values)]
            for values in ([30.0, 20.0, 10.0], [34.0, 24.0, 12.0], [41.0, 22.0, 11.0])]
    base = [[{"epoch": e, "fid": v} for e, v in zip((1, 2), values)] for values in ([40.0, 25.0], [44.0, 31.0])]
    points = figures.difference_band(rows, base, "fid", paired=False)
    assert [p.x for p in points] == [1, 2]  # epoch 3: the base row has none
    a, b = [30.0, 34.0, 41.0], [40.0, 44.0]
    welch = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert points[0].estimate == pytest.approx(sum(a) / 3 - sum(b) / 2)
    assert (points[0].low, points[0].high) == (pytest.approx(welch.low), pytest.approx(welch.high))

    again = [[{"epoch": e, "fid": v - 2.0 - i} for e, v in zip((1, 2), values)]
             for i, values in enumerate(([30.0, 20.0], [34.0, 24.0], [41.0, 22.0]))]
    paired = figures.difference_band(rows, again, "fid", paired=True)
    reference = scipy_stats.ttest_rel([30.0, 34.0, 41.0], [28.0, 31.0, 37.0]).confidence_interval(0.95)
    assert paired[0].estimate == pytest.approx(3.0)
    assert (paired[0].low, paired[0].high) == (pytest.approx(reference.low), pytest.approx(reference.high))
    with pytest.raises(ValueError, match="same runs"):
        figures.difference_band(rows, base, "fid", paired=True)
    lone = figures.difference_band(rows, base[:1], "fid", paired=False)
    assert lone[0].estimate == pytest.approx(sum(a) / 3 - 40.0) and lone[0].low is None  # one base run: no band


def test_the_budget_is_the_first_epoch_from_which_every_interval_excludes_zero():
    def point(x, low, high):
        return figures.BandPoint(x, (low + high) / 2, low, high, 3)

    assert figures.clear_of_zero_from([point(1, -5, 1), point(2, -4, -1), point(3, -3, -0.5)]) == 2
    assert figures.clear_of_zero_from([point(1, -5, -1), point(2, -4, 1), point(3, -3, -0.5)]) == 3
    assert figures.clear_of_zero_from([point(1, -5, -1), point(2, -4, 1)]) is None
    assert figures.clear_of_zero_from([figures.BandPoint(1, -2.0, None, None, 1)]) is None


def fake_run(path: Path, fid: float, *, prior: str, seed: int, curve: list[float] | None = None,
             loss: str = "vanilla", options: dict | None = None, losses: list[tuple[int, float, float, float]] = (),
             grids: tuple[str, ...] = ()) -> Path:
    """A finished run folder holding only what gan report reads: run.json, eval.json and metrics.jsonl (its evals
    per epoch, ``losses`` as (step, epoch, d_loss, g_loss) logs), and ``grids`` as sample PNGs (no weights).

    ``options`` go to the prior (``{"k": 10}``) or, keyed ``loss.NAME``, to the loss."""
    path.mkdir(parents=True)
    options = options or {}
    prior_options = {k: v for k, v in options.items() if not k.startswith("loss.")}
    loss_options = {k.removeprefix("loss."): v for k, v in options.items() if k.startswith("loss.")}
    info = {
        "format": 1, "status": "finished",
        "components": {"dataset": {"name": "mnist", "options": {}}, "prior": {"name": prior, "options": prior_options},
                       "architecture": {"name": "mlp", "options": {}}, "loss": {"name": loss, "options": loss_options},
                       "sampler": {"name": "none", "options": {}}},
        "train": {"epochs": 3, "steps": 30, "batch_size": 64, "latent_dim": 100, "seed": seed},
        "data": {"steps_per_epoch": 10},
        "checkpoint": {"step": 30, "epoch": 3.0},
    }
    (path / "run.json").write_text(json.dumps(info))
    evaluation = {"sampler": "none", "n": 500, "step": 30, "directions": {"fid": "lower", "precision": "higher"},
                  "metrics": {"fid": fid, "precision": 0.5 - fid / 1000}}
    (path / "eval.json").write_text(json.dumps(evaluation))
    lines = [{"step": step, "epoch": epoch, "d_loss": d, "g_loss": g} for step, epoch, d, g in losses]
    lines += [{"step": 10 * e, "epoch": e, "eval": {"fid": v}} for e, v in enumerate(curve or [], 1)]
    lines.sort(key=lambda line: line["step"])
    (path / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    for i, name in enumerate(grids):
        (path / "samples").mkdir(exist_ok=True)
        Image.new("L", (62, 62), 40 * i).save(path / "samples" / name)
    return path


@pytest.fixture
def made(tmp_path) -> Path:
    """Two rows of three seeds with fid curves over 3 epochs (gm-static better), one single run without curves."""
    root = tmp_path / "sweep"
    for seed, (fid, curve) in enumerate([(20.0, [90.0, 40.0, 21.0]), (22.0, [80.0, 45.0, 23.0]),
                                         (25.0, [99.0, 38.0, 24.0])]):
        fake_run(root / f"gm-{seed}", fid, prior="gm-static", seed=seed, curve=curve)
    for seed, (fid, curve) in enumerate([(30.0, [95.0, 50.0, 31.0]), (33.0, [85.0, 52.0, 34.0]),
                                         (35.0, [92.0, 49.0, 36.0])]):
        fake_run(root / f"normal-{seed}", fid, prior="normal", seed=seed, curve=curve)
    fake_run(root / "uniform-0", 50.0, prior="uniform", seed=0)
    return root


def section(html: str, title: str) -> str:
    start = html.index(f"<h2>{title}")
    return html[start:html.index("</section>", start)]


def test_the_results_show_every_seed_as_a_dot_beside_its_mean(made, tmp_path):
    out = tmp_path / "report"
    report([made], out)
    html = (out / "index.html").read_text()
    assert pngs(out) == {"metrics.png", "seeds.png"}  # no --against: no difference table or figure
    results = section(html, "Results")
    assert 'src="seeds.png"' in results and "one per seed" in results
    assert "Against" not in html
    marker = json.loads((out / "report.json").read_text())
    size = next((f["width"], f["height"]) for f in marker["figures"] if f["src"] == "seeds.png")
    with Image.open(out / "seeds.png") as image:
        assert image.size == size
    assert "95 % t-interval" in section(html, "Training curves")


def test_against_adds_the_difference_table_and_its_curve(made, tmp_path):
    out = tmp_path / "report"
    report([made], out, against="prior=normal")
    html = (out / "index.html").read_text()
    assert pngs(out) == {"metrics.png", "seeds.png", "against.png"}
    against = section(html, "Against #2")  # sorted by fid: gm-static, normal, uniform
    assert 'src="against.png"' in against and "(against)" in against

    rows = compare_rows(find_runs([made]))
    gm, normal = (next(r for r in rows if r.settings["prior"] == p) for p in ("gm-static", "normal"))
    ordered = [gm, normal] + [r for r in rows if r not in (gm, normal)]
    comparison = next(c for c in compare_against(ordered, 1, "fid") if c.row is gm)
    assert f"<td>{format_difference(comparison.difference)}</td>" in against
    assert f"<td>{format_p(comparison.p_holm)}</td>" in against and "<td>welch</td>" in against
    # gm-static minus normal per epoch: -1 [.., ..] at epoch 1 spans zero, epochs 2 and 3 exclude it
    assert "<td>2</td>" in against.split("<tr>")[2]
    assert "n/a (needs 2 runs each)" in against  # the single uniform run

    other = tmp_path / "by-number"
    report([made], other, against="1")
    assert "<h2>Against #1" in (other / "index.html").read_text()


def test_cli_refuses_a_bad_against_in_one_sentence_and_writes_nothing(made, tmp_path):
    out = tmp_path / "report"
    for spec, words in (("9", "the table has rows 1 to 3"), ("prior=cauchy", "picks no row"),
                        ("colour=red", "not a column of this table")):
        result = run_cli(["report", str(made), "--out", str(out), "--against", spec])
        assert result.exit_code == 2, result.output
        assert words in result.output and len(result.output.strip().splitlines()) == 1, result.output
        assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left
    result = run_cli(["report", str(made), "--out", str(out), "--against", "prior=gm-static"])
    assert result.exit_code == 0 and (out / "against.png").is_file(), result.output


# --------------------------------------------------------------------------- navigating the page (no training)


def losses_of(scale: float, offset: float = 0.0) -> list[tuple[int, float, float, float]]:
    """Five logged points over 3 epochs of 10 steps, d_loss near ``offset`` in steps of ``scale``."""
    return [(6 * i, 0.6 * i, offset + scale * i, -offset - scale * i) for i in range(1, 6)]


@pytest.fixture
def leaderboard(tmp_path) -> Path:
    """Three rows of two seeds, alike but for what sets them apart far into their settings (the issue's legends
    cut at 60 characters read the same), with losses of unlike scales: SAN near 1, WGAN-GP near -12."""
    root = tmp_path / "board"
    shared = {"k": 10, "c": 1, "sigma": 1, "scale_form": "scalar", "learn": True}
    rows = [("gm-dynamic", "san", {**shared, "loss.lambda_": 1}, 20.0, losses_of(0.01, 1.0)),
            ("gm-dynamic", "wgan-gp", {**shared, "loss.lambda_": 10}, 25.0, losses_of(0.5, -12.0)),
            ("gm-dynamic", "san", {**shared, "loss.lambda_": 20}, 30.0, losses_of(0.02, 1.2))]
    for r, (prior, loss, options, fid, losses) in enumerate(rows):
        for seed in (0, 1):
            fake_run(root / f"row{r}-{seed}", fid + seed, prior=prior, seed=seed, loss=loss, options=options,
                     curve=[250.0 - 10 * r, 60.0, fid + seed], losses=losses, grids=("epoch-0003.png",))
    return root


def drawn(monkeypatch) -> dict[str, dict[str, list[str]]]:
    """Per figure file, what its legends and y tick labels and panel titles say, recorded as each is saved."""
    seen: dict[str, dict[str, list[str]]] = {}
    original = figures._save

    def spy(fig, path):
        legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
        seen[path.name] = {
            "legends": [[t.get_text() for t in legend.get_texts()] for legend in legends],
            "ticks": [t.get_text() for ax in fig.axes[:1] for t in ax.get_yticklabels()],
            "titles": [ax.get_title() for ax in fig.axes if ax.get_visible()],
            "xlabels": [ax.get_xlabel() for ax in fig.axes if ax.get_visible()],
            "yscales": [ax.get_yscale() for ax in fig.axes if ax.get_visible()],
        }
        return original(fig, path)

    monkeypatch.setattr(figures, "_save", spy)
    return seen


class Page(HTMLParser):
    """The ids of a page, its links to them, and the links of its contents list."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.contents: list[str] = []
        self.in_nav = False
        self.first: str | None = None  # which came first: the contents or a section

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag == "nav":
            self.in_nav = True
        if tag in ("nav", "section") and self.first is None:
            self.first = tag
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])
            if self.in_nav:
                self.contents.append(attrs["href"][1:])

    def handle_endtag(self, tag):
        if tag == "nav":
            self.in_nav = False


def test_every_figure_names_rows_by_distinct_numbers_and_the_page_keys_them(leaderboard, tmp_path, monkeypatch):
    seen = drawn(monkeypatch)
    out = tmp_path / "report"
    report([leaderboard], out)
    html = (out / "index.html").read_text()
    assert {"losses.png", "metrics.png", "seeds.png"} <= set(seen)
    # sorted by fid: lambda_=1 (#1), wgan-gp (#2), lambda_=20 (#3)
    assert seen["metrics.png"]["legends"] == [["#1", "#2", "#3"]]
    assert seen["seeds.png"]["ticks"] == ["#1", "#2", "#3"]
    loss_legends = seen["losses.png"]["legends"]
    assert sorted(label for legend in loss_legends for label in legend) == ["#1", "#2", "#3"]  # each row once
    # one row of panels per loss family, each on its own y axis: SAN's near 1 is not squashed by WGAN-GP's near -12
    assert seen["losses.png"]["titles"] == ["loss=san: D loss", "loss=san: G loss",
                                           "loss=wgan-gp: D loss", "loss=wgan-gp: G loss"]
    # the key: the usual settings once, then per row what sets it apart, beside the curves
    curves = section(html, "Training curves")
    assert curves.split("usual: ")[1].split("</p>")[0] == "loss=san"  # settings all rows share are said as common
    for number, apart in ((1, "<span>loss.lambda_=1</span>"), (2, "<span>loss=wgan-gp</span>"),
                          (3, "<span>loss.lambda_=20</span>")):
        assert f'<td class="setting">#{number}</td><td class="setting wrap">{apart}' in curves
    # FID falls from 250 to ~20: more than a decade, so its panel is logarithmic
    assert seen["metrics.png"]["yscales"][0] == "log" and "log scale" in seen["metrics.png"]["titles"][0]
    assert seen["losses.png"]["xlabels"][0] == "epoch"


def test_the_contents_links_resolve_to_ids_on_the_page(leaderboard, tmp_path):
    out = tmp_path / "report"
    report([leaderboard], out)
    parsed = Page()
    parsed.feed((out / "index.html").read_text())
    assert parsed.first == "nav"  # the contents come before the first section
    assert parsed.contents[:3] == ["results", "curves", "runs"] and "row-1" in parsed.contents
    assert len(parsed.ids) == len(set(parsed.ids))
    assert set(parsed.links) <= set(parsed.ids) and set(parsed.contents) <= set(parsed.ids)
    # the results table links each seed to its run's card, which shows the run's own final metrics
    html = (out / "index.html").read_text()
    card = html[html.index('<article class="card" id="run-row1-0"'):]
    card = card[:card.index("</article>")]
    assert 'href="#run-row1-0"' in html and "fid ↓ <strong>25</strong>" in card
    assert "<h4>row1-0</h4>" in card and str(tmp_path) not in card  # the path below the folder given


def test_committed_records_without_weights_make_a_report_that_says_so_once(tmp_path, monkeypatch):
    root = tmp_path / "records"
    for seed in (0, 1):
        fake_run(root / f"run-{seed}", 20.0 + seed, prior="gm-dynamic", seed=seed, options={"k": 10},
                 losses=losses_of(0.1, 1.0), grids=("epoch-0001.png", "epoch-0003.png"))
    monkeypatch.chdir(tmp_path)
    result = run_cli(["report", "records", "--out", "report"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("Wrote report/index.html") and len(lines) == 2, result.output
    assert lines[1].startswith("note: None of the 2 runs has weights") and "prior's means" in lines[1]
    html = (tmp_path / "report" / "index.html").read_text()
    assert html.count("has weights (weights.safetensors") == 1 and "could not be" not in html
    assert (tmp_path / "report" / "runs" / "run-1-samples.png").read_bytes() == \
        (root / "run-1" / "samples" / "epoch-0003.png").read_bytes()  # the last grid stands for the run
    assert "<h4>run-1</h4>" in html and str(tmp_path) not in html.split("<section")[1]


def test_a_steps_run_is_drawn_against_steps(tmp_path, monkeypatch):
    assert figures.choose_x([[{"step": 50, "epoch": 0.0533}, {"step": 100, "epoch": 0.1066}]]) == "step"
    assert figures.choose_x([[{"step": 10, "epoch": 1.0}, {"step": 20, "epoch": 2.0}, {"step": 30, "epoch": 3.0}]]) \
        == "epoch"
    assert figures.choose_x([[{"step": 5, "epoch": 2}, {"step": 10, "epoch": 2}]]) == "step"  # epochs that merge
    assert figures.choose_x([[{"step": 5}, {"step": 10}]]) == "step"
    # beside a longer run, one within its first epoch would be a sliver at the left of an epoch axis
    assert figures.choose_x([[{"step": 10, "epoch": 1.0}, {"step": 20, "epoch": 2.0}],
                             [{"step": 40, "epoch": 0.5}, {"step": 60, "epoch": 0.75}]]) == "step"

    seen = drawn(monkeypatch)
    run = fake_run(tmp_path / "short", 90.0, prior="normal", seed=0,
                   losses=[(50, 0.0533, 1.3, 0.7), (100, 0.1066, 1.2, 0.8), (150, 0.16, 1.1, 0.9)])
    report([run], tmp_path / "report")
    assert seen["losses.png"]["xlabels"] == ["step", "step"]


def test_a_run_that_logged_once_is_said_to_be_a_single_point(tmp_path):
    run = fake_run(tmp_path / "once", 90.0, prior="normal", seed=0, losses=[(40, 0.04, 1.3, 0.7)])
    report([run], tmp_path / "report")
    assert "a single point: train with a smaller --log-every" in (tmp_path / "report" / "index.html").read_text()


def test_a_log_axis_only_where_the_values_span_more_than_a_decade():
    assert figures.wants_log_axis([185.0, 60.0, 12.0])
    assert not figures.wants_log_axis([30.0, 20.0, 12.0])
    assert not figures.wants_log_axis([100.0, 10.0])  # exactly a decade: linear reads fine
    assert not figures.wants_log_axis([-12.0, 1.0, 150.0])  # a value at or below zero has no log
    assert figures.wants_log_axis([185.0, float("nan"), 12.0])
    assert not figures.wants_log_axis([])
