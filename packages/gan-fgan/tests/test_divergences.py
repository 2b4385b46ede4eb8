"""Each divergence's activation and conjugate, their stability, and the optimum of the D objective."""

import math

import pytest
import torch

from gan_fgan.divergences import DIVERGENCES
from gan_fgan.loss import LOSSES, FGANOptions

BY_NAME = {d.name: d for d in DIVERGENCES}
V = torch.linspace(-4, 4, 81, dtype=torch.float64)

# The paper's Table 2 written out again, independently of the module, in its textbook form.
REFERENCE_ACTIVATION = {
    "kl": lambda v: v,
    "reverse-kl": lambda v: -torch.exp(-v),
    "pearson": lambda v: v,
    "neyman": lambda v: 1 - torch.exp(-v),
    "hellinger": lambda v: 1 - torch.exp(-v),
    "js": lambda v: math.log(2) - torch.log(1 + torch.exp(-v)),
    "gan": lambda v: -torch.log(1 + torch.exp(-v)),
    "tv": lambda v: 0.5 * torch.tanh(v),
}


def test_the_eight_losses_are_registered_by_name():
    assert sorted(loss.name for loss in LOSSES) == sorted(
        f"fgan-{n}" for n in ("gan", "kl", "reverse-kl", "pearson", "neyman", "hellinger", "js", "tv"))


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_activation_and_conjugate_match_the_formulas_on_a_grid(name):
    div = BY_NAME[name]
    assert torch.allclose(div.activation(V), REFERENCE_ACTIVATION[name](V))
    assert torch.allclose(div.conjugate_of_activation(V), div.conjugate(REFERENCE_ACTIVATION[name](V)))


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_no_inf_or_nan_for_large_outputs(name):
    div = BY_NAME[name]
    v = torch.tensor([-80.0, -30.0, 30.0, 80.0, 500.0, -500.0], requires_grad=True)
    values = torch.stack([div.activation(v), div.conjugate_of_activation(v)])
    assert torch.isfinite(values).all()
    values.sum().backward()
    assert torch.isfinite(v.grad).all()


@pytest.mark.parametrize("name", sorted(set(BY_NAME) - {"tv"}))
@pytest.mark.parametrize("ratio", [0.25, 0.8, 1.5, 4.0])
def test_pointwise_objective_peaks_at_f_prime_of_the_density_ratio(name, ratio):
    """At a point where p/q = ratio, D maximises ratio * g(v) - f*(g(v)); the maximiser is T = f'(ratio)."""
    div = BY_NAME[name]
    v = torch.linspace(-12, 12, 240_001, dtype=torch.float64)
    objective = ratio * div.activation(v) - div.conjugate_of_activation(v)
    best = div.activation(v[objective.argmax()])
    assert float(best) == pytest.approx(div.f_prime(ratio), abs=2e-3)


def test_total_variation_optimum_is_the_sign_of_the_ratio():
    div = BY_NAME["tv"]
    v = torch.linspace(-12, 12, 2401, dtype=torch.float64)
    for ratio in (0.5, 2.0):
        objective = ratio * div.activation(v) - div.conjugate_of_activation(v)
        assert float(div.activation(v[objective.argmax()])) == pytest.approx(div.f_prime(ratio), abs=1e-6)


@pytest.mark.parametrize("loss_cls", LOSSES, ids=lambda c: c.name)
def test_d_objective_on_two_gaussians_is_largest_at_the_true_ratio(loss_cls):
    """1-D toy: data N(1, 1), generator N(0, 1), so p/q = exp(x - 1/2). The critic with
    g(v(x)) = f'(p(x)/q(x)) gives a higher bound F = E_p[g(v)] - E_q[f*(g(v))] than critics built
    from a wrong ratio, or (where g is not saturated there) shifted in v. The expectations are
    quadratures on a grid, because Monte Carlo noise of the heavy-tailed ones (Neyman) is larger
    than the gaps being tested."""
    div = loss_cls.divergence
    x = torch.linspace(-7, 8, 30_001, dtype=torch.float64)
    dx = float(x[1] - x[0])
    p, q = torch.exp(-0.5 * (x - 1) ** 2) / math.sqrt(2 * math.pi), torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    grid = torch.linspace(-30, 30, 600_001, dtype=torch.float64)
    targets = div.activation(grid)

    def critic(ratio_factor: float = 1.0, shift: float = 0.0) -> torch.Tensor:
        ratio = ratio_factor * torch.exp(x - 0.5)
        optimal = torch.tensor([div.f_prime(float(u)) for u in ratio], dtype=torch.float64)
        index = torch.searchsorted(targets.contiguous(), optimal.clamp(targets[0], targets[-1])).clamp(max=len(grid) - 1)
        return grid[index] + shift  # v with g(v) ~ f'(ratio)

    def bound(v: torch.Tensor) -> float:
        return float((p * div.activation(v)).sum() * dx - (q * div.conjugate_of_activation(v)).sum() * dx)

    best = bound(critic())
    wrong = [(0.5, 0.0), (2.0, 0.0)] + ([] if div.name == "tv" else [(1.0, 0.2), (1.0, -0.2)])
    for factor, shift in wrong:
        assert best > bound(critic(factor, shift))


def test_d_loss_is_minus_the_bound():
    gan = next(c for c in LOSSES if c.name == "fgan-gan")(FGANOptions())
    real_v, fake_v = torch.tensor([[0.3], [2.0]]), torch.tensor([[-1.0], [0.5]])

    class Replay(torch.nn.Module):
        joint_batches = False

        def __init__(self):
            super().__init__()
            self.outputs = [real_v, fake_v]

        def forward(self, x):
            return self.outputs.pop(0)

    from gan_core import Batch

    expected = torch.log(torch.sigmoid(real_v)).mean() - torch.nn.functional.softplus(fake_v).mean()
    d_loss = gan.d_loss(Replay(), Batch(torch.zeros(2, 1, 1, 1)), Batch(torch.zeros(2, 1, 1, 1)))
    assert torch.allclose(d_loss, -expected)


def test_generator_objectives():
    kl = next(c for c in LOSSES if c.name == "fgan-kl")
    v = torch.tensor([[0.5], [1.5]])

    class Fixed(torch.nn.Module):
        def forward(self, x):
            return v

    from gan_core import Batch

    fake = Batch(torch.zeros(2, 1, 1, 1))
    assert torch.allclose(kl(FGANOptions()).g_loss(Fixed(), fake), -v.mean())
    assert torch.allclose(kl(FGANOptions(saddle=True)).g_loss(Fixed(), fake), -torch.exp(v - 1).mean())
