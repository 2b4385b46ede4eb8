"""Metropolis-Hastings GAN (Turner et al., ICML 2019).

Independent proposals x' ~ G(z), z from the prior; with a calibrated logit
l ~ log(p_data / p_G), the MH acceptance for an independence sampler is
min(1, exp(l(x') - l(x))). Chains run side by side, one per image asked
for; each returns its state after ``chain_length`` proposals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from gan_core import ImageData, SampleResult, Sampler, TrainedModel, option

from .budget import out_of_proposals, proposal_limit
from .calibration import Calibration, fit_calibration, scores_of


@dataclass(frozen=True)
class MHOptions:
    chain_length: int = option(20, "proposals per chain after its first state", min=1, max=10_000)
    calibration: int = option(10_000, "real and generated images for calibrating D", min=100)


def independence_chains(
    propose: Callable[[int], tuple[torch.Tensor, torch.Tensor | None]],
    log_ratio: Callable[[torch.Tensor], torch.Tensor],
    chains: int,
    length: int,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Run ``chains`` independence MH chains; return final states, their labels and the acceptance rate.

    ``log_ratio(x)`` is log(target / proposal) up to a constant; the chains
    then have the target as stationary distribution.
    """
    state, labels = propose(chains)
    current = log_ratio(state)
    moves = torch.zeros((), device=state.device)
    for _ in range(length):
        candidate, candidate_labels = propose(chains)
        proposed = log_ratio(candidate)
        accept = torch.rand_like(proposed).log() < proposed - current
        mask = accept.view(-1, *([1] * (state.dim() - 1)))
        state = torch.where(mask, candidate, state)
        if labels is not None and candidate_labels is not None:
            labels = torch.where(accept, candidate_labels, labels)
        current = torch.where(accept, proposed, current)
        moves += accept.float().mean()
    return state, labels, moves / length


class MetropolisHastings(Sampler):
    """MH-GAN: Metropolis-Hastings chains with independent proposals and a calibrated D."""

    name = "mh"
    Options = MHOptions
    needs_fit = True

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self.calibration = Calibration()
        self.move_rate = float("nan")

    @torch.no_grad()
    def fit(self, model: TrainedModel, data: ImageData, progress=None) -> None:
        self.calibration = fit_calibration(model, data, self.options.calibration, progress)

    @torch.no_grad()
    def sample(self, model, n, *, component=None, max_proposals=None) -> SampleResult:
        proposals = n * (self.options.chain_length + 1)
        limit = proposal_limit(n, max_proposals)
        if proposals > limit:
            raise out_of_proposals(self.name, 0, n, limit)

        def propose(size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
            batch = model.generate(size, component=component)
            return batch.images, batch.labels

        images, labels, rate = independence_chains(
            propose, lambda x: self.calibration(scores_of(model, x)), n, self.options.chain_length
        )
        self.move_rate = float(rate)
        return SampleResult(images, labels, proposals)

    def describe(self) -> dict[str, Any]:
        return {"calibration a": float(self.calibration.a), "calibration b": float(self.calibration.b)}
