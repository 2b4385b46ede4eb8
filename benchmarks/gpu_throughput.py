"""Training throughput in run-steps/s: one eager run, stacked groups, and separate processes.

In one run, for ``--arch mlp --prior normal`` at ``--batch-size 64`` and
each loss (vanilla, wgan-gp, san), on the real MNIST files:

1. today's eager single run: the single-run ``Trainer`` that
   ``gan train --seed 0`` builds (``gan_core.training.train``);
2. stacked groups of M members (seeds 0..M-1) as ``gan train --seeds M``
   builds them (``gan_core.group.train_group``). On CUDA the stacked engine
   captures each step as one CUDA graph; it is measured that way (what
   training does) and eagerly (``capture=False``), so the capture's share
   shows. The stacked group of 1 with its graph is the captured single run:
   the single-run ``Trainer`` has no capture;
3. N separate ``gan train`` processes at once, started as
   ``benchmarks/long_budget.py`` starts its trials (``python -m gan_core
   train ... --device D --out RUN``, one per seed), read from their
   metrics.jsonl while all of them run.

Each figure is run-steps/s: generator steps x runs per second, timed after
``--warmup`` steps, so start-up (imports, data, building, capture) is left
out. 1 and 2 are timed inside the engine's own entry points: for the
measurement their ``run`` loop is swapped for the same loop of steps
(``new_epoch``/order, ``one_step``/``train_step``) without logs and
checkpoints; 3 writes no checkpoints either (``--checkpoint-every`` past
the end) but logs every few steps, which is how its pace is read. Each
figure is the fastest of ``--repeats`` timed chunks (or windows), the one
least disturbed by other work on the machine; the JSON keeps them all.

    python benchmarks/gpu_throughput.py                       # CPU defaults: groups of 1,5,24; 2 processes
    python benchmarks/gpu_throughput.py --device cuda --json out.json   # groups of 1,5,24,120; 15 processes
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import io
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
LOSSES = ("vanilla", "wgan-gp", "san")
MEMBERS = {"cuda": "1,5,24,120", "cpu": "1,5,24"}  # 120 mlp members on 2 CPU cores take minutes a row
PROCESSES = {"cuda": 15, "cpu": 2}
STEPS = {"cuda": 100, "cpu": 4}
WARMUP = {"cuda": 10, "cpu": 1}
REPEATS = {"cuda": 2, "cpu": 3}
PROBE_GIVE_UP_S = 240  # separate processes that show no steady pace by then are abandoned
PROCESS_WINDOW_S = 3.0  # a window of the separate processes lasts this long at least (their records are polled)
POLL_S = 0.02


def find_data() -> None:
    """GAN_DATA_DIR as the tests set it, when it is unset: the MNIST beside the checkout or inside it."""
    if os.environ.get("GAN_DATA_DIR"):
        return
    for root in (REPO.parent / "shared" / "data", REPO / "shared" / "data"):
        if (root / "mnist").is_dir():
            os.environ["GAN_DATA_DIR"] = str(root)
            return


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def replaced_run(cls: type, loop: Callable[[Any], None]) -> Iterator[None]:
    """``cls.run`` is ``loop`` inside the block: the engine is built as training builds it, then timed."""
    if not callable(getattr(cls, "run", None)):
        raise SystemExit(f"{cls.__module__}.{cls.__name__} has no run() any more: update this benchmark")
    original = cls.run
    cls.run = loop  # type: ignore[method-assign]
    try:
        yield
    finally:
        cls.run = original  # type: ignore[method-assign]


def config_for(loss: str, seed: int, args: argparse.Namespace, out: Path) -> Any:
    from gan_core.config import TrainConfig

    return TrainConfig(prior="normal", loss=loss, arch="mlp", dataset="mnist", batch_size=args.batch_size,
                       device=args.device, seed=seed, steps=10**7, out=str(out))


# ---------------------------------------------------------------------------------------------- in this process


def timed(step: Callable[[], None], wait: Callable[[], None], args: argparse.Namespace,
          after_warmup: Callable[[], None] = lambda: None) -> list[float]:
    """Seconds of each of ``--repeats`` chunks of ``--steps`` steps, after ``--warmup`` steps."""
    for _ in range(args.warmup):
        step()
    wait()
    after_warmup()
    chunks = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        for _ in range(args.steps):
            step()
        wait()
        chunks.append(time.perf_counter() - started)
    return chunks


def figures(chunks: list[float], runs: int, args: argparse.Namespace) -> dict[str, Any]:
    """The fastest chunk's pace (the least disturbed by other work on the machine), and every chunk's."""
    return {"steps": args.steps, "repeats": len(chunks), "seconds": min(chunks),
            "chunk_seconds": [round(c, 4) for c in chunks], "run_steps_per_s": runs * args.steps / min(chunks)}


def time_single(loss: str, args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """The single-run Trainer of ``gan train --seed 0``: ``Trainer.run``'s loop of steps, timed."""
    from rich.console import Console

    from gan_core.engine import Trainer
    from gan_core.training import train

    result: dict[str, Any] = {}

    def loop(self: Any) -> None:  # Trainer.run without logs and checkpoints
        s, st = self.schedule, self.state
        sums = torch.zeros(2, device=device)

        def step() -> None:
            nonlocal sums
            step_in_epoch = st.step % s.steps_per_epoch
            if step_in_epoch == 0:
                st.order = torch.randperm(len(self.data), device=device)
            sums += self.train_step(step_in_epoch)
            st.step += 1

        def wait() -> None:
            sums.tolist()  # the host waits for the last step, as a log does
            sync(device)

        result.update(chunks=timed(step, wait, args), d_steps=s.d_steps)

    with tempfile.TemporaryDirectory(prefix="gan-tp-") as tmp, replaced_run(Trainer, loop):
        train(config_for(loss, 0, args, Path(tmp) / "run"), features=[], console=Console(quiet=True))
    return {"row": "eager single run (Trainer, gan train --seed 0)", "kind": "single", "members": 1,
            "captured": False, **figures(result["chunks"], 1, args), "d_steps": result["d_steps"]}


