"""Train the perceptual regulariser's network and write it into gan-core's package data.

    python scripts/train_perceptual_net.py --epochs 3

One 20-way classifier over MNIST (classes 0-9) and Fashion-MNIST (10-19)
together, so one network serves both datasets; it is a different network
from the evaluation classifier on purpose (see gan_core.perceptual). Writes
packages/gan-core/src/gan_core/weights/perceptual.safetensors and
perceptual.json (sha256, test accuracy on each dataset, settings).
"""

from __future__ import annotations

import argparse
import hashlib
import json

import torch
from safetensors.torch import save_file
from train_feature_net import OUT, accuracy, load, train_classifier

from gan_core.perceptual import META, WEIGHTS, PerceptualNet


def both(split: str) -> tuple[torch.Tensor, torch.Tensor, int]:
    """MNIST then Fashion-MNIST, labels of the second shifted by 10; also the number of MNIST images."""
    x_m, y_m = load("mnist", split)
    x_f, y_f = load("fashion-mnist", split)
    return torch.cat([x_m, x_f]), torch.cat([y_m, y_f + 10]), len(x_m)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    x, y, _ = both("train")
    x_test, y_test, n_mnist = both("test")
    net = PerceptualNet()
    train_classifier(net, (x, y), (x_test, y_test), args.epochs, args.batch_size, args.lr)
    OUT.mkdir(parents=True, exist_ok=True)
    weights = OUT / WEIGHTS
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(weights))
    meta = {
        "file": weights.name,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "test_accuracy_mnist": round(accuracy(net, x_test[:n_mnist], y_test[:n_mnist]), 5),
        "test_accuracy_fashion_mnist": round(accuracy(net, x_test[n_mnist:], y_test[n_mnist:]), 5),
        "datasets": ["mnist (classes 0-9)", "fashion-mnist (classes 10-19)"],
        "architecture": "PerceptualNet: conv16(5)-pool-conv32(5)-pool-conv64(3)-fc20 (gan_core.perceptual)",
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "torch": torch.__version__,
        "command": f"python scripts/train_perceptual_net.py --epochs {args.epochs}",
    }
    (OUT / META).write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
