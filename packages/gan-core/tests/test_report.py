"""gan report: every figure written as a valid PNG of the expected size, linked from index.html, atomically.

Three tiny real runs (two seeds of a mixture prior, one plain prior) are
trained once for the module through the CLI, a few seconds on a CPU.
"""

from __future__ import annotations

import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from gan_core.errors import GanError
from gan_core.experiments import report as report_module
from gan_core.experiments.report import report
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
    expected = {"losses.png", "metrics.png", "samplers.png"}
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
    assert "prior=gm-static" in page and "(2 seeds)" in page and "min–max across seeds" in page
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
    (copy / "weights.safetensors").unlink()
    out = tmp_path / "report"
    report([copy], out)
    assert pngs(out) == {"losses.png", "metrics.png", "runs/copy-samples.png"}
    assert "the model could not be loaded" in (out / "index.html").read_text()


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
    from gan_core.experiments.report import MAX_SETTING_COLUMNS, results_section
    from gan_core.experiments.compare import compare_rows, setting_columns
    from gan_core.experiments.runindex import RunRecord, Curves

    records = []
    for i in range(MAX_SETTING_COLUMNS + 2):
        settings = {"seed": 0, f"k{i}": i, "loss": f"loss{i}"}
        records.append(RunRecord(path=tmp_path / f"r{i}", info={}, settings=settings, final={"fid": float(i)},
                                 final_from={}, evals={}, curves=Curves(), directions={"fid": "lower"}))
    rows = compare_rows(records)
    columns = setting_columns(rows)
    assert len(columns) > MAX_SETTING_COLUMNS
    html = results_section(records, rows, columns, "fid", {"fid": "lower"}).body
    assert '<th class="setting wrap">settings</th>' in html and "loss=loss3" in html and "k3=3" in html
    assert '<th class="setting">k0</th>' not in html and '<th class="setting wrap">k0</th>' not in html
    # the one column wraps, so the metrics after it stay in view
    assert '<td class="setting wrap">k0=0, loss=loss0</td>' in html or '<td class="setting wrap">loss=loss0, k0=0</td>' in html
