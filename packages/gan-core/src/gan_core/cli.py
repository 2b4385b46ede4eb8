"""The ``gan`` command line: the one place that prints errors and picks exit codes.

The app is built from a plugin registry by :func:`make_app`, which adds the
core's commands and then each plugin's (``register_commands``); ``app``, the
console script's, is ``make_app()`` of the installed plugins. A test builds
one from a registry of its own to run a command plugin that is not installed.
"""

from __future__ import annotations

import functools
import os
import sys
import time
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer
from typer.core import TyperCommand, TyperGroup
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from .kinds import kind as kind_named, names as kind_names
from .errors import ExitCode, GanError
from .plugins import one_line
from .registry import Registry, get_registry, use_registry
from .runs import read_run
from .terminal import output_console

stdout = output_console()
err = Console(stderr=True)
_debug = {"on": bool(os.environ.get("GAN_DEBUG"))}


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Show GanErrors as one sentence (traceback with --debug); unexpected errors are internal."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GanError as exc:
            if _debug["on"]:
                err.print(traceback.format_exc(), markup=False, highlight=False)
            err.print(f"[bold red]Error:[/bold red] {escape(exc.message)}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from exc
        except KeyboardInterrupt:
            err.print("Interrupted.")
            raise typer.Exit(ExitCode.INTERRUPTED)
        except BrokenPipeError:
            _quiet_stdout()  # the reader stopped early (gan compare ... | head -1): its choice, not an error
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _stop_requested(exc):
                raise typer.Exit(ExitCode.INTERRUPTED) from None
            if _debug["on"] or os.environ.get("GAN_RAISE_ERRORS"):
                raise
            err.print(
                f"[bold red]Internal error:[/bold red] {escape(f'{type(exc).__name__}: {exc}')}; "
                "rerun with --debug for the traceback",
                soft_wrap=True,
            )
            raise typer.Exit(ExitCode.INTERNAL_ERROR) from exc

    return wrapper


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush into a closed pipe raises nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _stop_requested(exc: Exception) -> bool:
    """Whether ``exc`` is the training loop's stop after Ctrl-C (without importing the loop, and torch, to ask)."""
    engine = sys.modules.get(f"{__package__}.engine")
    return engine is not None and isinstance(exc, engine.StopRequested)


def _main_callback(registry: Registry | None) -> Callable[..., None]:
    """The options every command takes; a CLI built from its own registry uses it while a command runs."""

    def main_callback(
        ctx: typer.Context,
        debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    ) -> None:
        _debug["on"] = debug or bool(os.environ.get("GAN_DEBUG"))
        if registry is not None:
            ctx.with_resource(use_registry(registry))

    return main_callback


class _PlainHelp:
    """Help shown as written, with one style of type label, for every command (a plugin's too).

    Typer reads help texts as Rich markup, which took ``[sweep]`` or a typed-in
    ``[default: normal]`` for tags and dropped them: each text is escaped here,
    once, so help texts are plain text (no markup, no escaping by hand). A
    flag shows no type (Typer's ``<bool>`` invites ``--json true``); a value
    shows ``<int>``, ``<float>``, ``<str>``, ``<path>`` or its choices, also
    when it is bounded (the bounds follow, ``[x>=1]``) or repeatable (its help
    says so), where Typer writes ``<int range>`` or ``<list[Path]>``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for owner in (self, *self.params):  # type: ignore[attr-defined]
            for field in ("help", "short_help", "epilog"):
                if getattr(owner, field, None):
                    setattr(owner, field, escape(getattr(owner, field)))

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]  # --help among them
        for param in params:
            _label_type(param)
        return params


class _Command(_PlainHelp, TyperCommand):
    pass


class _Group(_PlainHelp, TyperGroup):
    pass


def _label_type(param: Any) -> None:
    """Give ``param`` the label :class:`_PlainHelp` describes (a Typer that labels types without ``display_type_rich``
    is left as it is: those label flags with nothing)."""
    typer_label = getattr(param, "display_type_rich", None)
    if typer_label is None or "display_type_rich" in vars(param):  # an older Typer, or labelled already
        return

    def label(ctx: Any) -> str | None:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            return None
        shown = typer_label(ctx)
        if shown is None or getattr(param, "metavar", None) is not None:  # a label the command chose
            return shown
        name = shown.strip("<>").removesuffix(" range")
        if name.startswith("list[") and name.endswith("]"):
            name = name[len("list["):-1]
        return f"<{name.lower() if name.isidentifier() else name}>"

    param.display_type_rich = label


@user_errors
def train(
    prior: Annotated[Optional[str], typer.Option(help="Latent prior (gan plugins: prior). [default: normal]")] = None,
    loss: Annotated[Optional[str], typer.Option(help="Adversarial loss. [default: vanilla]")] = None,
    arch: Annotated[Optional[str], typer.Option(help="Network architecture. [default: mlp]")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Training data. [default: mnist]")] = None,
    sampler: Annotated[Optional[str], typer.Option(help="Default sampler of the run, fitted after training. [default: none]")] = None,
    option: Annotated[Optional[list[str]], typer.Option("-o", "--option", help="Component option KIND.KEY=VALUE, e.g. -o prior.std=0.5 (repeatable).")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Passes over the data. [default: 1]")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Generator steps to train for, instead of --epochs.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Images per batch. [default: 64]")] = None,
    latent_dim: Annotated[Optional[int], typer.Option(help="Size of the latent code. [default: the prior's, 100 for most]")] = None,
    optimizer: Annotated[Optional[str], typer.Option(help="adam or rmsprop. [default: the loss's]")] = None,
    lr_g: Annotated[Optional[float], typer.Option(help="Generator learning rate. [default: the loss's, 2e-4]")] = None,
    lr_d: Annotated[Optional[float], typer.Option(help="Discriminator learning rate. [default: the loss's, 2e-4]")] = None,
    betas: Annotated[Optional[str], typer.Option(help="Adam betas as B1,B2. [default: the loss's, 0.5,0.999]")] = None,
    d_steps: Annotated[Optional[int], typer.Option(help="D steps per G step. [default: the loss's, 1]")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed: same seed, device and CPU threads, same run (on CUDA add --deterministic). [default: 0]")] = None,
    seeds: Annotated[Optional[str], typer.Option(help="Train a group: N runs from --seed on, or the seeds listed (0,3,7), each in OUT/seed=K, stacked in one model when the components allow.")] = None,
    device: Annotated[Optional[str], typer.Option(help="auto, cpu or cuda. [default: auto]")] = None,
    log_every: Annotated[Optional[int], typer.Option(help="Log losses every N steps (one host sync each). [default: 50]")] = None,
    checkpoint_every: Annotated[Optional[int], typer.Option(help="Checkpoint every N steps (0: each epoch). [default: 0]")] = None,
    eval_every: Annotated[Optional[int], typer.Option(help="Evaluate (FID, precision...) every N epochs into metrics.jsonl. [default: 0, never]")] = None,
    eval_n: Annotated[Optional[int], typer.Option(help="Images per evaluation during training. [default: 10000]")] = None,
    keep_best: Annotated[Optional[str], typer.Option(help="Keep the best checkpoint by this metric (e.g. fid) in RUN/best.")] = None,
    perceptual: Annotated[Optional[float], typer.Option(help="Add BETA x a perceptual feature-matching loss to G's loss (any loss). [default: 0, off]")] = None,
    holdout: Annotated[Optional[float], typer.Option(help="Keep this share of the training images away from D, for calibrating samplers. [default: what --sampler asks for, 0.1 for drs and mh, else 0]")] = None,
    deterministic: Annotated[bool, typer.Option("--deterministic", help="Deterministic kernels (cuDNN, cuBLAS, torch): the same run again on CUDA too, slower there. CPU runs are deterministic without it.")] = False,
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder holding the dataset files (searched first).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Run directory to create. [default: runs/PRIOR-LOSS]")] = None,
    config: Annotated[Optional[Path], typer.Option(help="TOML file of settings; flags given here win.")] = None,
    resume: Annotated[Optional[Path], typer.Option(help="Continue this run where it stopped.")] = None,
    init_from: Annotated[Optional[Path], typer.Option(help="Start from this run's G and D weights.")] = None,
    tensorboard: Annotated[Optional[Path], typer.Option(help="Also write losses and metrics for TensorBoard into this folder.")] = None,
) -> None:
    """Train a GAN: any prior with any loss, architecture and dataset."""
    from .callbacks import TensorBoardLogger

    from .options import parse_assignments
    from .assembly import choose_all
    from .config import settings_for

    cli = dict(
        prior=prior, loss=loss, arch=arch, dataset=dataset, sampler=sampler, epochs=epochs, steps=steps,
        batch_size=batch_size, latent_dim=latent_dim, optimizer=optimizer, lr_g=lr_g, lr_d=lr_d, betas=betas,
        d_steps=d_steps, seed=seed, device=device, log_every=log_every, checkpoint_every=checkpoint_every,
        eval_every=eval_every, eval_n=eval_n, keep_best=keep_best, perceptual=perceptual, holdout=holdout,
        deterministic=deterministic or None, data_dir=str(data_dir) if data_dir else None, out=str(out) if out else None,
        options=parse_assignments(option or []) or None,
    )
    from .group import is_group

    if resume is not None and is_group(resume) or seeds is not None:
        return _train_group(cli, seeds, config, resume, init_from, tensorboard)
    settings = settings_for(cli, config_file=config, resume=resume, init_from=init_from)
    choose_all(settings, saved=resume is not None)  # names and options refused here, before torch is imported
    from .training import train as run_training, trained_line
    callbacks = [TensorBoardLogger(tensorboard)] if tensorboard else []
    started = time.perf_counter()
    path = run_training(settings, resume=resume, init_from=init_from, callbacks=callbacks, console=err)
    stdout.print(trained_line(path, time.perf_counter() - started), markup=False, highlight=False, soft_wrap=True)


def _train_group(cli: dict, seeds: str | None, config: Path | None, resume: Path | None, init_from: Path | None,
                 tensorboard: Path | None) -> None:
    """``gan train --seeds``, or ``--resume`` of a group's folder: every member under OUT/seed=K."""
    import dataclasses

    from .assembly import choose_all
    from .callbacks import TensorBoardLogger
    from .config import settings_for
    from .group import group_members, member_folder, parse_seeds

    if resume is not None:
        if seeds is not None:
            raise GanError(f"--seeds cannot change the members of the group {resume}; resume it without --seeds")
        members = group_members(resume)
        configs = [settings_for(cli, config_file=config, resume=path) for path in members]
        out = resume
    else:
        if init_from is not None:
            raise GanError("--init-from starts one run from another; train the group without it, or each seed alone")
        base = settings_for(cli, config_file=config)
        configs = [dataclasses.replace(base, seed=seed) for seed in parse_seeds(seeds or "1", base.seed)]
        out = Path(base.out) if base.out else _group_path(base)
    for settings in configs:
        choose_all(settings, saved=resume is not None)
    from .group import train_group, trained_group_line

    callbacks_for = (lambda m: [TensorBoardLogger(tensorboard / member_folder(configs[m].seed))]) if tensorboard \
        else (lambda m: [])
    started = time.perf_counter()
    paths = train_group(configs, out, resume=resume is not None, callbacks_for=callbacks_for, console=err)
    stdout.print(trained_group_line(out, paths, time.perf_counter() - started), markup=False, highlight=False,
                 soft_wrap=True)


def _group_path(config: Any) -> Path:
    from .training import free_path

    return free_path(Path("runs") / f"{config.prior}-{config.loss}-seeds")


class Format(str, Enum):
    png = "png"
    npz = "npz"


@user_errors
def sample(
    run: Annotated[Path, typer.Argument(help="Run directory written by gan train.")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="Number of images.")] = 64,
    out_path: Annotated[Optional[Path], typer.Option("--out", help="Folder for PNGs, or the .npz file with --format npz.")] = None,
    format: Annotated[Optional[Format], typer.Option(help="png (one file per image) or npz (one array file). [default: from --out]")] = None,
    grid: Annotated[Optional[Path], typer.Option(help="Also write the first 100 images as one picture.")] = None,
    sampler: Annotated[Optional[str], typer.Option(help="Sampler plugin. [default: the run's]")] = None,
    option: Annotated[Optional[list[str]], typer.Option("-o", "--option", help="Sampler option sampler.KEY=VALUE (repeatable).")] = None,
    class_: Annotated[Optional[int], typer.Option("--class", help="Draw only from this prior component / class. [default: all]")] = None,
    sigma_scale: Annotated[float, typer.Option(min=0.0, help="Scale the prior's spread around each mode (below 1: fidelity over diversity).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    batch_size: Annotated[int, typer.Option(min=1, help="Images generated per batch.")] = 1000,
    max_proposals: Annotated[Optional[int], typer.Option(min=1, help="Give up after this many candidates (rejection samplers). [default: no limit]")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    data_dir: Annotated[Optional[Path], typer.Option(help="Dataset folder, for samplers that fit on real data.")] = None,
) -> None:
    """Draw images from a trained run as PNGs, one .npz file or a grid."""
    from .options import parse_assignments

    if out_path is None and grid is None:
        raise GanError("nothing to write: pass --out DIR (or --out FILE.npz) and/or --grid FILE.png")
    fmt = format or (Format.npz if out_path is not None and out_path.suffix == ".npz" else Format.png)
    if out_path is not None:
        if fmt is Format.npz and out_path.suffix != ".npz":
            out_path = out_path.with_suffix(".npz")
        if fmt is Format.png and out_path.exists() and (not out_path.is_dir() or any(out_path.iterdir())):
            raise GanError(f"{out_path} already exists and is not empty; choose another --out")
    options = parse_assignments(option or [])
    if set(options) - {"sampler"}:
        raise GanError("gan sample takes only sampler options (-o sampler.KEY=VALUE)")
    read_run(run)  # a wrong path or a corrupt run is refused before the model's libraries load
    _check_sampler(sampler, options.get("sampler"))
    import torch  # only now: the refusals above need no model

    from .devices import resolve_device
    from .sampling import check_component, draw, load_run, prepare_sampler, write_grid, write_npz, write_pngs

    loaded = load_run(run, resolve_device(device))
    check_component(loaded, class_)
    if sigma_scale != 1.0 and not loaded.model.prior.supports_spread:
        raise GanError(
            f"prior '{loaded.model.prior.name}' cannot scale its spread (it does not set supports_spread); "
            "drop --sigma-scale"
        )
    loaded.model.prior.spread = sigma_scale
    chosen_sampler = prepare_sampler(loaded, sampler, options.get("sampler"), str(data_dir) if data_dir else None, err)
    torch.manual_seed(seed)
    started = time.perf_counter()
    with Progress(console=err, transient=True) as progress:
        images, labels, proposals = draw(
            chosen_sampler, loaded.model, n, batch_size=batch_size, component=class_,
            max_proposals=max_proposals, progress=progress,
        )
    elapsed = time.perf_counter() - started
    if out_path is not None:
        write_npz(images, labels, out_path) if fmt is Format.npz else write_pngs(images, out_path)
    if grid is not None:
        write_grid(images, grid)
    written = ", ".join(str(p) for p in (out_path, grid) if p is not None)
    stdout.print(
        f"Sampled {n} images with '{chosen_sampler.name}' in {elapsed:.2f}s ({n / max(elapsed, 1e-9):,.0f} img/s, "
        f"acceptance {n / max(proposals, 1):.3f}) -> {written}"
    )


class Ref(str, Enum):
    test = "test"
    train = "train"


def _check_sampler(name: str | None, raw_options: dict[str, Any] | None) -> None:
    """A sampler named on the command line, and its options, refused before torch loads if wrong."""
    if name is None:
        return
    from .assembly import choose
    from .registry import get_registry

    choose(get_registry(), "sampler", name, raw_options)


@user_errors
def eval_(
    target: Annotated[Path, typer.Argument(help="A run directory, a folder of PNGs, or an .npz file.")],
    n: Annotated[int, typer.Option("--n", "-n", min=10, help="Generated images (and reference images) to compare.")] = 10_000,
    ref: Annotated[Ref, typer.Option(help="Real images to compare with.")] = Ref.test,
    metrics: Annotated[Optional[str], typer.Option(help="Comma-separated metric names, e.g. fid,kid. [default: all installed but kid]")] = None,
    features: Annotated[Optional[str], typer.Option(help="Feature network: mnist, mnist-resnet, fashion-mnist or inception; one not the run's dataset's own writes RUN/evals/SAMPLER@NAME.json only. [default: the dataset's]")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Real dataset, for folders and .npz files. [default: mnist; a run's own]")] = None,
    sampler: Annotated[Optional[str], typer.Option(help="Sampler for a run. [default: the run's]")] = None,
    option: Annotated[Optional[list[str]], typer.Option("-o", "--option", help="Sampler option sampler.KEY=VALUE, or metric option metric.KEY=VALUE (to every chosen metric that has KEY); repeatable.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for generating; with --repeats, draw i uses seed + i (and picks its real subset by it).")] = 0,
    repeats: Annotated[int, typer.Option(min=1, help="Independent evaluation draws, reported as mean, std and range: a run draws fresh images and a fresh subset of n real ones per draw (the whole reference set when n covers it); a folder or .npz needs REPEATS x n images and scores disjoint sets of n (the first n, the next n...).")] = 1,
    batch_size: Annotated[int, typer.Option(min=1, help="Images generated per batch.")] = 1000,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder holding the real dataset's files.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON instead of a table.")] = False,
    out_path: Annotated[Optional[Path], typer.Option("--out", help="Also write the result to this JSON file.")] = None,
) -> None:
    """Evaluate generated images: FID, precision, recall, density, coverage, classes, classifier score (is); KID when named."""
    import json

    from .options import parse_assignments

    options = parse_assignments(option or [])
    if set(options) - {"sampler", "metric"}:
        raise GanError("gan eval takes only sampler and metric options (-o sampler.KEY=VALUE, -o metric.KEY=VALUE)")
    from .runs import RUN_FILE
    from .safefiles import atomic_write_json

    is_run = target.is_dir() and (target / RUN_FILE).is_file()
    if not is_run and not target.is_dir() and not (target.suffix == ".npz" and target.is_file()):
        what = "there is nothing at" if not target.exists() else "nothing gan eval reads is at"
        raise GanError(f"{what} {target}; pass a run directory, a folder of images or an .npz file")
    if is_run:
        read_run(target)  # a corrupt run.json is refused before the model's libraries load
        _check_sampler(sampler, options.get("sampler"))
    from .devices import resolve_device  # only now: the refusals above need no model
    from .evaluation.evaluate import MIN_IMAGES, Evaluator, Protocol, read_image_folder, read_npz, summarise_draws

    torch_device = resolve_device(device)
    protocol = Protocol(
        n=n, ref=ref.value, features=features, dataset=dataset,
        metrics=tuple(m.strip() for m in metrics.split(",") if m.strip()) if metrics else (),
        data_dir=str(data_dir) if data_dir else None, metric_options=dict(options.get("metric", {})),
    )
    written: list[Path] = []
    if is_run:
        from .evaluation.run_eval import eval_files, evaluate_run

        if dataset is not None:
            raise GanError("a run is evaluated against its own dataset; drop --dataset")
        report = evaluate_run(target, protocol, torch_device, sampler=sampler, sampler_options=options.get("sampler"),
                              seed=seed, repeats=repeats, batch_size=batch_size, console=err)
        written = eval_files(target, protocol, report["sampler"])
    else:
        if sampler or "sampler" in options:
            raise GanError(f"--sampler and -o sampler.* apply to runs only, not to {target}")
        started = time.perf_counter()
        read = read_image_folder if target.is_dir() else read_npz
        images = read(target, n * repeats)
        if repeats > 1 and len(images) < n * repeats:
            fewer = f"lower --n to {len(images) // repeats} or --repeats, or " if len(images) // repeats >= MIN_IMAGES else ""
            raise GanError(f"{target} holds {len(images)} images, and --repeats {repeats} scores {repeats} disjoint sets "
                           f"of --n {n}, {n * repeats} images; {fewer}write more images")
        if len(images) < MIN_IMAGES:  # --n is at least MIN_IMAGES, so the file itself is short
            raise GanError(f"{target} holds only {len(images)} images and metrics need at least {MIN_IMAGES}; "
                           f"write more (gan sample RUN --n 10000 --out {target})")
        evaluator = Evaluator(protocol, torch_device)
        draws = [evaluator.evaluate(images[:n], str(target))]  # one draw: exactly the images a plain evaluation reads
        for i in range(1, repeats):
            draws.append(evaluator.evaluate(images[i * n:(i + 1) * n], str(target), evaluator.reference_draw(seed + i)))
        report = {"target": str(target), "n": min(len(images), n), **summarise_draws(draws), **evaluator.describe()}
        if repeats > 1:
            report.update(seed=seed, repeats=repeats, reference_resampled=evaluator.reference_resampled)
        report["seconds"] = round(time.perf_counter() - started, 2)
    values = report["metrics"]
    if out_path is not None:
        atomic_write_json(out_path, report)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    table = Table(title=f"{target}: {report['n']} images vs {report['n_reference']} {report['ref']} ({report['features']['name']} features)")
    spread = "draws" in report

    def shown(value: float) -> str:
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"

    for column in ("metric", "mean", "eval std", f"range of {repeats}", "better") if spread else ("metric", "value", "better"):
        table.add_column(column)
    for key, value in values.items():
        better = report["directions"].get(key, "")
        if spread:
            low, high = min(report["draws"][key]), max(report["draws"][key])
            table.add_row(key, shown(value), shown(report["eval_std"][key]), f"{shown(low)} to {shown(high)}", better)
        else:
            table.add_row(key, shown(value), better)
    stdout.print(table)
    if spread:
        fresh = (f"a fresh subset of {report['n_reference']} real images each" if report["reference_resampled"] else
                 f"the whole {report['ref']} set ({report['n_reference']} images) in each, so only the generated side varies")
        drawn = (f"seeds {seed} to {seed + repeats - 1}" if is_run
                 else f"disjoint sets of {report['n']} images of {target}")
        stdout.print(f"{repeats} evaluation draws ({drawn}), {fresh}; the std is evaluation noise, apart from training's")
    if is_run:
        note = "" if len(written) > 1 else f" only ({report['features']['name']} features are not the dataset's own, so eval.json is left as it was)"
        stdout.print(
            f"sampler '{report['sampler']}', acceptance {report['acceptance']:.3f}, {report['images_per_s']:,.0f} img/s; "
            f"written to {' and '.join(str(p) for p in written)}{note}", soft_wrap=True,  # paths whole, to copy
        )


@user_errors
def inspect(
    run: Annotated[Path, typer.Argument(help="Run directory written by gan train (its weights are needed only for what the components learned).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, under stable keys, instead of text.")] = False,
) -> None:
    """Show a run's settings (lr, betas, batch size, seed, budget, progress), components, results, what they learned."""
    import json

    from .inspection import inspect_run

    report = inspect_run(run)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    _print_settings(report)
    _print_components(report)
    _print_results(report)
    for kind, values in (report["learned"] or {}).items():
        if not values:
            continue
        record = report["components"][kind]
        _print_pairs(f"{kind} '{record['name']}' learned", values)
    for name, fit in (report["fitted_samplers"] or {}).items():
        options = " ".join(f"{k}={json.dumps(v)}" for k, v in fit["options"].items())
        _print_pairs(f"sampler '{name}' fitted ({fit['package']} {fit['version']}){': ' + options if options else ''}",
                     {"fitted on": fit["fitted_on"], **fit["learned"]})
    if report["not_shown"]:
        stdout.print(f"Not shown: {escape(report['not_shown'])}.", soft_wrap=True)


def _number(value: Any) -> str:
    """A setting or metric as a researcher writes it: 0.0002, 37.0154, 4215."""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if 1e-3 <= abs(value) < 1000 else f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_number(v) for v in value)
    return "not recorded" if value is None else str(value)


def _print_pairs(title: str, rows: dict[str, Any]) -> None:
    import json

    table = Table(title=escape(title), show_header=False, title_justify="left", box=None, padding=(0, 2, 0, 2))
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value")
    for key, value in rows.items():
        shown = value if isinstance(value, str) else \
            json.dumps(value) if isinstance(value, (dict, list)) else _number(value)
        table.add_row(escape(str(key)), escape(shown))
    stdout.print(table)


def _print_settings(report: dict[str, Any]) -> None:
    train, data = report["training"], report["data"]
    per_epoch = f", {train['steps_per_epoch']} steps each" if train["steps_per_epoch"] else ""
    device, name = str(train["device"]), train["device_name"]
    if name:  # "cpu (x86_64)" names the device already; "NVIDIA H100" does not
        device = name if name.startswith(device) else f"{device} ({name})"
    rows = {
        "status": report["status"],
        "steps done": f"{_number(train['steps_done'])} of {_number(train['steps'])} "
                      f"(epoch {_number(train['epochs_done'])} of {_number(train['epochs'])}{per_epoch})",
        "optimizer": f"{train['optimizer']}, lr-g {_number(train['lr_g'])}, lr-d {_number(train['lr_d'])}, "
                     f"betas {_number(train['betas'])}, d-steps {_number(train['d_steps'])}",
        "batch size": train["batch_size"],
        "seed": train["seed"],
        "latent dim": train["latent_dim"],
        "device": f"{device}, " + (f"{train['threads']} threads" if train["threads"] else "threads not recorded")
                  + (", deterministic" if train["deterministic"] else ""),
        "data": f"{data['dataset']} {'x'.join(str(d) for d in data['shape'] or [])}, {_number(data['images'])} "
                "training images" + (f", {data['held_out']} held out" if data["held_out"] else ""),
    }
    if train["perceptual"]:
        rows["perceptual"] = train["perceptual"]
    if train["init_from"]:
        rows["init from"] = train["init_from"]
    if report["best"]:
        best = report["best"]
        rows["best"] = f"{best.get('metric')} {_number(best.get('value'))} at step {best.get('step')} (in best/)"
    _print_pairs(f"run {report['run']}", rows)


def _print_components(report: dict[str, Any]) -> None:
    import json

    rows = {kind: " ".join([f"{c['name']} ({c['package']} {c['version']})",
                            *(f"{k}={json.dumps(v)}" for k, v in c["options"].items())])
            for kind, c in report["components"].items()}
    _print_pairs("components", rows)


def _print_results(report: dict[str, Any]) -> None:
    """The final evaluation (eval.json) and the curves' last point (metrics.jsonl) side by side, one metric a row."""
    final, curve = report["evaluation"], report["curves"]
    if final is None and curve is None:
        stdout.print("No evaluation yet: gan eval RUN writes eval.json, gan train --eval-every N the curves.")
        return
    table = Table(show_header=True, title_justify="left", box=None, padding=(0, 2, 0, 2), title="results")
    table.add_column("metric", style="bold")
    columns = [(f"final, step {final['step']}", final["metrics"])] if final else []
    if curve:
        columns.append((f"curve, step {curve['step']}", curve["metrics"]))
    for heading, _ in columns:
        table.add_column(heading, justify="right")
    table.add_column("better")
    directions = final["directions"] if final else {}
    for metric in dict.fromkeys(k for _, values in columns for k in values):
        table.add_row(escape(metric), *(_number(values.get(metric, "")) for _, values in columns),
                      directions.get(metric, ""))
    stdout.print(table)
    if final:
        stale = "" if final["current"] else f" (an older checkpoint: gan eval {report['run']} scores this one)"
        others = [s for s in report["evaluated_samplers"] if s != final["sampler"]]
        also = f"; other samplers in evals/: {', '.join(others)} (gan compare --samplers)" if others else ""
        stdout.print(escape(
            f"final: eval.json at step {final['step']}{stale}, sampler '{final['sampler']}', {final['n']} images vs "
            f"{final['n_reference']} {final['reference']}, {final['features']} features{also}"), soft_wrap=True)
    if curve:
        stdout.print(escape(f"curve: the last of {curve['evaluations']} evaluations during training in metrics.jsonl "
                            f"(epoch {_number(curve['epoch'])})"), soft_wrap=True)


@user_errors
def plugins_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (components, feature networks, failures) for scripts.")] = False,
) -> None:
    """List every installed component (kind, package, version, whether it stacks) and the plugins that failed to load."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from .api_version import PLUGIN_API_VERSION
    from .registry import get_registry

    registry = get_registry()
    stacking = {(e.kind, e.name): _stacking(e) for e in registry.all()}
    if as_json:
        print(json.dumps({
            "plugin_api": PLUGIN_API_VERSION,
            "components": [{"kind": e.kind, "name": e.name, "package": e.package, "version": e.version,
                            "plugin": e.plugin, "summary": e.cls.summary(),
                            # None for the kinds that do not train (samplers, metrics, datasets)
                            "stacks": stacking[(e.kind, e.name)][0], "stack_refusal": stacking[(e.kind, e.name)][1]}
                           for e in registry.all()],
            "feature_networks": [{"name": n.name, "package": n.package, "version": n.version}
                                 for n in registry.feature_networks().values()],
            "failures": [{"plugin": f.plugin, "package": f.package, "error": f.error} for f in registry.failures],
        }, indent=2))
        return
    table = Table(title="gan plugins")
    for column in ("kind", "name", "package", "stacks", "summary"):
        table.add_column(column, no_wrap=column != "summary")  # a narrow terminal wraps the summary, never a name
    for entry in registry.all():
        stacks = stacking[(entry.kind, entry.name)][0]
        table.add_row(entry.kind, entry.name, f"{entry.package} {entry.version}", {True: "yes", False: "no"}.get(stacks, ""),
                      escape(entry.cls.summary()))
    stdout.print(table)
    networks = ", ".join(f"{n.name} ({n.package})" for n in registry.feature_networks().values())
    stdout.print(f"gan plugin API {PLUGIN_API_VERSION}; feature networks: {networks or 'none'}")
    if registry.failures:  # one line each, unwrapped: the error is the point
        stdout.print("[bold red]plugins that failed to load[/bold red] (the rest work):")
        for failure in registry.failures:
            stdout.print(f"  {escape(failure.plugin)} ({escape(failure.package)}): {escape(failure.error)}", soft_wrap=True)


@user_errors
def plugins_show(name: Annotated[str, typer.Argument(help="Component name, e.g. vanilla or mlp.")]) -> None:
    """Show one component's options, defaults, what it requires, and whether it stacks or why not."""
    import difflib

    from .options import describe_options
    from .registry import get_registry

    registry = get_registry()
    entries = registry.find(name)
    if not entries:
        every = sorted({e.name for e in registry.all()})
        close = difflib.get_close_matches(name, every, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise GanError(f"no component is named '{name}'; {hint}run 'gan plugins' to list them")
    for entry in entries:
        cls = entry.cls
        stdout.print(f"[bold]{entry.name}[/bold] ({entry.kind}) from {entry.package} {entry.version}: {escape(cls.summary())}")
        requires, provides, instance = _declarations(entry)
        for need, why in requires.items():
            stdout.print(f"  requires {need}: {escape(why)}")
        for capability in sorted(provides):
            stdout.print(f"  provides {capability}")
        stacks, refusal = _stacking(entry, instance)
        prefix = kind_named(entry.kind).prefix
        if stacks:
            differ = ", ".join(f"{prefix}.{o}" for o in cls.member_options)
            stdout.print("  stacks: yes, gan train --seeds N trains its runs as one stacked model"
                         + (f"; the runs of a group may differ in {differ}" if differ else ""))
        elif stacks is not None:
            stdout.print(f"  stacks: no, {escape(refusal or '')}; gan train --seeds N trains its runs one after another")
        rows = describe_options(cls.Options)
        if not rows:
            stdout.print("  no options")
            continue
        table = Table(show_header=True)
        for column in ("option", "type", "default", "bounds", "help"):
            table.add_column(column)
        for row in rows:
            table.add_row(f"{prefix}.{row.name}", row.type_name, repr(row.default), row.bounds, escape(row.help))
        stdout.print(table)


def _declarations(entry: Any) -> tuple[dict[str, str], frozenset[str], Any]:
    """What a component requires and provides with its default options (they may depend on options), and that instance.

    The instance is None for a component that cannot be built alone (it needs a run).
    """
    from .assembly import construct, Chosen

    cls = entry.cls
    try:
        instance = construct(Chosen(entry, cls.Options()))
        return dict(instance.requires), frozenset(instance.provides()), instance
    except Exception:  # a component that cannot be built alone (it needs a run): its class declarations
        requires = cls.requires if isinstance(cls.requires, dict) else {}
        return dict(requires), frozenset(cls.provided), None


def _stacking(entry: Any, instance: Any = None) -> tuple[bool | None, str | None]:
    """Whether the component trains stacked (``gan train --seeds``), and why not: ``instance.stack_refusal()``.

    ``(None, None)`` for the kinds that do not train (samplers, metrics,
    datasets). Without ``instance`` (the listing, which builds no component:
    building one may load torch), the class's declaration, ``stacks``; an
    option may still refuse (mlp's dropout), which ``gan plugins show`` says,
    asking an instance with the default options.
    """
    from .components import Component
    from .kinds import weight_kinds

    if entry.kind not in weight_kinds():  # the kinds a training step runs (prior, loss, architecture)
        return None, None
    try:
        # the default stack_refusal reads only the declaration, so the class can stand for an instance
        refusal = instance.stack_refusal() if instance is not None else Component.stack_refusal(entry.cls)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - a listing must not fail on one component
        refusal = f"its stack_refusal() raised {one_line(exc)}"
    return refusal is None, refusal


#: the kinds ``gan plugin new --kind`` offers: every kind of gan_core.kinds
Kind = Enum("Kind", {name: name for name in kind_names()}, type=str)  # type: ignore[misc]


@user_errors
def plugin_new(
    name: Annotated[str, typer.Argument(help="Component name, e.g. zz: the package is gan-zz, the module gan_zz.")],
    kind: Annotated[Kind, typer.Option(help="What the component is.")],
    out: Annotated[Optional[Path], typer.Option(help="Folder to create. [default: ./gan-NAME]")] = None,
) -> None:
    """Write a plugin package skeleton: pyproject with the entry point, one component, a conformance test, a README."""
    from .scaffold import write_skeleton

    path = write_skeleton(name, kind.value, out)
    stdout.print(f"Wrote {path}: pip install -e {path} && pytest {path}")


class _PluginApp:
    """What ``register_commands`` receives: the app, with commands wrapped like the core's own.

    A plugin's ``GanError`` then prints one sentence and exits 2, and Ctrl-C
    and unexpected errors are handled as for every built-in command.
    Commands are staged and added only when the whole hook succeeded (all or
    none), and a name that is taken (``train``, or another plugin's command)
    is refused.
    """

    def __init__(self, typer_app: typer.Typer, taken: set[str], plugin: str, registry: Registry) -> None:
        self._app = typer_app
        self._taken = taken
        self._plugin = plugin
        self._registry = registry
        self.staged: list[tuple[str, tuple[Any, ...], dict[str, Any], Callable[..., Any]]] = []

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def stage(func: Callable[..., Any]) -> Callable[..., Any]:
            name = (args[0] if args else kwargs.get("name")) or func.__name__.replace("_", "-")
            if name in self._taken or any(name == staged[0] for staged in self.staged):
                raise ValueError(f"command '{name}' is already taken; built-in commands cannot be replaced, rename it")
            self.staged.append((name, args, kwargs, func))
            return func

        return stage

    def add_to_app(self) -> None:
        for name, args, kwargs, func in self.staged:
            command = self._app.command(*args, **{"cls": _Command, **kwargs})
            command(user_errors(_unless_refused(self._registry, self._plugin, func)))
            self._taken.add(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)


def _unless_refused(registry: Registry, plugin: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """The command, refused with the reason when its plugin's components were refused (all or none)."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        failure = registry.failure_of(plugin)
        if failure is not None:
            raise GanError(f"this command comes from plugin '{plugin}' ({failure.package}), which was not loaded: {failure.error}")
        return func(*args, **kwargs)

    return guarded


def _command_names(typer_app: typer.Typer) -> set[str]:
    names = {c.name or c.callback.__name__.replace("_", "-") for c in typer_app.registered_commands if c.callback}
    return names | {g.name for g in typer_app.registered_groups if g.name}


def add_plugin_commands(typer_app: typer.Typer, registry: Registry) -> None:
    """Let the registry's plugins add sub-commands; one that fails is refused with the reason, adds none, and keeps no component."""
    manager = registry.manager
    taken = _command_names(typer_app)
    for plugin_name in manager.implementers("register_commands"):
        staging = _PluginApp(typer_app, taken, plugin_name, registry)
        try:
            manager.call("register_commands", plugin_name, app=staging)
        except Exception as exc:
            registry.refuse(plugin_name, one_line(exc))
            continue
        staging.add_to_app()


from .experiments.compare_command import compare as compare_command  # noqa: E402 - the core's commands, defined before plugins'
from .experiments.report import report as report_command  # noqa: E402
from .experiments.sweep_command import sweep as sweep_command  # noqa: E402


def make_app(registry: Registry | None = None) -> typer.Typer:
    """The ``gan`` app: the core's commands, then those of the registry's plugins.

    ``registry`` None means the process default (:func:`get_registry`): its
    plugins' commands are added now, and every command looks components up in
    whatever the default is when it runs (``gan_core.testing.plugin_registered``
    swaps it). Given a registry, the app uses that one while a command runs,
    so a test can build the CLI of a plugin that is not installed.
    """
    typer_app = typer.Typer(
        name="gan",
        help="A plugin-based workbench for GAN research on small images.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        cls=_Group,
    )
    typer_app.callback()(_main_callback(registry))
    typer_app.command(cls=_Command)(train)
    typer_app.command(cls=_Command)(sample)
    typer_app.command("eval", cls=_Command)(eval_)
    typer_app.command(cls=_Command)(inspect)
    plugins_app = typer.Typer(help="List installed plugin components, or show one's options.",
                              invoke_without_command=True, cls=_Group)
    plugins_app.callback()(plugins_list)
    plugins_app.command("show", cls=_Command)(plugins_show)
    typer_app.add_typer(plugins_app, name="plugins")
    plugin_app = typer.Typer(help="Write a new plugin package.", no_args_is_help=True, cls=_Group)
    plugin_app.command("new", cls=_Command)(plugin_new)
    typer_app.add_typer(plugin_app, name="plugin")
    typer_app.command("sweep", cls=_Command)(user_errors(sweep_command))
    typer_app.command("compare", cls=_Command)(user_errors(compare_command))
    typer_app.command("report", cls=_Command)(user_errors(report_command))
    add_plugin_commands(typer_app, registry if registry is not None else get_registry())
    return typer_app


#: the console script's app, from the installed plugins
app = make_app()


def main() -> None:
    app(prog_name="gan")
