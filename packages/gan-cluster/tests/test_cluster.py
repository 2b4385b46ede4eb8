"""gan-cluster on tiny tensors: priors, the loss's formula and wrapping, clustering scores, latent paths."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_cluster.clustering import assign, generated_recovery, hungarian_accuracy, score_clusters
from gan_cluster.explore import ascend_to_class, frame_steps
from gan_cluster.loss import ClusterGANLoss, ClusterGANOptions
from gan_cluster.priors import ClusterGMM, ClusterGMMOptions, ClusterOptions, OneHotCluster
from gan_core import Batch, GanError, NetworkSpec, create_component

SPEC = NetworkSpec((1, 28, 28), 0)


def test_one_hot_prior_shapes_and_clusters():
    torch.manual_seed(0)
    prior = OneHotCluster(ClusterOptions(k=10, sigma=0.1), 30)
    latent = prior.sample(500)
    assert prior.code_dim == 40 and latent.z.shape == (500, 40)
    assert torch.equal(latent.z[:, 30:], F.one_hot(latent.labels, 10).float())
    assert latent.z[:, :30].std().item() == pytest.approx(0.1, rel=0.05)
    assert set(latent.labels.tolist()) == set(range(10))
    assert (prior.sample(20, component=3).labels == 3).all()


def test_gmm_prior_shapes_and_components():
    torch.manual_seed(0)
    prior = ClusterGMM(ClusterGMMOptions(k=5, sigma=0.1), 20)
    latent = prior.sample(1000, component=2)
    assert prior.code_dim == 20 and latent.z.shape == (1000, 20)
    assert torch.allclose(latent.z.mean(0), prior.means[2], atol=0.02)
    assert torch.equal(prior.means, torch.eye(5, 20))  # the reference's one-hot means
    assert "means" in prior.state_dict()  # saved with the run, never redrawn
    random_means = ClusterGMM(ClusterGMMOptions(k=5, sigma=0.1, means="random"), 20).means
    assert torch.allclose(random_means.norm(dim=1), torch.ones(5)) and not torch.equal(random_means, prior.means)
    with pytest.raises(GanError, match="needs --latent-dim >= 5"):
        ClusterGMM(ClusterGMMOptions(k=5), 3)


def test_hungarian_accuracy_is_one_for_a_permutation_and_counts_the_best_mapping():
    labels = np.repeat(np.arange(10), 5)
    permuted = (labels * 3 + 7) % 10  # a relabelling of the same partition
    assert hungarian_accuracy(permuted, labels) == 1.0
    scores = score_clusters(permuted, labels)
    assert scores.nmi == pytest.approx(1.0) and scores.ari == pytest.approx(1.0)
    # two labels merged into one cluster: one of them can be mapped, the other is lost
    merged = np.array([0, 0, 0, 0, 1, 1])
    assert hungarian_accuracy(merged, np.array([0, 0, 1, 1, 2, 2])) == pytest.approx(4 / 6)


def test_assign_by_argmax_and_by_kmeans():
    logits = torch.tensor([[5.0, 0.0], [4.0, 0.0], [0.0, 5.0], [0.0, 6.0]])
    z_n = torch.tensor([[0.0], [0.1], [3.0], [3.1]])
    assert assign(z_n, logits, kmeans=False, k=2).tolist() == [0, 0, 1, 1]
    clusters = assign(z_n, logits, kmeans=True, k=2)
    assert clusters[0] == clusters[1] != clusters[2] == clusters[3]


class ConstantD(nn.Module):
    def forward(self, x):
        return torch.zeros(len(x), 1)


def built_loss(sigma=0.1, **options):
    loss = ClusterGANLoss(ClusterGANOptions(**{"base": "vanilla", **options}))
    prior = OneHotCluster(ClusterOptions(k=4, sigma=sigma), 6)
    loss.build_modules(create_component("architecture", "mlp"), SPEC, prior)
    return loss, prior


def test_generated_recovery_counts_the_clusters_e_reads_back():
    torch.manual_seed(0)
    prior = OneHotCluster(ClusterOptions(k=4, sigma=0.1), 3)

    def generate(n):  # G is the identity: the "image" is the code itself
        latent = prior.sample(n)
        return Batch(latent.z, latent.labels, latent.z)

    def reads_the_one_hot(images):  # a perfect E
        return images[:, :3], images[:, 3:]

    def always_cluster_0(images):
        return images[:, :3], torch.tensor([1.0, 0, 0, 0]).expand(len(images), 4)

    assert generated_recovery(reads_the_one_hot, generate, n=250, batch=100) == 1.0
    assert generated_recovery(always_cluster_0, generate, n=4000) == pytest.approx(0.25, abs=0.03)


def test_g_loss_is_the_base_loss_plus_the_weighted_code_losses():
    torch.manual_seed(0)
    loss, prior = built_loss(beta_n=2.0, beta_c=3.0)
    latent = prior.sample(8)
    fake = Batch(torch.rand(8, 1, 28, 28) * 2 - 1, latent.labels, latent.z)
    z_n, logits = loss.encode(fake.images)
    expected = (F.softplus(-torch.zeros(8)).mean()  # vanilla's non-saturating G loss on D = 0
                + 2.0 * (z_n - latent.z[:, :6]).square().mean() + 3.0 * F.cross_entropy(logits, latent.labels))
    assert torch.allclose(loss.g_loss(ConstantD(), fake), expected)


def test_the_base_loss_decides_d_and_the_defaults():
    pytest.importorskip("gan_san")
    loss = ClusterGANLoss(ClusterGANOptions(base="wgan-gp"))
    assert loss.defaults().d_steps == 5 and loss.base.name == "wgan-gp"
    with pytest.raises(GanError, match="cannot wrap itself"):
        ClusterGANLoss(ClusterGANOptions(base="clustergan"))
    with pytest.raises(GanError, match="nope"):
        ClusterGANLoss(ClusterGANOptions(base="nope"))


def test_encoder_losses_go_down_when_g_and_e_train_together():
    torch.manual_seed(0)
    loss, prior = built_loss(sigma=1.0)  # z_n large enough that recovering it is measurable in a few steps
    generator = create_component("architecture", "mlp").build(NetworkSpec((1, 28, 28), prior.code_dim)).generator
    optimiser = torch.optim.Adam([*generator.parameters(), *loss.encoder.parameters()], lr=2e-4, betas=(0.5, 0.999))

    def code_losses():
        latent = prior.sample(64)
        return loss.code_losses(Batch(generator(latent.z), latent.labels, latent.z))

    with torch.no_grad():
        before = [float(v) for v in code_losses()]
    for _ in range(100):
        total = loss.g_loss(ConstantD(), Batch(*_fake(generator, prior)))
        optimiser.zero_grad()
        total.backward()
        optimiser.step()
    with torch.no_grad():
        after = [float(v) for v in code_losses()]
    assert after[0] < 0.8 * before[0] and after[1] < 0.5 * before[1]


def _fake(generator, prior):
    latent = prior.sample(64)
    return generator(latent.z), latent.labels, latent.z


def test_frame_steps_include_both_ends():
    assert frame_steps(100, 5) == [0, 25, 50, 75, 100]
    assert frame_steps(3, 10) == [0, 1, 2, 3]


def test_ascent_raises_the_target_probability():
    torch.manual_seed(0)
    generator = nn.Identity()
    classifier = nn.Linear(2, 3)
    path = ascend_to_class(generator, classifier, torch.randn(5, 2), target=1, steps=200, lr=0.1, frames=4)
    assert path.frames.shape == (5, 4, 2)
    assert (path.end_prob > path.start_prob).all() and (path.end_class == 1).all()


def test_the_wrapper_forwards_what_its_base_loss_declares():
    """requires, provides and build_modules of the base hold for clustergan around it."""
    import types

    from gan_core import Loss, hookimpl
    from gan_core.testing import plugin_registered

    class Declaring(Loss):
        """A base loss that needs, offers and trains something (a test double)."""

        name = "declaring"
        requires = {"teleporter": "it jumps"}

        def provides(self):
            return frozenset({"tea"})

        def build_modules(self, architecture, spec, prior):
            self.extra = nn.Linear(2, 2)
            return self.extra

        def d_loss(self, d, real, fake):
            return d(real.images).mean()

        def g_loss(self, d, fake, real):
            assert real is not None, "the wrapper passes the real batch on"
            return -d(fake.images).mean()

    base_plugin = types.SimpleNamespace(register_losses=hookimpl(lambda register: register(Declaring)))
    with plugin_registered(base_plugin):
        loss = create_component("loss", "clustergan", {"base": "declaring"})
        assert loss.requires["teleporter"] == "it jumps" and "encoder" in loss.requires
        assert loss.provides() == frozenset({"tea"})
        prior = create_component("prior", "cluster", {"k": 3}, latent_dim=4)
        modules = loss.build_modules(create_component("architecture", "mlp"), NetworkSpec((1, 28, 28), prior.code_dim), prior)
        assert set(dict(modules.named_children())) == {"encoder", "base"} and modules.base is loss.base.extra


def test_the_reference_optimiser_comes_with_the_default_base():
    loss = ClusterGANLoss(ClusterGANOptions())
    assert loss.base.name == "wgan-gp"
    d = loss.defaults()
    assert (d.optimizer, d.lr_g, d.lr_d, d.betas, d.d_steps) == ("adam", 1e-4, 1e-4, (0.5, 0.9), 5)
