from dataclasses import dataclass
from typing import Literal

import pytest

from gan_core.errors import GanError
from gan_core.options import build_options, describe_options, option, options_to_dict, parse_assignments


@dataclass(frozen=True)
class Opts:
    k: int = option(10, "components", min=1)
    sigma: float = option(1.0, "spread", min=0.0)
    learn: bool = option(False, "learn it")
    form: Literal["scalar", "diagonal"] = option("scalar", "scale form")
    betas: tuple[float, float] = option((0.5, 0.9), "betas")
    label: str = option("x", "a name")


def test_parse_assignments_groups_by_kind_and_accepts_aliases():
    parsed = parse_assignments(["prior.k=3", "arch.dropout=0.3", "loss.lambda_=1", "prior.sigma=2"])
    assert parsed == {"prior": {"k": "3", "sigma": "2"}, "architecture": {"dropout": "0.3"}, "loss": {"lambda_": "1"}}


@pytest.mark.parametrize("bad", ["prior.k", "k=3", "prior.=3", "nothing.k=3"])
def test_parse_assignments_refuses_malformed(bad):
    with pytest.raises(GanError):
        parse_assignments([bad])


def test_build_options_coerces_strings():
    opts = build_options(Opts, {"k": "3", "sigma": "0.5", "learn": "true", "form": "diagonal", "betas": "0,0.9"}, "prior 'x'")
    assert (opts.k, opts.sigma, opts.learn, opts.form, opts.betas) == (3, 0.5, True, "diagonal", (0.0, 0.9))


def test_build_options_accepts_typed_values_from_toml():
    opts = build_options(Opts, {"k": 4, "sigma": 2, "betas": [0.1, 0.2]}, "prior 'x'")
    assert opts.sigma == 2.0 and isinstance(opts.sigma, float) and opts.betas == (0.1, 0.2)


def test_unknown_key_suggests_closest_and_lists_valid():
    with pytest.raises(GanError, match=r"prior 'x' has no option 'sigm' \(did you mean 'sigma'\?\).*k, sigma"):
        build_options(Opts, {"sigm": "1"}, "prior 'x'")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"k": "three"}, "must be an integer"),
        ({"k": "0"}, "at least 1"),
        ({"sigma": "-1"}, "at least 0.0"),
        ({"learn": "maybe"}, "true or false"),
        ({"form": "full"}, "one of scalar, diagonal"),
        ({"betas": "0.5"}, "needs 2"),
        ({"k": True}, "must be a number"),
    ],
)
def test_bad_values_are_refused_with_the_reason(values, message):
    with pytest.raises(GanError, match=message):
        build_options(Opts, values, "prior 'x'")


def test_round_trip_through_json_form():
    opts = build_options(Opts, {"betas": "0.1,0.2"}, "p")
    assert build_options(Opts, options_to_dict(opts), "p") == opts


def test_describe_options_lists_help_and_bounds():
    rows = {row.name: row for row in describe_options(Opts)}
    assert rows["k"].bounds == ">= 1" and rows["k"].help == "components"
    assert rows["form"].type_name == "scalar|diagonal"