def time_stacked(loss: str, members: int, capture: bool, args: argparse.Namespace,
                 device: torch.device) -> dict[str, Any]:
    """A stacked group of ``members`` seeds as ``train_group`` builds it; ``StackedTrainer.run``'s loop, timed."""
    from rich.console import Console

    from gan_core.group import train_group
    from gan_core.stacking import StackedTrainer

    result: dict[str, Any] = {}

    def loop(self: Any) -> None:  # StackedTrainer.run without logs and checkpoints
        s = self.schedule
        self.capture = capture and self.capture

        def wait() -> None:
            self.sums.tolist()
            sync(device)

        def after_warmup() -> None:
            result["captured"] = self.graph is not None

        result.update(chunks=timed(self.advance, wait, args, after_warmup), d_steps=s.d_steps)

    said = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="gan-tp-") as tmp, replaced_run(StackedTrainer, loop):
        configs = [config_for(loss, seed, args, Path(tmp) / "unused") for seed in range(members)]
        train_group(configs, Path(tmp) / "group", features_for=lambda m: [],
                    console=Console(file=said, width=200, color_system=None))
    if not result:
        raise SystemExit(f"the stacked group of {members} ({loss}) did not train stacked:\n{said.getvalue()}")
    if result["captured"]:
        how = "CUDA graph" + (", the captured single run" if members == 1 else "")
    elif capture and device.type == "cuda":
        how = "eager: the capture failed"
    else:
        how = "eager"
    notes = [line.strip() for line in said.getvalue().splitlines() if "eagerly" in line or "could not" in line]
    return {"row": f"stacked group of {members} ({how})", "kind": "stacked", "members": members,
            "captured": result["captured"], "capture_asked": capture, **figures(result["chunks"], members, args),
            "d_steps": result["d_steps"], "notes": notes}


# ---------------------------------------------------------------------------------------------- separate processes


def last_step(run: Path) -> int | None:
    """The step of the last record in a run's metrics.jsonl (in its staging folder until a checkpoint)."""
    for path in (run.parent / f".{run.name}.partial" / "metrics.jsonl", run / "metrics.jsonl"):
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for line in reversed(lines):
            try:
                return int(json.loads(line)["step"])
            except (ValueError, KeyError):
                continue  # a line being written
    return None


