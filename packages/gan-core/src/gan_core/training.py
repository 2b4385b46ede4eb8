"""``gan train`` from settings to a finished run directory.

Order matters: every check that user input can fail (names, options, the
combination, the device, the data, the output folder) runs before the first
byte is written, and the run directory appears only with its first complete
checkpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .assembly import (
    Chosen,
    build_loss_modules,
    build_networks,
    check_combination,
    check_requirements,
    choose_all,
    construct,
    instantiate,
    load_data,
    network_spec,
    provided_by,
    split_holdout,
)
from .components import Combination, Latent, TrainingDefaults
from .callbacks import Callback, Callbacks
from .config import KINDS, RESUMABLE, TrainConfig, config_from_run, merge_config, read_config_file, settings_for  # noqa: F401 - settings_for, RESUMABLE: this module's public names before they moved
from .devices import deterministic, resolve_device, seeded
from .engine import Schedule, StopRequested, Trainer, TrainState
from .errors import GanError, TrainingDiverged
from .images import save_grid
from .perceptual import perceptual_regulariser
from .runs import (
    OPTIM_FILE,
    RUN_FILE,
    RUN_FORMAT,
    WEIGHTS_FILE,
    RunLock,
    RunWriter,
    atomic_write_json,
    check_step,
    load_module_state,
    load_optimizer,
    load_tensors,
    optimizer_tensors,
    prefixed,
    read_run,
    unprefixed,
)

GRID_SIZE = 64


@dataclass
class Resolved:
    """Optimiser settings after the loss's defaults and the user's values are merged."""

    optimizer: str
    lr_g: float
    lr_d: float
    betas: tuple[float, float]
    d_steps: int


def resolve_optim(config: TrainConfig, defaults: TrainingDefaults) -> Resolved:
    pick = lambda mine, theirs: theirs if mine is None else mine  # noqa: E731 - explicit CLI values win
    return Resolved(
        optimizer=pick(config.optimizer, defaults.optimizer),
        lr_g=pick(config.lr_g, defaults.lr_g),
        lr_d=pick(config.lr_d, defaults.lr_d),
        betas=tuple(pick(config.betas, defaults.betas)),  # type: ignore[arg-type]
        d_steps=pick(config.d_steps, defaults.d_steps),
    )


def make_optimizer(kind: str, params: list[torch.nn.Parameter], lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    # The fused kernel updates every tensor in one pass: ~10% faster steps on this CPU.
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


def train(
    config: TrainConfig | Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    resume: Path | None = None,
    init_from: Path | None = None,
    callbacks: Sequence[Callback] = (),
    console: Console | None = None,
) -> Path:
    """Train (or continue) one run and return its directory: what ``gan train`` does, as a function.

    ``config`` is a TrainConfig or a mapping of settings (see
    :func:`settings_for`); ``callbacks`` follow the run (see
    :mod:`gan_core.callbacks`). Bad input raises GanError before anything is
    written; Ctrl-C raises StopRequested after a checkpoint.
    """
    if not isinstance(config, TrainConfig):
        config = settings_for(config, config_file=config_file, resume=Path(resume) if resume else None,
                              init_from=init_from)
    with deterministic(config.deterministic):  # from before the networks' first CUDA work to the end
        session = TrainingSession(config, Path(resume) if resume else None, Path(init_from) if init_from else None,
                                  console or Console(stderr=True), Callbacks(list(callbacks)))
        return session.run()


class TrainingSession:
    """One `gan train` call: everything checked and built in ``__init__``, files written in ``run``."""

    def __init__(self, config: TrainConfig, resume: Path | None, init_from: Path | None, console: Console,
                 callbacks: Callbacks | None = None) -> None:
        self.config, self.console = config, console
        self.callbacks = callbacks or Callbacks([])
        out = resume if resume else _output_path(config)
        # Locked before the run is read: another training could be checkpointing it, or about to commit it.
        self.lock = RunLock(out)
        try:
            if resume is None and out.exists() and (not out.is_dir() or any(out.iterdir())):
                raise GanError(f"{out} was written by another gan train meanwhile; choose another --out")
            self._set_up(config, resume, init_from, out)
        except BaseException:
            self.lock.release()
            raise

    def _set_up(self, config: TrainConfig, resume: Path | None, init_from: Path | None, out: Path) -> None:
        previous = read_run(resume) if resume else None
        chosen = choose_all(config, saved=previous is not None)
        self.device = device = resolve_device(config.device)
        if init_from:
            read_run(init_from)

        sampler = construct(chosen["sampler"])  # before seeding: a sampler's own layers must not shift G and D's init
        torch.manual_seed(config.seed)  # components may draw at construction (a mixture's fixed means)
        parts = instantiate(chosen, config.latent_dim)
        data = load_data(parts.dataset, config.data_dir)  # type: ignore[arg-type]
        self.holdout = config.holdout if config.holdout is not None else float(getattr(sampler, "holdout", 0.0))
        data, held = split_holdout(data, self.holdout, config.seed)  # D never sees the held-out slice
        self.held_out = 0 if held is None else len(held)
        check_combination(Combination(parts.prior, parts.loss, parts.architecture, parts.dataset, data))  # type: ignore[arg-type]
        self.sampler = sampler  # checked now, fitted after training
        check_requirements(self.sampler, provided_by([parts.prior, parts.loss, parts.architecture, parts.dataset],
                                                     data.labels is not None), "this combination")  # type: ignore[list-item]
        optim = resolve_optim(config, parts.loss.defaults())
        self.steps_per_epoch = len(data) // (config.batch_size * optim.d_steps)
        if self.steps_per_epoch < 1:
            raise GanError(
                f"the dataset has {len(data)} images, fewer than one step needs "
                f"({config.batch_size} x {optim.d_steps} D steps); lower --batch-size"
            )
        self.total = config.steps if config.steps else config.epochs * self.steps_per_epoch
        if previous and self.total <= previous["checkpoint"]["step"]:
            raise GanError(
                f"{resume} already reached step {previous['checkpoint']['step']} of {self.total}; "
                "pass a larger --epochs or --steps to train it further"
            )
        with seeded(config.seed, device):  # building it draws (a network's init): the training stream must not see it
            self.evaluator = _evaluator(config, chosen["dataset"], device)

        spec = network_spec(parts, data.shape)
        self.generator, self.discriminator = build_networks(parts, spec, device)
        self.loss_modules = build_loss_modules(parts, spec, device)
        self.regulariser = perceptual_regulariser(config.perceptual, data.shape, device) if config.perceptual else None
        self.prior = parts.prior.to(device)
        self.fixed: Latent = self.prior.sample(GRID_SIZE)  # the same codes for every sample grid of the run
        if init_from:
            _init_networks(init_from, self.generator, self.discriminator)
        params_g = [*self.generator.parameters(), *self.prior.parameters(), *self.own_modules("loss_modules")]
        self.opt_g = make_optimizer(optim.optimizer, params_g, optim.lr_g, optim.betas)
        self.opt_d = make_optimizer(optim.optimizer, list(self.discriminator.parameters()), optim.lr_d, optim.betas)
        self.state = TrainState()
        if previous is not None:
            self.fixed = _restore(resume, previous, self, device)  # type: ignore[arg-type]

        schedule = Schedule(config.batch_size, optim.d_steps, self.total, self.steps_per_epoch, config.log_every,
                            config.checkpoint_every)
        self.run_info = _run_info(config, chosen, optim, data, self.total, self.steps_per_epoch, device, init_from,
                                  previous, out, parts.prior.latent_dim)
        self.run_info["train"]["holdout"] = self.holdout
        if self.held_out:
            self.run_info["data"]["holdout"] = {"fraction": self.holdout, "images": self.held_out, "seed": config.seed}
        self.best: dict[str, Any] = dict((previous or {}).get("best") or {})
        self.writer = RunWriter(out, existing=previous is not None)  # under the lock: a staging folder left is ours
        self.trainer = Trainer(
            self.generator, self.discriminator, self.prior, parts.loss, data.to(device), self.opt_g, self.opt_d,
            schedule, self.state, checkpoint=self.checkpoint, log=self.log, on_epoch_end=self.on_epoch_end,
            regulariser=self.regulariser,
        )

    def log(self, record: dict[str, Any]) -> None:
        self.writer.log(record)
        self.callbacks.on_log(record)

    def own_modules(self, name: str) -> list[torch.nn.Parameter]:
        module = getattr(self, name)
        return [] if module is None else list(module.parameters())

    def model_weights(self) -> dict[str, torch.Tensor]:
        return {
            **prefixed("generator", self.generator.state_dict()),
            **prefixed("discriminator", self.discriminator.state_dict()),
            **prefixed("prior", self.prior.state_dict()),
            **(prefixed("loss", self.loss_modules.state_dict()) if self.loss_modules is not None else {}),
        }

    def checkpoint(self, step: int) -> None:
        tensors_g, info_g = optimizer_tensors("opt_g", self.opt_g)
        tensors_d, info_d = optimizer_tensors("opt_d", self.opt_d)
        trainer_state = {"trainer.rng_cpu": torch.get_rng_state(), "trainer.fixed_z": self.fixed.z}
        if self.device.type == "cuda":
            trainer_state["trainer.rng_cuda"] = torch.cuda.get_rng_state(self.device)
        if self.state.order is not None:
            trainer_state["trainer.order"] = self.state.order
        if self.fixed.labels is not None:
            trainer_state["trainer.fixed_labels"] = self.fixed.labels
        info = self.run_info
        info["checkpoint"] = {"step": step, "epoch": round(step / self.steps_per_epoch, 4)}
        info["status"] = "finished" if step >= self.total else ("interrupted" if self.trainer.stop_requested else "running")
        info["updated"] = _now()
        self.writer.save_checkpoint(
            step, self.model_weights(), {**tensors_g, **tensors_d, **trainer_state}, {"opt_g": info_g, "opt_d": info_d},
            info,
        )
        self.callbacks.on_checkpoint(step, self.writer.path)

    def write_grid(self, name: str) -> None:
        self.generator.eval()
        with torch.no_grad():
            images = self.generator(self.fixed.z)
        self.generator.train()
        save_grid(images, self.writer.path / "samples" / f"{name}.png")

    def on_epoch_end(self, epoch: int) -> None:
        self.write_grid(f"epoch-{epoch:04d}")
        self.callbacks.on_epoch_end(epoch)
        config = self.config
        if self.evaluator is None or epoch % config.eval_every:
            return
        values = _evaluate_generator(self.evaluator, self.generator, self.prior, config.eval_n, config.seed + epoch)
        self.writer.log({"step": self.state.step, "epoch": epoch, "eval": values})
        self.console.print(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in values.items()))
        self.callbacks.on_eval(epoch, values)
        if config.keep_best:
            self.keep_if_best(config.keep_best, values[config.keep_best], epoch)

    def keep_if_best(self, metric: str, value: float, epoch: int) -> None:
        higher = self.evaluator.directions()[metric]  # type: ignore[union-attr]
        best = self.best
        if best and (value <= best["value"] if higher else value >= best["value"]):
            return
        best.update(metric=metric, value=value, step=self.state.step, epoch=epoch)
        self.run_info["best"] = dict(best)
        best_info = {**self.run_info, "status": "best", "checkpoint": {"step": self.state.step, "epoch": float(epoch)}}
        self.writer.save_best(self.state.step, self.model_weights(), best_info)

    def run(self) -> Path:
        try:
            return self._run()
        finally:
            self.lock.release()

    def _run(self) -> Path:
        state, writer = self.state, self.writer
        self.callbacks.on_start(writer.final, self.run_info)
        try:
            with _progress(self.console) as progress:
                task = progress.add_task("training", total=self.total, completed=state.step, losses="")

                def on_progress(step: int, record: dict[str, Any]) -> None:
                    progress.update(
                        task,
                        completed=step,
                        description=f"epoch {record['epoch']:.2f}",
                        losses=f"D {record['d_loss']:.3f}  G {record['g_loss']:.3f}  {record['images_per_s']:,.0f} img/s",
                    )

                self.trainer.run(on_progress)
        except StopRequested:
            self.console.print(
                f"Interrupted: checkpoint saved at step {state.step} in {writer.path}; continue with --resume {writer.path}"
            )
            self.callbacks.on_end(writer.path, "interrupted")
            raise
        except TrainingDiverged as exc:
            if writer.committed:  # the last good checkpoint stays as it is; run.json says why it ended
                self.run_info.update(status="diverged", diverged=exc.message, updated=_now())
                atomic_write_json(writer.path / RUN_FILE, self.run_info)
                exc.message += (f"; the last good checkpoint (step {self.run_info['checkpoint']['step']}) "
                                f"is kept in {writer.path}")
            else:
                exc.message += (" before its first checkpoint, so no run was written; "
                                "try lower learning rates or another loss")
            self.callbacks.on_end(writer.path, "diverged")
            raise
        finally:
            writer.discard_if_uncommitted()
        if state.step % self.steps_per_epoch:  # a run that ends mid-epoch still shows its last samples
            self.write_grid(f"step-{state.step:07d}")
        self.fit_sampler(writer.path)
        self.callbacks.on_end(writer.path, "finished")
        return writer.path

    def fit_sampler(self, path: Path) -> None:
        """Fit the run's default sampler now (once), if it needs fitting, so sampling starts at once."""
        from .sampling import load_run, prepare_sampler

        sampler = self.config.sampler
        if not self.sampler.needs_fit:  # read on the instance: it may depend on the options
            return
        self.console.print(f"Fitting sampler '{sampler}'...")
        prepare_sampler(load_run(path, self.device), sampler, self.config.options.get("sampler"), self.config.data_dir,
                        self.console)


