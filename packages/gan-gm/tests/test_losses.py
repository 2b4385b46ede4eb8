import torch
import torch.nn.functional as F

from gan_core import Batch, Discriminator, NoOptions
from gan_gm.losses import AuxiliaryClassifierLoss, AuxOptions, SupervisedLoss


class TableD(Discriminator):
    """Returns fixed logits per image index (the first pixel), to check losses by hand."""

    def __init__(self, table):
        super().__init__()
        self.table = table
        self.head = torch.nn.Identity()

    def features(self, x):
        return self.table[x.flatten(1)[:, 0].long()]


torch.manual_seed(0)
TABLE = torch.randn(4, 4)  # 3 classes + fake
REAL = Batch(torch.tensor([0.0, 1.0]).view(2, 1, 1, 1), torch.tensor([2, 0]))
FAKE = Batch(torch.tensor([2.0, 3.0]).view(2, 1, 1, 1), torch.tensor([1, 1]))


def test_supervised_loss_formulas():
    loss, d = SupervisedLoss(NoOptions()), TableD(TABLE)
    expected_d = F.cross_entropy(TABLE[[0, 1]], REAL.labels) + F.cross_entropy(TABLE[[2, 3]], torch.tensor([3, 3]))
    assert torch.allclose(loss.d_loss(d, REAL, FAKE), expected_d)
    assert torch.allclose(loss.g_loss(d, FAKE), F.cross_entropy(TABLE[[2, 3]], FAKE.labels))


def test_aux_loss_splits_classes_and_realness():
    loss, d = AuxiliaryClassifierLoss(AuxOptions(class_weight=0.5)), TableD(TABLE)
    r, f = TABLE[[0, 1]], TABLE[[2, 3]]
    bce = F.binary_cross_entropy_with_logits
    expected_d = bce(r[:, 3], torch.ones(2)) + bce(f[:, 3], torch.zeros(2)) + 0.5 * F.cross_entropy(r[:, :3], REAL.labels)
    assert torch.allclose(loss.d_loss(d, REAL, FAKE), expected_d)
    expected_g = bce(f[:, 3], torch.ones(2)) + 0.5 * F.cross_entropy(f[:, :3], FAKE.labels)
    assert torch.allclose(loss.g_loss(d, FAKE), expected_g)


def test_aux_loss_as_ac_gan_also_classifies_the_fakes():
    loss, d = AuxiliaryClassifierLoss(AuxOptions(class_weight=0.5, fake_classes=True)), TableD(TABLE)
    r, f = TABLE[[0, 1]], TABLE[[2, 3]]
    bce = F.binary_cross_entropy_with_logits
    classes = F.cross_entropy(r[:, :3], REAL.labels) + F.cross_entropy(f[:, :3], FAKE.labels)
    expected_d = bce(r[:, 3], torch.ones(2)) + bce(f[:, 3], torch.zeros(2)) + 0.5 * classes
    assert torch.allclose(loss.d_loss(d, REAL, FAKE), expected_d)
