"""CLI start-up: whole-process wall time of commands that need no model, median of 5.

Each command runs as its own process (`gan` from the interpreter's bin
folder), output discarded, after one untimed warm-up run that fills the OS
file cache. `python -c "import torch"` is printed beside them, for scale:
a command that imports torch cannot be faster than it.

    python benchmarks/cli_startup.py [--repeat 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GAN = Path(sys.executable).with_name("gan")

#: (label, argv after `gan`); the error cases each stop with exit code 2 before any model exists
COMMANDS: list[tuple[str, list[str]]] = [
    ("gan --help", ["--help"]),
    ("gan plugins", ["plugins"]),
    ("gan plugins --json", ["plugins", "--json"]),
    ("gan train --help", ["train", "--help"]),
    ("gan sample --help", ["sample", "--help"]),
    ("gan eval --help", ["eval", "--help"]),
    ("gan train --loss vanila (typo)", ["train", "--loss", "vanila", "--out", "{tmp}/never"]),
    ("gan eval missing.npz", ["eval", "{tmp}/missing.npz"]),
    ("gan sample RUN (nothing to write)", ["sample", "{tmp}/no-such-run", "--n", "10"]),
    ("gan sample no-such-run --out x.npz", ["sample", "{tmp}/no-such-run", "--out", "{tmp}/x.npz"]),
]


def timed(argv: list[str], repeat: int) -> tuple[float, int]:
    """Median wall seconds of ``argv`` over ``repeat`` runs, and its exit code."""
    subprocess.run(argv, capture_output=True)  # warm-up: file cache, .pyc files
    seconds, code = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        code = subprocess.run(argv, capture_output=True).returncode
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows = [(label, [str(GAN), *(a.format(tmp=tmp) for a in argv)]) for label, argv in COMMANDS]
        rows.append(('python -c "import torch"', [sys.executable, "-c", "import torch"]))
        for label, argv in rows:
            median, code = timed(argv, args.repeat)
            results[label] = {"seconds": round(median, 3), "exit_code": code}
            print(f"{median:6.2f} s  (exit {code})  {label}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