def _evaluator(config: TrainConfig, dataset: Chosen, device: torch.device):
    """The evaluator for --eval-every, built (and --keep-best checked) before training starts."""
    if config.options.get("metric") and not config.eval_every:
        raise GanError("-o metric.KEY=VALUE applies to evaluations during training; add --eval-every N")
    if config.keep_best and not config.eval_every:
        raise GanError("--keep-best needs --eval-every N to evaluate the run every N epochs")
    if not config.eval_every:
        return None
    from .evaluation.evaluate import Evaluator, Protocol
    from .options import options_to_dict
    from .registry import get_registry

    # --keep-best of a metric outside the default set (kid) computes it too
    also = (config.keep_best,) if config.keep_best in get_registry().names("metric") else ()
    protocol = Protocol(n=config.eval_n, dataset=dataset.entry.name, dataset_options=options_to_dict(dataset.options),
                        data_dir=config.data_dir, metric_options=dict(config.options.get("metric", {})), also=also)
    evaluator = Evaluator(protocol, device)
    if config.keep_best and config.keep_best not in evaluator.directions():
        raise GanError(f"--keep-best {config.keep_best} is not a metric; use one of {', '.join(evaluator.directions())}")
    return evaluator


@torch.no_grad()
def _evaluate_generator(evaluator, generator: torch.nn.Module, prior, n: int, seed: int) -> dict[str, float]:
    """Metrics of n fresh samples, without touching the training RNG stream (resume stays exact)."""
    from .images import to_uint8

    with seeded(seed, prior.device):  # metrics may draw too (KID's subsets)
        generator.eval()
        images = torch.cat([to_uint8(generator(prior.sample(min(1000, n - i)).z)) for i in range(0, n, 1000)])
        generator.train()
        return evaluator.evaluate(images)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[losses]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _output_path(config: TrainConfig) -> Path:
    if config.out:
        out = Path(config.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise GanError(f"{out} already exists; continue it with --resume {out} or choose another --out")
        return out
    base = Path("runs") / f"{config.prior}-{config.loss}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def _init_networks(source: Path, generator: torch.nn.Module, discriminator: torch.nn.Module) -> None:
    """Start from another run's G and D; a D head of another form (width, SAN head...) starts fresh."""
    tensors, _ = load_tensors(source / WEIGHTS_FILE)
    load_module_state(generator, "generator", tensors, source)
    d_state = unprefixed("discriminator", tensors)
    own = discriminator.state_dict()
    own_head = {k: v.shape for k, v in own.items() if k.startswith("head.")}
    their_head = {k: v.shape for k, v in d_state.items() if k.startswith("head.")}
    if own_head != their_head:
        d_state = {k: v for k, v in d_state.items() if not k.startswith("head.")}
        d_state.update({k: v for k, v in own.items() if k.startswith("head.")})
    d_state = _into_parametrizations(d_state, own)
    load_module_state(discriminator, "discriminator", prefixed("discriminator", d_state), source)


def _into_parametrizations(state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A plain D's weights for a D whose layers are parametrised (SAN's spectral norm): ``x.weight`` becomes
    ``x.parametrizations.weight.original``; the parametrisation's own state (power-iteration vectors) starts fresh."""
    marker = ".parametrizations."
    mapped = dict(state)
    for key in own:
        if marker in key and key not in state:
            layer, _, rest = key.partition(marker)
            name, _, tail = rest.partition(".")
            plain = f"{layer}.{name}"
            if tail == "original" and plain in state:
                mapped[key] = mapped.pop(plain)
            else:
                mapped[key] = own[key]
    return mapped


def _restore(run: Path, info: dict[str, Any], session: TrainingSession, device: torch.device) -> Latent:
    """Load weights, optimisers and trainer state of ``run`` into ``session``; return the grid codes."""
    step = info["checkpoint"]["step"]
    weights, meta_w = load_tensors(run / WEIGHTS_FILE)
    optim, meta_o = load_tensors(run / OPTIM_FILE)
    check_step(run / WEIGHTS_FILE, meta_w, step)
    check_step(run / OPTIM_FILE, meta_o, step)
    for name in ("generator", "discriminator", "prior"):
        load_module_state(getattr(session, name), name, weights, run)
    if session.loss_modules is not None:
        load_module_state(session.loss_modules, "loss", weights, run)
    optim_info = json.loads(meta_o.get("gan.optim", "{}"))
    load_optimizer(session.opt_g, "opt_g", optim, optim_info["opt_g"])
    load_optimizer(session.opt_d, "opt_d", optim, optim_info["opt_d"])
    session.state.step = step
    session.state.order = optim["trainer.order"].to(device) if "trainer.order" in optim else None
    torch.set_rng_state(optim["trainer.rng_cpu"])
    if device.type == "cuda" and "trainer.rng_cuda" in optim:
        torch.cuda.set_rng_state(optim["trainer.rng_cuda"], device)
    labels = optim.get("trainer.fixed_labels")
    return Latent(optim["trainer.fixed_z"].to(device), None if labels is None else labels.to(device))


def _run_info(config, chosen: dict[str, Chosen], optim: Resolved, data, total, steps_per_epoch, device, init_from, previous, out, latent_dim) -> dict[str, Any]:
    train = config.to_dict()
    for key in ("prior", "loss", "arch", "dataset", "sampler", "options", "out"):
        train.pop(key)
    train.update(
        optimizer=optim.optimizer, lr_g=optim.lr_g, lr_d=optim.lr_d, betas=list(optim.betas), d_steps=optim.d_steps,
        steps=total, device_used=str(device), latent_dim=latent_dim,
    )
    if config.options.get("metric"):
        train["metric_options"] = dict(config.options["metric"])
    packages = {c.entry.package: c.entry.version for c in chosen.values()}
    return {
        "format": RUN_FORMAT,
        "name": out.name,
        "status": "running",
        "created": previous["created"] if previous else _now(),
        "updated": _now(),
        "components": {kind: c.record() for kind, c in chosen.items()},
        "train": train,
        "data": {
            "dataset": config.dataset,
            "source": data.source,
            "shape": list(data.shape),
            "num_images": len(data),
            "num_classes": data.num_classes,
            "steps_per_epoch": steps_per_epoch,
        },
        "checkpoint": {"step": 0, "epoch": 0.0},
        "init_from": str(init_from) if init_from else (previous or {}).get("init_from"),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            **packages,
        },
    }


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
