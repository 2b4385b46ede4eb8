"""Top-k sampling: generate more than asked, keep what the discriminator likes best."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from gan_core import GanError, Sampler, SampleResult, TrainedModel, option


@dataclass(frozen=True)
class TopKOptions:
    factor: int = option(4, "candidates drawn per image kept", min=1, max=1000)


class TopK(Sampler):
    """Draw factor * n candidates and keep the n that D scores as most real.

    The simplest discriminator-guided sampler: no fit, no calibration, a
    fixed cost of ``factor`` generator passes per image. Where discriminator
    rejection sampling accepts each image with a calibrated probability,
    this keeps a fixed fraction 1/factor, so it trades diversity for
    fidelity more bluntly as ``factor`` grows. The ranking is over the
    candidates of one call, so results depend on the batch size ``gan``
    samples with.
    """

    name = "top-k"
    Options = TopKOptions

    @torch.no_grad()
    def sample(
        self,
        model: TrainedModel,
        n: int,
        *,
        component: int | None = None,
        max_proposals: int | None = None,
    ) -> SampleResult:
        m = n * self.options.factor
        if max_proposals is not None:
            if max_proposals < n:
                raise GanError(
                    f"sampler 'top-k' needs at least {n} proposals for {n} images but the budget allows "
                    f"{max_proposals}; raise --max-proposals"
                )
            m = min(m, max_proposals)  # a tight budget lowers the factor rather than failing
        batch = model.generate(m, component=component)
        keep = model.score(batch.images).topk(n).indices
        labels = None if batch.labels is None else batch.labels[keep]
        return SampleResult(batch.images[keep], labels, proposals=m)
