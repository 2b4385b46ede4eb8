"""The core's training features, each a plain :class:`~gan_core.callbacks.Callback`.

metrics.jsonl, the per-epoch sample grids, the progress display, evaluation
during training (``--eval-every``) and ``--keep-best`` use the same public
API as a user's callback or Ray Tune's reporter: nothing built in is
special. :func:`default_features` is the list ``gan train`` uses; a script
may filter it and pass the rest as ``train(..., features=...)``::

    from gan_core.features import ProgressDisplay, default_features
    quiet = [f for f in default_features(config) if not isinstance(f, ProgressDisplay)]
    gan_core.train(config, features=quiet)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .callbacks import Callback

if TYPE_CHECKING:
    from rich.console import Console

    from .config import TrainConfig


class MetricsLog(Callback):
    """Appends each log record and each evaluation to the run's metrics.jsonl (one JSON line each)."""

    def on_log(self, record: dict[str, Any]) -> None:
        self.run.writer.log(record)

    def on_eval(self, epoch: int, values: dict[str, float]) -> None:
        self.run.writer.log({"step": self.run.step, "epoch": epoch, "eval": values})


class SampleGrids(Callback):
    """A grid of G's images from the run's fixed codes at each epoch's end (and at a mid-epoch finish)."""

    def on_epoch_end(self, epoch: int) -> None:
        self.write(f"epoch-{epoch:04d}")

    def on_end(self, path: Path, status: str, error: BaseException | None = None) -> None:
        run = self.run
        if status == "finished" and run.step % run.steps_per_epoch:  # a run that ends mid-epoch shows its last samples
            self.write(f"step-{run.step:07d}")

    def write(self, name: str) -> None:
        import torch

        from .images import save_grid

        generator = self.run.generator
        generator.eval()
        with torch.no_grad():
            images = generator(self.run.fixed.z)
        generator.train()
        save_grid(images, self.run.path / "samples" / f"{name}.png")


class ProgressDisplay(Callback):
    """A rich progress bar with the epoch, both losses and images/s; evaluations printed above it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Any = None

    def on_start(self, path: Path, info: dict[str, Any]) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[losses]}"), TimeRemainingColumn(), console=self.console)
        self.task = self.progress.add_task("training", total=self.run.total, completed=self.run.step, losses="")
        self.progress.start()

    def on_log(self, record: dict[str, Any]) -> None:
        self.progress.update(
            self.task, completed=record["step"], description=f"epoch {record['epoch']:.2f}",
            losses=f"D {record['d_loss']:.3f}  G {record['g_loss']:.3f}  {record['images_per_s']:,.0f} img/s",
        )

    def on_eval(self, epoch: int, values: dict[str, float]) -> None:
        self.console.print(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in values.items()))

    def on_end(self, path: Path, status: str, error: BaseException | None = None) -> None:
        if self.progress is not None:
            self.progress.stop()


class Evaluation(Callback):
    """``--eval-every N``: the metrics of ``n`` fresh samples every N epochs, sent to every callback's ``on_eval``.

    Its evaluator is the run's (``run.evaluator``), built before training
    starts (a bad ``--keep-best`` or metric option is refused with nothing
    written) under a seed of its own, so the same seed trains the same model
    with and without it; each evaluation draws under ``seed + epoch`` and
    restores the training stream (resume stays exact).
    """

    trylast = True  # every callback sees the epoch's end before its evaluation

    def __init__(self, every: int, n: int, seed: int) -> None:
        self.every, self.n, self.seed = every, n, seed

    def on_epoch_end(self, epoch: int) -> None:
        if epoch % self.every or self.run.evaluator is None:
            return
        values = evaluate_generator(self.run.evaluator, self.run.generator, self.run.prior, self.n, self.seed + epoch)
        self.run.last_eval = {"epoch": epoch, "step": self.run.step, "values": values}
        self.run.callbacks.on_eval(epoch, values)


class KeepBest(Callback):
    """``--keep-best METRIC``: a sampling-ready copy of the best weights so far in ``best/``, and ``best`` in run.json.

    It hears each evaluation after the other callbacks (``trylast``), so they
    see ``run.info["best"]`` as it stood before that evaluation.
    """

    trylast = True

    def __init__(self, metric: str) -> None:
        self.metric = metric

    def on_eval(self, epoch: int, values: dict[str, float]) -> None:
        from .directions import better

        run, value = self.run, values[self.metric]
        best = run.best
        if best and not better(value, best["value"], run.evaluator.directions()[self.metric]):
            return
        best.update(metric=self.metric, value=value, step=run.step, epoch=epoch)
        run.info["best"] = dict(best)
        best_info = {**run.info, "status": "best", "checkpoint": {"step": run.step, "epoch": float(epoch)}}
        run.writer.save_best(run.step, run.built.weights(), best_info)


def default_features(config: TrainConfig, console: Console | None = None) -> list[Callback]:
    """What ``gan train`` does besides training, in the order it is called: log, grids, progress, evaluation.

    Evaluation and keep-best are in the list when ``config`` asks for them
    (``eval_every``, ``keep_best``); they use the evaluator the training
    builds and checks before its first step.
    """
    from rich.console import Console

    features: list[Callback] = [MetricsLog(), SampleGrids(), ProgressDisplay(console or Console(stderr=True))]
    if config.eval_every:
        if config.keep_best:
            features.append(KeepBest(config.keep_best))
        features.append(Evaluation(config.eval_every, config.eval_n, config.seed))
    return features


def evaluate_generator(evaluator: Any, generator: Any, prior: Any, n: int, seed: int) -> dict[str, float]:
    """Metrics of n fresh samples, without touching the training RNG stream."""
    import torch

    from .devices import seeded
    from .images import to_uint8

    with torch.no_grad(), seeded(seed, prior.device):  # metrics may draw too (KID's subsets)
        generator.eval()
        images = torch.cat([to_uint8(generator(prior.sample(min(1000, n - i)).z)) for i in range(0, n, 1000)])
        generator.train()
        return evaluator.evaluate(images)
