"""``gan train --seeds N``: several runs of one configuration, stacked in one process when the components allow.

The group's folder holds one ordinary run per member, ``OUT/seed=K``, with
the same files as ``gan train --seed K --out OUT/seed=K`` would write, and
``group.json`` naming them, so ``gan train --resume OUT`` continues the
whole group and ``--resume OUT/seed=K`` one member alone.

When every component declares that it stacks (:attr:`Component.stacks`)
the members train as one stacked model (:mod:`gan_core.stacking`);
otherwise, or with ``--perceptual``, they train one after another, each
exactly as alone, and the reason is said once. (``gan train`` refuses
``--init-from`` with ``--seeds``.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from .callbacks import Callback
from .config import TrainConfig
from .errors import GanError

GROUP_FILE = "group.json"
GROUP_FORMAT = 1


def member_folder(seed: int) -> str:
    return f"seed={seed}"


def parse_seeds(text: str, first: int = 0) -> list[int]:
    """``"3"`` -> the 3 seeds from ``first``; ``"0,3,7"`` -> those seeds."""
    text = text.strip()
    try:
        if "," in text:
            seeds = [int(part) for part in text.split(",") if part.strip()]
        else:
            count = int(text)
            if count < 1:
                raise ValueError
            seeds = list(range(first, first + count))
    except ValueError:
        raise GanError(f"--seeds {text!r} is neither a count (--seeds 5) nor a list of seeds (--seeds 0,3,7)") from None
    if len(set(seeds)) != len(seeds) or any(s < 0 for s in seeds):
        raise GanError(f"--seeds {text!r} names a seed twice or a negative seed; give distinct seeds >= 0")
    return seeds


def is_group(path: Path) -> bool:
    return (path / GROUP_FILE).is_file()


def group_members(path: Path) -> list[Path]:
    """The member runs a group folder lists, in its order."""
    import json

    try:
        record = json.loads((path / GROUP_FILE).read_text())
        return [path / name for name in record["members"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GanError(f"{path / GROUP_FILE} cannot be read ({exc}); resume its members one by one with "
                       f"--resume {path}/seed=K") from None


def stack_refusal(config: TrainConfig) -> str | None:
    """Why runs of ``config`` cannot train stacked (one clause), or None when they can."""
    import torch

    from .build import RunSpec

    if config.perceptual:
        return "--perceptual's feature network does not stack yet"
    spec = RunSpec.from_config(config, kinds=("prior", "loss", "architecture"))
    with torch.random.fork_rng(devices=[]):  # a prior may draw when built (a static mixture's means)
        parts = spec.instantiate()
    for kind in ("prior", "loss", "architecture"):
        component = getattr(parts, kind)
        refusal = component.stack_refusal()
        if refusal is not None:
            return f"{kind} '{component.name}' cannot stack: {refusal}"
    return None


def shared_settings(config: TrainConfig) -> dict[str, Any]:
    """The settings the members of a group must share: all but the seed, the output, the learning rates and
    the values of the components' ``member_options``. Trials with equal ones can train as one group."""
    from . import kinds
    from .registry import get_registry

    values = dataclasses.asdict(config)
    for key in ("seed", "out", "lr_g", "lr_d"):
        values.pop(key)
    registry = get_registry()
    options: dict[str, Any] = {}
    for kind, table in config.options.items():
        setting = kinds.kind(kind).setting if kind in kinds.names() else None
        name = getattr(config, setting, None) if setting else None
        varying = set(registry.get(kind, name).cls.member_options) if name else set()
        options[kind] = {k: v for k, v in table.items() if k not in varying}
    values["options"] = {k: v for k, v in options.items() if v}
    return values


def check_same_configuration(configs: Sequence[TrainConfig]) -> None:
    first = shared_settings(configs[0])
    for config in configs[1:]:
        other = shared_settings(config)
        differ = sorted(k for k in first if first[k] != other[k] and k != "options")
        differ += sorted(f"-o {kind}.{key}" for kind in set(first["options"]) | set(other["options"])
                         for key in set(first["options"].get(kind, {})) | set(other["options"].get(kind, {}))
                         if first["options"].get(kind, {}).get(key) != other["options"].get(kind, {}).get(key))
        if differ:
            raise GanError(f"the runs of a group must share their settings but these differ: {', '.join(differ)}; "
                           "only the seed, the learning rates and the options a component lists in member_options "
                           "may differ: train them as separate groups")


