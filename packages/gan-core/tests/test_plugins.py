"""The hook specs, the registry's checks, and plugin failures that must not break the CLI."""

import inspect
import types
from dataclasses import dataclass

import pytest
import torch

from gan_core import Latent, Prior, hookimpl, option
from gan_core import hookspecs
from gan_core.errors import GanError
from gan_core.plugins import DEFAULT_PLUGINS, PluginManager, load_plugins
from gan_core.registry import HOOK_FOR_KIND, Registry, get_registry
from gan_core.testing import plugin_registered, run_cli


@dataclass(frozen=True)
class ConstOptions:
    value: float = option(0.0, "the constant every code holds")


class ConstantPrior(Prior):
    """Every code is the same constant (a test double)."""

    name = "constant"
    Options = ConstOptions

    def sample(self, n, *, component=None):
        return Latent(torch.full((n, self.latent_dim), self.options.value, device=self.device))


def make_plugin(**hooks):
    plugin = types.SimpleNamespace()
    for name, func in hooks.items():
        setattr(plugin, name, hookimpl(func))
    return plugin


def test_every_kind_has_a_documented_register_hook():
    for kind, hook_name in HOOK_FOR_KIND.items():
        spec = getattr(hookspecs, hook_name)
        assert list(inspect.signature(spec).parameters) == ["register"]
        assert spec.__doc__ and "gan_core." in spec.__doc__
    assert list(inspect.signature(hookspecs.register_commands).parameters) == ["app"]


def minimal_component(kind):
    """The smallest valid subclass of each kind's base class: its required methods, doing nothing."""
    from gan_core.components import COMPONENT_BASES
    from gan_core.contracts import REQUIRED_METHODS

    body = {"name": f"minimal-{kind}", "__doc__": "A test double."}
    body.update({method: lambda self, *args, **kwargs: None for method in REQUIRED_METHODS[kind]})
    return type(f"Minimal{kind.title()}", (COMPONENT_BASES[kind],), body)


@pytest.mark.parametrize("kind", sorted(HOOK_FOR_KIND))
def test_each_register_hook_adds_its_kind(kind):
    cls = minimal_component(kind)
    plugin = make_plugin(**{HOOK_FOR_KIND[kind]: lambda register: register(cls)})
    with plugin_registered(plugin, name=f"one-{kind}", package="gan-one") as registry:
        entry = registry.get(kind, f"minimal-{kind}")
        assert entry.cls is cls and entry.package == "gan-one" and not registry.failures


def test_builtins_register_through_the_hooks_like_any_plugin():
    registry = get_registry()
    assert set(DEFAULT_PLUGINS) <= set(registry.manager.origins)
    builtin = [e for e in registry.all() if e.plugin in DEFAULT_PLUGINS]
    names = {(e.kind, e.name) for e in builtin}
    for expected in [("prior", "normal"), ("prior", "uniform"), ("loss", "vanilla"), ("loss", "hinge"),
                     ("loss", "lsgan"), ("architecture", "mlp"), ("architecture", "dcgan"),
                     ("dataset", "mnist"), ("dataset", "fashion-mnist"), ("dataset", "folder"), ("sampler", "none")]:
        assert expected in names
    assert all(e.package == "gan-core" for e in builtin)


def test_third_party_component_is_listed_and_shown():
    plugin = make_plugin(register_priors=lambda register: register(ConstantPrior))
    with plugin_registered(plugin, name="const-plugin", package="gan-const") as registry:
        assert registry.get("prior", "constant").package == "gan-const"
        listing = run_cli(["plugins"])
        shown = run_cli(["plugins", "show", "constant"])
    assert listing.exit_code == 0 and "constant" in listing.output and "gan-const" in listing.output
    assert shown.exit_code == 0 and "prior.value" in shown.output and "the constant every code holds" in shown.output


@dataclass(frozen=True)
class WobbleOptions:
    wobble: float = option(0.5, "draws noise from torch's global generator when above 0")


class WobblyPrior(ConstantPrior):
    """Stacks unless its option draws from the global generator (a test double)."""

    name = "wobbly"
    Options = WobbleOptions
    stacks = True

    def stack_refusal(self):
        return "its wobble draws from torch's global generator" if self.options.wobble > 0 else None


