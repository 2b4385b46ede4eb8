"""Commands that need no model never import torch: help, plugin listings, refusals of bad input.

Each probe runs in a fresh interpreter, since this test process has torch
loaded already. Only gan-core's and this repository's plugins are loaded
(GAN_LOAD_PLUGINS): a third-party plugin that imports torch at its top level
is allowed to make these commands slower.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: the entry points of this repository's method packages
OWN_PLUGINS = "gm,san,sampling,cluster,fgan"

PROBE = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
from gan_core.cli import app

runner, report = CliRunner(), []
group = get_command(app)
every = [[name] for name in group.commands]
every += [[name, sub] for name, command in group.commands.items() for sub in getattr(command, "commands", {})]
for args in [[]] + every:  # every command's --help, and gan --help itself
    result = runner.invoke(app, [*args, "--help"])
    report.append([[*args, "--help"], result.exit_code, "torch" in sys.modules])
for args in json.loads(sys.argv[1]):
    result = runner.invoke(app, args)
    report.append([args, result.exit_code, "torch" in sys.modules])
print(json.dumps(report))
"""


def probe(commands: list[list[str]]) -> list[tuple[list[str], int, bool]]:
    env = {**os.environ, "GAN_LOAD_PLUGINS": OWN_PLUGINS}
    env.pop("GAN_DISABLE_PLUGINS", None)
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(commands)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return [tuple(row) for row in json.loads(done.stdout.splitlines()[-1])]


def test_help_listings_and_refusals_do_not_import_torch(tmp_path):
    commands = [
        ["plugins"],
        ["plugins", "--json"],
        ["sample", str(tmp_path / "run")],  # nothing to write
        ["sample", str(tmp_path / "run"), "--out", "x.npz", "-o", "prior.k=3"],  # not a sampler option
        ["eval", str(tmp_path / "x.npz"), "-o", "arch.width=3"],  # not a metric option
        ["train", "--loss", "vanila"],  # a typo in a component's name
        ["train", "-o", "prior.std=-1"],  # an option out of its bounds
        ["sample", str(tmp_path / "no-such-run"), "--out", "x.npz"],  # no run there
        ["eval", str(tmp_path / "missing.npz")],  # no file there
        ["sample", str(tmp_path / "fake"), "--sampler", "nope", "--out", "x.npz"],  # a typo in the sampler
        ["eval", str(tmp_path / "fake"), "--sampler", "drs", "-o", "sampler.percentile=101"],  # out of bounds
    ]
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "run.json").write_text(json.dumps({"components": {}, "checkpoint": {"step": 1}}))
    report = probe(commands)
    helps = [row for row in report if row[0][-1] == "--help"]
    assert len(helps) >= 10 and all(code == 0 for _, code, _ in helps), helps
    assert [code for args, code, _ in report if args in commands] == [0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2], report
    importers = [" ".join(["gan", *args]) for args, _, torch_loaded in report if torch_loaded]
    assert not importers, f"these imported torch: {importers[0]} (the first; the rest follow it)"


def test_plugins_lists_every_own_component_without_torch():
    report = probe([["plugins", "--json"]])
    assert report[-1][1:] == (0, False)
    env = {**os.environ, "GAN_LOAD_PLUGINS": OWN_PLUGINS}
    listing = subprocess.run([sys.executable, "-m", "gan_core", "plugins", "--json"], capture_output=True,
                             text=True, env=env, timeout=300)
    data = json.loads(listing.stdout)
    assert not data["failures"], data["failures"]
    names = {c["name"] for c in data["components"]}
    assert {"normal", "gm-static", "cluster", "wgan-gp", "san", "fgan-kl", "drs", "mh", "latent-ga", "fid",
            "mlp", "dcgan", "mnist"} <= names


@pytest.mark.parametrize("kind", ["prior", "sampler", "discriminator"])
def test_contracts_defined_before_torch_become_torch_modules(kind):
    """A component class made before torch is imported is a full nn.Module once instantiated, and so is one made after."""
    code = f"""
import sys
import gan_core
from gan_core import Latent, Prior, Sampler, Discriminator, SampleResult
assert "torch" not in sys.modules
if "{kind}" == "prior":
    class Early(Prior):
        name = "early"
        def sample(self, n, *, component=None):
            return Latent(self.scale * torch.ones(n, self.latent_dim))
    make = lambda cls: cls(None, latent_dim=3)
elif "{kind}" == "sampler":
    class Early(Sampler):
        name = "early"
        def sample(self, model, n, *, component=None, max_proposals=None):
            return SampleResult(self.scale * torch.ones(n, 1, 2, 2), None, n)
    make = lambda cls: cls(None)
else:
    class Early(Discriminator):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(2, 1)
        def features(self, x):
            return x.flatten(1)
    make = lambda cls: cls()
assert "torch" not in sys.modules
import torch
first = make(Early)
first.scale = torch.nn.Parameter(torch.tensor(2.0))
second = make(Early)  # the second instance goes the same way as the first
class Late(Early):
    pass
late = make(Late)
for module in (first, second, late):
    assert isinstance(module, torch.nn.Module)
assert "scale" in dict(first.named_parameters())
assert Early.__mro__[-2:] == (torch.nn.Module, object), Early.__mro__
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "ok", done.stderr
