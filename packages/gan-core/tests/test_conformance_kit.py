"""The conformance kit fails on deliberately broken components, and says what to fix."""

from __future__ import annotations

import random
import types
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_core import (Architecture, Discriminator, Latent, Loss, Metric, Networks, Prior, SampleResult, Sampler,
                      discriminate, hookimpl, option)
from gan_core.testing import ConformanceFailure, conformance_cases, run_case


def plugin_of(hook: str, cls: type) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{hook: hookimpl(lambda register: register(cls))})


def failure_of(plugin: object, case_id: str) -> str:
    """The message of the one case ``case_id`` (it must fail)."""
    cases = {case.id: case for case in conformance_cases(plugin)}
    assert case_id in cases, sorted(cases)
    with pytest.raises(ConformanceFailure) as caught:
        run_case(plugin, cases[case_id])
    return str(caught.value)


class ForgetfulPrior(Prior):
    """Draws its means at construction but keeps them in a plain attribute, so a reopened run loses them."""

    name = "forgetful"

    def __init__(self, options, latent_dim=None):
        super().__init__(options, latent_dim)
        self.means = torch.randn(3, self.latent_dim)  # should have been register_buffer

    def sample(self, n, *, component=None):
        k = torch.randint(0, 3, (n,), device=self.device)
        return Latent(self.means[k] + torch.randn(n, self.latent_dim, device=self.device))


class PythonRandomPrior(Prior):
    """Draws from Python's random module, which torch.manual_seed does not seed."""

    name = "python-random"

    def sample(self, n, *, component=None):
        return Latent(torch.full((n, self.latent_dim), random.random(), device=self.device))


class WrongWidthPrior(Prior):
    """Returns codes one coordinate short."""

    name = "short-codes"

    def sample(self, n, *, component=None):
        return Latent(torch.zeros(n, self.latent_dim - 1, device=self.device))


class HalfSampler(Sampler):
    """Returns half the images asked for."""

    name = "half"

    def sample(self, model, n, *, component=None, max_proposals=None):
        batch = model.generate(max(n // 2, 1))
        return SampleResult(batch.images, None, n)


class NoHeadline(Metric):
    """Returns its value under another name."""

    name = "no-headline"

    def compute(self, real, fake):
        return {"something-else": 1.0}


class ConvHead(Architecture):
    """A discriminator whose head is not an nn.Linear, so losses such as SAN cannot reshape it."""

    name = "conv-head"

    def build(self, spec):
        c, h, w = spec.image_shape

        class D(Discriminator):
            def __init__(self):
                super().__init__()
                self.body = nn.Identity()
                self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, spec.d_outputs))

            def features(self, x):
                return self.body(x)

        generator = nn.Sequential(nn.Linear(spec.latent_dim, c * h * w), nn.Tanh(), nn.Unflatten(1, (c, h, w)))
        return Networks(generator, D())


@pytest.mark.parametrize(
    "hook, cls, case_id, advice",
    [
        ("register_priors", ForgetfulPrior, "prior:forgetful:state",
         "keep everything it draws at construction in parameters or buffers"),
        ("register_priors", PythonRandomPrior, "prior:python-random:determinism", "draw only from torch's RNG"),
        ("register_priors", WrongWidthPrior, "prior:short-codes:sample", "returned codes of shape (16, 99) for sample(16); expected (16, 100)"),
        ("register_samplers", HalfSampler, "sampler:half:sample[prior=normal]", "returned 3 images when 7 were asked for; return exactly n"),
        ("register_metrics", NoHeadline, "metric:no-headline:compute", "returned ['something-else'] but not its headline value 'no-headline'"),
        ("register_architectures", ConvHead, "architecture:conv-head:build", "the discriminator's head must be an nn.Linear"),
    ],
)
def test_broken_components_fail_with_what_to_fix(hook, cls, case_id, advice):
    assert advice in failure_of(plugin_of(hook, cls), case_id)


def test_a_plugin_that_cannot_register_fails_its_suite():
    class Nameless(Prior):
        """No name."""

        def sample(self, n, *, component=None):
            return Latent(torch.zeros(n, self.latent_dim))

    plugin = plugin_of("register_priors", Nameless)
    (case,) = conformance_cases(plugin)
    with pytest.raises(ConformanceFailure, match="was not loaded: ContractError: Nameless.name must be"):
        run_case(plugin, case)


