"""Turning D's realness score into a calibrated logit of "real".

A critic trained as a Wasserstein or SAN discriminator gives unbounded
scores, and even a classifier-style D is miscalibrated after adversarial
training. Rejection and MH samplers need log(p_data / p_G), which a
calibrated logit estimates; a logistic regression a * score + b, fitted on
real images against freshly generated ones, provides it. The real images
come from the training split, because the test split is what `gan eval`
compares with: calibrating on it would leak the reference into the samples.
Two parameters fitted on 10,000 images barely overfit, but a D that has
memorised its training images would look over-confident here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from rich.progress import Progress
from torch import nn

from gan_core import GanError, ImageData, TrainedModel

SCORE_BATCH = 1000


class Calibration(nn.Module):
    """logit = a * score + b, fitted by logistic regression (saved as buffers)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("a", torch.ones(()))
        self.register_buffer("b", torch.zeros(()))

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        return self.a * scores + self.b

    @torch.no_grad()
    def fit(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> None:
        x = torch.cat([real_scores, fake_scores]).double()
        y = torch.cat([torch.ones_like(real_scores), torch.zeros_like(fake_scores)]).double()
        scale = x.std()
        if not scale > 1e-8:  # a constant D says nothing: every image gets the prior odds
            self.a.fill_(0.0)
            self.b.fill_(float(torch.log(y.mean() / (1 - y.mean()))))
            return
        # standardised scores, so one LBFGS setting fits every score range
        params = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        optimiser = torch.optim.LBFGS([params], lr=1, max_iter=200, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimiser.zero_grad()
            with torch.enable_grad():
                loss = F.binary_cross_entropy_with_logits(params[0] * x / scale + params[1], y)
                loss.backward()
            return loss

        optimiser.step(closure)
        a, b = params.detach()
        if not torch.isfinite(a) or a < 0:
            raise GanError(
                "the discriminator's score does not separate real from generated images (calibration slope "
                f"{float(a):.3g}); this run's discriminator cannot guide a sampler"
            )
        self.a.fill_(float(a / scale))
        self.b.fill_(float(b))


@torch.no_grad()
def scores_of(model: TrainedModel, images: torch.Tensor) -> torch.Tensor:
    """D's realness scores of images in [-1, 1], batch by batch."""
    return torch.cat([model.score(images[i : i + SCORE_BATCH]) for i in range(0, len(images), SCORE_BATCH)])


def real_subset(data: ImageData, n: int, device: torch.device) -> torch.Tensor:
    """A fixed random subset of real images, scaled to [-1, 1]: the same every fit."""
    index = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:n]
    return data.images[index.to(data.images.device)].to(device).float().div(127.5).sub(1.0)


@torch.no_grad()
def generated_scores(model: TrainedModel, n: int, progress: Progress | None = None, what: str = "scoring") -> torch.Tensor:
    """D's scores of n freshly generated images, a batch at a time, shown on ``progress`` if given."""
    task = progress.add_task(what, total=n) if progress is not None else None
    scores = []
    for i in range(0, n, SCORE_BATCH):
        scores.append(model.score(model.generate(min(SCORE_BATCH, n - i)).images))
        if progress is not None and task is not None:
            progress.update(task, completed=min(i + SCORE_BATCH, n))
    return torch.cat(scores)


@torch.no_grad()
def fit_calibration(model: TrainedModel, data: ImageData, n: int, progress: Progress | None = None) -> Calibration:
    """A calibration from n real images of the training set and n generated ones."""
    calibration = Calibration().to(model.device)
    real = scores_of(model, real_subset(data, n, model.device))
    calibration.fit(real, generated_scores(model, n, progress, "calibrating D"))
    return calibration