def test_listing_and_show_say_which_components_stack_and_why_not():
    """gan plugins: a stacks column (blank for kinds that do not train) and JSON fields; show: the default options' reason."""
    import json

    plugin = make_plugin(register_priors=lambda register: (register(ConstantPrior), register(WobblyPrior)))
    with plugin_registered(plugin, name="stacking-plugin", package="gan-stacking"):
        listing = run_cli(["plugins"])
        as_json = run_cli(["plugins", "--json"])
        shown = {name: run_cli(["plugins", "show", name]) for name in ("normal", "mlp", "constant", "wobbly", "none")}
    assert listing.exit_code == 0 and "stacks" in listing.output, listing.output
    rows = {line.split("│")[2].strip(): [cell.strip() for cell in line.split("│")[1:-1]]
            for line in listing.output.splitlines() if line.startswith("│") and line.split("│")[2].strip()}
    assert rows["normal"][3] == "yes" and rows["constant"][3] == "no" and rows["none"][3] == "", rows
    components = {c["name"]: c for c in json.loads(as_json.output)["components"]}
    assert (components["normal"]["stacks"], components["normal"]["stack_refusal"]) == (True, None)
    assert (components["constant"]["stacks"], components["constant"]["stack_refusal"]) == (
        False, "it does not declare stacks = True")
    assert components["none"]["stacks"] is None and components["fid"]["stack_refusal"] is None
    assert components["wobbly"]["stacks"] is True  # the listing reads the declaration; show asks the default options

    text = {name: " ".join(result.output.split()) for name, result in shown.items()}
    assert all(result.exit_code == 0 for result in shown.values()), text
    assert ("stacks: yes, gan train --seeds N trains its runs as one stacked model; the runs of a group may differ "
            "in prior.std") in text["normal"]
    assert "stacks: yes, gan train --seeds N trains its runs as one stacked model" in text["mlp"]
    assert ("stacks: no, it does not declare stacks = True; gan train --seeds N trains its runs one after another"
            in text["constant"])
    assert "stacks: no, its wobble draws from torch's global generator;" in text["wobbly"]
    assert "stacks" not in text["none"]  # a sampler does not train: nothing to say


def test_unknown_name_suggests_the_closest():
    with pytest.raises(GanError, match="there is no loss named 'hing'; did you mean 'hinge'"):
        get_registry().get("loss", "hing")


def test_bad_registrations_are_reported_not_fatal():
    class Nameless(Prior):
        name = ""

    def register_priors(register):
        register(Nameless)

    def register_losses(register):
        register(ConstantPrior)  # wrong kind

    def register_architectures(register):
        raise RuntimeError("boom")

    plugin = make_plugin(register_priors=register_priors, register_losses=register_losses,
                         register_architectures=register_architectures)
    with plugin_registered(plugin, name="broken") as registry:
        errors = " | ".join(f.error for f in registry.failures)
        assert "name must be" in errors  # the first problem refuses the whole plugin
        assert registry.get("loss", "vanilla")  # the rest still works
        listing = run_cli(["plugins"])
    assert listing.exit_code == 0 and "failed to load" in listing.output


def test_duplicate_names_are_refused():
    class AnotherNormal(ConstantPrior):
        name = "normal"

    plugin = make_plugin(register_priors=lambda register: register(AnotherNormal))
    with plugin_registered(plugin) as registry:
        assert any("already registered" in f.error for f in registry.failures)
        assert registry.get("prior", "normal").package == "gan-core"


def test_entry_point_that_fails_to_import_is_recorded(monkeypatch):
    class BadEntryPoint:
        name = "bad"
        dist = types.SimpleNamespace(name="gan-bad", version="9.9")

        def load(self):
            raise ImportError("no module named gan_bad")

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [BadEntryPoint()])
    registry = Registry(load_plugins())
    assert registry.failures[0].package == "gan-bad" and "no module named gan_bad" in registry.failures[0].error
    assert registry.get("loss", "vanilla")


def test_load_and_disable_switches(monkeypatch):
    class GoodEntryPoint:
        name = "good"
        dist = types.SimpleNamespace(name="gan-good", version="1.0")

        def load(self):
            return make_plugin(register_priors=lambda register: register(ConstantPrior))

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [GoodEntryPoint()])
    monkeypatch.setenv("GAN_LOAD_PLUGINS", "")
    monkeypatch.setenv("GAN_DISABLE_PLUGINS", "gan_core.builtin.losses")
    registry = Registry(load_plugins())
    assert registry.names("loss") == [] and "constant" not in registry.names("prior")
    monkeypatch.setenv("GAN_LOAD_PLUGINS", "good")
    manager = PluginManager()
    manager.load_entrypoints()
    assert "constant" in Registry(manager).names("prior")


def test_plugin_commands_are_added_by_run_cli():
    def register_commands(app):
        @app.command("hello")
        def hello():
            print("hello from a plugin")

    plugin = make_plugin(register_commands=register_commands)
    with plugin_registered(plugin):
        result = run_cli(["hello"])
    assert result.exit_code == 0 and "hello from a plugin" in result.output
    assert run_cli(["hello"]).exit_code != 0  # gone with the block: the process's CLI was not changed
