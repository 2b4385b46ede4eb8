"""Callbacks: how a script, a Ray Tune trial or a logger follows a training run.

``gan_core.train(settings, callbacks=[...])`` calls each callback's methods
at fixed points of the run; the CLI, ``gan sweep``'s trials and a user's own
script all drive training this way. A callback may keep state; it must not
raise for ordinary events (an exception stops training like any error and
the last checkpoint stays). The order of calls for one run:

    on_start(path, info)
    (on_log(record) every --log-every steps,
     on_epoch_end(epoch) at each epoch's end,
     on_eval(epoch, values) after it when --eval-every is due,
     on_checkpoint(step, path) after each checkpoint is on disk)...
    on_end(path, status)      # status: finished, interrupted or diverged
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import GanError


class Callback:
    """Base class: override what you need; every method does nothing by default."""

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

    def on_end(self, path: Path, status: str) -> None:
        """Training stopped: ``finished``, ``interrupted`` (Ctrl-C) or ``diverged``."""


class Callbacks(Callback):
    """Several callbacks called in order, as one."""

    def __init__(self, callbacks: list[Callback]) -> None:
        self.callbacks = list(callbacks)

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

    def on_end(self, path: Path, status: str) -> None:
        for c in self.callbacks:
            c.on_end(path, status)


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

    def on_end(self, path: Path, status: str) -> None:
        if self.writer is not None:
            self.writer.close()