def time_processes(loss: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    """``count`` ``gan train`` processes at once; their summed pace while every one of them runs.

    Each process logs every few steps; a record's time is when this process
    first sees it. Once every process is past ``--warmup`` steps, each one's
    latest record starts its window; once every process has done
    ``--steps`` more and ``PROCESS_WINDOW_S`` have passed, each one's latest
    record ends it, and starts the next (``--repeats`` windows, the fastest
    counts). The windows overlap (all of them run throughout), so the paces
    add up.
    """
    log_every = max(1, min(args.steps // 10, 20))
    tmp = Path(tempfile.mkdtemp(prefix="gan-tp-procs-"))
    env = {**os.environ, "GAN_NO_DOWNLOAD": "1", "PYTHONUNBUFFERED": "1"}
    procs: list[tuple[Path, subprocess.Popen]] = []
    try:
        for seed in range(count):
            run = tmp / f"seed={seed}"
            cmd = [sys.executable, "-m", "gan_core", "train", "--prior", "normal", "--loss", loss, "--arch", "mlp",
                   "--dataset", "mnist", "--batch-size", str(args.batch_size), "--seed", str(seed),
                   "--steps", str(10**7), "--log-every", str(log_every), "--checkpoint-every", str(10**8),
                   "--device", args.device, "--out", str(run)]
            log = (tmp / f"seed={seed}.log").open("w")
            procs.append((run, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)))
        seen: list[tuple[int, float] | None] = [None] * count  # (step, when first seen)
        start: list[tuple[int, float]] | None = None
        windows: list[list[float]] = []  # each window's pace of each process
        opened = 0.0
        give_up = time.monotonic() + PROBE_GIVE_UP_S + (PROCESS_WINDOW_S + 2 * args.steps) * args.repeats
        while True:
            now = time.perf_counter()
            for i, (run, proc) in enumerate(procs):
                step = last_step(run)
                if step is not None and (seen[i] is None or step > seen[i][0]):  # type: ignore[index]
                    seen[i] = (step, now)
                if proc.poll() is not None:
                    tail = (tmp / f"seed={i}.log").read_text()[-2000:]
                    raise SystemExit(f"gan train (seed {i}, {loss}) ended with {proc.returncode}:\n{tail}")
            if start is None and all(s is not None and s[0] >= args.warmup for s in seen):
                start, opened = list(seen), now  # type: ignore[arg-type]
            if (start is not None and now - opened >= PROCESS_WINDOW_S
                    and all(s[0] - a[0] >= args.steps for s, a in zip(seen, start))):  # type: ignore[index]
                windows.append([(b[0] - a[0]) / (b[1] - a[1]) for a, b in zip(start, seen)])  # type: ignore[index]
                start, opened = list(seen), now  # type: ignore[arg-type]
                if len(windows) == args.repeats:
                    break
            if time.monotonic() > give_up:
                raise SystemExit(f"{count} processes ({loss}) did not reach {args.warmup}+{args.steps} steps "
                                 f"in time; last steps: {[s and s[0] for s in seen]}")
            time.sleep(POLL_S)
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.kill()
        for _, proc in procs:
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    best = max(windows, key=sum)
    return {"row": f"{count} separate processes (gan train, as long_budget.py)", "kind": "processes",
            "members": count, "captured": False, "steps": args.steps, "repeats": len(windows),
            "log_every": log_every, "run_steps_per_s": sum(best), "window_run_steps_per_s": [round(sum(w), 3) for w in windows],
            "per_process": [round(r, 3) for r in best]}


# ---------------------------------------------------------------------------------------------- report


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    with contextlib.suppress(OSError):  # Linux: "5" resets the peak resident size (VmHWM) to the current one
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory(device: torch.device) -> float:
    """MiB: the device's peak allocation on CUDA, this process's peak resident size on the CPU, since the reset."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the whole run's peak


def table(loss: str, rows: list[dict[str, Any]], batch: int) -> list[str]:
    single = next((r["run_steps_per_s"] for r in rows if r["kind"] == "single"), None)
    procs = next((r["run_steps_per_s"] for r in rows if r["kind"] == "processes"), None)
    d_steps = next((r["d_steps"] for r in rows if "d_steps" in r), "?")
    lines = [f"loss {loss} (mlp, prior normal, batch {batch}, {d_steps} D step(s) per G step)",
             f"  {'':56s} {'run-steps/s':>11s} {'x single':>9s} {'x procs':>8s} {'peak MiB':>9s}"]
    for r in rows:
        r["vs_single"] = r["run_steps_per_s"] / single if single else None
        r["vs_processes"] = r["run_steps_per_s"] / procs if procs else None
        ratio = lambda v, w: f"{v:{w}.2f}" if v is not None else f"{'-':>{w}s}"  # noqa: E731
        peak = f"{r['peak_mib']:9.0f}" if r.get("peak_mib") is not None else f"{'-':>9s}"
        lines.append(f"  {r['row']:56s} {r['run_steps_per_s']:11.1f} {ratio(r['vs_single'], 9)} "
                     f"{ratio(r['vs_processes'], 8)} {peak}")
        for note in r.get("notes", []):
            lines.append(f"      {note}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--members", help="stacked group sizes (default 1,5,24,120 on cuda, 1,5,24 on cpu)")
    parser.add_argument("--processes", type=int,
                        help="separate gan train processes at once (default 15 on cuda, 2 on cpu; 0: skip)")
    parser.add_argument("--steps", type=int, help="timed generator steps per measurement (default 100 cuda, 4 cpu)")
    parser.add_argument("--warmup", type=int, help="untimed steps first (default 10 cuda, 1 cpu)")
    parser.add_argument("--repeats", type=int,
                        help="timed chunks of --steps each; the fastest counts (default 2 cuda, 3 cpu)")
    parser.add_argument("--losses", default=",".join(LOSSES))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-eager-stacked", action="store_true",
                        help="on cuda, time the stacked groups with their CUDA graph only (not eagerly too)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    command = " ".join([Path(sys.executable).name, *sys.argv])
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device here")
    device = torch.device(args.device)
    kind = device.type
    members = [int(m) for m in (args.members or MEMBERS[kind]).split(",") if m.strip()]
    processes = PROCESSES[kind] if args.processes is None else args.processes
    args.steps = args.steps or STEPS[kind]
    args.repeats = args.repeats or REPEATS[kind]
    args.warmup = WARMUP[kind] if args.warmup is None else args.warmup
    if kind == "cuda":
        from gan_core.stacking import WARMUP_STEPS

        args.warmup = max(args.warmup, WARMUP_STEPS + 2)  # the graph is captured after WARMUP_STEPS eager steps
    find_data()
    losses = [loss.strip() for loss in args.losses.split(",") if loss.strip()]
    modes = [True] if kind != "cuda" else ([True] if args.no_eager_stacked else [True, False])

    header = [
        f"device {device_name(device)} ({kind}), torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start",
        f"{args.repeats} x {args.steps} timed steps (the fastest counts) after {args.warmup} warm-up steps, "
        f"batch {args.batch_size}, mlp, prior normal; stacked groups of {','.join(map(str, members))}"
        + ("" if args.members or kind == "cuda" else f" (the CPU default; cuda's is {MEMBERS['cuda']})")
        + f"; {processes} separate processes"
        + ("" if args.processes is not None or kind == "cuda" else f" (the CPU default; cuda's is {PROCESSES['cuda']})"),
        "run-steps/s = generator steps x runs per second; x single: against the eager single run; "
        "x procs: against the separate processes together; peak MiB: "
        + ("the GPU's peak allocation in the row" if kind == "cuda" else "this process's peak resident memory in the row"),
    ]
    if kind == "cuda":
        header.append("the single-run Trainer has no CUDA-graph capture; the stacked engine captures each step: "
                      "its group of 1 with the graph is the captured single run")
    else:
        header.append("CUDA-graph capture is not measured: the stacked engine captures on CUDA only, and the "
                      "single-run Trainer has no capture")
    for line in header:
        print(line, flush=True)

    record: dict[str, Any] = {
        "benchmark": "gpu_throughput",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "device": device_name(device),
        "device_type": kind,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "settings": {"arch": "mlp", "prior": "normal", "batch_size": args.batch_size, "steps": args.steps,
                     "warmup": args.warmup, "repeats": args.repeats, "members": members, "processes": processes,
                     "losses": losses, "eager_stacked_too": len(modes) == 2},
        "notes": header[3:],
        "results": [],
    }

    def save() -> None:  # after every row: a run cut short keeps what it measured
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(record, indent=2) + "\n")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout` ends the gan train processes too
    for loss in losses:
        rows: list[dict[str, Any]] = []
        record["results"].append({"loss": loss, "rows": rows})

        def measured(fn: Callable[[], dict[str, Any]]) -> None:
            gc.collect()
            if kind == "cuda":
                torch.cuda.empty_cache()
            reset_peak_memory(device)
            load = os.getloadavg()[0]
            row = fn()
            row["peak_mib"] = peak_memory(device) if row["kind"] != "processes" else None
            row["load_average"] = [round(load, 2), round(os.getloadavg()[0], 2)]  # before and after
            rows.append(row)
            table(loss, rows, args.batch_size)  # fills in the ratios so far
            save()
            print(f"  [{loss}] {row['row']}: {row['run_steps_per_s']:.1f} run-steps/s", file=sys.stderr, flush=True)

        measured(lambda: time_single(loss, args, device))
        for m in members:
            for capture in modes:
                measured(lambda: time_stacked(loss, m, capture, args, device))
        if processes:
            measured(lambda: time_processes(loss, processes, args))
        print(flush=True)
        for line in table(loss, rows, args.batch_size):
            print(line, flush=True)
        save()
    if args.json:
        print(f"\nwrote {args.json}", flush=True)


if __name__ == "__main__":
    main()
