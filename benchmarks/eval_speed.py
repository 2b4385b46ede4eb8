"""Evaluation speed: 10,000 generated images, all metrics, from memory and from PNG files.

    python benchmarks/eval_speed.py [--run runs/vanilla] [--n 10000]

Without --run it first trains a short vanilla run (1 epoch) to evaluate.
(a) `gan eval RUN`: generate in memory, features, every metric;
(b) `gan sample RUN --out DIR` (10,000 PNG files, as the reference course's
    workflow does) and then `gan eval DIR`.
Both are timed as whole CLI calls (start-up included) with the real-set
feature cache warm; the cold first call, which also computes the real-set
features, is reported separately.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GAN = [sys.executable, "-m", "gan_core"]


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(GAN + args, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"gan {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gan-eval-bench-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache"), "GAN_NO_DOWNLOAD": "1"}
    if "GAN_DATA_DIR" not in env and (REPO.parent / "shared" / "data").is_dir():
        env["GAN_DATA_DIR"] = str(REPO.parent / "shared" / "data")
    try:
        run = args.run
        if run is None:
            run = work / "run"
            seconds, _ = timed(["train", "--epochs", "1", "--device", args.device, "--out", str(run)], env)
            print(f"trained a 1-epoch vanilla run in {seconds:.1f}s")
        device = ["--device", args.device]
        cold, _ = timed(["eval", str(run), "--n", str(args.n), "--json", *device], env)
        warm, output = timed(["eval", str(run), "--n", str(args.n), "--json", *device], env)
        report = json.loads(output)
        print(f"(a) gan eval RUN, {args.n} images, all metrics: {warm:.2f}s "
              f"(cold cache, real features computed too: {cold:.2f}s)")
        print("    " + ", ".join(f"{k} {v:.4f}" for k, v in report["metrics"].items()))
        pngs = work / "pngs"
        write, _ = timed(["sample", str(run), "--n", str(args.n), "--out", str(pngs), *device], env)
        read, output = timed(["eval", str(pngs), "--n", str(args.n), "--json", *device], env)
        print(f"(b) gan sample --out DIR ({args.n} PNGs): {write:.2f}s, then gan eval DIR: {read:.2f}s, "
              f"total {write + read:.2f}s")
        print("    " + ", ".join(f"{k} {v:.4f}" for k, v in json.loads(output)["metrics"].items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
