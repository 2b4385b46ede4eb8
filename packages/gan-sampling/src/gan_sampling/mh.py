"""Metropolis-Hastings GAN (Turner et al., ICML 2019).

Independent proposals x' ~ G(z), z from the prior; with a calibrated logit
l ~ log(p_data / p_G), the MH acceptance for an independence sampler is
min(1, exp(l(x') - l(x))). Chains run side by side, one per image asked for.

The procedure follows the authors' code (uber-research/metropolis-hastings-gans,
``demo_mhgan.py`` and ``mh.py``), which is what makes the chains forget G:

* each chain **starts from a real image** (its calibrated logit only: the
  real image itself is never returned), drawn from the images the sampler
  was calibrated on; a chain that never accepts a proposal — it is still on
  the real image — is **run again from its first proposal** over the rest;
* each chain sees **640 proposals** (10 batches of 64) before its state is
  taken.

Started from a proposal and run for 20 steps, a chain stays close to G: on a
1-D toy with the exact ratio (proposal N(0, 1), target N(2, 1)) the output
mean is 1.53 after 20 proposals and 1.98 after 640 (tests/test_samplers.py).
``-o sampler.init=fake`` and a shorter ``chain_length`` keep the cheaper
variant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gan_core import ImageData, SampleResult, Sampler, TrainedModel, option

from .budget import out_of_proposals, proposal_limit

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class MHOptions:
    chain_length: int = option(640, "proposals per chain (the reference: 10 batches of 64)", min=1, max=100_000)
    calibration: int = option(10_000, "real and generated images for calibrating D", min=100)
    calibrator: str = option("isotonic", "how D's score becomes a logit: isotonic regression (the MH-GAN reference's) "
                             "or a 2-parameter logistic fit", choices=("isotonic", "logistic"))
    init: str = option("real", "where a chain starts: a real image's score (the reference) or its first proposal",
                       choices=("real", "fake"))


def independence_chains(
    propose: Callable[[int], tuple[torch.Tensor, torch.Tensor | None]],
    log_ratio: Callable[[torch.Tensor], torch.Tensor],
    chains: int,
    length: int,
    start: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Run ``chains`` independence MH chains over ``length`` proposals each; final states, labels, move rate.

    ``log_ratio(x)`` is log(target / proposal) up to a constant; the chains
    then have the target as stationary distribution. With ``start`` (one
    log-ratio per chain, of a real sample) a chain starts there and treats
    every proposal as a candidate; one that never moves is replaced by a
    chain started at its first proposal and run over the others, the
    reference's restart. Without it, chains start at their first proposal.
    """
    import torch

    first, first_labels = propose(chains)
    first_ratio = log_ratio(first)
    # the restart chain B: from the first proposal; the real-start chain A: from `start`
    b_state, b_labels, b_ratio = first, first_labels, first_ratio
    if start is not None:
        a_accept = torch.rand_like(first_ratio).log() < first_ratio - start
        a_state, a_labels = first, first_labels
        a_ratio = torch.where(a_accept, first_ratio, start)
        moved = a_accept.clone()
    moves = torch.zeros((), device=first.device)
    for _ in range(length - 1):
        candidate, candidate_labels = propose(chains)
        proposed = log_ratio(candidate)
        b_state, b_labels, b_ratio, accept = _step(b_state, b_labels, b_ratio, candidate, candidate_labels, proposed)
        moves += accept.float().mean()
        if start is not None:
            a_state, a_labels, a_ratio, accept = _step(a_state, a_labels, a_ratio, candidate, candidate_labels, proposed)
            moved |= accept
    if start is None:
        return b_state, b_labels, moves / max(length - 1, 1)
    keep = moved.view(-1, *([1] * (first.dim() - 1)))
    labels = None if a_labels is None else torch.where(moved, a_labels, b_labels)
    return torch.where(keep, a_state, b_state), labels, moved.float().mean()


def _step(state: torch.Tensor, labels: torch.Tensor | None, ratio: torch.Tensor, candidate: torch.Tensor,
          candidate_labels: torch.Tensor | None, proposed: torch.Tensor):
    """One MH step of every chain: accept the candidate with probability min(1, exp(proposed - ratio))."""
    import torch

    accept = torch.rand_like(proposed).log() < proposed - ratio
    mask = accept.view(-1, *([1] * (state.dim() - 1)))
    state = torch.where(mask, candidate, state)
    if labels is not None and candidate_labels is not None:
        labels = torch.where(accept, candidate_labels, labels)
    return state, labels, torch.where(accept, proposed, ratio), accept


class MetropolisHastings(Sampler):
    """MH-GAN: Metropolis-Hastings chains with independent proposals and a calibrated D."""

    name = "mh"
    Options = MHOptions
    needs_fit = True
    holdout = 0.1  # the reference keeps 10% of the training data away from D for calibration (calib_frac=0.1)

    def __init__(self, options: Any) -> None:
        import torch

        from .calibration import CALIBRATORS

        super().__init__(options)
        self.calibration = CALIBRATORS[options.calibrator]()
        # calibrated logits of the real images the calibration saw: where chains start (init=real)
        self.register_buffer("real_logits", torch.zeros(0))
        self.move_rate = float("nan")

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        import torch

        key = prefix + "real_logits"
        if key in state_dict:  # its length is the calibration size: make room before loading
            self.real_logits = torch.empty_like(state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def fit(self, model: TrainedModel, data: ImageData, progress=None) -> None:
        import torch

        from .calibration import fit_calibration, real_subset, scores_of

        with torch.no_grad():
            self.calibration = fit_calibration(model, data, self.options.calibration, progress, self.options.calibrator)
            real = scores_of(model, real_subset(data, self.options.calibration, model.device))
            self.real_logits = self.calibration(real)

    def sample(self, model, n, *, component=None, max_proposals=None) -> SampleResult:
        import torch

        from .calibration import scores_of

        with torch.no_grad():
            proposals = n * self.options.chain_length
            limit = proposal_limit(n, max_proposals)
            if proposals > limit:
                raise out_of_proposals(self.name, 0, n, limit)

            def propose(size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
                batch = model.generate(size, component=component)
                return batch.images, batch.labels

            start = None
            if self.options.init == "real":
                pick = torch.randint(0, len(self.real_logits), (n,), device=self.real_logits.device)
                start = self.real_logits[pick]
            images, labels, rate = independence_chains(
                propose, lambda x: self.calibration(scores_of(model, x)), n, self.options.chain_length, start
            )
            self.move_rate = float(rate)
            return SampleResult(images, labels, proposals)

    def describe(self) -> dict[str, Any]:
        return {**self.calibration.describe(),
                "chains start from": f"{len(self.real_logits)} real images" if self.options.init == "real" else "a proposal"}
