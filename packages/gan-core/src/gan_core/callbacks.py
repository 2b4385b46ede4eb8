"""Callbacks: how a script, a Ray Tune trial, a logger, and the core's own features follow a training run.

``gan_core.train(settings, callbacks=[...])`` calls each callback's methods
at fixed points of the run, through one dispatch in the loop. The core eats
its own API: metrics.jsonl, the sample grids, the progress display,
evaluation during training and ``--keep-best`` are callbacks too
(:mod:`gan_core.features`); ``train(..., features=[...])`` replaces or drops
them. A callback may keep state; it must not raise for ordinary events (an
exception stops training like any error and the last checkpoint stays).
The order of calls for one run:

    bind(run)                  # the live run: run.generator, run.prior, run.path, run.info, run.step...
    on_start(path, info)
    (on_log(record) every --log-every steps,
     on_epoch_end(epoch) at each epoch's end,
     on_eval(epoch, values) after it when --eval-every is due,
     on_checkpoint(step, path) after each checkpoint is on disk)...
    on_end(path, status[, error])  # always: finished, interrupted, diverged or failed (error: the exception)
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .errors import GanError


class Callback:
    """Base class: override what you need; every method does nothing by default.

    ``self.run`` is the live training (:class:`gan_core.training.TrainingSession`)
    once :meth:`bind` has been called, before ``on_start``: a callback that
    needs the networks (a grid, an evaluation) reads them there.
    """

    run: Any = None
    #: called after the callbacks without it, whatever the list's order (as pytest's trylast): the evaluation
    #: that follows an epoch's end runs once every callback has seen that end
    trylast: bool = False

    def bind(self, run: Any) -> None:
        """Called once, before ``on_start``, with the training this callback follows."""
        self.run = run

    def on_start(self, path: Path, info: dict[str, Any]) -> None:
        """Training is about to start (or resume) into ``path``; ``info`` is what run.json will hold."""

    def on_log(self, record: dict[str, Any]) -> None:
        """A log record: step, epoch, d_loss, g_loss, images_per_s (the means since the last one)."""

    def on_epoch_end(self, epoch: int) -> None:
        """Epoch ``epoch`` (counted from 1) has ended; its sample grid is written."""

    def on_eval(self, epoch: int, values: dict[str, float]) -> None:
        """The metrics of the ``--eval-every`` evaluation after epoch ``epoch``."""

    def on_checkpoint(self, step: int, path: Path) -> None:
        """A complete checkpoint at ``step`` is on disk in ``path`` (a run you may sample and evaluate)."""

    def on_end(self, path: Path, status: str, error: BaseException | None = None) -> None:
        """Training stopped: ``finished``, ``interrupted`` (Ctrl-C), ``diverged`` or ``failed``.

        Always called, whatever stopped it; ``error`` is the exception that
        did (None when it finished). Callbacks written for gan-core 0.2
        declare ``on_end(self, path, status)`` and are called that way.
        """


def _takes_error(method: Any) -> bool:
    """Whether an ``on_end`` accepts the ``error`` argument (those written before it existed do not)."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return True
    return "error" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


class Callbacks(Callback):
    """Several callbacks called in order, as one: the one dispatch the training loop calls."""

    def __init__(self, callbacks: list[Callback]) -> None:
        self.callbacks = sorted(callbacks, key=lambda c: bool(getattr(c, "trylast", False)))

    def bind(self, run: Any) -> None:
        super().bind(run)
        for c in self.callbacks:
            bind = getattr(c, "bind", None)  # an object with on_* methods alone, not a Callback subclass, still works
            if bind is not None:
                bind(run)

    def on_start(self, path: Path, info: dict[str, Any]) -> None:
        for c in self.callbacks:
            c.on_start(path, info)

    def on_log(self, record: dict[str, Any]) -> None:
        for c in self.callbacks:
            c.on_log(record)

    def on_epoch_end(self, epoch: int) -> None:
        for c in self.callbacks:
            c.on_epoch_end(epoch)

    def on_eval(self, epoch: int, values: dict[str, float]) -> None:
        for c in self.callbacks:
            c.on_eval(epoch, values)

    def on_checkpoint(self, step: int, path: Path) -> None:
        for c in self.callbacks:
            c.on_checkpoint(step, path)

    def on_end(self, path: Path, status: str, error: BaseException | None = None) -> None:
        """Every callback's ``on_end``, even when one of them raises (the first such error is raised after)."""
        first: BaseException | None = None
        for c in self.callbacks:
            try:
                if _takes_error(c.on_end):
                    c.on_end(path, status, error=error)
                else:
                    c.on_end(path, status)
            except Exception as exc:  # noqa: BLE001 - the others still close what they opened
                first = first or exc
        if first is not None:
            raise first


class TensorBoardLogger(Callback):
    """Writes the losses, throughput and evaluation metrics for TensorBoard (``gan train --tensorboard DIR``).

    Scalars are keyed by global step (generator steps), so curves of runs
    with different batch sizes line up by updates, as TensorBoard users expect.
    """

    def __init__(self, log_dir: str | Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise GanError("--tensorboard needs the tensorboard package: pip install tensorboard") from exc
        self.log_dir = Path(log_dir)
        self._writer_class = SummaryWriter
        self.writer: Any = None
        self.step = 0

    def on_start(self, path: Path, info: dict[str, Any]) -> None:
        self.writer = self._writer_class(log_dir=str(self.log_dir))
        self.writer.add_text("run", f"{path}: " + ", ".join(f"{k} {v['name']}" for k, v in info["components"].items()))

    def on_log(self, record: dict[str, Any]) -> None:
        self.step = int(record["step"])
        for key in ("d_loss", "g_loss", "images_per_s"):
            self.writer.add_scalar(f"train/{key}", record[key], self.step)

    def on_eval(self, epoch: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.writer.add_scalar(f"eval/{key}", value, self.step)

    def on_end(self, path: Path, status: str, error: BaseException | None = None) -> None:
        if self.writer is not None:
            self.writer.close()
