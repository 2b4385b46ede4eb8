"""Plain sampling: one generator pass per image, nothing rejected."""

from __future__ import annotations

from ..components import SampleResult, Sampler, TrainedModel
from ..plugins import hookimpl


class PlainSampler(Sampler):
    """Draw codes from the prior and keep every generated image."""

    name = "none"

    def sample(
        self,
        model: TrainedModel,
        n: int,
        *,
        component: int | None = None,
        max_proposals: int | None = None,
    ) -> SampleResult:
        batch = model.generate(n, component=component)  # without gradients
        return SampleResult(batch.images, batch.labels, proposals=n)


@hookimpl
def register_samplers(register) -> None:
    register(PlainSampler)