def test_incompatible_combinations_are_skipped_not_failed():
    import gan_gm

    cases = {case.id: case for case in conformance_cases(gan_gm)}
    with pytest.raises(pytest.skip.Exception, match="the core refuses this combination"):
        run_case(gan_gm, cases["loss:gm-aux:train[prior=normal]"])


# --------------------------------------------------------------------------- stacked equals separate


class SharedNoisePrior(Prior):
    """Declares that it stacks but draws from torch's global generator, so the members of a group share noise."""

    name = "shared-noise"
    stacks = True

    def sample(self, n, *, component=None):
        return Latent(torch.randn(n, self.latent_dim, device=self.device))


class HostSyncLoss(Loss):
    """Declares that it stacks but reads its loss on the host inside a step (.item()), which vmap refuses."""

    name = "host-sync"
    stacks = True

    def d_loss(self, d, real, fake):
        r, f = discriminate(d, real.images, fake.images)
        loss = F.softplus(-r).mean() + F.softplus(f).mean()
        return loss if loss.item() < 1e6 else loss.clamp(max=1e6)

    def g_loss(self, d, fake, real):
        return F.softplus(-d(fake.images)).mean()


@dataclass(frozen=True)
class WeightOptions:
    weight: float = option(1.0, "weight of the real term", min=0.0, max=10.0)


class CachedOptionLoss(Loss):
    """Declares a member option but reads a copy made at construction, so every member trains with the first's."""

    name = "cached-option"
    Options = WeightOptions
    stacks = True
    member_options = ("weight",)

    def __init__(self, options):
        super().__init__(options)
        self.weight = options.weight  # should be read from self.options in the step

    def d_loss(self, d, real, fake):
        r, f = discriminate(d, real.images, fake.images)
        return self.weight * F.softplus(-r).mean() + F.softplus(f).mean()

    def g_loss(self, d, fake, real):
        return F.softplus(-d(fake.images)).mean()


class MemberOptionLoss(CachedOptionLoss):
    """The same loss done right: it reads its member option from self.options during the step."""

    name = "member-option"

    def d_loss(self, d, real, fake):
        r, f = discriminate(d, real.images, fake.images)
        return self.options.weight * F.softplus(-r).mean() + F.softplus(f).mean()


class UnstackedPrior(Prior):
    """A prior written before stacked training: it does not declare stacks."""

    name = "unstacked"

    def sample(self, n, *, component=None):
        return Latent(torch.randn(n, self.latent_dim, device=self.device))


@pytest.mark.parametrize(
    "hook, cls, advice",
    [
        ("register_priors", SharedNoisePrior, "draw randomness only through gan_core.rng"),
        ("register_losses", CachedOptionLoss, "member 1 (seed 1, weight=1.5)"),
        ("register_losses", HostSyncLoss, "as a stacked group of 2 (gan train --seeds 2) raised RuntimeError"),
    ],
)
def test_a_component_that_stacks_wrongly_fails_stacked_equals_separate(hook, cls, advice):
    message = failure_of(plugin_of(hook, cls), f"{cls.kind}:{cls.name}:stacked")
    assert advice in message and "docs/plugins.md, 'Stacked training'" in message, message


def test_a_component_that_stacks_right_passes_with_members_that_differ_in_its_member_options():
    plugin = plugin_of("register_losses", MemberOptionLoss)
    cases = {case.id: case for case in conformance_cases(plugin)}
    run_case(plugin, cases["loss:member-option:stacked"])


def test_a_component_that_does_not_stack_skips_stacked_equals_separate_saying_why():
    plugin = plugin_of("register_priors", UnstackedPrior)
    cases = {case.id: case for case in conformance_cases(plugin)}
    with pytest.raises(pytest.skip.Exception, match=r"prior 'unstacked' does not stack \(it does not declare stacks = "
                                                     r"True\), so gan train --seeds trains its runs one after another"):
        run_case(plugin, cases["prior:unstacked:stacked"])
