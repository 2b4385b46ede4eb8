"""Running a sweep on Ray Tune: one ordinary run directory per trial, resumable by running it again.

Ray Tune schedules the trials (in parallel as the trial resources allow, on
an embedded local Ray or an existing cluster) and, with ``--early-stop``,
stops weak ones with ASHA. What makes a sweep resumable is ours, not Ray's
experiment state: every trial writes to a folder named after its settings
(``SWEEP/trials/<id>``), so running the same command again finds each
trial's run as it was left — finished and evaluated (skipped), stopped
early by ASHA (skipped, recorded in sweep.json), interrupted (resumed from
its last checkpoint) or absent (started).
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..directions import direction_of, tune_mode
from ..errors import GanError
from ..runs import RUN_FILE, checkpoint_file, read_run
from ..safefiles import atomic_write_json
from .sweep_spec import SweepSpec, Trial, expand, keep_ids, trial_settings, validate

SWEEP_FILE = "sweep.json"
#: the key of a trial's last report (after its final evaluation); Tune's own results use "done"
FINAL = "final"
TRIALS_DIR = "trials"
#: environment variables a trial needs to see what the command saw (data, cache, plugin switches)
PASSED_ENV = ("GAN_DATA_DIR", "GAN_NO_DOWNLOAD", "XDG_CACHE_HOME", "GAN_LOAD_PLUGINS", "GAN_DISABLE_PLUGINS",
              "GAN_INCEPTION_WEIGHTS", "PYTHONPATH")


@dataclass
class SweepPlan:
    """A validated sweep, ready to run: its folder, trials and how to run them."""

    out: Path
    spec: SweepSpec
    trials: list[Trial]
    metric: str = "fid"
    early_stop: str | None = None
    trial_cpus: float = 1.0
    trial_gpus: float = 0.0
    final_n: int = 10_000  # images of each trial's final evaluation
    address: str | None = None
    stopped_early: list[str] = field(default_factory=list)

    def run_dir(self, trial: Trial) -> Path:
        return self.out / TRIALS_DIR / trial.id

    def state_of(self, trial: Trial) -> str:
        """``done``, ``stopped`` (early, by ASHA), ``partial`` (resume it) or ``new``."""
        if trial.id in self.stopped_early:
            return "stopped"
        path = self.run_dir(trial)
        if not (path / RUN_FILE).is_file():
            return "new"
        status = json.loads(checkpoint_file(path, RUN_FILE).read_text()).get("status")
        evaluated = (path / "eval.json").is_file() and all((path / "evals" / f"{s}.json").is_file()
                                                          for s in trial.eval_samplers)
        if status == "diverged" or (status == "finished" and evaluated):
            return "done"
        return "partial"


def plan(spec: SweepSpec, out: Path, settings: dict[str, Any]) -> SweepPlan:
    """Expand and validate ``spec`` and check it against what ``out`` already holds; nothing is written."""
    saved = read_record(out)
    trials = expand(spec)
    if saved is not None:
        trials = keep_ids(trials, saved_trials(saved))  # a grown sweep's trials keep their folders
    validate(spec, trials)
    known = {"metric", "early_stop", "trial_cpus", "trial_gpus", "final_n", "address", "name"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise GanError(f"unknown sweep setting '{unknown[0]}'; the [sweep] table takes seeds, samples, search_seed, "
                       + ", ".join(sorted(known - {"name"})))
    sweep = SweepPlan(out.resolve(), spec, trials, **{k: v for k, v in settings.items() if k != "name" and v is not None})
    if sweep.early_stop:
        check_early_stop(sweep)
    if sweep.trial_cpus <= 0 or sweep.trial_gpus < 0:
        raise GanError("--trial-cpus must be above 0 and --trial-gpus 0 or more")
    if saved is not None:
        check_same_sweep(sweep, saved, out)
        sweep.stopped_early = list(saved.get("stopped_early", []))
    elif out.exists() and any(out.iterdir()):
        raise GanError(f"{out} exists and is not a sweep folder; choose another --out")
    return sweep


def read_record(out: Path) -> dict[str, Any] | None:
    """What ``out``'s sweep.json says: None without one, ``{}`` when unreadable (so it matches no sweep)."""
    record = out / SWEEP_FILE
    if not record.is_file():
        return None
    try:
        saved = json.loads(record.read_text())
    except ValueError:
        return {}
    return saved if isinstance(saved, dict) else {}


