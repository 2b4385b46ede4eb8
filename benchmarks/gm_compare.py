"""Gaussian-mixture priors against the vanilla GAN on MNIST (gan-gm).

Same architecture (mlp), batch 64, seed 0, the same epoch budget for every
run trained from scratch:

* vanilla (normal prior), gm-static, gm-dynamic from scratch;
* gm-static and gm-dynamic fine-tuned from the vanilla run (--init-from) for
  --finetune-epochs more epochs;
* gm-supervised prior with the gm-supervised and gm-aux losses, plus their
  class-conditional accuracy: the share of samples from component k that the
  evaluation classifier labels k.

Every run is evaluated with `gan eval` (10,000 samples vs the MNIST test set).

    python benchmarks/gm_compare.py --epochs 10 --finetune-epochs 5 --out runs/gm-bench
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from compare import budget_parser, print_table, train_and_eval, use_shared_data


def class_accuracy(run: Path, n_per_class: int = 1000) -> float:
    """Mean over components k of the share of component-k samples the evaluation classifier labels k."""
    from rich.console import Console

    from gan_core.evaluation.featurenet import shipped_extractor
    from gan_core.evaluation.features import extract
    from gan_core.sampling import draw, load_run, prepare_sampler

    device = torch.device("cpu")
    loaded = load_run(run, device)
    sampler = prepare_sampler(loaded, "none", None, None, Console(stderr=True))
    extractor = shipped_extractor("mnist", device)
    shares = []
    for k in range(loaded.model.prior.num_components):
        torch.manual_seed(k)
        images, _, _ = draw(sampler, loaded.model, n_per_class, batch_size=1000, component=k, max_proposals=None)
        shares.append((extract(extractor, images).probs.argmax(1) == k).float().mean().item())
    return sum(shares) / len(shares)


def main() -> None:
    parser = budget_parser(__doc__, epochs=10, out="runs/gm-bench")
    parser.add_argument("--finetune-epochs", type=int, default=5)
    args = parser.parse_args()
    use_shared_data()
    common = ["--arch", "mlp", "--batch-size", "64", "--seed", "0", "--device", args.device, "--log-every", "200"]
    scratch = [*common, "--epochs", str(args.epochs)]
    vanilla = str(args.out / "vanilla")
    finetune = [*common, "--epochs", str(args.finetune_epochs), "--init-from", vanilla]
    runs = {
        "vanilla": [*scratch, "--prior", "normal"],
        "gm-static": [*scratch, "--prior", "gm-static"],
        "gm-dynamic": [*scratch, "--prior", "gm-dynamic"],
        "gm-static fine-tuned": [*finetune, "--prior", "gm-static"],
        "gm-dynamic fine-tuned": [*finetune, "--prior", "gm-dynamic"],
        "gm-supervised + gm-supervised loss": [*scratch, "--prior", "gm-supervised", "--loss", "gm-supervised"],
        "gm-supervised + gm-aux loss": [*scratch, "--prior", "gm-supervised", "--loss", "gm-aux"],
    }
    rows = []
    for label, flags in runs.items():
        path, report = train_and_eval(label, flags, args.out)
        row = {"run": label, **report["metrics"]}
        if "supervised" in label:
            row["class acc"] = class_accuracy(path)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{args.epochs} epochs from scratch; fine-tuned: vanilla's {args.epochs} + {args.finetune_epochs}; "
          "mlp, batch 64, seed 0; 10,000 samples vs the MNIST test set")
    print_table(rows, extra=("class acc",))


if __name__ == "__main__":
    main()
