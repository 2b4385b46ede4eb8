import pytest
import torch
import torch.nn.functional as F

from gan_core import Batch, Discriminator, GanError, NetworkSpec, create_component, gradient_penalty
from gan_san.head import SANHead
from gan_san.san import HingeSAN, LogisticSAN, SANOptions
from gan_san.wasserstein import WGAN, WGANGP, WGANGPOptions, WGANOptions


class LinearCritic(Discriminator):
    """D(x) = <a, x>: its input gradient is a everywhere."""

    def __init__(self, a):
        super().__init__()
        self.body = torch.nn.Identity()
        self.head = torch.nn.Linear(a.numel(), 1, bias=False)
        with torch.no_grad():
            self.head.weight.copy_(a.view(1, -1))

    def features(self, x):
        return x.flatten(1)


def test_weight_clipping_keeps_every_critic_weight_in_bounds():
    d = create_component("architecture", "mlp").build(NetworkSpec((1, 28, 28), 10, 1)).discriminator
    with torch.no_grad():
        for p in d.parameters():
            p.normal_(0, 1)
    WGAN(WGANOptions(clip=0.02)).after_d_step(d)
    assert all(p.abs().max() <= 0.02 for p in d.parameters())


def test_gradient_penalty_is_zero_for_unit_gradients_and_positive_otherwise():
    real, fake = torch.randn(64, 1, 2, 2), torch.randn(64, 1, 2, 2)
    unit = torch.tensor([0.6, 0.8, 0.0, 0.0])
    assert gradient_penalty(LinearCritic(unit), real, fake).item() == pytest.approx(0, abs=1e-10)
    assert gradient_penalty(LinearCritic(unit * 3), real, fake).item() == pytest.approx(4.0)
    assert gradient_penalty(LinearCritic(unit * 0.5), real, fake).item() == pytest.approx(0.25)


def test_one_sided_penalty_spares_gentle_slopes_only():
    real, fake = torch.randn(64, 1, 2, 2), torch.randn(64, 1, 2, 2)
    unit = torch.tensor([0.6, 0.8, 0.0, 0.0])
    assert gradient_penalty(LinearCritic(unit * 0.5), real, fake, one_sided=True).item() == 0
    assert gradient_penalty(LinearCritic(unit * 3), real, fake, one_sided=True).item() == pytest.approx(4.0)


def test_wasserstein_losses_and_their_defaults():
    d = LinearCritic(torch.tensor([1.0, 0.0, 0.0, 0.0]))
    real, fake = Batch(torch.full((3, 1, 2, 2), 2.0)), Batch(torch.full((3, 1, 2, 2), -1.0))
    wgan = WGAN(WGANOptions())
    assert wgan.d_loss(d, real, fake).item() == pytest.approx(-3.0)
    assert wgan.g_loss(d, fake).item() == pytest.approx(1.0)
    defaults = wgan.defaults()
    assert (defaults.optimizer, defaults.lr_d, defaults.d_steps) == ("rmsprop", 5e-5, 5)
    gp = WGANGP(WGANGPOptions()).defaults()
    assert (gp.optimizer, gp.lr_g, gp.betas, gp.d_steps) == ("adam", 1e-4, (0.0, 0.9), 5)


def san_discriminator(loss):
    d = LinearCritic(torch.randn(4))
    d.head = torch.nn.Linear(4, 1)
    return loss.prepare_discriminator(d)


@pytest.mark.parametrize("cls", [LogisticSAN, HingeSAN])
def test_san_losses_match_their_formulas(cls):
    torch.manual_seed(0)
    loss = cls(SANOptions(lambda_=2.0))
    d = san_discriminator(loss)
    with torch.no_grad():
        d.head.scale.fill_(1.5)
    real, fake = Batch(torch.randn(5, 1, 2, 2)), Batch(torch.randn(7, 1, 2, 2))
    omega = d.head.direction / d.head.direction.norm()
    r = 1.5 * real.images.flatten(1) @ omega.T
    f = 1.5 * fake.images.flatten(1) @ omega.T
    if cls is LogisticSAN:
        base, g = F.softplus(-r).mean() + F.softplus(f).mean(), F.softplus(-f).mean()
    else:
        base, g = F.relu(1 - r).mean() + F.relu(1 + f).mean(), -f.mean()
    expected = base - 2.0 * (r.mean() - f.mean())
    assert loss.d_loss(d, real, fake).item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss.g_loss(d, fake).item() == pytest.approx(g.item(), rel=1e-5)


def test_san_gradients_are_routed_as_the_paper_says():
    """The base term trains h and the scale, not omega; the gap term trains omega only."""
    head = SANHead(3)
    h = torch.randn(8, 3, requires_grad=True)
    fun, direction = head.split_scores(h)
    fun.sum().backward(retain_graph=True)
    assert head.direction.grad is None or head.direction.grad.abs().sum() == 0
    assert head.scale.grad.abs().sum() > 0 and h.grad.abs().sum() > 0
    head.zero_grad(), h.grad.zero_()
    direction.sum().backward()
    assert head.direction.grad.abs().sum() > 0 and h.grad.abs().sum() == 0
    assert head.scale.grad is None or head.scale.grad.abs().sum() == 0


def test_san_direction_stays_unit_norm_through_training_steps():
    torch.manual_seed(0)
    loss = LogisticSAN(SANOptions())
    d = loss.prepare_discriminator(create_component("architecture", "mlp").build(NetworkSpec((1, 28, 28), 10, 1)).discriminator)
    opt = torch.optim.Adam(d.parameters(), lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        loss.d_loss(d, Batch(torch.randn(8, 1, 28, 28)), Batch(torch.randn(8, 1, 28, 28))).backward()
        opt.step()
    assert d.head.omega.norm().item() == pytest.approx(1.0, abs=1e-6)
    assert d.head.direction.norm().item() != pytest.approx(1.0)


@pytest.mark.parametrize("arch", [create_component("architecture", "mlp"), create_component("architecture", "dcgan", {"width": 8})])
def test_san_takes_over_any_architecture_head(arch):
    d = LogisticSAN(SANOptions()).prepare_discriminator(arch.build(NetworkSpec((1, 28, 28), 10, 1)).discriminator)
    assert isinstance(d.head, SANHead) and d(torch.randn(2, 1, 28, 28)).shape == (2, 1)


def test_san_refuses_a_head_it_cannot_split():
    d = LinearCritic(torch.randn(4))
    d.head = torch.nn.Sequential(torch.nn.Linear(4, 1))
    with pytest.raises(GanError, match="one nn.Linear with one output"):
        LogisticSAN(SANOptions()).prepare_discriminator(d)
