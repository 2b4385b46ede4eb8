"""Leaderboard rows at a longer budget, on one machine, inside a wall-clock window.

Why: the leaderboard (benchmarks/sweeps/leaderboard.toml) trains 5 mlp
epochs because that is what 2 CPU cores allow in hours. Issue 15 asks for the
same rows at a longer budget where a GPU is lent, but a GPU is lent for
minutes, not hours. So this script trains the chosen rows' trials all at
once, and instead of guessing how many epochs fit it measures:

1. every trial starts with ``--epochs MAX``; after ``--probe`` seconds each
   is interrupted (Ctrl-C: it checkpoints where it is);
2. from each run's pace so far it picks the largest epoch count that *every*
   trial reaches before the window closes, so rows are compared at an equal
   budget, and resumes each run to exactly that many epochs;
3. each run is evaluated on ``--final-n`` samples, plainly and through the
   post-hoc samplers its row names in the spec (``eval-samplers``).

Trials are ordinary runs under ``OUT/trials/``, named as the sweep names
them, so ``gan compare OUT --samplers`` and ``gan report OUT`` read them.

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

from gan_core.experiments.sweep_spec import EVAL_SAMPLERS, Trial, expand, spec_from_file
from gan_core.runs import read_run

SPEC = Path(__file__).parent / "sweeps" / "leaderboard.toml"
GAN = [sys.executable, "-m", "gan_core"]
SEED_KEY = "seed"


def row_of(trial: Trial) -> str:
    """The trial's name without its seed: the row it belongs to."""
    return Trial({k: v for k, v in trial.assignments.items() if k != SEED_KEY}).readable


def train_args(base: dict, trial: Trial) -> list[str]:
    """``gan train`` flags for one trial: the spec's base with the trial's assignments over it."""
    settings = {k: v for k, v in base.items() if k not in ("options", EVAL_SAMPLERS, "epochs")}
    settings.update(trial.assignments)
    args: list[str] = []
    for key, value in settings.items():
        if "." in key:
            args += ["-o", f"{key}={value}"]
        else:
            args += [f"--{key}", str(value)]
    return args


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


def launch(commands: dict[Path, list[str]], logs: Path) -> dict[Path, subprocess.Popen]:
    logs.mkdir(parents=True, exist_ok=True)
    return {run: subprocess.Popen(cmd, stdout=(logs / f"{run.name}.log").open("a"), stderr=subprocess.STDOUT)
            for run, cmd in commands.items()}


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


def main() -> None:
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
    started = time.monotonic()
    timing: dict[str, float | int] = {"trials": len(runs)}

    # 1. all at once, to the most epochs asked, until the probe ends
    fresh = {run: [*GAN, "train", *train_args(spec.base, t), "--epochs", str(args.max_epochs), "--device",
                   args.device, "--out", str(run), *[a for o in args.train_option for a in ("-o", o)]] for run, t in runs.items() if not (run / "run.json").exists()}
    procs = launch(fresh, out / "logs")
    time.sleep(args.probe)
    interrupt(list(procs.values()), grace=60)
    timing["probe_s"] = round(time.monotonic() - started, 1)

    # 2. the equal budget, and on to it
    left = args.window - (time.monotonic() - started) - 15  # a resumed process needs ~15 s to start
    epochs = equal_budget_epochs(list(runs), left, args.max_epochs, args.safety)
    timing["epochs"] = epochs
    print(f"equal budget: {epochs} epochs for {len(runs)} trials", flush=True)
    resumed = {run: [*GAN, "train", "--resume", str(run), "--epochs", str(epochs)]
               for run in runs if read_run(run)["checkpoint"]["epoch"] < epochs}
    procs = launch(resumed, out / "logs")
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
