"""clustergan passes the base loss its options (checked by gan-core) and forwards its critic_steps schedule."""

import types
from dataclasses import dataclass

import pytest

from gan_cluster.loss import parse_base_options
from gan_core import GanError, Loss, create_component, hookimpl, option
from gan_core.testing import plugin_registered


@dataclass(frozen=True)
class ScheduledOptions:
    warmup: bool = option(False, "extra critic steps for the first generator steps")
    weight: float = option(1.0, "a number, to check values are coerced", min=0.0)
    pair: tuple[float, float] = option((0.5, 0.9), "a tuple, whose commas must survive the splitting")


class Scheduled(Loss):
    """A base loss with options and a critic schedule (a test double)."""

    name = "scheduled"
    Options = ScheduledOptions

    def critic_steps(self, step):
        return 100 if self.options.warmup and step < 25 else None

    def d_loss(self, d, real, fake):
        return d(real.images).mean()

    def g_loss(self, d, fake, real):
        return -d(fake.images).mean()


@pytest.fixture
def scheduled():
    plugin = types.SimpleNamespace(register_losses=hookimpl(lambda register: register(Scheduled)))
    with plugin_registered(plugin):
        yield


def clustergan(**options):
    return create_component("loss", "clustergan", {"base": "scheduled", **options})


def test_the_base_options_reach_the_base_and_its_schedule_is_forwarded(scheduled):
    loss = clustergan(base_options="warmup=true, weight=2,pair=0.1,0.2")

    assert loss.base.options == ScheduledOptions(warmup=True, weight=2.0, pair=(0.1, 0.2))
    assert [loss.critic_steps(step) for step in (0, 24, 25)] == [100, 100, None]
    assert clustergan().critic_steps(0) is None  # the base's defaults when no options are given


def test_a_typo_or_bad_value_in_the_base_options_is_refused(scheduled):
    with pytest.raises(GanError, match=r"base_options: loss 'scheduled' has no option 'warmpu' \(did you mean"):
        clustergan(base_options="warmpu=true")
    with pytest.raises(GanError, match="base_options: loss 'scheduled' option 'weight' must be at least 0"):
        clustergan(base_options="weight=-1")
    with pytest.raises(GanError, match="'warmup', which is not KEY=VALUE"):
        clustergan(base_options="warmup")


def test_parse_base_options_keeps_tuple_commas_and_reads_empty_as_none():
    assert parse_base_options("") == {} and parse_base_options("  ") == {}
    assert parse_base_options("a=1,b=0.5,0.9, c = x") == {"a": "1", "b": "0.5,0.9", "c": "x"}


def test_the_wgan_warmup_survives_the_wrapper():
    pytest.importorskip("gan_san")
    loss = create_component("loss", "clustergan", {"base": "wgan", "base_options": "warmup=true"})
    assert loss.critic_steps(0) == 100 and loss.critic_steps(30) is None
