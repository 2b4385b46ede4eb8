"""Train an evaluation feature network and write it into gan-core's package data.

    python scripts/train_feature_net.py --dataset mnist --epochs 12
    python scripts/train_feature_net.py --dataset fashion-mnist --epochs 12
    python scripts/train_feature_net.py --dataset mnist --arch resnet --seed 1 --epochs 10 --threads 1

The first two train FeatureNet (conv-BN-ReLU, 128 features); the third trains
the second, independent MNIST feature space, mnist-resnet (a residual
network with GroupNorm and SiLU, 256 features). Each architecture has its
own recipe (batch size, learning rate, label smoothing, shift): the flags
override it.

Writes packages/gan-core/src/gan_core/weights/NAME-features.safetensors and
NAME-features.json (sha256, test accuracy, dataset, architecture, settings,
the command), where NAME is the dataset for FeatureNet and DATASET-ARCH for
the others. The whole dataset lives in one tensor; augmentation is a random
shift of the batch tensor, so the loop has no per-sample Python.
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
from gan_core.evaluation.featurenet import ARCHITECTURES, DEFAULT_ARCH
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


#: each architecture's recipe; FeatureNet's is the one its shipped networks were trained with
RECIPES = {
    "featurenet": {"batch_size": 128, "lr": 2e-3, "label_smoothing": 0.05, "max_shift": 2},
    "resnet": {"batch_size": 256, "lr": 3e-3, "label_smoothing": 0.1, "max_shift": 1},
}


def train_classifier(net: torch.nn.Module, train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
                     epochs: int, batch_size: int, lr: float, label_smoothing: float = 0.0, max_shift: int = 2) -> None:
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
            loss = F.cross_entropy(net(shift(x[idx], max_shift)), y[idx], label_smoothing=label_smoothing)
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
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default=DEFAULT_ARCH)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, help="[default: the architecture's recipe]")
    parser.add_argument("--lr", type=float, help="[default: the architecture's recipe]")
    parser.add_argument("--label-smoothing", type=float, help="[default: the architecture's recipe]")
    parser.add_argument("--max-shift", type=int, help="[default: the architecture's recipe]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="CPU threads (a seed reproduces a CPU run only with the same count)")
    args = parser.parse_args()
    recipe = {k: v if getattr(args, k) is None else getattr(args, k) for k, v in RECIPES[args.arch].items()}
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = load(args.dataset, "train")
    x_test, y_test = load(args.dataset, "test")
    net = ARCHITECTURES[args.arch]()
    train_classifier(net, (x, y), (x_test, y_test), args.epochs, recipe["batch_size"], recipe["lr"],
                     label_smoothing=recipe["label_smoothing"], max_shift=recipe["max_shift"])
    test_accuracy = accuracy(net, x_test, y_test)
    name = args.dataset if args.arch == DEFAULT_ARCH else f"{args.dataset}-{args.arch}"
    OUT.mkdir(parents=True, exist_ok=True)
    weights = OUT / f"{name}-features.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(weights))
    cls = type(net)
    flags = {"arch": None if args.arch == DEFAULT_ARCH else args.arch, "seed": args.seed or None, "epochs": args.epochs,
             **{k: v for k, v in recipe.items() if v != RECIPES[args.arch][k]}, "threads": args.threads}
    command = f"python scripts/train_feature_net.py --dataset {args.dataset}" + "".join(
        f" --{k.replace('_', '-')} {v}" for k, v in flags.items() if v is not None)
    meta = {
        "file": weights.name,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "test_accuracy": round(test_accuracy, 5),
        "dataset": args.dataset,
        "arch": args.arch,
        "architecture": f"{cls.__name__}: {cls.about} ({cls.__module__})",
        "feature_dim": cls.feature_dim,
        "epochs": args.epochs,
        **recipe,
        "optimiser": "AdamW (weight decay 5e-4), one-cycle schedule",
        "seed": args.seed,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "command": command,
    }
    (OUT / f"{name}-features.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
