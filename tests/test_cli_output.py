"""How gan's output behaves as a Unix tool's: a reader that stops early, files that are not wrapped, near misses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gan_core.testing import run_cli

REPO = Path(__file__).resolve().parents[1]
LEADERBOARD = REPO / "benchmarks" / "results" / "leaderboard"
GAN = Path(sys.executable).with_name("gan")


def test_a_reader_that_stops_early_is_not_an_error():
    """`gan compare ... | head -1` exits 0: the pipe closing is the reader's choice."""
    process = subprocess.Popen([str(GAN), "compare", str(LEADERBOARD)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()  # as head -1 does
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()


def test_output_to_a_file_keeps_one_line_per_row(tmp_path):
    out = tmp_path / "table.txt"
    env = {k: v for k, v in __import__("os").environ.items() if k != "COLUMNS"}
    with out.open("w") as handle:
        subprocess.run([str(GAN), "compare", str(LEADERBOARD)], stdout=handle, check=True, env=env, timeout=120)
    lines = out.read_text().splitlines()
    assert lines[0].startswith("common: ") and "holdout=0.1" in lines[0]  # the common line is not wrapped
    numbered = [line for line in lines if line.split()[:1] and line.split()[0].isdigit() and "runs in" not in line]
    assert len(numbered) == 24  # one line per row of the 24


def test_near_misses_get_a_did_you_mean():
    for args, hint in ((["--metric", "fdi"], "did you mean 'fid'?"), (["--by", "los"], "did you mean 'loss'?")):
        result = run_cli(["compare", str(LEADERBOARD), *args])
        assert result.exit_code == 2 and hint in result.output, result.output


def test_n_has_the_short_form_users_type(tmp_path):
    result = run_cli(["sample", str(tmp_path / "nothing"), "-n", "10"])
    assert "No such option" not in result.output and result.exit_code == 2  # refused for the missing run instead
