"""Shared by the method benchmarks: train runs through the CLI, evaluate them, print a table.

Runs that already exist are evaluated again rather than retrained, so an
interrupted benchmark can be restarted where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gan_core.runs import read_run

REPO = Path(__file__).resolve().parents[1]
GAN = [sys.executable, "-m", "gan_core"]
COLUMNS = ("fid", "precision", "recall", "density", "coverage", "classes")


def use_shared_data() -> None:
    """Inside the project's workspace, read MNIST from ../shared instead of downloading."""
    if "GAN_DATA_DIR" not in os.environ and (REPO.parent / "shared" / "data").is_dir():
        os.environ["GAN_DATA_DIR"] = str(REPO.parent / "shared" / "data")


def budget_parser(doc: str | None, epochs: int = 5, out: str = "runs/san-bench") -> argparse.ArgumentParser:
    """The options every method benchmark shares, so runs of one budget land in one folder and are reused."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--out", type=Path, default=Path(out))
    parser.add_argument("--device", default="cpu")
    return parser


def gan(*args: str) -> str:
    result = subprocess.run([*GAN, *args], capture_output=True, text=True, env=os.environ)
    if result.returncode != 0:
        raise SystemExit(f"gan {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-=." else "_" for c in label).strip("_")


def train_and_eval(label: str, flags: list[str], out: Path, eval_args: tuple[str, ...] = ()) -> tuple[Path, dict]:
    """Train ``gan train FLAGS --out OUT/slug`` unless it exists, then ``gan eval`` it.

    A run that diverged is not retrained (it would diverge again): its last
    good checkpoint is evaluated and the report gets ``diverged``, the
    engine's sentence.
    """
    path = out / slug(label)
    status = read_run(path)["status"] if (path / "run.json").exists() else None
    if status not in ("finished", "diverged"):
        started = time.perf_counter()
        args = ("train", *flags, "--out", str(path)) if not path.exists() else ("train", "--resume", str(path))
        result = subprocess.run([*GAN, *args], capture_output=True, text=True, env=os.environ)
        if result.returncode != 0 and not (path / "run.json").exists():
            raise SystemExit(f"gan {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        print(f"trained {label} in {time.perf_counter() - started:.0f}s", flush=True)
    info = read_run(path)
    if info["status"] not in ("finished", "diverged"):
        raise SystemExit(f"{path} stopped with status {info['status']}; see its metrics.jsonl")
    report = json.loads(gan("eval", str(path), "--json", *eval_args))
    if info["status"] == "diverged":
        report["diverged"] = info["diverged"]
    return path, report


def print_table(rows: list[dict], extra: tuple[str, ...] = ()) -> None:
    width = max(len(r["run"]) for r in rows) + 2
    columns = (*COLUMNS, *extra)
    cell = {c: max(10, len(c) + 2) for c in columns}  # a long column name must not run into its neighbour
    print(f"{'run':{width}s}" + "".join(f"{c:>{cell[c]}s}" for c in columns))
    for r in rows:
        cells = "".join(f"{r[c]:{cell[c]}.3f}" if isinstance(r.get(c), float) else f"{str(r.get(c, '-')):>{cell[c]}s}"
                        for c in columns)
        print(f"{r['run']:{width}s}{cells}")