def saved_trials(saved: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The trials a sweep record names: id -> assignments."""
    trials = saved.get("trials")
    return {k: v for k, v in trials.items() if isinstance(v, dict)} if isinstance(trials, dict) else {}


def check_same_sweep(sweep: SweepPlan, saved: dict[str, Any], out: Path) -> None:
    """Refuse to continue the sweep recorded in ``out`` with settings that would mix incomparable trials.

    Its trials must all still be there, by id; and the final evaluation size
    must not change: the table ranks trials by that evaluation, and a
    finished trial is not evaluated again.
    """
    if not extends(sweep.spec.as_dict(), saved.get("spec")) \
            or not set(saved_trials(saved)) <= {t.id for t in sweep.trials}:  # a grown sweep keeps every trial it ran
        raise GanError(f"{out} holds another sweep (its {SWEEP_FILE} differs); choose another --out or run that sweep's own command")
    ran_with = saved.get("final_n")
    if ran_with is not None and ran_with != sweep.final_n:
        raise GanError(f"the sweep in {out} was run with --final-n {ran_with}, not {sweep.final_n}, and its "
                       f"finished trials are not evaluated again; pass --final-n {ran_with} (final_n in a sweep "
                       "file) to continue it, or choose another --out")


def extends(spec: dict[str, Any], saved: Any) -> bool:
    """Whether ``spec`` is the saved sweep, or it with [[include]] rows or seeds added (the trials run so far
    stay valid: each added row or seed is trials of its own).

    Anything else that changed (the base, the grid, a seed or row dropped...)
    would give the same trial folders other settings, or orphan some, so it is
    another sweep.
    """
    if not isinstance(saved, dict):
        return False
    if spec == saved:
        return True
    rest = {k: v for k, v in spec.items() if k not in ("include", "seeds")}
    saved_rest = {k: v for k, v in saved.items() if k not in ("include", "seeds")}
    if not set(saved.get("seeds", [])) <= set(spec.get("seeds", [])):
        return False
    added = list(spec.get("include", []))
    for row in saved.get("include", []):
        if row not in added:
            return False
        added.remove(row)
    return rest == saved_rest


def metric_direction(name: str) -> str:
    """``min`` or ``max``: how ASHA should read metric ``name`` (an installed metric's headline value)."""
    from ..registry import get_registry
    from ..assembly import choose, construct

    registry = get_registry()
    for entry in registry.all("metric"):
        metric = construct(choose(registry, "metric", entry.name, None))
        if metric.headline == name:  # type: ignore[attr-defined]
            return tune_mode(direction_of(metric))
    headlines = sorted(construct(choose(registry, "metric", e.name, None)).headline for e in registry.all("metric"))  # type: ignore[attr-defined]
    raise GanError(f"--early-stop {name} is not a metric; use one of {', '.join(headlines)}")


def max_epochs(sweep: SweepPlan) -> int:
    """The longest trial in epochs; refused when a trial counts its budget in steps (ASHA's clock is epochs)."""
    longest = 0
    for trial in sweep.trials:
        settings = trial_settings(sweep.spec.base, trial.assignments)
        if settings.get("steps"):
            raise GanError("--early-stop measures trials in epochs: give every trial --epochs, not --steps")
        longest = max(longest, int(settings.get("epochs", 1)))
    return longest


def check_early_stop(sweep: SweepPlan) -> None:
    for trial in sweep.trials:
        if not trial_settings(sweep.spec.base, trial.assignments).get("eval_every"):
            raise GanError("--early-stop compares trials during training: add --eval-every N (epochs between evaluations)")
    metric_direction(str(sweep.early_stop))
    max_epochs(sweep)


def save_plan(sweep: SweepPlan) -> None:
    atomic_write_json(sweep.out / SWEEP_FILE, {
        "spec": sweep.spec.as_dict(), "metric": sweep.metric, "early_stop": sweep.early_stop,
        "trials": {t.id: t.assignments for t in sweep.trials}, "stopped_early": sweep.stopped_early,
        "final_n": sweep.final_n,
    })


# --------------------------------------------------------------------------- inside a trial (a Ray worker)


def run_trial(tune_config: dict[str, Any]) -> None:
    """Ray Tune's function trainable: train (or resume) one run, evaluate it, report to Tune.

    A packed trial (``members``) trains its sweep trials as one stacked group
    first, then evaluates each and reports them together.
    """
    import torch
    from ray import tune

    from ..callbacks import Callback
    from ..training import train

    config = tune_config["trial"]
    torch.set_num_threads(max(1, int(config["threads"])))
    if config.get("members"):
        return run_group_trial(config, tune)
    path = Path(config["run"])
    settings = dict(config["settings"])

    class Report(Callback):
        """Sends each --eval-every evaluation to Tune once a checkpoint at or after its step is on disk.

        ASHA may stop the trial at any report, and a stopped trial should
        leave a run to look at: so it reports from ``on_checkpoint``, with
        the run's latest evaluation (``run.last_eval``) not sent yet.
        """

        reported = -1  # the step of the last evaluation sent

        def on_checkpoint(self, step: int, path: Path) -> None:
            last = self.run.last_eval  # --checkpoint-every N may checkpoint after the evaluation's step
            if last is not None and self.reported < last["step"] <= step:
                self.reported = last["step"]
                tune.report({**last["values"], "epoch": last["epoch"]})

    info = read_run(path) if (path / RUN_FILE).is_file() else None
    if info is None:
        train({**settings, "out": str(path)}, callbacks=[Report()])
    elif info.get("status") not in ("finished", "diverged") and info["checkpoint"]["step"] < info["train"]["steps"]:
        train(None, resume=path, callbacks=[Report()])  # interrupted: on from its last checkpoint
    report = final_evaluation(config)
    if report is None:
        # ASHA needs its metric in every report: a diverged trial has no value for it
        nan = {config["early_stop"]: float("nan")} if config.get("early_stop") else {}
        tune.report({**nan, FINAL: 1.0, "epoch": float(read_run(path)["checkpoint"]["epoch"])})
        return
    tune.report({**report["metrics"], "epoch": float(read_run(path)["checkpoint"]["epoch"]), FINAL: 1.0})


def run_group_trial(config: dict[str, Any], tune: Any) -> None:
    """Train a packed trial's members as one stacked group, evaluate each, report every member's value at once."""
    from rich.console import Console

    from ..config import settings_for
    from ..group import train_group

    members = config["members"]
    configs = [settings_for({**m["settings"], "out": m["run"]}) for m in members]
    train_group(configs, None, paths=[Path(m["run"]) for m in members], features_for=None,
                console=Console(stderr=True, quiet=True))
    report: dict[str, Any] = {FINAL: 1.0}
    values = []
    for member in members:
        result = final_evaluation({**config, **member})
        info = read_run(Path(member["run"]))
        report["epoch"] = float(info["checkpoint"]["epoch"])
        value = (result or {}).get("metrics", {}).get(config["metric"], float("nan"))
        report[f"{config['metric']}@{member['id']}"] = value
        values.append(value)
    report[config["metric"]] = sum(values) / len(values)
    tune.report(report)


def final_evaluation(config: dict[str, Any]) -> dict[str, Any] | None:
    """A trained trial's final evaluation (and each post-hoc sampler's), reusing what an earlier attempt wrote;
    None for a diverged run."""
    from ..devices import resolve_device
    from ..evaluation.evaluate import Protocol
    from ..evaluation.run_eval import evaluate_run

    path = Path(config["run"])
    settings = dict(config["settings"])
    info = read_run(path)
    if info.get("status") == "diverged":
        return None
    device = resolve_device(settings.get("device", "cpu"))

    def evaluated(sampler: str | None) -> dict[str, Any] | None:
        """This sampler's evaluation of the final checkpoint, if an earlier attempt of the trial wrote it."""
        name = sampler or (info["components"].get("sampler") or {}).get("name", "none")
        file = path / "evals" / f"{name}.json"
        report = json.loads(file.read_text()) if file.is_file() else None
        return report if report and report.get("step") == info["checkpoint"]["step"] and (path / "eval.json").is_file() else None

    def evaluate(sampler: str | None) -> dict[str, Any]:
        protocol = Protocol(n=config["final_n"], data_dir=settings.get("data_dir"),
                            metric_options=dict(settings.get("options", {}).get("metric", {})))
        return evaluated(sampler) or evaluate_run(path, protocol, device, sampler=sampler)

    report = evaluate(None)
    for sampler in config.get("eval_samplers", ()):  # post-hoc samplers, each in evals/<sampler>.json
        try:
            evaluate(sampler)
        except GanError as exc:  # recorded, not raised: the trial's own result still counts
            atomic_write_json(path / "evals" / f"{sampler}.json", {"sampler": sampler, "step": info["checkpoint"]["step"],
                                                                  "error": exc.message, "metrics": {}})
    return report


# --------------------------------------------------------------------------- the driver


def run_sweep(sweep: SweepPlan, console: Any) -> tuple[dict[str, str], set[str]]:
    """Run every trial not done yet: the state of each trial afterwards (by id), and the ids that failed.

    A trial left unfinished that did not fail was interrupted (Ctrl-C):
    Ray Tune catches the signal itself and returns.
    """
    try:
        import ray
        from ray import tune
    except ImportError as exc:
        raise GanError("gan sweep runs on Ray Tune, which is not installed: pip install 'gan-core[sweep]'") from exc
    from .sweep_live import LiveTable

    with sweep_lock(sweep.out):
        return _run_locked(sweep, console, ray, tune, LiveTable)


@contextmanager
def sweep_lock(out: Path) -> Iterator[None]:
    """One ``gan sweep`` per folder: a second one would train the same trials into the same runs."""
    from ..safefiles import FileLock

    out.mkdir(parents=True, exist_ok=True)
    with FileLock(out / ".lock", holder=f"gan sweep (process {os.getpid()})",
                  busy=lambda holder: f"{holder} is running in {out}; wait for it to finish or stop it first"):
        yield


def _run_locked(sweep: SweepPlan, console: Any, ray: Any, tune: Any, LiveTable: Any) -> tuple[dict[str, str], set[str]]:  # noqa: N803
    save_plan(sweep)
    pending = [t for t in sweep.trials if sweep.state_of(t) in ("new", "partial")]
    states = {t.id: sweep.state_of(t) for t in sweep.trials}
    if not pending:
        return states, set()
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the legacy reporter honours verbose=0; our table is the display
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    live = LiveTable(sweep, console, FINAL)
    units = pack(sweep, pending)
    packed = [u for u in units if len(u) > 1]
    if packed:
        console.print(f"Packed {sum(map(len, packed))} trials that differ only in seed, learning rates or member "
                      f"options into {len(packed)} stacked groups (one Ray trial each, up to {max(map(len, packed))} "
                      f"runs); {len(units) - len(packed)} trials run alone")
    elif sweep.early_stop and len(pending) > 1:
        console.print("Trials run one per Ray trial: --early-stop stops each on its own, so none are stacked")
    with ExitStack() as stack:
        if not ray.is_initialized():
            stack.enter_context(sweep_ray(ray, sweep))
        tuner = tune.Tuner(
            tune.with_resources(run_trial, {"cpu": sweep.trial_cpus, "gpu": sweep.trial_gpus}),
            param_space={"trial": tune.grid_search([unit_config(sweep, u) for u in units])},
            tune_config=_tune_config(sweep, tune),
            run_config=tune.RunConfig(storage_path=str(sweep.out / ".tune"), name="tune", verbose=0,
                                      callbacks=[live, stop_recorder(sweep, live, tune)], log_to_file=True),
        )
        with live:
            tuner.fit()
    record_stopped(sweep, live.stopped_early)
    return {t.id: sweep.state_of(t) for t in sweep.trials}, live.errors


def stop_recorder(sweep: SweepPlan, live: Any, tune: Any) -> Any:
    """A Tune callback, placed after ``live``, that writes sweep.json the moment ASHA stops a trial.

    A stopped trial looks like an interrupted one on disk; only the record
    tells them apart. Written as it happens, a crash or kill later in the
    sweep does not make the next run resume trials ASHA had stopped.
    """

    class RecordStopped(tune.Callback):
        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            record_stopped(sweep, live.stopped_early)

    return RecordStopped()


def record_stopped(sweep: SweepPlan, stopped: set[str]) -> None:
    """Add the trials in ``stopped`` to the sweep's record (written atomically) unless it has them already."""
    if not stopped <= set(sweep.stopped_early):
        sweep.stopped_early = sorted(set(sweep.stopped_early) | stopped)
        save_plan(sweep)


# --------------------------------------------------------------------------- the Ray the sweep runs on

#: the one address an embedded Ray listens on: reachable from this machine only
LOOPBACK = "127.0.0.1"


def cluster_address(sweep: SweepPlan) -> str | None:
    """The Ray cluster to join (--address, else RAY_ADDRESS), or None to start an embedded one."""
    address = sweep.address or os.environ.get("RAY_ADDRESS") or None
    return None if address == "local" else address


def sweep_ray(ray: Any, sweep: SweepPlan) -> AbstractContextManager[None]:
    """Ray for the length of the sweep: the cluster named by --address or RAY_ADDRESS, else an embedded one."""
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    options = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR",
               "configure_logging": True, "runtime_env": {"env_vars": env}}
    address = cluster_address(sweep)
    return joined_ray(ray, address, options) if address else embedded_ray(ray, options)


@contextmanager
def joined_ray(ray: Any, address: str, options: dict[str, Any]) -> Iterator[None]:
    """A cluster of the user's own: theirs to secure (docs/experiments.md says how)."""
    ray.init(address=address, **options)
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def embedded_ray(ray: Any, options: dict[str, Any]) -> Iterator[None]:
    """A Ray of this user's alone, started for the sweep and stopped after it.

    Any Ray process runs code for whoever reaches it, so this one listens on
    loopback only, requires a token (unless RAY_AUTH_MODE says otherwise)
    and keeps the token, its logs and its sockets in a folder only this user
    can enter, removed at the end.
    """
    with private_folder() as folder, ray_auth_environment(token_settings(folder)):
        try:
            with loopback_node():
                ray.init(address="local", _node_ip_address=LOOPBACK, _temp_dir=str(folder / "ray"), **options)
            check_loopback(ray.util.get_node_ip_address())
            yield
        finally:
            ray.shutdown()


@contextmanager
def private_folder() -> Iterator[Path]:
    """A new folder only this user can enter (mode 0700), removed afterwards.

    Ray makes its session folders world-writable; inside this one no other
    local user reaches them. Made under /tmp where there is one (like Ray's
    own /tmp/ray): Ray's Unix sockets live in it, and a socket's path must
    stay under about 100 bytes, which a long $TMPDIR (macOS) would break.
    """
    root = "/tmp" if os.path.isdir("/tmp") else None
    with tempfile.TemporaryDirectory(prefix="gan-ray-", dir=root, ignore_cleanup_errors=True) as folder:
        yield Path(folder)


def token_settings(folder: Path) -> dict[str, str]:
    """The RAY_AUTH_* settings of an embedded Ray: token authentication, with a fresh token kept in ``folder``.

    Left to itself, ray.init writes its token to ~/.ray/auth_token, readable
    by every local user under the usual umask; this token file is the user's
    alone (0600) and lives only as long as the sweep. A RAY_AUTH_MODE,
    RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH the user set is theirs to keep.
    """
    if os.environ.get("RAY_AUTH_MODE", "token").lower() != "token":
        return {}
    settings = {"RAY_AUTH_MODE": "token"}
    if not os.environ.get("RAY_AUTH_TOKEN") and not os.environ.get("RAY_AUTH_TOKEN_PATH"):
        path = folder / "auth_token"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        settings["RAY_AUTH_TOKEN_PATH"] = str(path)
    return settings


@contextmanager
def ray_auth_environment(settings: dict[str, str]) -> Iterator[None]:
    """``settings`` in the environment (which Ray's processes inherit) while the sweep runs, then as before."""
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    reload_ray_auth()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reload_ray_auth()


def reload_ray_auth() -> None:
    """Make this process's Ray read RAY_AUTH_* again.

    Ray reads the mode into its config and caches the token on first use;
    a second sweep in the same process (tests, notebooks) would otherwise
    connect with the first one's token. Ray itself refreshes its config this
    way when it turns token authentication on.
    """
    from ray import _raylet

    config = getattr(_raylet, "Config", None)
    if config is not None and hasattr(config, "initialize"):
        config.initialize("")
    loader = getattr(_raylet, "AuthenticationTokenLoader", None)
    if loader is not None and hasattr(loader.instance(), "reset_cache"):
        loader.instance().reset_cache()


@contextmanager
def loopback_node() -> Iterator[None]:
    """While ray.init starts an embedded Ray: keep its node address, and so every listener, on loopback.

    Ray binds its servers to every interface unless the node's address is
    loopback, and ray.init swaps a loopback ``_node_ip_address`` for the
    machine's outward address, except where it holds multi-node clusters to
    be off (macOS, Windows). Saying so for the length of ray.init keeps the
    loopback address; ``check_loopback`` verifies the outcome.
    """
    from ray._private import ray_constants

    saved = getattr(ray_constants, "ENABLE_RAY_CLUSTER", True)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


def check_loopback(address: str) -> None:
    """Refuse to go on with an embedded Ray whose node address is not loopback: it would listen on the network."""
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = address == "localhost"
    if not loopback:
        raise GanError(f"the embedded Ray started on {address} rather than loopback, so the network could reach it; "
                       "start a Ray cluster you have secured and pass its --address (see docs/experiments.md)")


def _tune_config(sweep: SweepPlan, tune: Any) -> Any:
    if not sweep.early_stop:
        return tune.TuneConfig()
    from ray.tune.schedulers import ASHAScheduler

    # max_t one past the longest trial: ASHA ends a trial on reaching max_t, which must not pre-empt its final evaluation
    scheduler = ASHAScheduler(time_attr="epoch", max_t=max_epochs(sweep) + 1, grace_period=1, reduction_factor=2)
    return tune.TuneConfig(scheduler=scheduler, metric=sweep.early_stop, mode=metric_direction(str(sweep.early_stop)))


def pack(sweep: SweepPlan, pending: list[Trial]) -> list[list[Trial]]:
    """The pending trials as Ray trials: those equal but for seed, learning rates and member options share one.

    Not with ``--early-stop`` (ASHA stops trials one by one), nor for a
    trial to resume (its run continues alone, exactly as it would have), nor
    where a component cannot stack (:func:`gan_core.group.stack_refusal`).
    """
    if sweep.early_stop:
        return [[t] for t in pending]
    units: list[list[Trial]] = []
    groups: dict[str, list[Trial]] = {}
    stackable: dict[str, bool] = {}
    for trial in pending:
        key = None if sweep.state_of(trial) == "partial" else _group_key(trial_settings(sweep.spec.base, trial.assignments),
                                                                          stackable)
        if key is None:
            units.append([trial])
        else:
            groups.setdefault(key, []).append(trial)
    return units + list(groups.values())


def _group_key(settings: dict[str, Any], stackable: dict[str, bool]) -> str | None:
    """What trials must share to train as one group (None: this one cannot stack)."""
    from ..config import settings_for
    from ..group import shared_settings, stack_refusal

    config = settings_for(settings)
    key = json.dumps(shared_settings(config), sort_keys=True, default=str)
    if key not in stackable:
        stackable[key] = stack_refusal(config) is None
    return key if stackable[key] else None


def unit_config(sweep: SweepPlan, trials: list[Trial]) -> dict[str, Any]:
    """What one Ray trial receives: one sweep trial's config, or a packed group's (``members``)."""
    if len(trials) == 1:
        return trial_config(sweep, trials[0])
    members = [trial_config(sweep, t) for t in trials]
    return {**members[0], "id": members[0]["id"], "ids": [m["id"] for m in members], "members": members,
            "metric": sweep.metric}


def trial_config(sweep: SweepPlan, trial: Trial) -> dict[str, Any]:
    """What one Tune trial receives: its id, run folder, gan train settings, evaluation size, threads."""
    settings = trial_settings(sweep.spec.base, trial.assignments)
    settings.setdefault("device", "cuda" if sweep.trial_gpus > 0 else "cpu")
    return {"id": trial.id, "run": str(sweep.run_dir(trial)), "settings": settings, "final_n": sweep.final_n,
            "early_stop": sweep.early_stop, "eval_samplers": list(trial.eval_samplers),
            "threads": max(1, math.floor(sweep.trial_cpus))}
