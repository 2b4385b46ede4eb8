"""The kinds table is the one place a kind is described: what derives from it agrees with it."""

from __future__ import annotations

import dataclasses
import inspect

from gan_core import components, hookspecs, kinds
from gan_core.config import KINDS as RUN_KINDS
from gan_core.config import TrainConfig, component_names
from gan_core.contracts import REQUIRED_METHODS
from gan_core.options import parse_assignments


def test_each_kind_has_its_hook_and_its_contract():
    for kind in kinds.KINDS:
        assert inspect.isfunction(getattr(hookspecs, kind.hook)), kind.hook
        base = components.COMPONENT_BASES[kind.name]
        assert base.__name__ == kind.contract and base.kind == kind.name
        assert REQUIRED_METHODS[kind.name] == kind.required


def test_train_config_has_one_field_per_run_kind_with_the_tables_default():
    fields = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for kind in kinds.run_kinds():
        assert fields[kind.setting] == kind.default, kind.name
    assert RUN_KINDS == tuple(k.name for k in kinds.run_kinds())
    assert component_names(TrainConfig(arch="dcgan")) == {"prior": "normal", "loss": "vanilla", "architecture": "dcgan",
                                                           "dataset": "mnist", "sampler": "none"}


def test_every_prefix_of_the_table_reaches_its_kind():
    for kind in kinds.KINDS:
        for prefix in kind.prefixes:
            assert parse_assignments([f"{prefix}.x=1"]) == {kind.name: {"x": "1"}}
