"""The stacked engine: N runs of one configuration trained as one model, each member exactly its own run.

Every tensor of a run (G, D, the prior's and the loss's parameters and
buffers, the optimiser's moments) carries a leading member dimension. A
step evaluates the single-run code of the components once for all members
with ``torch.func.vmap`` over ``torch.func.functional_call``: linear layers
become batched matrix products, convolutions grouped ones, and each
member sees only its own slice. So, by construction:

- each member's loss is its own mean over its own batch; the group
  minimises their sum, whose gradient for member m is member m's own;
- BatchNorm statistics, spectral norm's power iteration and a gradient
  penalty are computed per member (vmap keeps them apart);
- Adam's and RMSprop's moments are per element, hence per member, and
  each member has its own learning rate (:class:`StackedOptimizer`);
- each member draws its data order, batches and noise from its own
  ``torch.Generator`` (:mod:`gan_core.rng`), which starts from the state
  the global generator has when the same run trains alone, so member K
  of any group draws what ``gan train --seed K`` draws.

Member K is therefore the run ``--seed K`` trains alone, up to float
rounding: a batched matrix product rounds differently from single ones
(the first losses agree to the last digit or two), and training amplifies
that over many steps as it amplifies any rounding (another thread count,
another GPU), so long runs agree in distribution, not bit for bit.

Each member's modules (:class:`~gan_core.build.BuiltRun`) stay ordinary
modules whose tensors are views of the stacked ones, so checkpoints,
sample grids and evaluations see a member as they see a run trained
alone; only the step itself is stacked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, vmap

from . import rng
from .callbacks import Callback
from .checks import checked_images, checked_latent, checked_loss
from .components import Batch, Component, ImageData, Loss, Prior
from .engine import Schedule, StopRequested, _sigint_sets_flag
from .errors import TrainingDiverged

WARMUP_STEPS = 3  # eager steps before a step is captured (CUDA graphs want lazy initialisation done first)
ADAM_EPS = 1e-8  # torch.optim.Adam's and RMSprop's default eps, as a run trained alone uses
RMSPROP_ALPHA = 0.99  # torch.optim.RMSprop's default smoothing constant


class StepModule(nn.Module):
    """One run's networks under one module, so ``functional_call`` swaps every tensor of a step at once.

    Its methods are the single-run code of a D step and a G step; the loss
    object is a plain attribute (not a module): it keeps references to its
    own networks (ClusterGAN's encoder), which are registered here under
    ``loss_modules`` and so swapped with the rest.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, prior: Prior, loss: Loss,
                 loss_modules: nn.Module | None, image_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.generator, self.discriminator, self.prior = generator, discriminator, prior
        if loss_modules is not None:
            self.loss_modules = loss_modules
        self.loss = loss
        self.image_shape = image_shape
        self.check = False  # the boundary checks of a run's first step (shapes: values are checked outside vmap)

    def forward(self, mode: str, batch: dict[str, torch.Tensor], with_graph: bool = False) -> dict[str, torch.Tensor]:
        if mode == "after_d":
            self.loss.after_d_step(self.discriminator)
            return {}
        return self.d_step(batch, with_graph) if mode == "d" else self.g_step(batch)

    def d_step(self, batch: dict[str, torch.Tensor], with_graph: bool) -> dict[str, torch.Tensor]:
        images = batch["images"]
        n = images.shape[0]
        with torch.set_grad_enabled(with_graph):
            latent = self.prior.sample(n)
            if self.check:
                checked_latent(self.prior, latent, n, self.prior.code_dim)
            fake = self.generator(latent.z)
            if self.check:
                checked_images(f"the generator of the run (prior '{self.prior.name}')", fake, n, self.image_shape,
                               values=False)
        real = Batch(images, batch.get("labels"))
        d_loss = self.loss.d_loss(self.discriminator, real, Batch(fake.detach(), latent.labels, latent.z))
        out = {"d_loss": d_loss, "fake": fake, "z": latent.z}
        if latent.labels is not None:
            out["fake_labels"] = latent.labels
        return out

    def g_step(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        fake = Batch(batch["fake"], batch.get("fake_labels"), batch["z"])
        real = Batch(batch["images"], batch.get("labels"))
        g_loss = self.loss.generator_loss(self.discriminator, fake, real)
        return {"g_loss": g_loss}


class StackedOptimizer:
    """Adam or RMSprop over stacked tensors, with one learning rate per member.

    The arithmetic of ``torch.optim.Adam`` / ``RMSprop`` with their default
    eps (and alpha), no weight decay, no AMSGrad: what a run trained alone
    gets from :func:`gan_core.training.make_optimizer`. Moments are per
    element, so per member; the step count is a device tensor, so a step
    needs no host sync (and can be captured in a CUDA graph).

    When every member has the same learning rate (``--seeds N`` of one
    configuration) Adam is torch's own fused kernel over the stacked
    tensors, the single run's arithmetic in one pass over memory; members
    with their own rates (a packed sweep) take the per-member form.
    """

    def __init__(self, kind: str, params: Sequence[torch.Tensor], lr: torch.Tensor, betas: tuple[float, float]) -> None:
        self.kind, self.params, self.betas = kind, list(params), betas
        self.lr = [lr.view(-1, *([1] * (p.dim() - 1))) for p in self.params]
        self.step_count = torch.zeros((), device=lr.device)
        self.fused: torch.optim.Optimizer | None = None
        if kind == "adam":
            self.exp_avg = [torch.zeros_like(p) for p in self.params]
            self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
            rates = lr.tolist()  # once, when the group is built
            if self.params and all(r == rates[0] for r in rates):
                extra = {"capturable": True} if lr.device.type == "cuda" else {}
                self.fused = torch.optim.Adam(self.params, lr=rates[0], betas=betas, fused=True, **extra)
                for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):  # its state is ours: export and load see it
                    self.fused.state[p] = {"step": torch.zeros((), dtype=torch.float32, device=p.device),
                                           "exp_avg": m, "exp_avg_sq": v}
        else:
            self.square_avg = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.step_count += 1
        if self.fused is not None:
            self.fused.step()
        elif self.kind == "adam":
            beta1, beta2 = self.betas
            correction1 = 1 - beta1 ** self.step_count
            correction2_sqrt = (1 - beta2 ** self.step_count).sqrt()
            for p, lr, m, v in zip(self.params, self.lr, self.exp_avg, self.exp_avg_sq):
                if p.grad is None:
                    continue
                m.lerp_(p.grad, 1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                denom = (v.sqrt() / correction2_sqrt).add_(ADAM_EPS)
                p.addcdiv_(m * (lr / correction1), denom, value=-1)
        else:
            for p, lr, s in zip(self.params, self.lr, self.square_avg):
                if p.grad is None:
                    continue
                s.mul_(RMSPROP_ALPHA).addcmul_(p.grad, p.grad, value=1 - RMSPROP_ALPHA)
                p.addcdiv_(p.grad * lr, s.sqrt().add_(ADAM_EPS), value=-1)

    def moments(self) -> dict[str, list[torch.Tensor]]:
        """The per-parameter state tensors by torch's names (``exp_avg``... or ``square_avg``)."""
        if self.kind == "adam":
            return {"exp_avg": self.exp_avg, "exp_avg_sq": self.exp_avg_sq}
        return {"square_avg": self.square_avg}

    def export(self, optimizer: torch.optim.Optimizer, params: Sequence[torch.Tensor], member: int) -> None:
        """Put member ``member``'s state into ``optimizer`` (a torch optimiser over that member's own tensors)."""
        step = self.step_count.detach().clone().to(torch.float32)
        if int(step) == 0:
            optimizer.state.clear()
            return
        for i, p in enumerate(params):
            state = {"step": step.clone()}  # saved as a CPU copy; torch puts it where it wants it when loaded
            state.update({key: values[i][member].detach().clone() for key, values in self.moments().items()})
            optimizer.state[p] = state

    def load(self, optimizer: torch.optim.Optimizer, params: Sequence[torch.Tensor], member: int) -> None:
        """Take member ``member``'s state from ``optimizer`` (a resumed run's torch optimiser)."""
        with torch.no_grad():
            for i, p in enumerate(params):
                state = optimizer.state.get(p)
                if not state:
                    continue
                self.step_count.fill_(float(state["step"]))
                for key, values in self.moments().items():
                    values[i][member].copy_(state[key])
                if self.fused is not None:
                    self.fused.state[self.params[i]]["step"].fill_(float(state["step"]))


@dataclass
class Member:
    """What the engine needs of one member: its run's modules, optimisers, generator and dispatch."""

    modules: Mapping[str, nn.Module]  # generator, discriminator, prior[, loss_modules]: its BuiltRun's
    opt_g: torch.optim.Optimizer  # torch optimisers over its own tensors: the checkpoint's format
    opt_d: torch.optim.Optimizer
    generator: torch.Generator  # its training stream
    callbacks: Callback
    checkpoint: Callable[[int], None]
    state: Any  # its TrainState (step, order)
    lr_g: float
    lr_d: float
    options: Mapping[str, Mapping[str, float]]  # kind -> member option -> its value
    train_index: torch.Tensor | None = None  # the images it trains on (None: all), on the device
    diverged: TrainingDiverged | None = None


@dataclass
class StackedTrainer:
    """The training loop of :class:`gan_core.engine.Trainer` for a stacked group of members.

    The call order every loss relies on is the same as a single run's; the
    callbacks and checkpoints of each member are its own.
    """

    module: StepModule  # the first member's modules: the template functional_call swaps
    components: Mapping[str, Component]  # prior, loss, architecture: whose member options are swapped in
    members: list[Member]
    data: ImageData  # one copy for the group, on the device
    schedule: Schedule
    optimizer: str
    betas: tuple[float, float]
    #: on CUDA, capture each step as one CUDA graph (replayed: no launch overhead); False: always eager
    capture: bool = True
    #: where a one-line notice goes (why the step is not captured)
    say: Callable[[str], None] | None = None
    stop_requested: bool = False
    step: int = 0
    _names: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        device = self.data.images.device
        M = len(self.members)
        self.index = torch.arange(M, device=device)
        self.step = self.members[0].state.step
        # stack each tensor of the members' modules, then make their tensors views of the stack
        self.params: dict[str, torch.Tensor] = {}
        self.buffers: dict[str, torch.Tensor] = {}
        named = [dict(_named_tensors(m.modules)) for m in self.members]
        for name, (tensor, is_param) in named[0].items():
            stacked = _stacked_layout(torch.stack([n[name][0].detach() for n in named]), is_param)
            if is_param:
                self.params[name] = stacked.requires_grad_(tensor.requires_grad)
            else:
                self.buffers[name] = stacked
            for m, n in enumerate(named):
                n[name][0].data = stacked.detach()[m]
        d_names = [n for n in self.params if n.startswith("discriminator.")]
        g_names = [n for n in self.params if not n.startswith("discriminator.")]
        self._names = {"d": d_names, "g": g_names}
        self.opt_d = StackedOptimizer(self.optimizer, [self.params[n] for n in d_names],
                                      torch.tensor([m.lr_d for m in self.members], device=device), self.betas)
        self.opt_g = StackedOptimizer(self.optimizer, [self.params[n] for n in g_names],
                                      torch.tensor([m.lr_g for m in self.members], device=device), self.betas)
        for m, member in enumerate(self.members):  # a resumed member brings its optimiser state
            self.opt_d.load(member.opt_d, self._member_params(m, "d"), m)
            self.opt_g.load(member.opt_g, self._member_params(m, "g"), m)
        self.options = {
            kind: {name: torch.tensor([float(m.options[kind][name]) for m in self.members], device=device)
                   for name in self.members[0].options.get(kind, {})}
            for kind in self.components
        }
        self.size = len(self.members[0].train_index) if self.members[0].train_index is not None else len(self.data)
        self.train_index = (torch.stack([m.train_index.to(device) for m in self.members])
                            if self.members[0].train_index is not None else None)
        # static buffers the step reads and writes (a captured graph keeps their addresses)
        self.orders = torch.zeros(M, self.size, dtype=torch.long, device=device)
        if self.members[0].state.order is not None:  # resumed mid-epoch: each member's order as saved
            self.orders.copy_(torch.stack([m.state.order.to(device) for m in self.members]))
        for m, member in enumerate(self.members):
            member.state.order = self.orders[m]
        self.position = torch.tensor(self.step % self.schedule.steps_per_epoch, device=device)
        self._columns = torch.arange(self.schedule.batch_size, device=device)
        self.sums = torch.zeros(M, 2, device=device)
        self.graph: Any = None
        self._eager_steps = 0
        self.checked = False
        self.custom_after_d = type(self.module.loss).after_d_step is not Loss.after_d_step

    # ------------------------------------------------------------------ one step for every member

    def _member_params(self, m: int, side: str) -> list[torch.Tensor]:
        named = dict(_named_tensors(self.members[m].modules))
        return [named[n][0] for n in self._names[side]]

    def _state(self, detach_d: bool = False) -> dict[str, torch.Tensor]:
        state = dict(self.buffers)
        for name, p in self.params.items():
            state[name] = p.detach() if detach_d and name.startswith("discriminator.") else p
        return state

    def _vmapped(self, mode: str, batch: dict[str, torch.Tensor], with_graph: bool = False,
                 state: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        generators = [m.generator for m in self.members]

        def one_member(state: dict[str, torch.Tensor], batch: dict[str, torch.Tensor],
                       options: dict[str, dict[str, torch.Tensor]], index: torch.Tensor) -> dict[str, torch.Tensor]:
            with rng.member_draws(generators, index), _member_options(self.components, options):
                return functional_call(self.module, state, (mode, batch, with_graph))

        return vmap(one_member, randomness="same")(state if state is not None else self._state(), batch, self.options,
                                                    self.index)

    def _batch_at(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each member's real images at its indices ``idx`` (M, B), scaled to [-1, 1], with labels."""
        if self.train_index is not None:
            idx = self.train_index.gather(1, idx)
        batch = {"images": self.data.images[idx].float().div_(127.5).sub_(1.0)}
        if self.data.labels is not None:
            batch["labels"] = self.data.labels[idx]
        return batch

    def _real_batch(self, i: int) -> dict[str, torch.Tensor]:
        """The i-th real batch of this step: epoch order from ``self.position``, a device counter (so the same
        kernels serve every step, and a captured graph stays valid)."""
        b, d = self.schedule.batch_size, self.schedule.d_steps
        columns = (self.position * d + i) * b + self._columns
        return self._batch_at(self.orders.gather(1, columns.expand(len(self.members), b)))  # type: ignore[union-attr]

    def _random_batch(self) -> dict[str, torch.Tensor]:
        device = self.data.images.device
        return self._batch_at(torch.stack([
            torch.randint(0, self.size, (self.schedule.batch_size,), device=device, generator=m.generator)
            for m in self.members]))

    def _d_step(self, real: dict[str, torch.Tensor], with_graph: bool) -> dict[str, torch.Tensor]:
        out = self._vmapped("d", real, with_graph)
        if not self.checked:  # one member's value stands for all: a loss that is not a scalar fails on each
            checked_loss(self.module.loss, out["d_loss"][0], "d_loss")
        self.opt_d.zero_grad()
        out["d_loss"].sum().backward()  # member m's gradient is its own loss's: the others do not depend on it
        self.opt_d.step()
        if self.custom_after_d:
            self._after_d_step()
        return out

    def _after_d_step(self) -> None:
        """``loss.after_d_step(D)`` (weight clipping) on each member's D, its in-place changes kept."""
        d_state = {n: self.params[n] for n in self._names["d"]}

        def one_member(state: dict[str, torch.Tensor], options: dict[str, dict[str, torch.Tensor]],
                       index: torch.Tensor) -> torch.Tensor:
            with _member_options(self.components, options):
                functional_call(self.module, state, ("after_d", {}))
            return index

        with torch.no_grad():
            vmap(one_member, randomness="same")(d_state, self.options, self.index)

    def train_step(self, extra_d_steps: int = 0) -> torch.Tensor:
        """``extra_d_steps`` D updates on random batches, d_steps on the epoch's next batches, then one G update
        for every member; returns the (M, 2) losses, also added to ``self.sums``. No host sync after the first step.
        """
        s, loss = self.schedule, self.module.loss
        self.module.check = not self.checked
        for _ in range(extra_d_steps):
            self._d_step(self._random_batch(), with_graph=False)
        for i in range(s.d_steps):
            real = self._real_batch(i)
            out = self._d_step(real, with_graph=i == s.d_steps - 1)
        if not self.checked:  # the value checks a single run makes on its first step, once for the group
            checked_images(f"the generator of the run (prior '{self.module.prior.name}')",
                           out["fake"].detach().flatten(0, 1), out["fake"].shape[0] * out["fake"].shape[1],
                           tuple(out["fake"].shape[2:]))
        g_batch = {**real, "fake": out["fake"], "z": out["z"]}
        if "fake_labels" in out:
            g_batch["fake_labels"] = out["fake_labels"]
        g_loss = self._vmapped("g", g_batch, state=self._state(detach_d=True))["g_loss"]
        if not self.checked:
            checked_loss(loss, g_loss[0], "g_loss")
        self.checked, self.module.check = True, False
        self.opt_g.zero_grad()
        g_loss.sum().backward()
        self.opt_g.step()
        losses = torch.stack([out["d_loss"].detach(), g_loss.detach()], dim=1)
        self.sums += losses
        self.position += 1
        return losses

    # ------------------------------------------------------------------ one CUDA graph per step

    def one_step(self) -> None:
        """One training step: the captured graph's replay when there is one, else eagerly."""
        extra = max((self.module.loss.critic_steps(self.step) or self.schedule.d_steps) - self.schedule.d_steps, 0)
        if extra or not self._capturable():
            self.train_step(extra)  # a step of another shape (WGAN's warm-up) runs eagerly, the graph is kept
            return
        if self.graph is None and self._eager_steps >= WARMUP_STEPS:
            self._capture()
        if self.graph is not None:
            self.graph.replay()
            return
        self._warm_up()

    def _capturable(self) -> bool:
        return self.capture and self.data.images.device.type == "cuda"

    def _warm_up(self) -> None:
        """An eager step on a side stream, as CUDA graphs ask before capture (lazy initialisations happen here)."""
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.train_step()
        torch.cuda.current_stream().wait_stream(side)
        self._eager_steps += 1

    def _capture(self) -> None:
        """Record one whole step (every D step, the G step, both optimisers, the loss sums) as one CUDA graph.

        torch.compile and make_graphed_callables refuse the double backward of
        a gradient penalty; capturing the eager step with torch.cuda.graph
        covers it. Each member's generator is registered, so every replay
        draws fresh noise from it. A failure is said once; training goes on
        eagerly.
        """
        graph = torch.cuda.CUDAGraph()
        try:
            for member in self.members:
                graph.register_generator_state(member.generator)
            torch.cuda.synchronize()
            with torch.cuda.graph(graph):  # records without running: the generators stand where they stood
                self.train_step()
        except Exception as exc:  # noqa: BLE001 - any failure to capture leaves the eager step, which works
            self.capture = False
            self.graph = None
            if self.say is not None:
                self.say(f"training eagerly: the step could not be captured as a CUDA graph ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})")
            return
        self.graph = graph

    # ------------------------------------------------------------------ the loop

    def new_epoch(self) -> None:
        """Each member's permutation of its data, from its own generator, into the order buffer the step reads."""
        device = self.data.images.device
        self.orders.copy_(torch.stack([torch.randperm(self.size, device=device, generator=m.generator)
                                       for m in self.members]))
        self.position.zero_()

    def advance(self) -> None:
        """One generator step of every member (a new epoch's order first, when one starts)."""
        if self.step % self.schedule.steps_per_epoch == 0:
            self.new_epoch()
        self.one_step()
        self.step += 1
        for member in self.members:
            member.state.step = self.step

    def run(self) -> None:
        s = self.schedule
        sums = self.sums
        window_start, window_steps = time.perf_counter(), 0
        with _sigint_sets_flag(self):
            while self.step < s.total_steps and self.live():
                self.advance()
                window_steps += 1
                epoch_done = self.step % s.steps_per_epoch == 0
                if self.step % s.log_every == 0 or self.step == s.total_steps or epoch_done:
                    values = (sums / window_steps).tolist()  # host sync, once per log interval
                    elapsed = time.perf_counter() - window_start
                    for member, (d_loss, g_loss) in zip(self.members, values):
                        self._log(member, d_loss, g_loss, window_steps, elapsed)
                    sums.zero_()
                    window_start, window_steps = time.perf_counter(), 0
                if epoch_done:
                    for member in self.live():
                        member.callbacks.on_epoch_end(self.step // s.steps_per_epoch)
                every = s.checkpoint_every
                due = (self.step % every == 0) if every else epoch_done
                stopping = self.stop_requested
                if due or self.step == s.total_steps or stopping:
                    self._checkpoint()
                if self.stop_requested:
                    if not stopping:
                        self._checkpoint()
                    raise StopRequested

    def live(self) -> list[Member]:
        return [m for m in self.members if m.diverged is None]

    def _log(self, member: Member, d_loss: float, g_loss: float, steps: int, elapsed: float) -> None:
        if member.diverged is not None:
            return
        s = self.schedule
        for name, value in (("D", d_loss), ("G", g_loss)):
            if value != value or value in (float("inf"), float("-inf")):
                member.diverged = TrainingDiverged(
                    f"the {name} loss of '{self.module.loss.name}' became {value} between steps "
                    f"{self.step - steps + 1} and {self.step}; training stopped")
                return
        member.callbacks.on_log({
            "step": self.step,
            "epoch": round(self.step / s.steps_per_epoch, 4),
            "d_loss": d_loss,
            "g_loss": g_loss,
            # the group's pace, shared out: what each member costs when trained this way
            "images_per_s": steps * s.batch_size * s.d_steps / max(elapsed, 1e-9) / len(self.members),
        })

    def _checkpoint(self) -> None:
        finite = torch.stack([torch.stack([p[m].isfinite().all() for p in self.params.values()]).all()
                              for m in range(len(self.members))]).tolist()
        for m, member in enumerate(self.members):
            if member.diverged is not None:
                continue
            if not finite[m]:
                member.diverged = TrainingDiverged(
                    f"the weights became non-finite before step {self.step} with loss '{self.module.loss.name}'; "
                    "training stopped")
                continue
            self.opt_d.export(member.opt_d, self._member_params(m, "d"), m)
            self.opt_g.export(member.opt_g, self._member_params(m, "g"), m)
            member.checkpoint(self.step)


def member_modules(built: Any) -> dict[str, nn.Module]:
    """A run's weight-holding modules (a :class:`~gan_core.build.BuiltRun`), named as :class:`StepModule` names them."""
    modules = {"generator": built.generator, "discriminator": built.discriminator, "prior": built.prior}
    if built.loss_modules is not None:
        modules["loss_modules"] = built.loss_modules
    return modules


def member_option_values(components: Mapping[str, Component]) -> dict[str, dict[str, float]]:
    """Each component's ``member_options`` with this member's values, by kind."""
    return {kind: {name: getattr(c.options, name) for name in c.member_options} for kind, c in components.items()}


def stacked_trainer(built: Any, parts: Any, members: list[Member], data: ImageData, schedule: Schedule,
                    optimizer: str, betas: tuple[float, float], **settings: Any) -> StackedTrainer:
    """The engine for ``members``, with the first member's run (``built``, ``parts``) as the template it steps."""
    module = StepModule(built.generator, built.discriminator, built.prior, parts.loss, built.loss_modules,
                        tuple(data.shape))
    components = {"prior": built.prior, "loss": parts.loss, "architecture": parts.architecture}
    return StackedTrainer(module, components, members, data, schedule, optimizer, betas, **settings)


def _stacked_layout(stacked: torch.Tensor, is_param: bool) -> torch.Tensor:
    """The stack in the memory layout its gradients arrive in.

    Under vmap a linear layer's weight gradient comes back as each member's
    transpose (strides (out*in, 1, out)); a parameter stored the same way
    takes it as it is, where a contiguous one would copy every weight
    gradient of every step (a fifth of a CPU step). Other 2-D parameters
    (a mixture's means) get theirs copied into this layout, as before.
    """
    if not is_param or stacked.dim() != 3:
        return stacked.contiguous()
    m, rows, cols = stacked.shape
    return torch.empty(m, cols, rows, dtype=stacked.dtype, device=stacked.device).transpose(1, 2).copy_(stacked)


def _named_tensors(modules: Mapping[str, nn.Module]) -> Iterator[tuple[str, tuple[torch.Tensor, bool]]]:
    """Every parameter and buffer of a member's modules, named as in :class:`StepModule`."""
    for prefix, module in modules.items():
        for name, p in module.named_parameters():
            yield f"{prefix}.{name}", (p, True)
        for name, b in module.named_buffers():
            yield f"{prefix}.{name}", (b, False)


class _MemberOptionsView:
    """A component's options with some fields replaced by one member's values (0-d tensors inside vmap)."""

    def __init__(self, options: Any, values: Mapping[str, torch.Tensor]) -> None:
        self._options, self._values = options, values

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__["_values"]
        return values[name] if name in values else getattr(self.__dict__["_options"], name)


@contextmanager
def _member_options(components: Mapping[str, Component], values: Mapping[str, Mapping[str, torch.Tensor]]) -> Iterator[None]:
    swapped = []
    try:
        for kind, component in components.items():
            if values.get(kind):
                swapped.append((component, component.options))
                component.options = _MemberOptionsView(component.options, values[kind])
        yield
    finally:
        for component, options in swapped:
            component.options = options
