"""Shared by the method benchmarks: train runs through the CLI, evaluate them, print a table.

Runs that already exist are evaluated again rather than retrained, so an
interrupted benchmark can be restarted where it stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GAN = [sys.executable, "-m", "gan_core"]
COLUMNS = ("fid", "precision", "recall", "density", "coverage", "classes")


def use_shared_data() -> None:
    """Inside the project's workspace, read MNIST from ../shared instead of downloading."""
    if "GAN_DATA_DIR" not in os.environ and (REPO.parent / "shared" / "data").is_dir():
        os.environ["GAN_DATA_DIR"] = str(REPO.parent / "shared" / "data")


def gan(*args: str) -> str:
    result = subprocess.run([*GAN, *args], capture_output=True, text=True, env=os.environ)
    if result.returncode != 0:
        raise SystemExit(f"gan {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-=." else "_" for c in label).strip("_")


def train_and_eval(label: str, flags: list[str], out: Path, eval_args: tuple[str, ...] = ()) -> tuple[Path, dict]:
    """Train ``gan train FLAGS --out OUT/slug`` unless it exists, then ``gan eval`` it."""
    path = out / slug(label)
    if not (path / "run.json").exists() or json.loads((path / "run.json").read_text())["status"] != "finished":
        started = time.perf_counter()
        gan("train", *flags, "--out", str(path)) if not path.exists() else gan("train", "--resume", str(path))
        print(f"trained {label} in {time.perf_counter() - started:.0f}s", flush=True)
    report = json.loads(gan("eval", str(path), "--json", *eval_args))
    return path, report


def print_table(rows: list[dict], extra: tuple[str, ...] = ()) -> None:
    width = max(len(r["run"]) for r in rows) + 2
    header = f"{'run':{width}s}" + "".join(f"{c:>10s}" for c in (*COLUMNS, *extra))
    print(header)
    for r in rows:
        cells = "".join(f"{r[c]:10.3f}" if isinstance(r.get(c), float) else f"{str(r.get(c, '-')):>10s}" for c in (*COLUMNS, *extra))
        print(f"{r['run']:{width}s}{cells}")
