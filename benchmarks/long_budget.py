"""Leaderboard rows at a longer budget, on one machine, inside a wall-clock window.

Why: the leaderboard (benchmarks/sweeps/leaderboard.toml) trains 5 mlp
epochs because that is what 2 CPU cores allow in hours. Issue 15 asks for the
same rows at a longer budget where a GPU is lent, but a GPU is lent for
minutes, not hours. So this script trains the chosen rows' trials all at
once, and instead of guessing how many epochs fit it measures:

1. every row starts with ``--epochs MAX``; after ``--probe`` seconds each
   process is interrupted (Ctrl-C: every run checkpoints where it is);
2. from each run's pace so far (run.json: steps between ``created`` and
   ``updated``) it picks the largest epoch count that *every* run reaches
   before the window closes, so rows are compared at an equal budget, and
   resumes each run to exactly that many epochs;
3. each run is evaluated on ``--final-n`` samples, plainly and through the
   post-hoc samplers its row names in the spec (``eval-samplers``).

A row's trials differ only in seed, so each row trains as one stacked group
(:mod:`gan_core.stacking`), as ``gan sweep`` packs them: one process per row
instead of one per trial, whose every step updates all the row's seeds at
once (each member is still an ordinary run, the run ``gan train --seed K``
trains, up to float rounding). Within a short window that matters twice: the
small mlp networks of one run leave a GPU mostly idle, and a process per
trial means a CUDA context, a copy of MNIST and a start-up each, so stacked
rows should reach more epochs in one window (``--separate`` measures it).
The members of a group share its pace, so the equal budget is set by the
slowest row. A row whose components cannot stack (``arch.dropout`` draws its
masks from the global generator) trains one process per seed instead, and
``--separate`` trains every row that way (one process per trial, as this
script did before stacking), to compare the two.

Trials are ordinary runs under ``OUT/trials/``, named as the sweep names
them, so ``gan compare OUT --samplers`` and ``gan report OUT`` read them.
Each training process is this script again (``--worker JOB.json``, the job
under ``OUT/logs/`` beside its log); Ctrl-C reaches it as it would ``gan
train``.

    python benchmarks/long_budget.py --out runs/long --device cuda --window 330 \\
        --row prior=normal --row prior=gm-dynamic --row loss=wgan-gp
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gan_core.experiments.sweep_spec import Trial, expand, spec_from_file, trial_settings
from gan_core.runs import read_run

SPEC = Path(__file__).parent / "sweeps" / "leaderboard.toml"
GAN = [sys.executable, "-m", "gan_core"]
WORKER = [sys.executable, str(Path(__file__).resolve()), "--worker"]
SEED_KEY = "seed"


def row_of(trial: Trial) -> str:
    """The trial's name without its seed: the row it belongs to."""
    return Trial({k: v for k, v in trial.assignments.items() if k != SEED_KEY}).readable


def settings_of(base: dict, trial: Trial, options: list[str], epochs: int, device: str, run: Path) -> dict[str, Any]:
    """One trial's settings as ``gan sweep`` gives them (the spec's base, the trial's assignments over it),
    with ``--train-option``'s options and this script's budget and device."""
    from gan_core.options import parse_assignments

    settings = trial_settings(base, trial.assignments)
    settings.pop("steps", None)
    for kind, table in parse_assignments(options).items():
        settings["options"].setdefault(kind, {}).update(table)
    return {**settings, "epochs": epochs, "device": device, "out": str(run)}


def stack_refusal(settings: dict[str, Any]) -> str | None:
    """Why a row with these settings cannot train stacked (see :func:`gan_core.group.stack_refusal`), or None."""
    from gan_core.config import settings_for
    from gan_core.group import stack_refusal as refusal

    return refusal(settings_for({k: v for k, v in settings.items() if k != "out"}))