def train_group(
    configs: Sequence[TrainConfig],
    out: Path | None,
    *,
    paths: Sequence[Path] | None = None,
    resume: bool = False,
    callbacks_for: Callable[[int], Sequence[Callback]] = lambda m: (),
    features_for: Callable[[int], Sequence[Callback] | None] | None = None,
    console: Console | None = None,
    capture: bool = True,
) -> list[Path]:
    """Train (or continue, ``resume=True``) the runs ``configs`` under ``out/seed=K``; their folders.

    ``capture=False`` keeps a CUDA step eager (it is captured as one CUDA
    graph by default). ``paths`` puts the members elsewhere (a sweep's trial folders), one per
    config; no group.json is written then (``out`` may be None).

    ``callbacks_for(m)`` gives member m's own callbacks (a callback follows
    one run); ``features_for(m)`` replaces its core features (by default
    every member has them all; a stacked group keeps the progress display
    of its first member only, which shows the group).
    """
    from .features import default_features

    console = console or Console(stderr=True)
    if not configs:
        raise GanError("a group needs at least one seed")
    check_same_configuration(configs)
    if paths is None:
        if out is None:
            raise GanError("a group needs its folder (out) or its members' folders (paths)")
        out = Path(out)
        paths = [out / member_folder(c.seed) for c in configs]
        if not resume and out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise GanError(f"{out} already exists; continue the group with --resume {out} or choose another --out")
    else:
        out = None
    paths = [Path(p) for p in paths]
    configs = [dataclasses.replace(c, out=str(p)) for c, p in zip(configs, paths)]
    if features_for is None:
        def features_for(m: int) -> list[Callback]:
            return default_features(configs[m], console)

    refusal = stack_refusal(configs[0])
    if refusal is not None:
        console.print(f"Training the {len(configs)} runs one after another: {refusal}.",
                      soft_wrap=True)
        return _one_after_another(configs, paths, resume, callbacks_for, features_for, console, out)
    if resume:  # members stacked together share a step counter: those at different steps continue as groups of their own
        from .runs import read_run

        by_step: dict[int, list[int]] = {}
        for m, path in enumerate(paths):
            by_step.setdefault(read_run(path)["checkpoint"]["step"], []).append(m)
        if len(by_step) > 1:
            console.print(f"The members stand at {len(by_step)} different steps; each step's members continue as a "
                          "stacked group of their own", soft_wrap=True)
            done: dict[int, Path] = {}
            for members in by_step.values():
                trained = _stacked([configs[m] for m in members], [paths[m] for m in members], resume,
                                   lambda i, ms=members: callbacks_for(ms[i]), lambda i, ms=members: features_for(ms[i]),
                                   console, None, capture)
                done.update(zip(members, trained))
            _write_group(out, configs, stacked=True)
            return [done[m] for m in range(len(configs))]
    return _stacked(configs, paths, resume, callbacks_for, features_for, console, out, capture)


def _write_group(out: Path | None, configs: Sequence[TrainConfig], stacked: bool) -> None:
    from .safefiles import atomic_write_json

    if out is None:
        return
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / GROUP_FILE, {
        "format": GROUP_FORMAT,
        "members": [member_folder(c.seed) for c in configs],
        "seeds": [c.seed for c in configs],
        "stacked": stacked,
    })


def _one_after_another(configs, paths, resume, callbacks_for, features_for, console, out) -> list[Path]:
    from .training import train

    _write_group(out, configs, stacked=False)
    done = []
    for m, (config, path) in enumerate(zip(configs, paths)):
        if resume and path.exists():
            from .runs import read_run

            info = read_run(path)
            if info.get("status") == "finished" and info["checkpoint"]["step"] >= info["train"]["steps"]:
                done.append(path)
                continue
        done.append(train(config, resume=path if resume and path.exists() else None,
                          callbacks=callbacks_for(m), features=features_for(m), console=console))
    return done


def _stacked(configs, paths, resume, callbacks_for, features_for, console, out, capture=True) -> list[Path]:
    import torch

    from .devices import deterministic
    from .stacking import stacked_trainer
    from .training import Shared, TrainingSession

    shared = Shared()
    sessions: list[TrainingSession] = []
    with deterministic(configs[0].deterministic):
        try:
            for m, (config, path) in enumerate(zip(configs, paths)):
                session = TrainingSession(config, path if resume else None, None, console, list(callbacks_for(m)),
                                          features_for(m), shared=shared)
                device = session.device
                # the member's stream starts where the global one stands when the same run trains alone
                if device.type == "cuda":
                    generator = torch.Generator(device)
                    generator.set_state(torch.cuda.get_rng_state(device))
                    session.cpu_rng_at_start = torch.get_rng_state()
                else:
                    generator = torch.Generator()
                    generator.set_state(torch.get_rng_state())
                session.member_generator = generator
                sessions.append(session)
            members = [_member(s) for s in sessions]
            first = sessions[0]
            trainer = stacked_trainer(
                first.built, first.parts, members, first.all_data.to(first.device), first.schedule,
                first.optim.optimizer, first.optim.betas,
                capture=capture, say=lambda text: console.print(f"Stacked group: {text}", soft_wrap=True),
            )
        except BaseException:
            for session in sessions:
                session.lock.release()
            raise
        _write_group(out, configs, stacked=True)
        _show_group(sessions, configs, out, console)
        try:
            return _run_group(sessions, trainer)
        finally:
            for session in sessions:
                session.lock.release()


