"""Training throughput: the reference course's loop against `gan train`.

In one run, on the same machine and MNIST files:

1. the reference loop: torchvision's MNIST dataset behind a DataLoader
   (ToTensor + Normalize per sample), the course's MLP with a sigmoid D and
   BCELoss, the fake batch *not* detached in the D step, `.item()` every step;
2. `gan train --prior normal --loss vanilla --arch mlp` for the same number of
   generator steps, as a subprocess, timed end to end and by its own
   metrics.jsonl (steady state, first log window dropped);
3. the machine's float32 matmul peak, and the FLOPs of one `gan` training step
   (counted by torch.utils.flop_counter), to give the fraction of peak reached.

    python benchmarks/train_throughput.py --steps 600 --batch-size 64 [--device cuda]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = REPO.parent / "shared" / "data" / "mnist"


def reference_models(device: torch.device) -> tuple[nn.Module, nn.Module]:
    g = nn.Sequential(
        nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
        nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 784), nn.Tanh(),
    )
    d = nn.Sequential(
        nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 512), nn.LeakyReLU(0.2),
        nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid(),
    )
    return g.to(device), d.to(device)


def torchvision_root(mnist_dir: Path) -> Path:
    """torchvision's MNIST reads uncompressed files from ROOT/MNIST/raw."""
    root = Path(tempfile.mkdtemp(prefix="gan-bench-"))
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(mnist_dir / f"{name}.gz") as src, open(raw / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return root


def run_reference(mnist_dir: Path, steps: int, batch_size: int, device: torch.device, warmup: int) -> dict:
    from torchvision import datasets, transforms

    root = torchvision_root(mnist_dir)
    try:
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean=(0.5,), std=(0.5,))])
        dataset = datasets.MNIST(root=str(root), train=True, transform=transform, download=False)
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
        torch.manual_seed(0)
        G, D = reference_models(device)
        criterion = nn.BCELoss()
        G_opt = torch.optim.Adam(G.parameters(), lr=2e-4)
        D_opt = torch.optim.Adam(D.parameters(), lr=2e-4)
        done, started, timed_from = 0, time.perf_counter(), None
        while done < steps:
            for x, _ in loader:
                if done == warmup:
                    timed_from = time.perf_counter()
                x = x.view(-1, 784).to(device)
                # D step, as in the course: the fake batch is not detached.
                D.zero_grad()
                y_real = torch.ones(x.shape[0], 1, device=device)
                D_real_loss = criterion(D(x), y_real)
                z = torch.randn(x.shape[0], 100, device=device)
                x_fake, y_fake = G(z), torch.zeros(x.shape[0], 1, device=device)
                D_fake_loss = criterion(D(x_fake), y_fake)
                D_loss = D_real_loss + D_fake_loss
                D_loss.backward()
                D_opt.step()
                d_value = D_loss.data.item()
                # G step
                G.zero_grad()
                z = torch.randn(x.shape[0], 100, device=device)
                G_loss = criterion(D(G(z)), torch.ones(x.shape[0], 1, device=device))
                G_loss.backward()
                G_opt.step()
                g_value = G_loss.data.item()
                done += 1
                if done >= steps:
                    break
        end = time.perf_counter()
        del d_value, g_value
        return {
            "wall_s": end - started,
            "steady_images_per_s": (steps - warmup) * batch_size / (end - timed_from),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_gan(mnist_dir: Path, steps: int, batch_size: int, device: str, log_every: int, extra: list[str]) -> dict:
    out = Path(tempfile.mkdtemp(prefix="gan-bench-run-")) / "run"
    cmd = [
        sys.executable, "-m", "gan_core", "train", "--prior", "normal", "--loss", "vanilla", "--arch", "mlp",
        "--dataset", "mnist", "--steps", str(steps), "--batch-size", str(batch_size), "--device", device,
        "--log-every", str(log_every), "--data-dir", str(mnist_dir), "--out", str(out), *extra,
    ]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "GAN_NO_DOWNLOAD": "1"})
    wall = time.perf_counter() - started
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steady = records[1:] or records
    rate = sum(r["images_per_s"] for r in steady) / len(steady)
    shutil.rmtree(out.parent, ignore_errors=True)
    return {"wall_s": wall, "steady_images_per_s": rate}


def matmul_peak_flops(device: torch.device, size: int = 2048, repeats: int = 10) -> float:
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(2):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best


def gan_step_flops(batch_size: int, device: torch.device) -> int:
    """FLOPs of one `gan` vanilla/mlp training step, counted op by op."""
    from torch.utils.flop_counter import FlopCounterMode

    from gan_core.build import RunSpec, build_run
    from gan_core.components import ImageData
    from gan_core.config import TrainConfig
    from gan_core.engine import Schedule, Trainer, TrainState

    # the run `gan train --prior normal --loss vanilla --arch mlp` builds, built the same way
    parts = RunSpec.from_config(TrainConfig(), kinds=("prior", "architecture", "loss")).instantiate()
    built = build_run(parts, (1, 28, 28), device)
    data = ImageData(torch.zeros(batch_size, 1, 28, 28, dtype=torch.uint8, device=device), None, None, "zeros")
    trainer = Trainer(
        built.generator, built.discriminator, built.prior, parts.loss, data,
        torch.optim.Adam(built.generator_parameters()), torch.optim.Adam(built.discriminator.parameters()),
        Schedule(batch_size, 1, 1, 1, 1, 0), TrainState(order=torch.arange(batch_size, device=device)),
    )
    with FlopCounterMode(display=False) as counter:
        trainer.train_step(0)
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("GAN_DATA_DIR", DEFAULT_MNIST)))
    parser.add_argument("--skip-reference", action="store_true", help="time only gan train")
    parser.add_argument("gan_args", nargs="*", help="extra flags for gan train, after --")
    args = parser.parse_args()
    device = torch.device(args.device)
    warmup = min(20, args.steps // 5)
    log_every = max(args.steps // 10, 1)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.steps} steps at batch {args.batch_size}")
    gan = run_gan(args.data_dir, args.steps, args.batch_size, args.device, log_every, args.gan_args)
    print(f"gan train   : {gan['steady_images_per_s']:9.0f} images/s steady, {gan['wall_s']:.1f}s wall (incl. start-up)")
    if not args.skip_reference:
        ref = run_reference(args.data_dir, args.steps, args.batch_size, device, warmup)
        print(f"reference   : {ref['steady_images_per_s']:9.0f} images/s steady, {ref['wall_s']:.1f}s wall")
        print(f"speed-up    : {gan['steady_images_per_s'] / ref['steady_images_per_s']:.2f}x steady, "
              f"{ref['wall_s'] / gan['wall_s']:.2f}x wall")
    peak = matmul_peak_flops(device)
    flops = gan_step_flops(args.batch_size, device)
    achieved = flops * gan["steady_images_per_s"] / args.batch_size
    print(f"matmul peak : {peak / 1e9:9.1f} GFLOP/s float32 (2048x2048)")
    print(f"gan step    : {flops / 1e9:9.3f} GFLOP per step -> {achieved / 1e9:.1f} GFLOP/s = "
          f"{100 * achieved / peak:.0f}% of peak")


if __name__ == "__main__":
    main()
