import pytest
import torch

from gan_core import create_component
from gan_gm.priors import DynamicGM, DynamicGMOptions, StaticGM, StaticGMOptions


def test_static_components_have_their_means_and_spreads():
    torch.manual_seed(0)
    prior = StaticGM(StaticGMOptions(k=4, c=3.0, sigma=0.5), 8)
    assert prior.means.shape == (4, 8) and prior.means.abs().max() <= 3.0
    latent = prior.sample(40_000)
    assert latent.z.shape == (40_000, 8) and set(latent.labels.tolist()) == {0, 1, 2, 3}
    for k in range(4):
        z = latent.z[latent.labels == k]
        assert abs(len(z) / 40_000 - 0.25) < 0.01  # components chosen uniformly
        assert torch.allclose(z.mean(0), prior.means[k], atol=0.03)
        assert torch.allclose(z.std(0), torch.full((8,), 0.5), atol=0.02)


def test_static_means_are_saved_not_rebuilt_from_a_seed():
    torch.manual_seed(1)
    first = StaticGM(StaticGMOptions(), 16)
    torch.manual_seed(2)
    second = StaticGM(StaticGMOptions(), 16)
    assert not torch.equal(first.means, second.means)
    second.load_state_dict(first.state_dict())
    assert torch.equal(first.means, second.means)
    assert list(first.parameters()) == []  # fixed for the whole run


def test_component_and_spread_at_sampling_time():
    prior = StaticGM(StaticGMOptions(k=3, sigma=1.0), 4)
    latent = prior.sample(5000, component=2)
    assert (latent.labels == 2).all()
    prior.spread = 0.1
    z = prior.sample(5000, component=2).z
    assert torch.allclose(z.std(0), torch.full((4,), 0.1), atol=0.01)


@pytest.mark.parametrize("form, width", [("scalar", 1), ("diagonal", 6)])
def test_dynamic_prior_learns_through_the_reparameterisation(form, width):
    prior = DynamicGM(DynamicGMOptions(k=5, scale_form=form), 6)
    assert prior.log_sigma.shape == (5, width)
    names = {name for name, _ in prior.named_parameters()}
    assert names == {"means", "log_sigma"}
    prior.sample(256).z.square().sum().backward()
    assert prior.means.grad.abs().sum() > 0 and prior.log_sigma.grad.abs().sum() > 0


def test_dynamic_parameters_round_trip_through_a_state_dict():
    a, b = DynamicGM(DynamicGMOptions(k=3), 4), DynamicGM(DynamicGMOptions(k=3), 4)
    with torch.no_grad():
        a.means.add_(1.0)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.means, b.means) and torch.equal(a.log_sigma, b.log_sigma)
    assert "sigmas" in a.describe() and a.describe()["components"] == 3


def test_supervised_prior_returns_class_labels_and_can_be_frozen():
    prior = create_component("prior", "gm-supervised", {"learn": "false"}, latent_dim=8)
    assert prior.num_components == 10 and not prior.means.requires_grad
    latent = prior.sample(100, component=7)
    assert (latent.labels == 7).all()