def _show_group(sessions: list[Any], configs: Sequence[TrainConfig], out: Path | None, console: Console) -> None:
    """One progress display for the group (its first member's, which names the group), or one line without any."""
    from .features import ProgressDisplay

    where = f" in {out}" if out is not None else ""
    title = f"{len(sessions)} runs as one stacked group{where} ({', '.join(member_folder(c.seed) for c in configs)})"
    display = None
    for session in sessions:
        dispatch = session.callbacks.callbacks
        shown = [c for c in dispatch if isinstance(c, ProgressDisplay)]
        if display is None and shown:
            display = shown[0]
        dispatch[:] = [c for c in dispatch if not isinstance(c, ProgressDisplay) or c is display]
    if display is not None:
        display.group = title
    else:
        console.print(f"Training {title}", markup=False, highlight=False, soft_wrap=True)


def trained_group_line(out: Path, paths: Sequence[Path], seconds: float) -> str:
    """``gan train --seeds``'s last line: the group, its time, its members' final losses and what to run next."""
    import shlex

    from .training import final_losses

    losses = [pair for pair in map(final_losses, paths) if pair is not None]
    said = ""
    if len(losses) == 1:
        said = f": d_loss {losses[0][0]:.3f}, g_loss {losses[0][1]:.3f}"
    elif losses:
        said = ": " + ", ".join(
            f"{name} {sum(v) / len(v):.3f} ({min(v):.3f} to {max(v):.3f})"
            for name, v in (("d_loss", [d for d, _ in losses]), ("g_loss", [g for _, g in losses]))
        ) + f" over {len(losses)} runs"
    group = shlex.quote(str(out))
    return (f"Trained {len(paths)} runs in {out} in {seconds:.1f} s{said}. "
            f"Next: gan sample {shlex.quote(str(paths[0]))} --n 64 --grid samples.png; "
            f"for run in {group}/seed=*; do gan eval \"$run\"; done; gan compare {group}")


def _member(session: Any) -> Any:
    from .assembly import holdout_indices
    from .stacking import Member, member_modules, member_option_values

    built = session.built
    modules = member_modules(built)
    options = member_option_values({"prior": built.prior, "loss": session.parts.loss,
                                    "architecture": session.parts.architecture})
    train_index = None
    if session.holdout:
        train_index = holdout_indices(len(session.all_data), session.holdout, session.config.seed)[0].to(session.device)
    return Member(modules, session.opt_g, session.opt_d, session.member_generator, None, session.checkpoint,  # type: ignore[arg-type]
                  session.state, session.optim.lr_g, session.optim.lr_d, options, train_index)


def _run_group(sessions: list[Any], trainer: Any) -> list[Path]:
    from .errors import TrainingDiverged

    for session, member in zip(sessions, trainer.members):
        member.callbacks = session.callbacks
        session.trainer = trainer
    statuses: list[tuple[str, BaseException | None]] = [("failed", None)] * len(sessions)
    started: list[Any] = []
    try:
        for session in sessions:
            session.start()
            started.append(session)
        trainer.run()
        statuses = [("finished", None)] * len(sessions)
    except BaseException as exc:
        statuses = [session.failed(exc) if not isinstance(exc, TrainingDiverged) else ("failed", exc)
                    for session in sessions]
        raise
    finally:
        for m, (session, member) in enumerate(zip(sessions, trainer.members)):
            if member.diverged is not None:
                statuses[m] = session.failed(member.diverged)
            if session in started:
                session.end(*statuses[m])
            else:
                session.writer.discard_if_uncommitted()
    diverged = [(s, st[1]) for s, st in zip(sessions, statuses) if st[0] == "diverged"]
    for session, (status, _) in zip(sessions, statuses):
        if status == "finished":
            session.fit_sampler(session.writer.path)
    if diverged:
        raise diverged[0][1]  # type: ignore[misc]
    return [s.writer.path for s in sessions]
