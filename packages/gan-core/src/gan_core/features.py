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
    """What a person watching sees: a first line, then a live bar in a terminal or one plain line per log elsewhere.

    The first line names the run's folder, its components (and the options
    given for them), its budget, seed and device. In a terminal (or a
    notebook) a rich bar follows: rich redraws it on a thread of its own
    about ten times a second, and each redraw reads the step from the run's
    host-side counter (no device sync), so the bar moves whatever
    ``--log-every`` is; the losses beside it change at each log interval.
    Anywhere else (``gan train ... > log 2>&1``, nohup, a batch scheduler)
    each log interval prints one plain line, flushed at once, so a log file
    grows as the run goes. Evaluations are printed as lines in both cases.

    ``group`` is set when the display follows a stacked group through its
    first member: the first line then names the group, and each line's
    losses are marked as that member's.
    """

    #: how often the terminal's bar is redrawn (and reads the step), per second
    refresh_per_second = 10

    def __init__(self, console: Console, *, live: bool | None = None) -> None:
        self.console = console
        #: the live bar (True), plain lines (False), or as the console is (None: a terminal or a notebook gets the bar)
        self.live = live
        self.group: str | None = None
        self.path: Path | None = None  # the run's folder, as on_start names it
        self.progress: Any = None

    def on_start(self, path: Path, info: dict[str, Any]) -> None:
        self.path = path
        self._say(first_line(self.run, path, info, self.group))
        live = self.live
        if live is None:
            live = (self.console.is_terminal and not self.console.is_dumb_terminal) or self.console.is_jupyter
        if live:
            self.progress = _bar(self.console, self.run, self.refresh_per_second)
            self.progress.start()

    def on_log(self, record: dict[str, Any]) -> None:
        losses = f"d_loss {record['d_loss']:.3f}  g_loss {record['g_loss']:.3f}"
        if self.group is not None:
            losses = f"{self.path.name if self.path else 'first run'}: {losses}"
        if self.progress is not None:
            self.progress.update(self.progress.task_ids[0], completed=record["step"],
                                 losses=f"{losses}  {record['images_per_s']:,.0f} img/s")
        else:
            self._say(f"step {record['step']}/{self.run.total} (epoch {record['epoch']:.2f})  {losses}  "
                      f"{record['images_per_s']:,.0f} img/s")

    def on_eval(self, epoch: int, values: dict[str, float]) -> None:
        self._say(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in values.items()))

    def on_end(self, path: Path, status: str, error: BaseException | None = None) -> None:
        if self.progress is not None:
            self.progress.stop()

    def _say(self, text: str) -> None:
        """One line, never wrapped or coloured, written out at once (rich flushes after each print)."""
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)


def _bar(console: Console, run: Any, refresh_per_second: float) -> Any:
    """A rich Progress whose every redraw first sets its count and epoch from ``run.step`` (an int on the host)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    class StepProgress(Progress):
        def get_renderables(self) -> Any:
            step = run.step
            for task_id in self.task_ids:
                self.update(task_id, completed=step, description=f"epoch {step / run.steps_per_epoch:.2f}")
            return super().get_renderables()

    progress = StepProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[losses]}"), TimeRemainingColumn(), console=console,
                            refresh_per_second=refresh_per_second)
    progress.add_task(f"epoch {run.step / run.steps_per_epoch:.2f}", total=run.total, completed=run.step, losses="")
    return progress


def first_line(run: Any, path: Path, info: dict[str, Any], group: str | None = None) -> str:
    """The display's first line: what trains where, with which components and budget.

    ``Training runs/x: prior normal, loss vanilla, arch mlp, dataset mnist;
    2 epochs = 300 steps, batch 64, seed 0, cpu``: the components as resolved (with the options given for them), the
    budget in epochs and steps, and where it runs; a resumed run says the
    step it continues from, a group's display names the group.
    """
    from .kinds import run_kinds

    config = getattr(run, "config", None)
    given = getattr(config, "options", None) or {}
    parts = []
    for kind in run_kinds():
        record = info["components"].get(kind.name)
        if record is None or (kind.name == "sampler" and record["name"] == "none"):
            continue
        options = record.get("options", {})
        shown = ", ".join(f"{key}={options.get(key, value)}" for key, value in given.get(kind.name, {}).items())
        parts.append(f"{kind.setting or kind.name} {record['name']}" + (f" ({shown})" if shown else ""))
    train = info["train"]
    total, per_epoch = run.total, run.steps_per_epoch
    if total % per_epoch:
        epochs = f"{total / per_epoch:.4g} epochs"
    else:
        epochs = f"{total // per_epoch} epoch{'s' * (total != per_epoch)}"
    budget = f"{total} steps = {epochs}" if getattr(config, "steps", None) else f"{epochs} = {total} steps"
    settings = [budget, f"batch {train['batch_size']}"]
    if train.get("d_steps", 1) != 1:
        settings.append(f"{train['d_steps']} D steps per G step")
    if group is None:
        settings.append(f"seed {train['seed']}")
    device = train.get("device_used", "")
    if device.startswith("cuda") and train.get("device_name"):
        device = f"{device} ({train['device_name']})"
    settings.append(device)
    what = group if group is not None else str(path)
    verb = f"Resuming {what} at step {run.step}" if run.step else f"Training {what}"
    return f"{verb}: {', '.join(parts)}; {', '.join(settings)}"


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
