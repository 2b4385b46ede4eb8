"""``gan cluster RUN`` and ``gan explore RUN --target K``: what a trained ClusterGAN knows about real digits."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from gan_core import GanError

stdout = Console()


def _real_split(loaded, split: str, data_dir: Optional[Path]):
    """The run's dataset, ``split`` split."""
    data = loaded.load_data(split, str(data_dir) if data_dir else None)
    if data.labels is None:
        name = loaded.info["components"]["dataset"]["name"]
        raise GanError(f"dataset '{name}' has no labels, so its clusters cannot be scored")
    return data


def cluster(
    run: Annotated[Path, typer.Argument(help="Run trained with --loss clustergan.")],
    kmeans: Annotated[bool, typer.Option("--kmeans", help="k-means on E's whole output instead of the argmax of its cluster logits.")] = False,
    split: Annotated[str, typer.Option(help="Real images to cluster: test or train.")] = "test",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder holding the dataset's files.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed of k-means and of the generated images E is checked on.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Cluster real images with a ClusterGAN's encoder: accuracy (Hungarian), NMI and ARI."""
    import torch

    from gan_core import atomic_write_json, load_run

    from .clustering import assign, encode_all, generated_recovery, score_clusters
    from .loss import ClusterGANLoss

    if split not in ("test", "train"):
        raise GanError(f"--split must be test or train, not {split!r}")
    started = time.perf_counter()
    loaded = load_run(run, device)
    loss = loaded.parts.loss
    if not isinstance(loss, ClusterGANLoss):
        raise GanError(f"{run} was trained with loss '{loss.name}', which has no encoder; train with --loss clustergan")
    data = _real_split(loaded, split, data_dir)
    z_n, logits = encode_all(loss.encode, data.images, loaded.model.device)
    clusters = assign(z_n, logits, kmeans, loaded.model.prior.num_components, seed)
    scores = score_clusters(clusters, data.labels.cpu().numpy())
    torch.manual_seed(seed)
    recovered = generated_recovery(loss.encode, loaded.model.generate, len(data))
    report: dict[str, Any] = {
        "run": str(run), "step": loaded.info["checkpoint"]["step"], "split": split, "n": len(data),
        "method": "kmeans" if kmeans else "argmax", **scores.as_dict(), "generated_accuracy": recovered,
        "seconds": round(time.perf_counter() - started, 2),
    }
    atomic_write_json(run / "cluster.json", report)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    table = Table(title=f"{run}: {len(data)} {split} images clustered by E ({report['method']})")
    table.add_column("metric")
    table.add_column("value")
    for key in ("accuracy", "nmi", "ari"):
        table.add_row(key, f"{report[key]:.4f}")
    table.add_row("E recovers G's cluster", f"{recovered:.4f}")
    stdout.print(table)
    stdout.print(f"written to {run / 'cluster.json'}")


def explore(
    run: Annotated[Path, typer.Argument(help="Run directory written by gan train.")],
    target: Annotated[int, typer.Option(help="Class of the evaluation classifier to climb towards.")],
    out: Annotated[Path, typer.Option(help="PNG to write: one row per starting code, frames left to right.")] = Path("explore.png"),
    start_class: Annotated[Optional[int], typer.Option("--class", help="Start from this prior component / cluster.")] = None,
    rows: Annotated[int, typer.Option(min=1, max=64, help="Starting codes (rows of the strip).")] = 4,
    steps: Annotated[int, typer.Option(min=1, max=10_000, help="Gradient steps on z.")] = 100,
    frames: Annotated[int, typer.Option(min=2, max=64, help="Frames kept along the path.")] = 10,
    lr: Annotated[float, typer.Option(min=0.0, help="Adam step size on z.")] = 0.05,
    seed: Annotated[int, typer.Option(help="Random seed of the starting codes.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
) -> None:
    """Gradient ascent on z towards a class of the evaluation classifier, saved as an image strip."""
    import torch

    from gan_core import check_class_index, load_run, save_grid, shipped_classifier

    from .explore import ascend_to_class

    loaded = load_run(run, device)
    dataset = loaded.info["components"]["dataset"]["name"]
    classifier = shipped_classifier(dataset, loaded.model.device)  # refuses a dataset without a shipped classifier
    classes = classifier.classifier.out_features
    if not 0 <= target < classes:
        raise GanError(f"--target must be a class between 0 and {classes - 1} of the {dataset} classifier, not {target}")
    check_class_index(loaded, start_class)
    if out.suffix.lower() != ".png":
        raise GanError(f"--out must name a .png file, not {out}")
    torch.manual_seed(seed)
    z0 = loaded.model.prior.sample(rows, component=start_class).z
    path = ascend_to_class(loaded.model.generator, classifier, z0, target, steps, lr, frames)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_grid(path.frames.flatten(0, 1), out, columns=path.frames.shape[1])
    for row in range(rows):
        stdout.print(f"row {row}: p({target}) {path.start_prob[row]:.3f} -> {path.end_prob[row]:.3f}, "
                     f"ends as class {int(path.end_class[row])}")
    stdout.print(f"{rows} paths of {path.frames.shape[1]} frames -> {out}")
