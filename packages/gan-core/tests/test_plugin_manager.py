"""One plugin manager, handed around: a CLI built from a plugin that is not installed, hooks called by pluggy."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
import typer
from typer.testing import CliRunner

from gan_core import GanError, Latent, Prior, hookimpl
from gan_core.cli import make_app
from gan_core.deprecation import GanDeprecationWarning
from gan_core.plugins import PluginManager, PluginOrigin
from gan_core.registry import Registry, get_registry, reset_registry, use_registry
from gan_core.testing import cli_for, plugin_registered, run_cli


class HelloPrior(Prior):
    """Every code is one (a test double)."""

    name = "hello-prior"

    def sample(self, n, *, component=None):
        return Latent(torch.ones(n, self.latent_dim, device=self.device))


class HelloPlugin:
    """A command plugin that is not installed: no entry point, no distribution."""

    @hookimpl
    def register_priors(self, register):
        register(HelloPrior)

    @hookimpl
    def register_commands(self, app):
        @app.command("hello")
        def hello(name: str = typer.Option("world", help="Whom to greet.")) -> None:
            """Greet, and say which prior the registry in use holds."""
            from gan_core import create_component

            prior = create_component("prior", "hello-prior", latent_dim=2)
            print(f"hello {name} from {prior.name}")

        @app.command("fails")
        def fails() -> None:
            raise GanError("the plugin's own error, in one sentence")


def fresh_registry(*plugins: object) -> Registry:
    """A registry of a new manager holding only ``plugins``: nothing built in, nothing installed."""
    manager = PluginManager()
    for i, plugin in enumerate(plugins):
        manager.register(plugin, f"test-{i}", PluginOrigin("gan-hello", "0.1"))
    return Registry(manager)


def test_a_cli_is_built_from_a_plugin_that_is_not_installed():
    registry = fresh_registry(HelloPlugin())
    app = make_app(registry)
    runner = CliRunner()
    hello = runner.invoke(app, ["hello", "--name", "tests"])
    listing = runner.invoke(app, ["plugins", "--json"])
    failed = runner.invoke(app, ["fails"])
    assert hello.exit_code == 0, hello.output
    assert "hello tests from hello-prior" in hello.output  # its command found its prior through the API
    components = json.loads(listing.stdout)["components"]
    assert [(c["kind"], c["name"], c["package"]) for c in components] == [("prior", "hello-prior", "gan-hello")]
    assert failed.exit_code == 2 and "the plugin's own error, in one sentence" in failed.output


def test_building_and_running_such_a_cli_leaves_the_process_default_alone():
    default = get_registry()
    app = make_app(fresh_registry(HelloPlugin()))
    assert CliRunner().invoke(app, ["hello"]).exit_code == 0
    assert get_registry() is default
    assert "hello-prior" not in default.names("prior")
    assert "hello" not in {c.name for c in make_app().registered_commands}


def test_cli_for_builds_the_same_cli_with_or_without_the_installed_plugins():
    alone = CliRunner().invoke(cli_for(HelloPlugin(), builtins=False), ["plugins", "--json"])
    assert {c["name"] for c in json.loads(alone.stdout)["components"]} == {"hello-prior"}
    with_builtins = CliRunner().invoke(cli_for(HelloPlugin(), package="gan-hello"), ["plugins", "--json"])
    names = {c["name"] for c in json.loads(with_builtins.stdout)["components"]}
    assert {"hello-prior", "normal", "vanilla"} <= names


def test_a_plugin_whose_commands_fail_keeps_none_of_its_components():
    class Clashing(HelloPlugin):
        @hookimpl
        def register_commands(self, app):
            app.command("train")(lambda: None)

    registry = fresh_registry(Clashing())
    assert "hello-prior" in registry.names("prior")  # collected before the CLI was built
    make_app(registry)
    make_app(registry)  # a second CLI of the same registry finds the same failure: reported once
    assert "hello-prior" not in registry.names("prior")
    assert [f.error for f in registry.failures] == [
        "ValueError: command 'train' is already taken; built-in commands cannot be replaced, rename it"]
    with pytest.raises(GanError, match="comes from plugin 'test-0' \\(gan-hello\\), which was not loaded"):
        registry.get("prior", "hello-prior")


def test_one_plugins_hooks_are_called_through_pluggy():
    """What reaches pluggy's call monitors is the single plugin's implementation, by name."""
    registry = fresh_registry(HelloPlugin(), HelloPlugin())
    seen: list[tuple[str, list[str]]] = []
    registry.manager.add_hookcall_monitoring(lambda hook, impls, kwargs: seen.append((hook, [i.plugin_name for i in impls])),
                                             lambda outcome, hook, impls, kwargs: None)
    registry.names("prior")
    assert ("register_priors", ["test-0"]) in seen and ("register_priors", ["test-1"]) in seen
    assert any("already registered by gan-hello" in f.error for f in registry.failures)  # the second one's clash


def test_plugin_registered_puts_back_what_was_in_use():
    before = get_registry()
    with plugin_registered(HelloPlugin(), name="gan_hello") as registry:
        assert get_registry() is registry and "hello-prior" in registry.names("prior")
        assert "hello world from hello-prior" in run_cli(["hello"]).output
    assert get_registry() is before


def test_use_registry_swaps_the_default_for_a_block():
    mine = fresh_registry(HelloPlugin())
    with use_registry(mine):
        assert get_registry() is mine
    assert get_registry() is not mine


def test_the_names_of_gan_core_0_2_still_work_and_warn(monkeypatch):
    import gan_core.plugins as plugins

    monkeypatch.setattr("gan_core.deprecation._warned", set())
    with pytest.warns(GanDeprecationWarning, match="PluginManager"):
        host_class = plugins.PluginHost
    assert host_class is PluginManager
    with pytest.warns(GanDeprecationWarning, match="get_registry\\(\\).manager"):
        host = plugins.get_host()
    assert host is get_registry().manager and host.pm is host  # one manager, not a second singleton
    with pytest.warns(GanDeprecationWarning, match="Registry.manager"):
        assert get_registry().host is host
    with pytest.warns(GanDeprecationWarning, match="reset_registry"):
        plugins.reset_host()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_registry().manager is not host  # reloaded
    reset_registry()


def test_a_second_package_reusing_an_entry_point_name_fails_and_the_first_keeps_its_components(monkeypatch):
    import types

    from gan_core.plugins import load_plugins

    class EntryPoint:
        def __init__(self, dist: str, plugin: object) -> None:
            self.name, self.plugin = "hello", plugin
            self.dist = types.SimpleNamespace(name=dist, version="1.0")

        def load(self):
            return self.plugin

    monkeypatch.setattr("importlib.metadata.entry_points",
                        lambda group: [EntryPoint("gan-hello", HelloPlugin()), EntryPoint("gan-other", HelloPlugin())])
    monkeypatch.setenv("GAN_LOAD_PLUGINS", "hello")
    registry = Registry(load_plugins())
    assert registry.get("prior", "hello-prior").package == "gan-hello"
    assert [(f.plugin, f.package) for f in registry.failures] == [("hello", "gan-other")]
    assert "already used by gan-hello" in registry.failures[0].error
    app = make_app(registry)
    assert "hello world from hello-prior" in CliRunner().invoke(app, ["hello"]).output
