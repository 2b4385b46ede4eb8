import pytest
import scipy.stats
import torch

from gan_core import GanError, create_component
from gan_sampling.drs import drs_f
from gan_sampling.latent_ga import LatentGAOptions, LatentGradientAscent
from gan_sampling.latent_rs import LatentRejection, LatentRSOptions, weight_objective
from gan_sampling.mh import MetropolisHastings, MHOptions, independence_chains

from .conftest import pixels, toy_model


def fitted_drs(model, real, **options):
    sampler = create_component("sampler", "drs", {"calibration": 500, "burn_in": 500, **options})
    sampler.fit(model, real)
    return sampler


def test_drs_accepts_everything_when_d_is_constant(seeded):
    model = toy_model(slope=0.0, offset=3.0)
    sampler = fitted_drs(model, pixels(torch.rand(500) * 2 - 1), gamma=0.0)
    result = sampler.sample(model, 2000)
    assert result.proposals == 2000  # not one rejection


def test_drs_rejects_far_off_samples_when_d_separates_them(seeded):
    model = toy_model(slope=4.0)  # D says: the larger x, the more real
    real = pixels(torch.full((500,), 0.9))
    # a point mass of reals saturates an isotonic calibration below it (every fake there gets the same floor
    # logit, which the percentile shift then accepts at 1/2): the logistic calibrator keeps the slope to reject by
    sampler = fitted_drs(model, real, calibrator="logistic")
    images = sampler.sample(model, 1000).images.flatten()
    plain = model.generate(1000).images.flatten()
    assert images.mean() > plain.mean() + 0.5 and (images < -1.5).float().mean() < 0.01


class Uncalibrated(torch.nn.Module):
    """D's score taken as the logit itself: the toy D below is already the exact log density ratio."""

    def forward(self, scores):
        return scores


def exact_ratio_drs(**options):
    """Proposals N(0, 1) (G the identity), target N(1, 1): log(target / proposal) = x - 1/2, D's exact score."""
    model = toy_model(slope=1.0, offset=-0.5)
    sampler = create_component("sampler", "drs", options)
    sampler.calibration = Uncalibrated()
    burn_in = sampler.logits(model, model.generate(10_000).images)
    sampler.max_logit.fill_(float(burn_in.max()))
    sampler.gamma.fill_(options.get("gamma", 0.0))
    return model, sampler


def test_drs_with_gamma_zero_is_exact_rejection_sampling(seeded):
    model, sampler = exact_ratio_drs(gamma=0.0)
    result = sampler.sample(model, 4000)
    x = result.images.flatten().numpy()
    assert scipy.stats.kstest(x, "norm", args=(1.0, 1.0)).pvalue > 0.01
    assert 4000 / result.proposals < 0.05  # the price of exactness: 1 / M with M = max ratio over the burn-in


def test_drs_default_gamma_moves_samples_most_of_the_way_to_the_target(seeded):
    """The reference's per-batch 95th percentile: on this toy the mean moves from 0 to about 0.68 of the way to 1
    at about 20% acceptance; a lower percentile accepts more and moves less."""
    model, sampler = exact_ratio_drs()
    result = sampler.sample(model, 4000)
    moved = result.images.flatten().mean().item()
    assert 0.55 < moved < 0.8 and 0.15 < 4000 / result.proposals < 0.25
    model, softer = exact_ratio_drs(percentile=50.0)
    assert softer.sample(model, 4000).images.flatten().mean().item() < moved - 0.1


def test_drs_rule_matches_the_paper():
    logits = torch.tensor([0.0, -1.0, -5.0])
    f = drs_f(logits, 0.0, 1e-6, 0.5)
    delta = logits
    assert torch.allclose(f, delta - torch.log(1 - torch.exp(delta - 1e-6)) - 0.5)


def test_proposal_bound_stops_a_sampler_that_accepts_nothing(seeded):
    model = toy_model(slope=4.0)
    sampler = fitted_drs(model, pixels(torch.full((500,), 0.9)), gamma=1e6)
    with pytest.raises(GanError, match="accepted 0 of the 10 images .* after 500 proposals"):
        sampler.sample(model, 10, max_proposals=500)


