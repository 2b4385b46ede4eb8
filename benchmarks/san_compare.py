"""The Wasserstein family and SAN against vanilla on MNIST, and the SAN sweep (gan-san).

Part 1, same budget (--epochs) and seed, mlp: vanilla, wgan, wgan-gp, san,
hinge-san. Part 2, the sweep researchers ran for SAN: lambda in {1, 5, 20},
batch size in {64, 256}, discriminator dropout 0 or 0.3. Every run is
evaluated with `gan eval` (10,000 samples vs the MNIST test set).

    python benchmarks/san_compare.py --epochs 5 --out runs/san-bench
"""

from __future__ import annotations

import itertools
import json

from compare import budget_parser, print_table, train_and_eval, use_shared_data


def main() -> None:
    parser = budget_parser(__doc__, epochs=5, out="runs/san-bench")
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()
    use_shared_data()
    common = ["--arch", "mlp", "--seed", "0", "--device", args.device, "--log-every", "200", "--epochs", str(args.epochs)]
    rows = []
    for loss in ("vanilla", "wgan", "wgan-gp", "san", "hinge-san"):
        _, report = train_and_eval(loss, [*common, "--loss", loss, "--batch-size", "64"], args.out)
        rows.append({"run": loss, **report["metrics"]})
        print(json.dumps(rows[-1]), flush=True)
    print(f"\nlosses: {args.epochs} epochs, mlp, batch 64, seed 0")
    print_table(rows)
    if args.skip_sweep:
        return
    sweep = []
    for lam, batch, dropout in itertools.product((1, 5, 20), (64, 256), (0.0, 0.3)):
        label = f"san lambda={lam} batch={batch} dropout={dropout}"
        flags = [*common, "--loss", "san", "-o", f"loss.lambda_={lam}", "--batch-size", str(batch),
                 "-o", f"arch.dropout={dropout}"]
        _, report = train_and_eval(label, flags, args.out)
        sweep.append({"run": label, **report["metrics"]})
        print(json.dumps(sweep[-1]), flush=True)
    print(f"\nSAN sweep: {args.epochs} epochs, mlp, seed 0")
    print_table(sweep)


if __name__ == "__main__":
    main()