def interrupt(procs: list[subprocess.Popen], grace: float) -> None:
    """Ctrl-C every process still running, then wait: each checkpoints where it is."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


def launch(jobs: dict[str, dict[str, Any]], logs: Path, phase: str) -> dict[str, subprocess.Popen]:
    """One worker process per job (by name): the job in ``logs/NAME.PHASE.json``, its output in ``logs/NAME.log``."""
    logs.mkdir(parents=True, exist_ok=True)
    procs = {}
    for name, job in jobs.items():
        file = logs / f"{name}.{phase}.json"
        file.write_text(json.dumps(job, indent=2))
        procs[name] = subprocess.Popen([*WORKER, str(file)], stdout=(logs / f"{name}.log").open("a"),
                                       stderr=subprocess.STDOUT)
    return procs


def equal_budget_epochs(runs: list[Path], seconds_left: float, max_epochs: int, safety: float) -> int:
    """The most epochs every run reaches in ``seconds_left`` at the pace it kept so far."""
    reachable = []
    done = []
    for run in runs:
        info = read_run(run)
        per_epoch = info["train"]["steps"] / info["train"]["epochs"]
        step = info["checkpoint"]["step"]
        elapsed = _seconds(info["updated"]) - _seconds(info["created"])
        pace = step / max(elapsed, 1e-3)
        reachable.append((step + safety * pace * seconds_left) / per_epoch)
        done.append(step / per_epoch)
    # every run must still be short of it: a run already there cannot be resumed to it
    return max(min(max_epochs, math.floor(min(reachable))), math.floor(max(done)) + 1)


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


def evaluate(jobs: list[list[str]], workers: int, logs: Path) -> list[int]:
    logs.mkdir(parents=True, exist_ok=True)

    def one(index_cmd: tuple[int, list[str]]) -> int:
        index, cmd = index_cmd
        with (logs / f"eval-{index:03d}.log").open("w") as log:
            log.write(" ".join(cmd) + "\n")
            log.flush()
            return subprocess.run(cmd, check=False, stdout=log, stderr=subprocess.STDOUT).returncode

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, enumerate(jobs)))


def worker(job_file: Path) -> None:
    """Train one job: ``runs`` as one stacked group (``stacked``) or the one run alone; new runs from
    ``settings``, or (no settings) each run resumed to ``epochs``. Ctrl-C: every run checkpoints, exit 130."""
    from rich.console import Console

    from gan_core.assembly import choose_all
    from gan_core.config import settings_for
    from gan_core.engine import StopRequested
    from gan_core.errors import ExitCode, GanError

    job = json.loads(job_file.read_text())
    runs = [Path(run) for run in job["runs"]]
    resume = job.get("settings") is None
    console = Console(stderr=True)
    started = time.perf_counter()
    try:
        if resume:
            configs = [settings_for({"epochs": job["epochs"]}, resume=run) for run in runs]
        else:
            configs = [settings_for(settings) for settings in job["settings"]]
        for config in configs:
            choose_all(config, saved=resume)  # what gan train refuses before training
        if job["stacked"]:
            from gan_core.group import train_group

            train_group(configs, None, paths=runs, resume=resume, console=console)
        else:
            from gan_core.training import train

            if len(runs) != 1:
                raise GanError(f"{job_file}: a job not stacked trains one run, not {len(runs)}")
            train(configs[0], resume=runs[0] if resume else None, console=console)
    except StopRequested:
        console.print(f"Stopped on request after {time.perf_counter() - started:.1f}s: {len(runs)} run(s) checkpointed")
        sys.exit(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:  # Ctrl-C while setting up (a probe shorter than start-up): nothing to checkpoint
        console.print(f"Interrupted after {time.perf_counter() - started:.1f}s, outside the training loop: "
                      "no checkpoint")
        sys.exit(ExitCode.INTERRUPTED)
    except GanError as exc:
        console.print(f"Error: {exc.message}", markup=False)
        sys.exit(exc.exit_code)
    console.print(f"Trained {len(runs)} run(s) in {time.perf_counter() - started:.1f}s")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        return worker(Path(sys.argv[2]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--row", action="append", required=True,
                        help="a row of the spec, as its trials are named without the seed (prior=normal)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--window", type=float, default=330, help="seconds for training, probe included")
    parser.add_argument("--probe", type=float, default=75, help="seconds before the pace is measured")
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--safety", type=float, default=0.85, help="fraction of the measured pace counted on")
    parser.add_argument("--final-n", type=int, default=10000)
    parser.add_argument("--eval-workers", type=int, default=8)
    parser.add_argument("--no-samplers", action="store_true", help="evaluate plainly only")
    parser.add_argument("--separate", action="store_true",
                        help="one process per trial, as before stacking (to compare with the stacked groups)")
    parser.add_argument("--train-option", action="append", default=[],
                        help="a further -o for every trial (dataset.limit=2000 for a quick check of this script)")
    args = parser.parse_args()

    spec, _ = spec_from_file(args.spec)
    trials = [t for t in expand(spec) if row_of(t) in args.row]
    missing = set(args.row) - {row_of(t) for t in trials}
    if missing:
        sys.exit(f"no row {sorted(missing)} in {args.spec}; rows are: {sorted({row_of(t) for t in expand(spec)})}")
    out = args.out
    (out / "trials").mkdir(parents=True, exist_ok=True)
    runs = {out / "trials" / t.id: t for t in trials}
    rows: dict[str, list[Path]] = {}
    for run, trial in runs.items():
        rows.setdefault(row_of(trial), []).append(run)
    timing: dict[str, Any] = {"trials": len(runs), "mode": "separate" if args.separate else "stacked"}

    # which rows train stacked: all but those a component refuses (asked once per row, as gan sweep does)
    settings = {run: settings_of(spec.base, t, args.train_option, args.max_epochs, args.device, run)
                for run, t in runs.items()}
    stacked: dict[str, bool] = {}
    for row, members in rows.items():
        refusal = None if args.separate else stack_refusal(settings[members[0]])
        if refusal is not None:
            print(f"{row}: one process per seed, {refusal}", flush=True)
        stacked[row] = not args.separate and refusal is None
    timing["stacked_rows"] = sum(stacked.values())
    started = time.monotonic()  # the window starts with the first training process

    def jobs_for(groups: dict[str, list[Path]], job: Any) -> dict[str, dict[str, Any]]:
        """One job per group of a stacked row (named as the group), one per run otherwise (named by the trial)."""
        jobs = {}
        for name, members in groups.items():
            if stacked[row_of(runs[members[0]])]:
                jobs[name] = {"runs": [str(m) for m in members], "stacked": True, **job(members)}
            else:
                jobs.update({m.name: {"runs": [str(m)], "stacked": False, **job([m])} for m in members})
        return jobs

    # 1. all at once, to the most epochs asked, until the probe ends
    fresh = {row: [m for m in members if not (m / "run.json").exists()] for row, members in rows.items()}
    fresh = {row: members for row, members in fresh.items() if members}
    procs = launch(jobs_for(fresh, lambda members: {"settings": [settings[m] for m in members]}), out / "logs", "probe")
    timing["probe_processes"] = len(procs)
    time.sleep(args.probe)
    interrupt(list(procs.values()), grace=60)
    timing["probe_s"] = round(time.monotonic() - started, 1)
    unstarted = sorted(run.name for run in runs if not (run / "run.json").exists())
    if unstarted:
        sys.exit(f"no checkpoint after the {args.probe:g}s probe for {unstarted} (see {out / 'logs'}); "
                 "a longer --probe lets each process start training first")

    # 2. the equal budget, and on to it
    left = args.window - (time.monotonic() - started) - 15  # a resumed process needs ~15 s to start
    epochs = equal_budget_epochs(list(runs), left, args.max_epochs, args.safety)
    timing["epochs"] = epochs
    print(f"equal budget: {epochs} epochs for {len(runs)} trials", flush=True)
    # a group steps its members together, so it resumes only members at one step (one group per row, after a probe)
    behind: dict[str, dict[int, list[Path]]] = {}
    for row, members in rows.items():
        for m in members:
            checkpoint = read_run(m)["checkpoint"]
            if checkpoint["epoch"] < epochs:
                behind.setdefault(row, {}).setdefault(checkpoint["step"], []).append(m)
    named = {row if len(at) == 1 else f"{row}@{step}": members
             for row, at in behind.items() for step, members in at.items()}
    procs = launch(jobs_for(named, lambda members: {"epochs": epochs}), out / "logs", "resume")
    timing["resume_processes"] = len(procs)
    hard_stop = started + args.window + 60
    while any(p.poll() is None for p in procs.values()) and time.monotonic() < hard_stop:
        time.sleep(2)
    interrupt(list(procs.values()), grace=60)
    timing["train_s"] = round(time.monotonic() - started, 1)
    reached = {run.name: read_run(run)["checkpoint"]["epoch"] for run in runs}
    short = {name: epoch for name, epoch in reached.items() if epoch < epochs}
    if short:
        print(f"not finished within the window (epochs reached): {short}", flush=True)
    timing["unfinished"] = len(short)

    # 3. evaluate: plainly, and through each row's post-hoc samplers
    # plain evaluations first, then sampler by sampler, the costliest (mh) last: a window cut short keeps most
    samplers = [] if args.no_samplers else sorted({s for t in runs.values() for s in t.eval_samplers},
                                                   key=lambda s: (s == "mh", s))
    jobs = []
    for sampler in [None, *samplers]:
        for run, trial in runs.items():
            if sampler is None or sampler in trial.eval_samplers:
                sampled = ["--sampler", sampler] if sampler else []
                jobs.append([*GAN, "eval", str(run), "--n", str(args.final_n), "--device", args.device, *sampled])
    codes = evaluate(jobs, args.eval_workers, out / "logs")
    timing["evals"] = len(jobs)
    timing["evals_failed"] = sum(1 for c in codes if c)
    timing["total_s"] = round(time.monotonic() - started, 1)
    (out / "long_budget.json").write_text(json.dumps({"rows": args.row, "device": args.device, **timing}, indent=2))
    print(json.dumps(timing), flush=True)


if __name__ == "__main__":
    main()
