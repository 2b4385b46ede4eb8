"""``gan train`` from settings to a finished run directory.

The lifecycle, in one screen: settings become a validated :class:`RunSpec`;
its parts are built once (:func:`gan_core.build.build_run`, the one way a
run is put together); the loop trains with one callback dispatch, to which
the core's own features (:mod:`gan_core.features`) and a user's callbacks
listen alike; each checkpoint is one atomic step
(:func:`gan_core.runs.publish_checkpoint`); ``load_run`` rebuilds the run
the same way for sampling and evaluation.

Order matters: every check that user input can fail (names, options, the
combination, the device, the data, the output folder) runs before the first
byte is written, and the run directory appears only with its first complete
checkpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from .assembly import Chosen, check_combination, check_requirements, construct, load_data, provided_by, split_holdout
from .build import BuiltRun, RunSpec, build_run
from .callbacks import Callback, Callbacks
from .components import Combination, Latent, TrainingDefaults
from .config import TrainConfig, settings_for
from .deprecation import moved
from .devices import deterministic, resolve_device, seeded
from .engine import Schedule, StopRequested, Trainer, TrainState
from .errors import GanError, TrainingDiverged
from .features import default_features
from .kinds import run_kinds
from .perceptual import perceptual_regulariser
from .runs import (
    OPTIM_FILE,
    RUN_FORMAT,
    WEIGHTS_FILE,
    RunLock,
    RunWriter,
    load_optimizer,
    optimizer_tensors,
    read_checkpoint,
    read_run,
)

GRID_SIZE = 64

#: names this module exported before they moved to gan_core.config (kept, with a warning, for plugin API 1.x)
__getattr__ = moved(__name__, dict.fromkeys(
    ("KINDS", "RESUMABLE", "config_from_run", "merge_config", "read_config_file"), "gan_core.config"))


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
    features: Sequence[Callback] | None = None,
    console: Console | None = None,
) -> Path:
    """Train (or continue) one run and return its directory: what ``gan train`` does, as a function.

    ``config`` is a TrainConfig or a mapping of settings (see
    :func:`settings_for`); ``callbacks`` follow the run (see
    :mod:`gan_core.callbacks`). ``features`` replaces the core's own
    callbacks (metrics.jsonl, grids, progress, evaluation: by default
    :func:`gan_core.features.default_features`). Bad input raises GanError
    before anything is written; Ctrl-C raises StopRequested after a checkpoint.
    """
    if not isinstance(config, TrainConfig):
        config = settings_for(config, config_file=config_file, resume=Path(resume) if resume else None,
                              init_from=init_from)
    with deterministic(config.deterministic):  # from before the networks' first CUDA work to the end
        session = TrainingSession(config, Path(resume) if resume else None, Path(init_from) if init_from else None,
                                  console or Console(stderr=True), list(callbacks), features)
        return session.run()


class TrainingSession:
    """One training: everything checked and built in ``__init__``, files written in ``run``.

    It is also what callbacks see as ``self.run``: ``path``, ``info``
    (run.json to be), ``config``, ``built`` (its networks), ``generator``,
    ``prior``, ``fixed`` (the grid's codes), ``step``, ``steps_per_epoch``,
    ``total``, ``writer``, ``callbacks`` (the dispatch), ``last_eval`` and ``best``.
    """

    def __init__(self, config: TrainConfig, resume: Path | None, init_from: Path | None, console: Console,
                 callbacks: Sequence[Callback] = (), features: Sequence[Callback] | None = None,
                 shared: Shared | None = None) -> None:
        self.config, self.console = config, console
        self.last_eval: dict[str, Any] | None = None
        #: set when this run is a member of a stacked group: its own training stream (see gan_core.stacking)
        self.member_generator: torch.Generator | None = None
        self.shared = shared
        if resume is not None:
            read_run(resume)  # a wrong path is refused before anything (a lock file) is made beside it
            out = resume
            self.lock = RunLock(out)  # before the run is read: another training could be checkpointing it
        else:
            out = _output_path(config)
        try:
            self._set_up(config, resume, init_from, out)
            chosen = list(default_features(config, console) if features is None else features)
            self.callbacks = Callbacks([*chosen, *callbacks])
            if self.trainer is not None:
                self.trainer.callbacks = self.callbacks
            if resume is None:  # only now, with the input checked, does anything appear on disk
                out.parent.mkdir(parents=True, exist_ok=True)
                self.lock = RunLock(out)
        except BaseException:
            if resume is not None:
                self.lock.release()
            raise
        try:
            if resume is None and out.exists() and (not out.is_dir() or any(out.iterdir())):
                raise GanError(f"{out} was written by another gan train meanwhile; choose another --out")
            self.writer = RunWriter(out, existing=resume is not None)
        except BaseException:
            self.lock.release()
            raise


    def _set_up(self, config: TrainConfig, resume: Path | None, init_from: Path | None, out: Path) -> None:
        previous = read_run(resume) if resume else None
        spec = RunSpec.from_config(config, saved=previous is not None)
        self.device = device = resolve_device(config.device)
        if init_from:
            read_run(init_from)

        sampler = construct(spec.chosen["sampler"])  # before seeding: a sampler's own layers must not shift G and D's init
        torch.manual_seed(config.seed)  # components may draw at construction (a mixture's fixed means)
        parts = spec.instantiate()
        if self.shared is not None:
            data = self.shared.load(spec.chosen["dataset"], parts.dataset, config.data_dir)
        else:
            data = load_data(parts.dataset, config.data_dir)  # type: ignore[arg-type]
        self.all_data = data
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
            if self.shared is not None:
                self.evaluator = self.shared.evaluator(config, spec.chosen["dataset"], device)
            else:
                self.evaluator = build_evaluator(config, spec.chosen["dataset"], device)

        self.built: BuiltRun = build_run(parts, data.shape, device)
        self.regulariser = perceptual_regulariser(config.perceptual, data.shape, device) if config.perceptual else None
        self.fixed: Latent = self.prior.sample(GRID_SIZE)  # the same codes for every sample grid of the run
        if init_from:
            _, tensors, _ = read_checkpoint(init_from)
            self.built.start_from(tensors[WEIGHTS_FILE], init_from)
        self.opt_g = make_optimizer(optim.optimizer, self.built.generator_parameters(), optim.lr_g, optim.betas)
        self.opt_d = make_optimizer(optim.optimizer, list(self.built.discriminator.parameters()), optim.lr_d, optim.betas)
        self.state = TrainState()
        if previous is not None:
            self.fixed = self._restore(resume)  # type: ignore[arg-type]

        self.parts, self.optim = parts, optim
        self.schedule = schedule = Schedule(config.batch_size, optim.d_steps, self.total, self.steps_per_epoch,
                                            config.log_every, config.checkpoint_every)
        self.run_info = _run_info(config, spec.chosen, optim, data, self.total, self.steps_per_epoch, device, init_from,
                                  previous, out, parts.prior.latent_dim)
        self.run_info["train"]["holdout"] = self.holdout
        if self.held_out:
            self.run_info["data"]["holdout"] = {"fraction": self.holdout, "images": self.held_out, "seed": config.seed}
        self.best: dict[str, Any] = dict((previous or {}).get("best") or {})
        if self.best:  # a resumed run keeps what --keep-best found so far in its run.json
            self.run_info["best"] = dict(self.best)
        self.trainer: Any = None if self.shared is not None else Trainer(  # a group's member: the group's engine
            self.built.generator, self.built.discriminator, self.prior, parts.loss, data.to(device), self.opt_g,
            self.opt_d, schedule, self.state, checkpoint=self.checkpoint, regulariser=self.regulariser,
        )

    # what callbacks read as self.run.*
    @property
    def path(self) -> Path:
        return self.writer.path

    @property
    def info(self) -> dict[str, Any]:
        return self.run_info

    @property
    def step(self) -> int:
        return self.state.step

    @property
    def generator(self) -> torch.nn.Module:
        return self.built.generator

    @property
    def prior(self) -> Any:
        return self.built.prior

    def checkpoint(self, step: int) -> None:
        tensors_g, info_g = optimizer_tensors("opt_g", self.opt_g)
        tensors_d, info_d = optimizer_tensors("opt_d", self.opt_d)
        trainer_state = {**self.rng_states(), "trainer.fixed_z": self.fixed.z}
        if self.state.order is not None:
            trainer_state["trainer.order"] = self.state.order
        if self.fixed.labels is not None:
            trainer_state["trainer.fixed_labels"] = self.fixed.labels
        info = self.run_info
        info["checkpoint"] = {"step": step, "epoch": round(step / self.steps_per_epoch, 4)}
        info["status"] = "finished" if step >= self.total else ("interrupted" if self.trainer.stop_requested else "running")
        info["updated"] = _now()
        self.writer.save_checkpoint(
            step, self.built.weights(), {**tensors_g, **tensors_d, **trainer_state},
            {"opt_g": info_g, "opt_d": info_d}, info,
        )
        self.callbacks.on_checkpoint(step, self.writer.path)

    def rng_states(self) -> dict[str, torch.Tensor]:
        """The training stream's state as the checkpoint saves it (a group's member: its own generator's)."""
        g = self.member_generator
        if g is None:
            states = {"trainer.rng_cpu": torch.get_rng_state()}
            if self.device.type == "cuda":
                states["trainer.rng_cuda"] = torch.cuda.get_rng_state(self.device)
            return states
        if self.device.type == "cuda":  # alone, it would draw nothing on the CPU while training
            return {"trainer.rng_cpu": self.cpu_rng_at_start, "trainer.rng_cuda": g.get_state()}
        return {"trainer.rng_cpu": g.get_state()}

    def run(self) -> Path:
        try:
            return self._run()
        finally:
            self.lock.release()

    def _run(self) -> Path:
        status, error = "failed", None
        try:
            self.start()
            self.trainer.run()
            status = "finished"
        except BaseException as exc:
            status, error = self.failed(exc)
            raise
        finally:
            self.end(status, error)
        self.fit_sampler(self.writer.path)  # after the progress display ended: fitting shows a progress of its own
        return self.writer.path

    def start(self) -> None:
        """Bind the callbacks and tell them the run starts."""
        self.callbacks.bind(self)
        self.callbacks.on_start(self.writer.final, self.run_info)

    def failed(self, exc: BaseException) -> tuple[str, BaseException]:
        """The status an exception ends the run with; a divergence is recorded (and its message completed)."""
        if isinstance(exc, (StopRequested, KeyboardInterrupt)):
            return "interrupted", exc
        if isinstance(exc, TrainingDiverged):
            writer = self.writer
            if writer.committed:  # the last good checkpoint stays as it is; run.json says why it ended
                self.run_info.update(status="diverged", diverged=exc.message, updated=_now())
                writer.update_info(self.run_info)
                exc.message += (f"; the last good checkpoint (step {self.run_info['checkpoint']['step']}) "
                                f"is kept in {writer.path}")
            else:
                exc.message += (" before its first checkpoint, so no run was written; "
                                "try lower learning rates or another loss")
            return "diverged", exc
        return "failed", exc

    def end(self, status: str, error: BaseException | None) -> None:
        """Tell the callbacks how the run ended, then drop a folder that never got a checkpoint."""
        writer = self.writer
        try:
            self.callbacks.on_end(writer.path, status, error)
        except Exception:
            if error is None:  # a callback's own failure must not hide the one that stopped training
                raise
        finally:
            writer.discard_if_uncommitted()  # after on_end: callbacks still see the folder they followed
        if status == "interrupted" and writer.committed:
            self.console.print(f"Interrupted: checkpoint saved at step {self.run_info['checkpoint']['step']} in "
                               f"{writer.path}; continue with --resume {writer.path}", soft_wrap=True)

    def fit_sampler(self, path: Path) -> None:
        """Fit the run's default sampler now (once), if it needs fitting, so sampling starts at once."""
        from .sampling import load_run, prepare_sampler

        sampler = self.config.sampler
        if not self.sampler.needs_fit:  # read on the instance: it may depend on the options
            return
        self.console.print(f"Fitting sampler '{sampler}'...")
        prepare_sampler(load_run(path, self.device), sampler, self.config.options.get("sampler"), self.config.data_dir,
                        self.console)

    def _restore(self, run: Path) -> Latent:
        """Load weights, optimisers and trainer state of ``run``; return the grid codes."""
        device = self.device
        info, tensors, metas = read_checkpoint(run, (WEIGHTS_FILE, OPTIM_FILE))
        self.built.load_weights(tensors[WEIGHTS_FILE], run)
        optim = tensors[OPTIM_FILE]
        optim_info = json.loads(metas[OPTIM_FILE].get("gan.optim", "{}"))
        load_optimizer(self.opt_g, "opt_g", optim, optim_info["opt_g"])
        load_optimizer(self.opt_d, "opt_d", optim, optim_info["opt_d"])
        self.state.step = info["checkpoint"]["step"]
        self.state.order = optim["trainer.order"].to(device) if "trainer.order" in optim else None
        torch.set_rng_state(optim["trainer.rng_cpu"])
        if device.type == "cuda" and "trainer.rng_cuda" in optim:
            torch.cuda.set_rng_state(optim["trainer.rng_cuda"], device)
        labels = optim.get("trainer.fixed_labels")
        return Latent(optim["trainer.fixed_z"].to(device), None if labels is None else labels.to(device))


class Shared:
    """What the members of a stacked group load once, not once each: the dataset and the evaluator."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._evaluators: dict[str, Any] = {}

    def load(self, chosen: Chosen, dataset: Any, data_dir: str | None) -> Any:
        key = json.dumps([chosen.record(), data_dir], sort_keys=True, default=str)
        if key not in self._data:
            self._data[key] = load_data(dataset, data_dir)
        return self._data[key]

    def evaluator(self, config: TrainConfig, dataset: Chosen, device: torch.device) -> Any:
        key = json.dumps([config.eval_every, config.eval_n, config.keep_best, config.options.get("metric"),
                          dataset.record(), config.data_dir, str(device)], sort_keys=True, default=str)
        if key not in self._evaluators:
            self._evaluators[key] = build_evaluator(config, dataset, device)
        return self._evaluators[key]


def build_evaluator(config: TrainConfig, dataset: Chosen, device: torch.device) -> Any:
    """The evaluator for --eval-every, built (and --keep-best checked) before training starts; None without it."""
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


def _output_path(config: TrainConfig) -> Path:
    if config.out:
        out = Path(config.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise GanError(f"{out} already exists; continue it with --resume {out} or choose another --out")
        return out
    return free_path(Path("runs") / f"{config.prior}-{config.loss}")


def free_path(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``... : the first that does not exist (a default output folder)."""
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def final_losses(path: Path) -> tuple[float, float] | None:
    """The last logged D and G losses of the run at ``path`` (its metrics.jsonl's last loss record), or None."""
    from .experiments.runindex import read_curves
    from .runs import METRICS_FILE

    for record in reversed(read_curves(path / METRICS_FILE).logs):
        if "d_loss" in record and "g_loss" in record:
            return record["d_loss"], record["g_loss"]
    return None


def next_steps(run: Path) -> str:
    """The commands that usually follow a training, for its last line."""
    quoted = shlex.quote(str(run))
    return f"gan sample {quoted} --n 64 --grid samples.png; gan eval {quoted}"


def trained_line(path: Path, seconds: float) -> str:
    """``gan train``'s last line: the run, its time, its final losses and what to run next."""
    losses = final_losses(path)
    said = f": d_loss {losses[0]:.3f}, g_loss {losses[1]:.3f}" if losses else ""
    return f"Trained {path} in {seconds:.1f} s{said}. Next: {next_steps(path)}"


def _device_name(device: torch.device) -> str:
    """The accelerator's model ("NVIDIA H100 80GB HBM3"), or the CPU's architecture."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.machine()})"


def _run_info(config, chosen: dict[str, Chosen], optim: Resolved, data, total, steps_per_epoch, device, init_from, previous, out, latent_dim) -> dict[str, Any]:
    train = config.to_dict()
    for key in (*(k.setting for k in run_kinds()), "options", "out"):  # components are recorded on their own
        train.pop(key)
    train.update(
        optimizer=optim.optimizer, lr_g=optim.lr_g, lr_d=optim.lr_d, betas=list(optim.betas), d_steps=optim.d_steps,
        steps=total, device_used=str(device), latent_dim=latent_dim,
        threads=torch.get_num_threads(),  # on a CPU, a seed gives the same run only with the same thread count
        device_name=_device_name(device),  # kernels, hence the last bits of a run, differ between GPU models
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
