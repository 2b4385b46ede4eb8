"""Turning D's realness score into a calibrated logit of "real".

A critic trained as a Wasserstein or SAN discriminator gives unbounded
scores, and even a classifier-style D is miscalibrated after adversarial
training. Rejection and MH samplers need log(p_data / p_G), which a
calibrated logit estimates: an isotonic regression of "real" on the score
(the MH-GAN reference's calibrator, monotone but otherwise free) or a
logistic regression a * score + b, fitted on real images against freshly
generated ones. The real images are the run's hold-out slice, which D never
trained on (a D that memorised its training images looks over-confident on
them), or the training images when the run kept none; never the test split,
which is what `gan eval` compares with.
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
            raise not_separating(f"calibration slope {float(a):.3g}")
        self.a.fill_(float(a / scale))
        self.b.fill_(float(b))

    def describe(self) -> dict[str, float]:
        return {"calibration a": float(self.a), "calibration b": float(self.b)}


class IsotonicCalibration(nn.Module):
    """logit = logit(g(score)) with g the isotonic (monotone) regression of "real" on the score.

    What the MH-GAN reference calibrates with: unlike a logistic fit it
    assumes only that a higher score means "more likely real", so it also
    straightens a D whose score is a nonlinear function of the true logit.
    The fitted step function is kept as its knots (buffers) and applied by
    linear interpolation, as scikit-learn's ``predict`` does; probabilities
    are clipped to [EPS, 1 - EPS] so the logits stay finite.
    """

    EPS = 1e-6

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("knots", torch.zeros(0))
        self.register_buffer("values", torch.zeros(0))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        for name in ("knots", "values"):  # their length is the number of knots: make room first
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        x = scores.to(self.knots.dtype).clamp(self.knots[0], self.knots[-1])
        upper = torch.searchsorted(self.knots, x).clamp(1, len(self.knots) - 1)
        x0, x1 = self.knots[upper - 1], self.knots[upper]
        y0, y1 = self.values[upper - 1], self.values[upper]
        weight = torch.where(x1 > x0, (x - x0) / (x1 - x0).clamp_min(1e-12), torch.zeros_like(x))
        p = (y0 + weight * (y1 - y0)).clamp(self.EPS, 1 - self.EPS)
        return torch.logit(p).to(scores.dtype)

    @torch.no_grad()
    def fit(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> None:
        from sklearn.isotonic import IsotonicRegression

        x = torch.cat([real_scores, fake_scores]).double().cpu().numpy()
        y = torch.cat([torch.ones_like(real_scores), torch.zeros_like(fake_scores)]).double().cpu().numpy()
        if not x.std() > 1e-8:  # a constant D says nothing: every image gets the prior odds
            centre, share = float(x.mean()), float(y.mean())
            self.knots = torch.tensor([centre - 1, centre + 1], dtype=torch.float64, device=real_scores.device)
            self.values = torch.tensor([share, share], dtype=torch.float64, device=real_scores.device)
            return
        regression = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(x, y)
        knots = torch.as_tensor(regression.X_thresholds_, dtype=torch.float64)
        values = torch.as_tensor(regression.y_thresholds_, dtype=torch.float64)
        if len(knots) < 2 or float(values[-1] - values[0]) <= 0:
            raise not_separating("the isotonic fit is flat")
        self.knots, self.values = knots.to(real_scores.device), values.to(real_scores.device)

    def describe(self) -> dict[str, float]:
        return {"calibration knots": float(len(self.knots))}


#: the calibrators a sampler can choose with -o sampler.calibrator=NAME
CALIBRATORS = {"isotonic": IsotonicCalibration, "logistic": Calibration}


def not_separating(detail: str) -> GanError:
    return GanError(
        f"the discriminator's score does not separate real from generated images ({detail}); "
        "this run's discriminator cannot guide a sampler"
    )


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
def fit_calibration(model: TrainedModel, data: ImageData, n: int, progress: Progress | None = None,
                    method: str = "logistic") -> nn.Module:
    """A calibration (``isotonic`` or ``logistic``) from n real images and n generated ones."""
    calibration = CALIBRATORS[method]().to(model.device)
    real = scores_of(model, real_subset(data, n, model.device))
    calibration.fit(real, generated_scores(model, n, progress, "calibrating D"))
    return calibration
