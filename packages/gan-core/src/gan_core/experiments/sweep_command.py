"""``gan sweep``: a grid or random search over training flags and component options, times seeds, on Ray Tune."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from ..terminal import output_console

from ..errors import ExitCode, GanError

err = Console(stderr=True)
stdout = output_console()


def sweep(
    axis: Annotated[Optional[list[str]], typer.Option("-s", "--set", help="Swept key and values: -s prior.k=5,10,15, -s lr-g=1e-4,2e-4, or a range for random search: -s lr-g=loguniform(1e-5,1e-3) (repeatable).")] = None,
    config: Annotated[Optional[Path], typer.Option(help="A sweep TOML file ([sweep], [base], [grid], [random], [[include]]; see docs/experiments.md).")] = None,
    seeds: Annotated[Optional[int], typer.Option(min=1, help="Seeds per configuration (0..N-1). [default: 5]")] = None,
    samples: Annotated[Optional[int], typer.Option(min=0, help="Random search: draws from the -s values and ranges. [default: 0, grid]")] = None,
    search_seed: Annotated[Optional[int], typer.Option(help="Seed of the random search's draws (not of the trials). [default: 0]")] = None,
    prior: Annotated[Optional[str], typer.Option(help="Base prior of every trial. [default: normal]")] = None,
    loss: Annotated[Optional[str], typer.Option(help="Base loss. [default: vanilla]")] = None,
    arch: Annotated[Optional[str], typer.Option(help="Base architecture. [default: mlp]")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Base dataset. [default: mnist]")] = None,
    option: Annotated[Optional[list[str]], typer.Option("-o", "--option", help="Base component option KIND.KEY=VALUE (repeatable).")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Epochs per trial. [default: 1]")] = None,
    steps: Annotated[Optional[int], typer.Option(min=1, help="Generator steps per trial, instead of --epochs.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(min=1, help="Images per batch. [default: 64]")] = None,
    eval_every: Annotated[Optional[int], typer.Option(min=0, help="Evaluate every N epochs (curves, and what --early-stop compares). [default: 0, never]")] = None,
    eval_n: Annotated[Optional[int], typer.Option(min=10, help="Images per --eval-every evaluation (curves). [default: 10000]")] = None,
    final_n: Annotated[Optional[int], typer.Option(min=10, help="Images of each trial's final evaluation (what the table ranks). [default: 10000]")] = None,
    metric: Annotated[Optional[str], typer.Option(help="Metric the final table ranks by. [default: fid]")] = None,
    early_stop: Annotated[Optional[str], typer.Option(help="Stop weak trials early with ASHA on this metric (needs --eval-every).")] = None,
    trial_cpus: Annotated[Optional[float], typer.Option(help="CPUs per trial (trials run in parallel as CPUs allow). [default: 1]")] = None,
    trial_gpus: Annotated[Optional[float], typer.Option(help="GPUs per trial (fractions share a GPU); above 0 trains on CUDA. [default: 0]")] = None,
    address: Annotated[Optional[str], typer.Option(help="An existing Ray cluster, which you secure (else RAY_ADDRESS, else an embedded Ray on loopback only, with a token).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Sweep folder. [default: sweeps/NAME, NAME from the [sweep] table, else PRIOR-LOSS]")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip writing the HTML report at the end.")] = False,
) -> None:
    """Run many trainings: a grid or random search over any flag or -o option, times seeds, on Ray Tune.

    Every trial is an ordinary run under SWEEP/trials/. Ctrl-C keeps what is
    finished; the same command again resumes the rest.
    """
    from ..options import parse_assignments
    from .sweep_run import plan, run_sweep
    from .sweep_spec import DEFAULT_SEEDS, spec_from_file, spec_from_flags

    flags = {"prior": prior, "loss": loss, "arch": arch, "dataset": dataset, "epochs": epochs, "steps": steps,
             "batch_size": batch_size, "eval_every": eval_every, "eval_n": eval_n}
    flags = {k: v for k, v in flags.items() if v is not None}
    options = parse_assignments(option or [])
    if config is not None:
        if axis or samples is not None:
            raise GanError("give the search space in the --config file or with -s/--samples, not both")
        spec, settings = spec_from_file(config)
        spec.base.update(flags)
        if seeds is not None:
            spec.seeds = list(range(seeds))
    else:
        if not axis:
            raise GanError("nothing to sweep: add -s KEY=V1,V2 (e.g. -s prior.k=5,10) or --config sweep.toml")
        spec, settings = spec_from_flags(flags, axis, seeds or DEFAULT_SEEDS, samples or 0), {}
    if search_seed is not None:
        spec.search_seed = search_seed
    for kind, table in options.items():
        spec.base.setdefault("options", {}).setdefault(kind, {}).update(table)
    cli_settings = {"metric": metric, "early_stop": early_stop, "trial_cpus": trial_cpus, "trial_gpus": trial_gpus,
                    "address": address, "final_n": final_n}
    settings.update({k: v for k, v in cli_settings.items() if v is not None})
    name = settings.get("name") or f"{spec.base.get('prior', 'normal')}-{spec.base.get('loss', 'vanilla')}"
    folder = out or Path("sweeps") / name
    sweep_plan = plan(spec, folder, settings)
    counts = _count(sweep_plan)
    err.print(f"Sweep {folder}: {len(sweep_plan.trials)} trials ({counts['done']} done, {counts['stopped']} stopped early, "
              f"{counts['partial']} to resume, {counts['new']} to start)")
    try:
        states, failed = run_sweep(sweep_plan, err)
    except KeyboardInterrupt:
        states, failed = {t.id: sweep_plan.state_of(t) for t in sweep_plan.trials}, set()
    _finish(sweep_plan, states, folder, no_report)
    unfinished = [i for i, s in states.items() if s in ("new", "partial")]
    if failed:
        err.print(f"{len(failed)} trials failed (first: {sorted(failed)[0]}); their errors are under "
                  f"{folder / '.tune'}; run the same command again to retry them.")
        raise typer.Exit(ExitCode.INTERNAL_ERROR)
    if unfinished:
        err.print(f"Interrupted with {len(unfinished)} trials unfinished; finished trials are kept: "
                  "run the same command again to resume the rest.")
        raise typer.Exit(ExitCode.INTERRUPTED)


def _count(sweep_plan: Any) -> dict[str, int]:
    counts = {"done": 0, "stopped": 0, "partial": 0, "new": 0}
    for trial in sweep_plan.trials:
        counts[sweep_plan.state_of(trial)] += 1
    return counts


def _finish(sweep_plan: Any, states: dict[str, str], folder: Path, no_report: bool) -> None:
    """The ranked table of what is finished, and the report."""
    done = [folder / "trials" / t.id for t in sweep_plan.trials if states.get(t.id) == "done"]  # as the user named it
    if not done:
        return
    from .compare import (compare_rows, directions_of, headline_metrics, metrics_of, pick_metric, print_rows,
                          setting_columns, sort_rows)
    from .runindex import find_runs, with_sampler_evals

    records = find_runs(done)
    if any(t.eval_samplers for t in sweep_plan.trials):
        records = with_sampler_evals(records)  # a row per post-hoc sampler, beside its runs' plain row
    directions = directions_of(records)
    rows = compare_rows(records)
    metric = pick_metric(rows, sweep_plan.metric)
    rows = sort_rows(rows, metric, directions)
    print_rows(stdout, rows, metric, setting_columns(rows), directions,
               headline_metrics(metrics_of(rows), directions, metric))
    if not no_report:
        from .report import write_report

        index = write_report(records, folder / "report", inputs=[str(folder)], metric=metric)
        stdout.print(f"Report: {index}")
