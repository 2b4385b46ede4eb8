"""Train the evaluation feature network and write it into gan-core's package data.

    python scripts/train_feature_net.py --dataset mnist --epochs 12
    python scripts/train_feature_net.py --dataset fashion-mnist --epochs 12

Writes packages/gan-core/src/gan_core/weights/<dataset>-features.safetensors
and <dataset>-features.json (sha256, test accuracy, settings). The whole
dataset lives in one tensor; augmentation is a random shift of up to 2 pixels
done on the batch tensor, so the loop has no per-sample Python.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from gan_core.components import DataRequest
from gan_core.evaluation.featurenet import FeatureNet
from gan_core.registry import get_registry

OUT = Path(__file__).resolve().parents[1] / "packages" / "gan-core" / "src" / "gan_core" / "weights"


def load(dataset: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    entry = get_registry().get("dataset", dataset)
    data = entry.cls(entry.cls.Options()).load(DataRequest(split=split))
    return data.images.float().div(127.5).sub(1), data.labels


def shift(batch: torch.Tensor, max_shift: int = 2) -> torch.Tensor:
    """Randomly translate the whole batch's images by up to max_shift pixels (one shift per batch row)."""
    padded = F.pad(batch, (max_shift,) * 4, value=-1.0)
    n, _, h, w = batch.shape
    dx, dy = torch.randint(0, 2 * max_shift + 1, (2, n))
    rows = (torch.arange(h)[None, :] + dy[:, None])[:, None, :, None].expand(n, 1, h, w + 2 * max_shift)
    out = padded.gather(2, rows)
    cols = (torch.arange(w)[None, :] + dx[:, None])[:, None, None, :].expand(n, 1, h, w)
    return out.gather(3, cols)


@torch.no_grad()
def accuracy(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    correct = sum((net(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum().item() for i in range(0, len(x), 1000))
    net.train()
    return correct / len(x)


def train_classifier(net: torch.nn.Module, train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
                     epochs: int, batch_size: int, lr: float, label_smoothing: float = 0.0) -> None:
    """AdamW with a one-cycle schedule on shifted batches, printing test accuracy per epoch; leaves net in eval mode."""
    x, y = train
    steps = epochs * (len(x) // batch_size)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    started = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(x))
        for i in range(len(x) // batch_size):
            idx = order[i * batch_size : (i + 1) * batch_size]
            loss = F.cross_entropy(net(shift(x[idx])), y[idx], label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
        print(f"epoch {epoch + 1}: test accuracy {accuracy(net, *test):.4f} ({time.perf_counter() - started:.0f}s)",
              flush=True)
    net.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    x, y = load(args.dataset, "train")
    x_test, y_test = load(args.dataset, "test")
    net = FeatureNet()
    train_classifier(net, (x, y), (x_test, y_test), args.epochs, args.batch_size, args.lr, label_smoothing=0.05)
    test_accuracy = accuracy(net, x_test, y_test)
    OUT.mkdir(parents=True, exist_ok=True)
    weights = OUT / f"{args.dataset}-features.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(weights))
    meta = {
        "file": weights.name,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "test_accuracy": round(test_accuracy, 5),
        "dataset": args.dataset,
        "architecture": "FeatureNet: conv32-conv32-pool-conv64-conv64-pool-fc128-fc10 (gan_core.evaluation.featurenet)",
        "feature_dim": 128,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "torch": torch.__version__,
        "command": f"python scripts/train_feature_net.py --dataset {args.dataset} --epochs {args.epochs}",
    }
    (OUT / f"{args.dataset}-features.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
