"""Mean-gap: how far the average generated pixel is from the average real one."""

from __future__ import annotations

from gan_core import FeatureSet, GanError, Metric


class MeanGap(Metric):
    """|mean generated - mean real| pixel intensity, in [0, 1] (lower is better).

    A sanity check, not a quality score: it reads the images, not the
    feature network, so it catches a generator that is too dark or too
    bright (a common early failure, or a wrong [-1, 1] scaling) whatever
    the features say. A gap of 0 says nothing about sample quality.
    """

    name = "mean-gap"
    higher_is_better = False
    needs_images = True  # gan eval then hands the real reference images in real.images

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        if real.images is None or fake.images is None:
            raise GanError("metric 'mean-gap' reads the images themselves; this evaluation has none")
        real_mean = real.images.double().mean().item() / 255
        fake_mean = fake.images.double().mean().item() / 255
        return {"mean-gap": abs(fake_mean - real_mean), "mean-real": real_mean, "mean-fake": fake_mean}
