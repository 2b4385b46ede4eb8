
import pytest
import torch
import torch.nn.functional as F

from gan_core.builtin.dcgan import DCGAN, DCGANOptions
from gan_core.builtin.losses import HingeLoss, LeastSquaresLoss, VanillaLoss
from gan_core.builtin.mlp import MLP, MLPOptions
from gan_core.builtin.priors import NormalOptions, NormalPrior, UniformOptions, UniformPrior
from gan_core.components import Batch, Discriminator, NetworkSpec
from gan_core.errors import GanError
from gan_core.options import NoOptions


class FixedD(Discriminator):
    """Returns the first pixel of each image as its logit, so losses can be checked by hand."""

    def __init__(self):
        super().__init__()
        self.head = torch.nn.Identity()

    def features(self, x):
        return x.flatten(1)[:, :1]


R = Batch(torch.tensor([[2.0], [-1.0]]).view(2, 1, 1, 1))
Fk = Batch(torch.tensor([[0.5], [-3.0]]).view(2, 1, 1, 1))
r, f = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])


def test_vanilla_matches_binary_cross_entropy():
    loss = VanillaLoss(NoOptions())
    expected_d = F.binary_cross_entropy(torch.sigmoid(r), torch.ones(2)) + F.binary_cross_entropy(torch.sigmoid(f), torch.zeros(2))
    assert torch.allclose(loss.d_loss(FixedD(), R, Fk), expected_d)
    assert torch.allclose(loss.g_loss(FixedD(), Fk), -torch.log(torch.sigmoid(f)).mean())


def test_vanilla_is_finite_for_huge_logits():
    big = Batch(torch.full((2, 1, 1, 1), 1e4))
    assert torch.isfinite(VanillaLoss(NoOptions()).d_loss(FixedD(), big, big))


def test_hinge_and_lsgan_formulas():
    hinge = HingeLoss(NoOptions())
    assert torch.allclose(hinge.d_loss(FixedD(), R, Fk), torch.relu(1 - r).mean() + torch.relu(1 + f).mean())
    assert torch.allclose(hinge.g_loss(FixedD(), Fk), -f.mean())
    ls = LeastSquaresLoss(NoOptions())
    assert torch.allclose(ls.d_loss(FixedD(), R, Fk), 0.5 * (((r - 1) ** 2).mean() + (f**2).mean()))
    assert torch.allclose(ls.g_loss(FixedD(), Fk), 0.5 * ((f - 1) ** 2).mean())


def test_normal_prior_statistics():
    torch.manual_seed(0)
    z = NormalPrior(NormalOptions(std=2.0), 16).sample(20000).z
    assert z.shape == (20000, 16)
    assert abs(z.mean().item()) < 0.05 and abs(z.std().item() - 2.0) < 0.05


def test_uniform_prior_bounds_and_mean():
    torch.manual_seed(0)
    z = UniformPrior(UniformOptions(low=-2.0, high=4.0), 8).sample(20000).z
    assert z.min() >= -2.0 and z.max() <= 4.0 and abs(z.mean().item() - 1.0) < 0.05


def test_uniform_prior_refuses_empty_interval():
    from gan_core.options import build_options

    with pytest.raises(GanError, match="greater than low"):
        build_options(UniformOptions, {"low": 1, "high": 0}, "prior 'uniform'")


@pytest.mark.parametrize("arch", [MLP(MLPOptions(dropout=0.3)), DCGAN(DCGANOptions(width=16))])
@pytest.mark.parametrize("outputs", [1, 11])
def test_architectures_build_the_requested_shapes(arch, outputs):
    nets = arch.build(NetworkSpec((1, 28, 28), 100, outputs))
    images = nets.generator(torch.randn(5, 100))
    assert images.shape == (5, 1, 28, 28) and images.abs().max() <= 1
    assert nets.discriminator(images).shape == (5, outputs)
    assert isinstance(nets.discriminator.head, torch.nn.Linear)


def test_mlp_matches_the_reference_course_sizes():
    nets = MLP(MLPOptions()).build(NetworkSpec((1, 28, 28), 100, 1))
    g_sizes = [m.out_features for m in nets.generator.modules() if isinstance(m, torch.nn.Linear)]
    d_sizes = [m.out_features for m in nets.discriminator.modules() if isinstance(m, torch.nn.Linear)]
    assert g_sizes == [256, 512, 1024, 784] and d_sizes == [1024, 512, 256, 1]
    assert not any(isinstance(m, torch.nn.Dropout) for m in nets.discriminator.modules())


def test_dcgan_refuses_sides_not_multiple_of_4():
    with pytest.raises(GanError, match="multiples of 4"):
        DCGAN(DCGANOptions()).build(NetworkSpec((1, 30, 30), 10, 1))


def test_discriminate_joint_pass_equals_separate_passes():
    from gan_core.components import discriminate

    d = MLP(MLPOptions()).build(NetworkSpec((1, 28, 28), 10, 1)).discriminator
    a, b = torch.randn(3, 1, 28, 28), torch.randn(5, 1, 28, 28)
    ja, jb = discriminate(d, a, b)
    assert torch.allclose(ja, d(a), atol=1e-5) and torch.allclose(jb, d(b), atol=1e-5)
    d.joint_batches = False
    sa, sb = discriminate(d, a, b)
    assert torch.equal(sa, d(a)) and torch.equal(sb, d(b))
