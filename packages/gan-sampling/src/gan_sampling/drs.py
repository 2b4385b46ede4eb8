"""Discriminator rejection sampling (Azadi et al., ICLR 2019).

With a calibrated logit l(x) ~ log(p_data / p_G)(x), accepting x with
probability exp(l(x) - l_max) would sample p_data exactly. DRS softens this
with the paper's rule: F(x) = l - l_max - log(1 - exp(l - l_max - eps)) - gamma,
accept with probability sigmoid(F). With gamma = 0 this is exact rejection
sampling by exp(l - l_max); gamma shifts it to accept more (or fewer).

Defaults, as the paper's Algorithm 1 and the MH-GAN authors' DRS
reimplementation (uber-research/metropolis-hastings-gans, mhgan/mh.py and
demo_mhgan.py) have them, since the paper's text does not fix them:

- l_max from a burn-in of 10,000 generated images (their 156 x 64 pilot
  samples), raised whenever a proposal beats it (Algorithm 1's running max);
- gamma the 95th percentile of F, recomputed for every batch of 640
  proposals (``shift_percent=95`` per chain of 10 x 64); ``-o
  sampler.gamma_from=burn-in`` fixes it once over the burn-in set instead,
  this package's earlier rule (at its earlier 80th percentile, give
  ``-o sampler.percentile=80`` too);
- eps 1e-6; D's scores calibrated on held-out images by isotonic regression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gan_core import ImageData, SampleResult, Sampler, TrainedModel, option

from .budget import out_of_proposals, proposal_limit

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class DRSOptions:
    percentile: float = option(95.0, "gamma is this percentile of F (higher: fewer accepted)", min=0.0, max=100.0)
    gamma_from: str = option("batch", "where the percentile is taken: each batch of proposals (the reference "
                             "reimplementation's) or once over the burn-in set", choices=("batch", "burn-in"),
                             legacy="burn-in")
    batch: int = option(640, "proposals per batch, each with its own gamma when gamma_from=batch", min=10, max=1000)
    gamma: float | None = option(None, "a fixed gamma instead of the percentile rule (0: exact rejection sampling; "
                                 "very negative: accept all)")
    epsilon: float = option(1e-6, "epsilon of the F(x) rule, keeps the log finite", min=1e-12, max=1.0)
    burn_in: int = option(10_000, "generated images that set the maximum logit and gamma", min=100)
    calibration: int = option(10_000, "real and generated images for calibrating D", min=100)
    calibrator: str = option("isotonic", "how D's score becomes a logit: isotonic regression (the MH-GAN reference's) "
                             "or a 2-parameter logistic fit", choices=("isotonic", "logistic"))


def drs_f(logits: torch.Tensor, max_logit: float | torch.Tensor, epsilon: float, gamma: float | torch.Tensor) -> torch.Tensor:
    """The paper's F(x); sigmoid(F) is the acceptance probability."""
    import torch

    delta = logits - max_logit
    return delta - torch.log1p(-torch.exp(delta - epsilon)) - gamma


class DiscriminatorRejection(Sampler):
    """Discriminator rejection sampling: keep generated images D finds real, by a calibrated density ratio."""

    name = "drs"
    Options = DRSOptions
    needs_fit = True
    holdout = 0.1  # the reference keeps 10% of the training data away from D for calibration (calib_frac=0.1)

    def __init__(self, options: Any) -> None:
        import torch

        from .calibration import CALIBRATORS

        super().__init__(options)
        self.calibration = CALIBRATORS[options.calibrator]()
        self.register_buffer("max_logit", torch.zeros(()))
        self.register_buffer("gamma", torch.zeros(()))

    def fit(self, model: TrainedModel, data: ImageData, progress=None) -> None:
        import torch

        from .calibration import fit_calibration, generated_scores

        with torch.no_grad():
            o = self.options
            self.calibration = fit_calibration(model, data, o.calibration, progress, o.calibrator)
            logits = self.calibration(generated_scores(model, o.burn_in, progress, "burn-in"))
            self.max_logit.fill_(float(logits.max()))
            f = drs_f(logits, self.max_logit, o.epsilon, 0.0)
            gamma = o.gamma if o.gamma is not None else float(torch.quantile(f.double(), o.percentile / 100))
            self.gamma.fill_(gamma)  # used when gamma_from=burn-in or gamma is given; shown by describe() either way

    def logits(self, model: TrainedModel, images: torch.Tensor) -> torch.Tensor:
        from .calibration import scores_of

        return self.calibration(scores_of(model, images))

    def sample(self, model, n, *, component=None, max_proposals=None) -> SampleResult:
        import torch

        from .calibration import SCORE_BATCH

        with torch.no_grad():
            limit = proposal_limit(n, max_proposals)
            kept, labels, accepted, proposals = [], [], 0, 0
            while accepted < n:
                if proposals >= limit:
                    raise out_of_proposals(self.name, accepted, n, proposals)
                o = self.options
                per_batch = o.gamma is None and o.gamma_from == "batch"
                size = min(max(2 * (n - accepted), 64), SCORE_BATCH) if not per_batch else o.batch
                usable = min(size, limit - proposals)  # a proposal bound may leave less than a batch
                # the whole batch is drawn and scored even then: its percentile needs all of it
                batch = model.generate(size, component=component)
                logits = self.logits(model, batch.images)
                self.max_logit.copy_(torch.maximum(self.max_logit, logits.max()))  # the paper keeps raising it
                f = drs_f(logits, self.max_logit, o.epsilon, 0.0)
                gamma = torch.quantile(f.double(), o.percentile / 100).to(f.dtype) if per_batch else self.gamma
                keep = torch.rand_like(logits) < torch.sigmoid(f - gamma)
                keep[usable:] = False
                proposals += usable
                kept.append(batch.images[keep])
                if batch.labels is not None:
                    labels.append(batch.labels[keep])
                accepted += int(keep.sum())
            images = torch.cat(kept)[:n]
            return SampleResult(images, torch.cat(labels)[:n] if labels else None, proposals)

    def describe(self) -> dict[str, Any]:
        o = self.options
        if o.gamma is None and o.gamma_from == "batch":
            rule = f"percentile {o.percentile:g} of F in each batch of {o.batch}"
        else:
            rule = float(self.gamma)
        return {**self.calibration.describe(), "max logit": float(self.max_logit), "gamma": rule}
