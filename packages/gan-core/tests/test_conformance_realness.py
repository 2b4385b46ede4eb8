"""The kit checks a loss's realness() and refuses infinite losses on a dataset, not only NaN ones."""

from __future__ import annotations

import types

import pytest
import torch

from gan_core import Dataset, ImageData, hookimpl
from gan_core.builtin.losses import VanillaLoss as Vanilla
from gan_core.conformance import _Kit
from gan_core.testing import ConformanceFailure, conformance_cases, run_case


def plugin_of(hook: str, cls: type) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{hook: hookimpl(lambda register: register(cls))})


def case_of(plugin: object, case_id: str):
    cases = {case.id: case for case in conformance_cases(plugin)}
    assert case_id in cases, sorted(cases)
    return cases[case_id]


def failure_of(plugin: object, case_id: str) -> str:
    with pytest.raises(ConformanceFailure) as caught:
        run_case(plugin, case_of(plugin, case_id))
    return str(caught.value)


class ColumnScores(Vanilla):
    """Returns D's outputs as they are, (n, 1), instead of one score per image."""

    name = "column-scores"

    def realness(self, outputs):
        return outputs


class NaNScores(Vanilla):
    """Scores every image NaN."""

    name = "nan-scores"

    def realness(self, outputs):
        return outputs[:, 0] * float("nan")


class DetachedScores(Vanilla):
    """Scores without a gradient, which latent ascent cannot follow."""

    name = "detached-scores"

    def realness(self, outputs):
        return outputs[:, 0].detach()


class IntegerScores(Vanilla):
    """Scores as integers (a vote), not floats."""

    name = "integer-scores"

    def realness(self, outputs):
        return (outputs[:, 0] > 0).long()


@pytest.mark.parametrize(
    "cls, advice",
    [
        (ColumnScores, "expected one float score per image, shape (6,)"),
        (IntegerScores, "returned a int64 tensor of shape (6,); expected one float score per image"),
        (NaNScores, "realness() returned non-finite scores"),
        (DetachedScores, "realness() returned scores without a gradient"),
    ],
)
def test_a_broken_realness_fails_with_what_to_fix(cls, advice):
    assert advice in failure_of(plugin_of("register_losses", cls), f"loss:{cls.name}:realness")


def test_a_sound_realness_passes():
    class Sound(Vanilla):
        """The default realness, under another name."""

        name = "sound-scores"

    plugin = plugin_of("register_losses", Sound)
    run_case(plugin, case_of(plugin, "loss:sound-scores:realness"))


class Toy(Dataset):
    """64 random MNIST-shaped images."""

    name = "toy-images"

    def load(self, request):
        images = torch.randint(0, 256, (64, 1, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
        return ImageData(images, None, None, "toy")


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_training_on_a_dataset_that_gives_non_finite_losses_fails(bad, monkeypatch):
    plugin = plugin_of("register_datasets", Toy)
    case = case_of(plugin, "dataset:toy-images:train")
    run_case(plugin, case)  # sound as it is
    # uint8 images cannot be infinite themselves, so the training they feed is made to diverge
    monkeypatch.setattr(_Kit, "train", lambda self, *args, **kwargs: [0.5, bad])
    with pytest.raises(ConformanceFailure, match="training on dataset 'toy-images' gave non-finite losses"):
        run_case(plugin, case)


def test_the_realness_check_is_registered_for_every_loss():
    plugin = plugin_of("register_losses", ColumnScores)
    assert "loss:column-scores:realness" in {case.id for case in conformance_cases(plugin)}