def test_mh_chains_reach_a_known_target():
    """Proposals N(0, 1), target N(1, 1): log(target / proposal) = x - 1/2."""
    torch.manual_seed(0)
    states, _, rate = independence_chains(lambda n: (torch.randn(n, 1), None), lambda x: x[:, 0] - 0.5, 4000, 50)
    assert 0.3 < float(rate) < 0.9
    assert scipy.stats.kstest(states[:, 0].numpy(), "norm", args=(1.0, 1.0)).pvalue > 0.01
    assert scipy.stats.kstest(torch.randn(4000).numpy(), "norm", args=(1.0, 1.0)).pvalue < 1e-6  # the test has power


def test_mh_sampler_moves_towards_what_d_calls_real(seeded):
    model = toy_model(slope=4.0)
    sampler = MetropolisHastings(MHOptions(chain_length=10, calibration=500))
    sampler.fit(model, pixels(torch.full((500,), 0.9)))
    result = sampler.sample(model, 500)
    assert result.images.mean() > 0.8 and result.proposals == 500 * 10


def toy_chains(length: int, start: torch.Tensor | None) -> torch.Tensor:
    """Proposals N(0, 1), target N(2, 1), exact log ratio 2x - 2: the final states of 4000 chains."""
    torch.manual_seed(0)
    states, _, _ = independence_chains(lambda n: (torch.randn(n, 1), None), lambda x: 2 * x[:, 0] - 2, 4000, length, start)
    return states[:, 0]


def test_mh_reaches_the_target_with_the_reference_procedure():
    """The published effect: 640 proposals from a real start recover the target; 20 from a fake one do not."""
    real_start = 2 * (torch.randn(4000) + 2) - 2  # log ratios of real samples, x ~ N(2, 1)
    reference = toy_chains(640, real_start)
    assert abs(float(reference.mean()) - 2.0) < 0.06 and abs(float(reference.std()) - 1.0) < 0.06
    assert scipy.stats.kstest(reference.numpy(), "norm", args=(2.0, 1.0)).pvalue > 0.01
    short = toy_chains(20, None)
    assert 1.4 < float(short.mean()) < 1.65  # stays near G: what MH with 20 fake-started steps gave


def test_mh_restarts_a_chain_stuck_on_its_real_start():
    """A real start no proposal can beat: every chain restarts from its first proposal, none returns nothing."""
    stuck = torch.full((4000,), 1e9)
    states = toy_chains(50, stuck)
    assert abs(float(states.mean()) - toy_chains(50, None).mean()) < 0.1  # the restart chains, fake-started


def fit_toy_latent_rs(seed: int):
    """latent-rs fitted from ``seed`` on the identity G, with real data near +0.8."""
    torch.manual_seed(0)
    model = toy_model(slope=0.0)
    data = pixels(torch.randn(1000) * 0.2 + 0.8)
    sampler = LatentRejection(LatentRSOptions(steps=200, critic_steps=2, batch_size=128, real_images=1000, lr=1e-3))
    torch.manual_seed(seed)  # as the core seeds every fit
    sampler.fit(model, data)
    return model, sampler


@pytest.fixture(scope="module")
def fitted_latent_rs():
    return fit_toy_latent_rs(0)


@pytest.mark.parametrize("seed", range(4))
def test_latent_rs_moves_weight_towards_the_data_from_any_start(seed):
    """With the two-sided gradient penalty, half of the starts fitted a critic facing the wrong way and kept it."""
    _, sampler = fit_toy_latent_rs(seed)
    z = torch.linspace(-2, 2, 401).unsqueeze(1)
    weights = sampler.weights(z)
    assert z[weights.argmax()].item() == pytest.approx(0.8, abs=0.6)
    assert (weights * z.squeeze(1)).sum() / weights.sum() > 0.5  # the reweighted prior sits near the data


