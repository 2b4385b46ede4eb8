"""ClusterGAN against vanilla on MNIST, for latent sizes 20 and 100 (gan-cluster).

Every run: mlp, batch 64, seed 0, the same --epochs. Each is evaluated with
`gan eval` (10,000 samples vs the MNIST test set); each ClusterGAN run is
also clustered with `gan cluster` on the 10,000 test images, by the argmax
of E's cluster logits and by k-means on E's output. One more row adds the
perceptual regulariser (`--perceptual`) to vanilla.

`--conv-epochs N` adds two runs closer to the reference code's setup: the
dcgan architecture, latent size 30, once with the vanilla base at the
reference's Adam (1e-4, betas 0.5, 0.9) and once with the wgan-gp base at
its own defaults; N epochs each (about a minute per epoch on 2 CPU cores).

    python benchmarks/cluster_compare.py --epochs 5 --out runs/san-bench

With the same --out and --epochs as benchmarks/san_compare.py, the vanilla
run at latent size 100 is that benchmark's vanilla run (same flags), reused.
"""

from __future__ import annotations

import json

from compare import budget_parser, gan, print_table, train_and_eval, use_shared_data


def main() -> None:
    parser = budget_parser(__doc__, epochs=5, out="runs/san-bench")
    parser.add_argument("--perceptual", type=float, default=10.0, help="beta_p of the perceptual row (0: skip it)")
    parser.add_argument("--conv-epochs", type=int, default=0, help="epochs of the two dcgan ClusterGAN rows (0: skip them)")
    args = parser.parse_args()
    use_shared_data()
    common = ["--seed", "0", "--device", args.device, "--log-every", "200", "--batch-size", "64"]
    budget = ["--arch", "mlp", "--epochs", str(args.epochs)]
    runs: list[tuple[str, list[str], bool]] = []
    for d in (20, 100):
        runs.append((f"clustergan d={d}", [*budget, "--prior", "cluster", "--loss", "clustergan", "--latent-dim", str(d)], True))
        runs.append(("vanilla" if d == 100 else f"vanilla d={d}", [*budget, "--loss", "vanilla", "--latent-dim", str(d)], False))
    if args.perceptual:
        runs.append((f"vanilla + perceptual {args.perceptual:g}", [*budget, "--loss", "vanilla", "--perceptual", str(args.perceptual)], False))
    if args.conv_epochs:
        conv = ["--prior", "cluster", "--loss", "clustergan", "--arch", "dcgan", "--latent-dim", "30",
                "--epochs", str(args.conv_epochs)]
        runs.append((f"clustergan dcgan {args.conv_epochs} ep", [*conv, "--lr-g", "1e-4", "--lr-d", "1e-4", "--betas", "0.5,0.9"], True))
        runs.append((f"clustergan dcgan {args.conv_epochs} ep wgan-gp", [*conv, "-o", "loss.base=wgan-gp"], True))
    rows = []
    for label, flags, clusters in runs:
        path, report = train_and_eval(label, [*common, *flags], args.out)
        row = {"run": label, **report["metrics"]}
        if clusters:
            for method, extra in (("", []), ("km_", ["--kmeans"])):
                scores = json.loads(gan("cluster", str(path), "--json", "--device", args.device, *extra))
                row.update({f"{method}{k}": scores[k] for k in ("accuracy", "nmi", "ari")})
            row["e_on_fakes"] = scores["generated_accuracy"]  # E recovering G's own clusters
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{args.epochs} epochs of mlp unless the row says dcgan, batch 64, seed 0; clustering on the 10,000 MNIST test images "
          "(argmax of E's logits, then k-means on E's output)")
    print_table(rows, extra=("accuracy", "nmi", "ari", "km_accuracy", "km_nmi", "km_ari", "e_on_fakes"))


if __name__ == "__main__":
    main()
