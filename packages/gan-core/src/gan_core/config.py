"""Training settings: defaults, a TOML config file, and explicit CLI values, merged.

Precedence, lowest first: the defaults here, the loss's own defaults (for the
optimiser fields left as ``None``), the ``--config`` file, explicit CLI flags.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import GanError
from .kinds import option_prefixes, run_kinds
from .options import coerce

#: the component kinds a run is made of, in the order they are chosen (from :data:`gan_core.kinds.KINDS`)
KINDS = tuple(k.name for k in run_kinds())


@dataclass
class TrainConfig:
    # one field per kind a run is made of, named by its setting, defaulting to the kinds table's default
    # (a test holds these to gan_core.kinds; the names stay fields: TrainConfig(prior=...) is public API)
    prior: str = "normal"
    loss: str = "vanilla"
    arch: str = "mlp"
    dataset: str = "mnist"
    sampler: str = "none"
    #: raw option values per component kind, e.g. {"prior": {"std": "0.5"}}
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    epochs: int = 1
    steps: int | None = None
    batch_size: int = 64
    latent_dim: int | None = None  # None: the prior's default_latent_dim (100 for most)
    optimizer: Literal["adam", "rmsprop"] | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple[float, float] | None = None
    d_steps: int | None = None
    seed: int = 0
    device: str = "auto"
    log_every: int = 50
    checkpoint_every: int = 0
    eval_every: int = 0
    eval_n: int = 10_000
    keep_best: str | None = None
    perceptual: float = 0.0  # beta_p of the perceptual regulariser added to G's loss (0: off)
    #: share of the training images kept away from D, for calibrating samplers (None: what --sampler asks for)
    holdout: float | None = None
    #: deterministic kernels (torch.use_deterministic_algorithms, cuDNN, cuBLAS): the same run again on CUDA too
    deterministic: bool = False
    data_dir: str | None = None
    out: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if data["betas"] is not None:
            data["betas"] = list(data["betas"])
        return data


_POSITIVE = {"epochs", "steps", "batch_size", "latent_dim", "d_steps", "log_every", "eval_n"}
_NON_NEGATIVE = {"perceptual", "holdout"}


def read_toml(path: Path, what: str = "config file") -> dict[str, Any]:
    """A TOML file's tables, or one sentence saying why it cannot be read."""
    if not path.is_file():
        raise GanError(f"{what} {path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GanError(f"{what} {path} is not valid TOML ({exc})") from exc


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings of a TOML file, keys normalised to field names."""
    raw = read_toml(path)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name == "options":
            if not isinstance(value, dict):
                raise GanError(f"{path}: 'options' must be a table of [options.KIND] tables")
            values["options"] = {}
            for prefix, table in value.items():
                kind = option_prefixes().get(prefix)
                if kind is None or not isinstance(table, dict):
                    raise GanError(
                        f"{path}: [options.{prefix}] names no component kind; "
                        f"use one of {', '.join(sorted(option_prefixes()))}"
                    )
                values["options"][kind] = dict(table)
            continue
        values[name] = value
    return values


def merge_config(file_values: Mapping[str, Any], cli_values: Mapping[str, Any], source: str = "config") -> TrainConfig:
    """A TrainConfig from defaults, then ``file_values``, then CLI values that are not None."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    hints = typing.get_type_hints(TrainConfig)
    config = TrainConfig()
    for origin, values in ((source, file_values), ("command line", cli_values)):
        for key, value in values.items():
            if value is None:
                continue
            if key not in fields:
                valid = ", ".join(k.replace("_", "-") for k in fields if k != "options")
                raise GanError(f"{origin} sets unknown setting '{key}'; valid settings: {valid}")
            if key == "options":
                for kind, table in value.items():
                    config.options.setdefault(kind, {}).update(table)
                continue
            coerced = coerce(value, hints[key], f"{origin} setting '{key.replace('_', '-')}'")
            if key in _POSITIVE and coerced is not None and coerced < 1:
                raise GanError(f"{origin} setting '{key.replace('_', '-')}' must be at least 1, not {coerced}")
            if key in _NON_NEGATIVE and coerced < 0:
                raise GanError(f"{origin} setting '{key.replace('_', '-')}' must be 0 or more, not {coerced}")
            setattr(config, key, coerced)
    return config


def component_names(config: TrainConfig) -> dict[str, str]:
    """The component a config picks for each kind of a run, by kind name (``architecture``, not ``arch``)."""
    return {k.name: getattr(config, k.setting) for k in run_kinds()}  # type: ignore[arg-type]


def config_from_run(info: dict[str, Any]) -> TrainConfig:
    """The settings a run was trained with, as saved in its run.json."""
    train = dict(info["train"])
    comps = info["components"]
    config = TrainConfig(
        **{k.setting: comps.get(k.name, {}).get("name", k.default) for k in run_kinds()},  # type: ignore[misc]
        options={k.name: dict(comps[k.name]["options"]) for k in run_kinds() if k.name in comps},
    )
    if train.get("metric_options"):
        config.options["metric"] = dict(train["metric_options"])
    for key, value in train.items():
        if hasattr(config, key) and key != "options":
            setattr(config, key, tuple(value) if key == "betas" and value is not None else value)
    return config


#: what may change when a run is resumed; everything else is the run's own
RESUMABLE = ("epochs", "steps", "device", "data_dir", "log_every", "checkpoint_every", "eval_every", "eval_n")


def settings_for(
    values: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    resume: Path | None = None,
    init_from: Path | None = None,
) -> TrainConfig:
    """The settings of a run: defaults < config file < ``values``; or a run's own, when resuming.

    ``values`` uses the config file's keys (``batch_size`` or ``batch-size``,
    ``options={"prior": {"k": 10}}``); None values are ignored. Resuming
    takes the run's settings and accepts only :data:`RESUMABLE` changes;
    ``epochs`` given then replaces the run's step budget.
    """
    from .runs import RUN_FILE, read_run

    given = {k.replace("-", "_"): v for k, v in (values or {}).items() if v is not None and v != {}}
    if resume is None:
        file_values = read_config_file(config_file) if config_file else {}
        return merge_config(file_values, given, source=str(config_file) if config_file else "config")
    extra = sorted(k for k in given if k not in RESUMABLE)
    if extra or config_file or init_from:
        names = [f"--{k.replace('_', '-')}" for k in extra] + (["--config"] if config_file else []) + (
            ["--init-from"] if init_from else [])
        raise GanError(
            f"--resume continues a run with its own settings; drop {', '.join(names)} "
            f"(only {', '.join('--' + k.replace('_', '-') for k in RESUMABLE)} may change)"
        )
    base = config_from_run(read_run(resume)).to_dict()
    if "epochs" in given:
        base["steps"] = None
    return merge_config(base, given, source=str(resume / RUN_FILE))