def test_latent_rs_accepts_codes_the_critic_finds_real(fitted_latent_rs):
    model, sampler = fitted_latent_rs
    torch.manual_seed(1)
    z = model.prior.sample(20_000).z
    accept = torch.rand(len(z)) < sampler.acceptance(z)
    scores = sampler.critic(model.generator(z).flatten(1)).squeeze(1)
    assert scores[accept].mean() > scores[~accept].mean()
    assert z[accept].mean() > z[~accept].mean() + 0.3  # weight moved towards the data


def test_latent_rs_acceptance_rate_matches_mean_w_over_m(fitted_latent_rs):
    model, sampler = fitted_latent_rs
    torch.manual_seed(2)
    z = model.prior.sample(50_000).z
    expected = (sampler.weights(z) / sampler.m).clamp(max=1).mean().item()
    result = sampler.sample(model, 5000)
    assert 5000 / result.proposals == pytest.approx(expected, abs=0.02)
    assert sampler.weights(z).mean().item() == pytest.approx(1.0, abs=0.3)  # held near 1 by a soft penalty


def test_latent_rs_state_round_trips(fitted_latent_rs):
    model, sampler = fitted_latent_rs
    fresh = LatentRejection(LatentRSOptions())
    fresh.load_state_dict(sampler.state_dict())
    z = torch.randn(10, 1)
    assert torch.equal(fresh.acceptance(z), sampler.acceptance(z))


def test_weight_objective_rewards_weight_on_high_critic_scores():
    critic = torch.tensor([1.0, -1.0])
    towards_real = weight_objective(torch.tensor([1.5, 0.5]), critic, 3.0, 0.0, 0.0)
    towards_fake = weight_objective(torch.tensor([0.5, 1.5]), critic, 3.0, 0.0, 0.0)
    assert towards_real < towards_fake


def test_latent_ga_climbs_the_score(seeded):
    model = toy_model(slope=1.0)
    sampler = LatentGradientAscent(LatentGAOptions(steps=10, step_size=0.1))
    torch.manual_seed(3)
    plain = model.generate(1000).images
    torch.manual_seed(3)
    moved = sampler.sample(model, 1000).images
    assert torch.allclose(moved - plain, torch.full_like(plain, 1.0), atol=1e-5)


def test_latent_ga_on_weights_climbs_w_and_round_trips(fitted_latent_rs):
    model, latent_rs = fitted_latent_rs
    sampler = LatentGradientAscent(LatentGAOptions(steps=10, step_size=0.1, score="weights"))
    assert sampler.needs_fit
    sampler.weighting.load_state_dict(latent_rs.state_dict())  # the same fit latent-rs made
    torch.manual_seed(4)
    z = model.prior.sample(2000).z
    moved = sampler.ascend(model, z)
    assert latent_rs.weights(moved).mean() > latent_rs.weights(z).mean() + 0.05
    assert (moved - z).mean() > 0  # towards the data near +0.8
    fresh = LatentGradientAscent(LatentGAOptions(steps=10, step_size=0.1, score="weights"))
    fresh.load_state_dict(sampler.state_dict())
    assert torch.equal(fresh.ascend(model, z), moved)


def test_isotonic_calibration_straightens_a_monotone_but_nonlinear_score():
    """Real x ~ N(2, 1), fake x ~ N(0, 1): the true logit is 2x - 2, but D scores x^3.

    The reference's isotonic calibrator recovers the logit from the score;
    a logistic fit in the score cannot bend to it.
    """
    from gan_sampling.calibration import Calibration, IsotonicCalibration

    torch.manual_seed(0)
    real, fake = torch.randn(20000) + 2, torch.randn(20000)
    grid = torch.linspace(0.0, 2.0, 21)
    errors = {}
    for name, calibrator in (("isotonic", IsotonicCalibration()), ("logistic", Calibration())):
        calibrator.fit(real**3, fake**3)
        errors[name] = float((calibrator(grid**3) - (2 * grid - 2)).abs().max())
    assert errors["isotonic"] < 0.35 and errors["logistic"] > 2 * errors["isotonic"]
