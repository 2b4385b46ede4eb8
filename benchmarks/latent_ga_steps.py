"""latent-ga's step size, measured: what each size does to FID and precision on the same trained runs.

No reference fixes it for a normal prior (DOT, Tanaka 2019, takes 10 SGD
updates of lr 0.01 on an objective D/k_eff scaled to move z by at most
about lr per update; Issenhuth et al. 2022 do not publish theirs), so
the default is the size this measures as best. Every run is copied to a
temporary folder first, so its own evaluations are left as they are.

    python benchmarks/latent_ga_steps.py benchmarks/results/leaderboard/trials/prior=normal,seed=*
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

METRICS = ("fid", "precision", "recall")


def evaluate(run: Path, options: list[str], n: int) -> dict[str, float]:
    command = [sys.executable, "-m", "gan_core", "eval", str(run), "--n", str(n), "--json", *options]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["metrics"]


def mean_std(values: list[float]) -> str:
    mean = math.fsum(values) / len(values)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return f"{mean:+.4f} ± {std:.4f}" if abs(mean) < 1 else f"{mean:+.2f} ± {std:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--sizes", default="0.01,0.1,0.3,1.0")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copies = []
        for i, run in enumerate(args.runs):
            copy = Path(tmp) / f"run{i}"
            shutil.copytree(run, copy, ignore=shutil.ignore_patterns("evals", "eval.json", "samplers", "samples"))
            copies.append(copy)
        plain = [evaluate(c, ["--sampler", "none"], args.n) for c in copies]
        print(f"{len(copies)} runs, {args.n} images each; change against plain sampling of the same run, mean ± std")
        for size in args.sizes.split(","):
            moved = [evaluate(c, ["--sampler", "latent-ga", "-o", f"sampler.steps={args.steps}",
                                  "-o", f"sampler.step_size={size}"], args.n) for c in copies]
            changes = {m: mean_std([b[m] - a[m] for a, b in zip(plain, moved)]) for m in METRICS}
            print(f"steps {args.steps} x {size:>5}: " + "  ".join(f"{m} {v}" for m, v in changes.items()), flush=True)


if __name__ == "__main__":
    main()
