"""Gaussian-mixture priors against the vanilla GAN on MNIST (issue: gan-gm).

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

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
GAN = [sys.executable, "-m", "gan_core"]


def gan(*args: str) -> str:
    result = subprocess.run([*GAN, *args], capture_output=True, text=True, env=os.environ)
    if result.returncode != 0:
        raise SystemExit(f"gan {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def class_accuracy(run: Path, n_per_class: int = 1000) -> float:
    """Mean over components k of the share of component-k samples classified as k."""
    from gan_core.evaluation.features import extract, shipped_extractor
    from gan_core.sampling import draw, load_run, prepare_sampler
    from rich.console import Console

    device = torch.device("cpu")
    loaded = load_run(run, device)
    sampler = prepare_sampler(loaded, "none", None, None, Console(stderr=True))
    extractor = shipped_extractor("mnist", device)
    shares = []
    for k in range(loaded.model.prior.num_components):
        torch.manual_seed(k)
        images, _, _ = draw(sampler, loaded.model, n_per_class, batch_size=1000, component=k, max_proposals=None)
        predicted = extract(extractor, images).probs.argmax(1)
        shares.append((predicted == k).float().mean().item())
    return sum(shares) / len(shares)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--finetune-epochs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("runs/gm-bench"))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if "GAN_DATA_DIR" not in os.environ and (REPO.parent / "shared" / "data").is_dir():
        os.environ["GAN_DATA_DIR"] = str(REPO.parent / "shared" / "data")
    common = ["--arch", "mlp", "--batch-size", "64", "--seed", "0", "--device", args.device, "--log-every", "200"]
    runs = {
        "vanilla": ["--prior", "normal", "--loss", "vanilla", "--epochs", str(args.epochs)],
        "gm-static": ["--prior", "gm-static", "--loss", "vanilla", "--epochs", str(args.epochs)],
        "gm-dynamic": ["--prior", "gm-dynamic", "--loss", "vanilla", "--epochs", str(args.epochs)],
        "gm-static (fine-tuned)": ["--prior", "gm-static", "--loss", "vanilla", "--epochs", str(args.finetune_epochs),
                                   "--init-from", "{vanilla}"],
        "gm-dynamic (fine-tuned)": ["--prior", "gm-dynamic", "--loss", "vanilla", "--epochs", str(args.finetune_epochs),
                                    "--init-from", "{vanilla}"],
        "gm-supervised + gm-supervised loss": ["--prior", "gm-supervised", "--loss", "gm-supervised", "--epochs", str(args.epochs)],
        "gm-supervised + gm-aux loss": ["--prior", "gm-supervised", "--loss", "gm-aux", "--epochs", str(args.epochs)],
    }
    rows = []
    for label, flags in runs.items():
        path = args.out / label.replace(" ", "_").replace("(", "").replace(")", "").replace("+", "with")
        flags = [f.replace("{vanilla}", str(args.out / "vanilla")) for f in flags]
        if not (path / "run.json").exists():
            started = time.perf_counter()
            gan("train", *common, *flags, "--out", str(path))
            print(f"trained {label} in {time.perf_counter() - started:.0f}s", flush=True)
        metrics = json.loads(gan("eval", str(path), "--json"))["metrics"]
        row = {"run": label, **{k: metrics[k] for k in ("fid", "precision", "recall", "classes", "classes_kl")}}
        if "supervised" in label:
            row["class_accuracy"] = class_accuracy(path)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{args.epochs} epochs from scratch (fine-tuned: vanilla's {args.epochs} + {args.finetune_epochs}), mlp, batch 64, seed 0")
    print(f"{'run':38s} {'FID':>7s} {'prec':>6s} {'recall':>6s} {'classes':>7s} {'KL':>6s} {'class acc':>9s}")
    for r in rows:
        acc = f"{r['class_accuracy']:.3f}" if "class_accuracy" in r else "-"
        print(f"{r['run']:38s} {r['fid']:7.2f} {r['precision']:6.3f} {r['recall']:6.3f} {r['classes']:7.0f} "
              f"{r['classes_kl']:6.3f} {acc:>9s}")


if __name__ == "__main__":
    main()
