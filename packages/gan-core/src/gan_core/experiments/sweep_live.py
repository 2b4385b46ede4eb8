"""The live table ``gan sweep`` shows while Ray Tune runs its trials."""

from __future__ import annotations

from typing import Any

from ray.tune import Callback as TuneCallback
from rich.live import Live
from rich.table import Table

_STYLE = {"running": "yellow", "done": "green", "stopped early": "blue", "error": "red", "pending": "dim"}


class LiveTable(TuneCallback):
    """One row per trial: state, last epoch reported and the sweep's metric, redrawn as Tune reports."""

    def __init__(self, sweep: Any, console: Any, final_key: str) -> None:
        self.sweep = sweep
        self.final_key = final_key  # what a trial's last report (after its final evaluation) carries
        self.metric = sweep.early_stop or sweep.metric
        self.rows: dict[str, dict[str, str]] = {}
        for trial in sweep.trials:
            state = sweep.state_of(trial)
            self.rows[trial.id] = {"state": {"new": "pending", "partial": "pending"}.get(state, state), "epoch": "", "value": ""}
        self.finished: set[str] = set()
        self.stopped_early: set[str] = set()
        self.errors: set[str] = set()
        self.live = Live(self.render(), console=console, refresh_per_second=2, transient=False)

    def __getstate__(self) -> dict[str, Any]:
        """Tune saves its callbacks with the experiment state; the live display (locks, a console) stays behind."""
        return {k: v for k, v in self.__dict__.items() if k != "live"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.live = Live(self.render(), transient=False)

    def __enter__(self) -> LiveTable:
        self.live.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.update(self.render())
        self.live.stop()

    def render(self) -> Table:
        done = sum(r["state"] in ("done", "stopped early") for r in self.rows.values())
        table = Table(title=f"{self.sweep.out.name}: {done} of {len(self.rows)} trials done")
        for column in ("trial", "state", "epoch", self.metric):
            table.add_column(column)
        for trial_id, row in self.rows.items():
            table.add_row(trial_id, f"[{_STYLE.get(row['state'], '')}]{row['state']}", row["epoch"], row["value"])
        return table

    def _update(self, trial: Any, **changes: str) -> None:
        for trial_id in _ids(trial):
            self.rows[trial_id].update(changes)
        self.live.update(self.render())

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._update(trial, state="running")

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        for trial_id in _ids(trial):  # a packed trial reports each member's value under METRIC@ID
            value = result.get(f"{self.metric}@{trial_id}", result.get(self.metric))
            changes = {"epoch": f"{result.get('epoch', '')}", "value": f"{value:.4g}" if isinstance(value, float) else ""}
            if result.get(self.final_key):
                self.finished.add(trial_id)
            self.rows[trial_id].update(changes)
        self.live.update(self.render())

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        for trial_id in _ids(trial):
            if trial_id in self.finished:
                self.rows[trial_id]["state"] = "done"
            elif self.sweep.early_stop:  # ended without its final report: ASHA stopped it
                self.stopped_early.add(trial_id)
                self.rows[trial_id]["state"] = "stopped early"
        self.live.update(self.render())

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.errors.update(_ids(trial))
        self._update(trial, state="error")


def _ids(trial: Any) -> list[str]:
    """The sweep trials one Ray trial runs: its own id, or a packed group's members."""
    config = trial.config["trial"]
    return list(config.get("ids") or [config["id"]])
