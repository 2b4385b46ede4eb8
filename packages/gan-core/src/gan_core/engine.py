"""The training loop.

The dataset is one uint8 tensor on the training device; a batch is an index
lookup into it, so the loop runs no per-sample Python. Losses accumulate as
device tensors and are read back (a host sync) only every ``log_every``
steps. Ctrl-C sets a flag that the loop reads between steps, so the
checkpoint it then writes is always at a step boundary.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .callbacks import Callback
from .components import Batch, Discriminator, ImageData, Latent, Loss, Prior
from .checks import checked_images, checked_latent, checked_loss
from .errors import TrainingDiverged


@dataclass(frozen=True)
class Schedule:
    batch_size: int
    d_steps: int
    total_steps: int  # generator steps
    steps_per_epoch: int
    log_every: int
    checkpoint_every: int  # 0: at the end of each epoch


@dataclass
class TrainState:
    """Everything besides weights and optimisers that exact resumption needs."""

    step: int = 0
    order: torch.Tensor | None = None  # the current epoch's permutation of the data


class StopRequested(Exception):
    """Raised by the loop after Ctrl-C, once a checkpoint is safely written."""


@dataclass
class Trainer:
    generator: nn.Module
    discriminator: Discriminator
    prior: Prior
    loss: Loss
    data: ImageData  # on the training device
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    schedule: Schedule
    state: TrainState
    #: the one dispatch of the loop's events (on_log, on_epoch_end); features and users' callbacks alike
    callbacks: Callback = field(default_factory=Callback)
    #: writes a checkpoint at the step it is given (and announces it with on_checkpoint); None: no checkpoints
    checkpoint: Callable[[int], None] | None = None
    #: an extra term of G's loss from the real and generated batch (the perceptual loss), or None
    regulariser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    stop_requested: bool = False
    #: whether the components' outputs passed the full boundary checks (done once, on the first step)
    checked: bool = False

    def batch_at(self, idx: torch.Tensor) -> Batch:
        """The real images at ``idx``, scaled to [-1, 1], with their labels."""
        images = self.data.images[idx].float().div_(127.5).sub_(1.0)
        return Batch(images, None if self.data.labels is None else self.data.labels[idx])

    def real_batch(self, index: int) -> Batch:
        """Batch ``index`` of the current epoch."""
        b = self.schedule.batch_size
        return self.batch_at(self.state.order[index * b : (index + 1) * b])  # type: ignore[index]

    def random_batch(self) -> Batch:
        """A batch drawn at random (with replacement across calls), outside the epoch's order."""
        return self.batch_at(torch.randint(0, len(self.data), (self.schedule.batch_size,), device=self.data.images.device))

    def d_step(self, real: Batch, with_graph: bool) -> tuple[torch.Tensor, Latent, torch.Tensor]:
        """One D update on ``real`` and fresh fakes; the loss, the codes and the fakes (with G's graph if asked)."""
        n = self.schedule.batch_size
        with torch.set_grad_enabled(with_graph):
            latent: Latent = self.prior.sample(n)
            if not self.checked:
                checked_latent(self.prior, latent, n, self.prior.code_dim)
            fake = self.generator(latent.z)
            if not self.checked:
                checked_images(f"the generator of the run (prior '{self.prior.name}')", fake, n, real.images.shape[1:])
        fakes = Batch(fake.detach(), latent.labels, latent.z)
        d_loss = checked_loss(self.loss, self.loss.d_loss(self.discriminator, real, fakes), "d_loss")
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        self.loss.after_d_step(self.discriminator)
        return d_loss, latent, fake

    def train_step(self, step_in_epoch: int) -> torch.Tensor:
        """d_steps discriminator updates, then one generator update; returns both losses.

        The call order every loss may rely on: per D step ``prior.sample``,
        ``G``, ``loss.d_loss(D, real, fake)``, D's optimiser step,
        ``loss.after_d_step(D)``; then ``loss.g_loss(D, fake, real)`` with the
        last D step's fakes (now with gradients) and real batch. A loss whose
        ``critic_steps(step)`` asks for more D steps gets them first, on
        random real batches.
        """
        D, loss, s = self.discriminator, self.loss, self.schedule
        wanted = loss.critic_steps(self.state.step) or s.d_steps
        for _ in range(max(wanted - s.d_steps, 0)):
            self.d_step(self.random_batch(), with_graph=False)
        for i in range(s.d_steps):
            real = self.real_batch(step_in_epoch * s.d_steps + i)
            d_loss, latent, fake = self.d_step(real, with_graph=i == s.d_steps - 1)  # the last fakes serve the G step
        D.requires_grad_(False)  # G's step needs gradients through D, not for D's weights
        g_loss = checked_loss(loss, loss.generator_loss(D, Batch(fake, latent.labels, latent.z), real), "g_loss")
        self.checked = True
        if self.regulariser is not None:
            g_loss = g_loss + self.regulariser(real.images, fake)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        D.requires_grad_(True)
        return torch.stack([d_loss.detach(), g_loss.detach()])

    def run(self) -> None:
        s, st = self.schedule, self.state
        device = self.data.images.device
        sums = torch.zeros(2, device=device)
        window_start, window_steps = time.perf_counter(), 0
        with _sigint_sets_flag(self):
            while st.step < s.total_steps:
                step_in_epoch = st.step % s.steps_per_epoch
                if step_in_epoch == 0:
                    st.order = torch.randperm(len(self.data), device=device)
                sums += self.train_step(step_in_epoch)
                st.step += 1
                window_steps += 1
                epoch_done = st.step % s.steps_per_epoch == 0
                if st.step % s.log_every == 0 or st.step == s.total_steps or epoch_done:
                    d_loss, g_loss = (sums / window_steps).tolist()  # host sync, once per log interval
                    elapsed = time.perf_counter() - window_start
                    record = self._record(d_loss, g_loss, window_steps, elapsed)
                    self.callbacks.on_log(record)
                    sums.zero_()
                    window_start, window_steps = time.perf_counter(), 0
                if epoch_done:
                    self.callbacks.on_epoch_end(st.step // s.steps_per_epoch)
                every = s.checkpoint_every
                due = (st.step % every == 0) if every else epoch_done
                stopping = self.stop_requested  # read once: Ctrl-C may arrive while the checkpoint is written
                if due or st.step == s.total_steps or stopping:
                    self._checkpoint()
                if self.stop_requested:
                    if not stopping:  # it came during that checkpoint, which says "running": record the stop
                        self._checkpoint()
                    raise StopRequested

    def _record(self, d_loss: float, g_loss: float, steps: int, elapsed: float) -> dict[str, Any]:
        s, step = self.schedule, self.state.step
        for name, value in (("D", d_loss), ("G", g_loss)):
            if value != value or value in (float("inf"), float("-inf")):
                raise TrainingDiverged(
                    f"the {name} loss of '{self.loss.name}' became {value} between steps "
                    f"{step - steps + 1} and {step}; training stopped"
                )
        return {
            "step": step,
            "epoch": round(step / s.steps_per_epoch, 4),
            "d_loss": d_loss,
            "g_loss": g_loss,
            "images_per_s": steps * s.batch_size * s.d_steps / max(elapsed, 1e-9),
        }

    def _checkpoint(self) -> None:
        if self.checkpoint is None:
            return
        # Never overwrite the last good checkpoint with weights that diverged since the last log.
        for p in (*self.generator.parameters(), *self.discriminator.parameters()):
            if not torch.isfinite(p).all():
                raise TrainingDiverged(
                    f"the weights became non-finite before step {self.state.step} with loss '{self.loss.name}'; "
                    "training stopped"
                )
        self.checkpoint(self.state.step)


class _sigint_sets_flag:
    """First Ctrl-C: finish the step, checkpoint, stop. Second Ctrl-C: stop at once."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.trainer.stop_requested:
            raise KeyboardInterrupt
        self.trainer.stop_requested = True

    def __enter__(self) -> None:
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            self.previous = None

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
