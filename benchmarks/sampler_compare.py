"""Post-hoc samplers against plain sampling, on a vanilla and a san run (gan-sampling).

For each run and each sampler: FID, precision, recall, density, coverage of
10,000 samples against the MNIST test set, the acceptance rate, and the
sampling speed (img/s, sampling only: fitting and feature extraction are
not counted). A sampler is fitted the first time it is asked for and its
state saved in the run, as `gan sample` does.

The runs are trained here unless they exist already; by default they are
the vanilla and san runs of benchmarks/san_compare.py (same flags, same
folder), so running that first saves the training.

    python benchmarks/sampler_compare.py --epochs 5 --out runs/san-bench
"""

from __future__ import annotations

import json
from pathlib import Path

from compare import budget_parser, gan, print_table, train_and_eval, use_shared_data

SAMPLERS: dict[str, list[str]] = {
    "none": [],
    "drs": ["-o", "sampler.percentile=80"],  # explicit: a run reuses its last fitted drs (here the p95 one) when none is given
    "drs (gamma p95)": ["-o", "sampler.percentile=95"],
    "mh": [],
    "latent-rs": [],
    "latent-ga (D)": [],
    "latent-ga (w)": ["-o", "sampler.score=weights"],
}


def sampler_name(label: str) -> str:
    return label.split(" ")[0]


def main() -> None:
    parser = budget_parser(__doc__, epochs=5, out="runs/san-bench")
    parser.add_argument("--losses", default="vanilla,san")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--run", type=Path, action="append", default=[],
                        help="an existing run to compare samplers on as well (repeatable)")
    parser.add_argument("--skip-training", action="store_true", help="only the runs given with --run")
    args = parser.parse_args()
    use_shared_data()
    common = ["--arch", "mlp", "--seed", "0", "--device", args.device, "--log-every", "200", "--epochs", str(args.epochs)]
    runs = [] if args.skip_training else [
        (loss, train_and_eval(loss, [*common, "--loss", loss, "--batch-size", "64"], args.out)[0])
        for loss in args.losses.split(",")
    ]
    for path in args.run:
        runs.append((str(path), path))
    for loss, path in runs:
        rows = []
        for label, options in SAMPLERS.items():
            report = json.loads(gan("eval", str(path), "--json", "--n", str(args.n), "--device", args.device,
                                    "--sampler", sampler_name(label), *options))
            row = {"run": f"{loss} + {label}", **report["metrics"], "accept": report["acceptance"],
                   "img/s": report["images_per_s"], "seconds": report["seconds"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
        print(f"\n{loss} ({path}), {args.n} samples per sampler")
        print_table(rows, extra=("accept", "img/s", "seconds"))
        print()


if __name__ == "__main__":
    main()
