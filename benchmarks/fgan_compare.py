"""f-GAN: one row per f-divergence, plus vanilla, on MNIST with mlp (gan-fgan).

Same budget (--epochs), seed 0, batch 64, default options (the alternative
generator update). A divergence whose loss becomes NaN or infinite is
stopped by the engine, which keeps the last good checkpoint; that checkpoint
is evaluated and the row says at which step the run diverged.

    python benchmarks/fgan_compare.py --epochs 5 --out runs/san-bench

With the same --out and --epochs as benchmarks/san_compare.py, its vanilla
run is reused.
"""

from __future__ import annotations

import json

from compare import budget_parser, print_table, train_and_eval, use_shared_data

DIVERGENCES = ("gan", "kl", "reverse-kl", "pearson", "neyman", "hellinger", "js", "tv")


def main() -> None:
    parser = budget_parser(__doc__, epochs=5, out="runs/san-bench")
    args = parser.parse_args()
    use_shared_data()
    common = ["--arch", "mlp", "--seed", "0", "--device", args.device, "--log-every", "200", "--epochs", str(args.epochs),
              "--batch-size", "64"]
    rows, notes = [], []
    for loss in ("vanilla", *(f"fgan-{d}" for d in DIVERGENCES)):
        _, report = train_and_eval(loss, [*common, "--loss", loss], args.out)
        rows.append({"run": loss + (" (diverged)" if "diverged" in report else ""), **report["metrics"]})
        if "diverged" in report:
            notes.append(f"{loss}: {report['diverged']}")
        print(json.dumps({**rows[-1], "diverged": report.get("diverged")}), flush=True)
    print(f"\nf-GAN: {args.epochs} epochs, mlp, batch 64, seed 0")
    print_table(rows)
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
