"""The f-divergences of f-GAN (Nowozin, Cseke & Tomioka, NeurIPS 2016, Table 2).

For each divergence D_f(P||Q) = E_Q[f(p/q)]: the output activation g_f,
which maps D's raw output v into the domain of the convex conjugate f*, and
f*(g_f(v)) written directly in v. The direct forms are algebraically equal
to composing the two but avoid the cancellations and overflows of the
composition: 1 - exp(-v) followed by log(1 - t), say, loses every digit when
v is large. Exponentials are clamped at EXP_MAX so a diverging critic gives
a huge but finite loss (the engine stops on non-finite losses, see
gan_core.engine) rather than inf at the first large output.

``f_prime`` is f'(u); the variational bound is tight at T*(x) = f'(p(x)/q(x)),
which the tests use to check the sign conventions. ``conjugate`` is f*(t)
itself, used only by the tests to check the direct forms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

Fn = Callable[["torch.Tensor"], "torch.Tensor"]

#: largest argument passed to exp: exp(80) ~ 5.5e34 is finite in float32
EXP_MAX = 80.0
LOG2 = math.log(2.0)


# The forms below use tensor methods, and softplus is imported where it is called,
# so that registering the losses (gan --help, gan plugins) does not import torch.
def _exp(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(max=EXP_MAX).exp()


def _softplus(x: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    return F.softplus(x)


@dataclass(frozen=True)
class Divergence:
    name: str  # the loss is fgan-<name>
    title: str
    activation: Fn  # g_f(v)
    conjugate_of_activation: Fn  # f*(g_f(v)), in a stable closed form
    conjugate: Fn  # f*(t), the textbook form (tests only)
    f_prime: Callable[[float], float]  # f'(u): the optimal T at density ratio u


DIVERGENCES: tuple[Divergence, ...] = (
    # KL: f(u) = u log u.  g(v) = v;  f*(t) = exp(t - 1).
    Divergence("kl", "Kullback-Leibler", lambda v: v, lambda v: _exp(v - 1), lambda t: (t - 1).exp(),
               lambda u: 1 + math.log(u)),
    # Reverse KL: f(u) = -log u.  g(v) = -exp(-v);  f*(t) = -1 - log(-t), so f*(g(v)) = v - 1.
    Divergence("reverse-kl", "reverse Kullback-Leibler", lambda v: -_exp(-v), lambda v: v - 1,
               lambda t: -1 - (-t).log(), lambda u: -1 / u),
    # Pearson chi^2: f(u) = (u - 1)^2.  g(v) = v;  f*(t) = t^2 / 4 + t.
    Divergence("pearson", "Pearson chi-squared", lambda v: v, lambda v: v.square() / 4 + v,
               lambda t: t.square() / 4 + t, lambda u: 2 * (u - 1)),
    # Neyman chi^2: f(u) = (1 - u)^2 / u.  g(v) = 1 - exp(-v);  f*(t) = 2 - 2 sqrt(1 - t),
    # so f*(g(v)) = 2 - 2 exp(-v / 2).
    Divergence("neyman", "Neyman chi-squared", lambda v: 1 - _exp(-v), lambda v: 2 - 2 * _exp(-v / 2),
               lambda t: 2 - 2 * (1 - t).sqrt(), lambda u: 1 - 1 / u**2),
    # Squared Hellinger: f(u) = (sqrt(u) - 1)^2.  g(v) = 1 - exp(-v);  f*(t) = t / (1 - t),
    # so f*(g(v)) = exp(v) - 1.
    Divergence("hellinger", "squared Hellinger", lambda v: 1 - _exp(-v), lambda v: _exp(v) - 1,
               lambda t: t / (1 - t), lambda u: 1 - 1 / math.sqrt(u)),
    # Jensen-Shannon: f(u) = -(u + 1) log((1 + u) / 2) + u log u.  g(v) = log 2 - log(1 + exp(-v));
    # f*(t) = -log(2 - exp(t)), so f*(g(v)) = -log(2 sigmoid(-v)) = softplus(v) - log 2.
    Divergence("js", "Jensen-Shannon", lambda v: LOG2 - _softplus(-v), lambda v: _softplus(v) - LOG2,
               lambda t: -(2 - t.exp()).log(), lambda u: math.log(2 * u / (1 + u))),
    # The original GAN: f(u) = u log u - (u + 1) log(u + 1).  g(v) = -log(1 + exp(-v));
    # f*(t) = -log(1 - exp(t)), so f*(g(v)) = -log sigmoid(-v) = softplus(v).
    Divergence("gan", "GAN (Goodfellow et al.)", lambda v: -_softplus(-v), _softplus,
               lambda t: -(1 - t.exp()).log(), lambda u: math.log(u / (u + 1))),
    # Total variation: f(u) = |u - 1| / 2.  g(v) = tanh(v) / 2;  f*(t) = t on |t| <= 1/2.
    Divergence("tv", "total variation", lambda v: 0.5 * v.tanh(), lambda v: 0.5 * v.tanh(),
               lambda t: t, lambda u: 0.5 * math.copysign(1.0, u - 1)),
)
