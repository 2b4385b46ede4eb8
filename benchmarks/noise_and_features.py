"""Score trained runs twice more: repeated evaluations (evaluation noise) and the second feature space.

    python benchmarks/noise_and_features.py benchmarks/results/agreement [--features mnist-resnet] [--repeats 3]
    python benchmarks/results_page.py        # then the page's "agreement" table, from these records

For every finished run under the folders given (runs that still hold their
weights), through the CLI as a user would:

- ``gan eval RUN --repeats K``: K draws of 10,000 samples, so the run's
  eval.json holds ``eval_std`` beside the mean. Draw 0 uses the run's
  evaluation seed, so it is the evaluation the sweep already made.
- ``gan eval RUN --features NAME``: the same 10,000-sample protocol in the
  second MNIST network, written to ``evals/none@NAME.json``.

A run already scored either way is skipped, so the command resumes where
it stopped. Then ``benchmarks/feature_agreement.py`` gives Kendall's tau
between the two spaces' rankings.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from gan_core.experiments.runindex import find_runs

GAN = Path(sys.executable).with_name("gan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--features", default="mnist-resnet")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for record in find_runs(args.paths):
        if record.status != "finished":
            print(f"skip {record.path}: {record.status}")
            continue
        if not (record.path / "eval.json").is_file():  # a sweep still to make its final evaluation
            print(f"skip {record.path}: not evaluated yet")
            continue
        sampler = str(record.settings.get("sampler", "none"))
        latest = json.loads((record.path / "eval.json").read_text())
        if latest.get("repeats", 1) < args.repeats:
            subprocess.run([str(GAN), "eval", str(record.path), "--repeats", str(args.repeats), "--json"],
                           check=True, stdout=subprocess.DEVNULL)
            print(f"{record.path}: --repeats {args.repeats}")
        if not (record.path / "evals" / f"{sampler}@{args.features}.json").is_file():
            subprocess.run([str(GAN), "eval", str(record.path), "--features", args.features, "--json"],
                           check=True, stdout=subprocess.DEVNULL)
            print(f"{record.path}: --features {args.features}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
