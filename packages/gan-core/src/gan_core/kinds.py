"""The one table of component kinds.

Everything that differs from kind to kind is a field here: the hook that
registers it, its contract class and the methods a component must write,
the setting (and CLI flag, sweep key, config key) that chooses one per run,
its default, the ``-o`` prefixes of its options, and whether its state is
saved with a run's weights. Options parsing, settings, run.json, the
registry, contract checks, sweeps, ``gan compare``, the scaffold and the
conformance kit read what they need from it, so adding a kind is one entry
here plus its hook in :mod:`gan_core.hookspecs` (and its contract class).

No torch here: the CLI reads this table before anything heavy loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .errors import GanError


@dataclass(frozen=True)
class Kind:
    """One kind of component and how every part of gan names and treats it."""

    #: the kind's name: run.json's key, the registry's, ``gan plugins``' column
    name: str
    #: the plural in its hook's name: ``register_<plural>``
    plural: str
    #: its contract, a class in :mod:`gan_core.components`
    contract: str
    #: the methods a component of this kind must override
    required: tuple[str, ...]
    #: the setting that picks one per run (``--arch``, ``arch = "mlp"``, sweep key ``arch``); None: not picked per run
    setting: str | None = None
    #: what a run uses unless told otherwise
    default: str | None = None
    #: more prefixes ``-o PREFIX.key=value`` accepts for its options
    aliases: tuple[str, ...] = ()
    #: its state is part of a run's weights (saved under ``<name>.*``), so a saved run rebuilds it
    holds_weights: bool = False

    @property
    def hook(self) -> str:
        return f"register_{self.plural}"

    @property
    def prefix(self) -> str:
        """The short prefix users write: ``-o arch.width=32``, ``[options.arch]``, sweep axis ``arch.dropout``."""
        return self.setting or self.name

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name, self.prefix, *self.aliases)))


#: every kind, in the order people read a run (prior · loss first): run.json, gan compare, gan inspect, errors
KINDS: tuple[Kind, ...] = (
    Kind("prior", "priors", "Prior", ("sample",), setting="prior", default="normal", holds_weights=True),
    Kind("loss", "losses", "Loss", ("d_loss", "g_loss"), setting="loss", default="vanilla", holds_weights=True),
    Kind("architecture", "architectures", "Architecture", ("build",), setting="arch", default="mlp",
         holds_weights=True),
    Kind("dataset", "datasets", "Dataset", ("load",), setting="dataset", default="mnist", aliases=("data",)),
    Kind("sampler", "samplers", "Sampler", ("sample",), setting="sampler", default="none"),
    Kind("metric", "metrics", "Metric", ("compute",)),
)

_BY_NAME = {kind.name: kind for kind in KINDS}


def kind(name: str) -> Kind:
    """The kind called ``name``, or one sentence listing the kinds."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise GanError(f"there is no component kind '{name}'; use one of {', '.join(_BY_NAME)}") from None


def names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def run_kinds() -> tuple[Kind, ...]:
    """The kinds a run is made of, one component each (chosen by a setting)."""
    return tuple(k for k in KINDS if k.setting is not None)


def weight_kinds() -> tuple[str, ...]:
    """The kinds whose state a run's weights hold: what rebuilding a saved run needs."""
    return tuple(k.name for k in KINDS if k.holds_weights)


def option_prefixes() -> dict[str, str]:
    """Every ``-o PREFIX.key`` prefix, mapped to its kind's name."""
    return {prefix: k.name for k in KINDS for prefix in k.prefixes}


def settings() -> dict[str, str]:
    """The per-run settings that choose a component, mapped to its kind's name (``arch`` -> ``architecture``)."""
    return {k.setting: k.name for k in run_kinds()}  # type: ignore[misc]


def hooks() -> Iterator[tuple[str, str]]:
    """(kind name, hook name) for every kind, in table order."""
    return ((k.name, k.hook) for k in KINDS)
