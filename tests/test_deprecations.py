"""Every compatibility shim still works for plugin API 1.x and says, once, that API 2.0 drops it."""

from __future__ import annotations

import warnings

import pytest
import torch

from gan_core import Batch
from gan_core.deprecation import GanDeprecationWarning

from . import legacy_plugin


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr("gan_core.deprecation._warned", set())


class MeanD(torch.nn.Module):
    def forward(self, x):
        return x.flatten(1).mean(1, keepdim=True)


def test_a_two_argument_g_loss_still_trains_and_warns_once():
    loss = legacy_plugin.OldLoss(legacy_plugin.OldLoss.Options())
    fake, real = Batch(torch.zeros(2, 1, 28, 28)), Batch(torch.ones(2, 1, 28, 28))
    with pytest.warns(GanDeprecationWarning, match=r"g_loss\(self, d, fake\).*plugin API 2.0; declare g_loss"):
        first = loss.generator_loss(MeanD(), fake, real)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per loss class, not once per step
        assert torch.equal(loss.generator_loss(MeanD(), fake, real), first)


def test_the_repositorys_own_losses_use_the_current_form():
    from gan_core.registry import get_registry

    with warnings.catch_warnings():
        warnings.simplefilter("error", GanDeprecationWarning)
        fake, real = Batch(torch.zeros(2, 1, 28, 28)), Batch(torch.ones(2, 1, 28, 28))
        for entry in get_registry().all("loss"):
            if entry.package == "gan-core" or entry.package.startswith("gan-"):
                loss = entry.cls(entry.cls.Options())
                try:
                    loss.generator_loss(MeanD(), fake, real)
                except GanDeprecationWarning:
                    raise
                except Exception:  # noqa: BLE001 - a loss that needs labels or its own modules: the form is what counts
                    pass


def test_names_that_moved_out_of_gan_core_training_still_import_with_a_warning():
    import gan_core.training as training
    from gan_core.config import KINDS

    with pytest.warns(GanDeprecationWarning, match="import it from gan_core.config"):
        assert training.KINDS == KINDS
    with pytest.raises(AttributeError):
        training.no_such_name  # noqa: B018
