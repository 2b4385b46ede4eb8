"""Latent rejection sampling (Issenhuth, Tanielian, Mary & Picard, WACV 2022).

On the frozen generator, learn an importance weight w(z) >= 0 with E[w] = 1
so that the prior reweighted by w, pushed through G, is as close as possible
to the data in Wasserstein-1 distance:

    min_w max_{f 1-Lipschitz}  E_data[f(x)] - E_z[w(z) f(G(z))]

The critic f ascends this gap (with a one-sided gradient penalty for the
Lipschitz constraint: with the two-sided WGAN-GP form, a critic that starts
facing the wrong way cannot turn round, and on a 1-D toy half of the starts
ended with w on the wrong side of the data); w descends it, i.e. *raises*
E_z[w(z) f(G(z))]: weight moves to codes whose images the critic finds
real. (Flipping that sign, as some public code does, favours the worst
codes.) Penalties keep E[w] near 1 and w below m, and sampling accepts z with
probability w(z) / m, so G runs only on accepted codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gan_core import ImageData, SampleResult, Sampler, TrainedModel, option

from .budget import out_of_proposals, proposal_limit

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .networks import WeightNetwork


@dataclass(frozen=True)
class LatentRSOptions:
    m: float = option(3.0, "maximum importance weight; acceptance is w(z) / m", min=1.0)
    steps: int = option(1500, "training steps of the weight network", min=1)
    critic_steps: int = option(3, "critic steps per weight-network step", min=1)
    batch_size: int = option(256, "codes and real images per step", min=8)
    lr: float = option(2e-4, "Adam learning rate of the weight network and the critic", min=0.0)
    gp: float = option(10.0, "weight of the critic's one-sided gradient penalty", min=0.0)
    mean_penalty: float = option(10.0, "weight of (E[w] - 1)^2", min=0.0)
    max_penalty: float = option(10.0, "weight of E[relu(w - m)^2]", min=0.0)
    real_images: int = option(20_000, "real training images the critic sees", min=100)


def weight_objective(w: torch.Tensor, critic_on_fake: torch.Tensor, m: float, mean_penalty: float, max_penalty: float) -> torch.Tensor:
    """What the weight network minimises: minus the reweighted critic score, plus its two penalties."""
    import torch.nn.functional as F

    reweighted = (w * critic_on_fake).mean()
    return -reweighted + mean_penalty * (w.mean() - 1).square() + max_penalty * F.relu(w - m).square().mean()


class LatentRejection(Sampler):
    """Latent rejection sampling: accept prior codes by a learned importance weight w(z) / m."""

    name = "latent-rs"
    Options = LatentRSOptions
    needs_fit = True

    def __init__(self, options: Any) -> None:
        import torch

        super().__init__(options)
        self.weights: WeightNetwork | None = None
        self.critic: nn.Module | None = None
        self.register_buffer("sizes", torch.zeros(2, dtype=torch.long))  # latent size, pixels per image
        self.register_buffer("m", torch.tensor(float(options.m)))

    def build(self, latent_dim: int, pixels: int) -> tuple[WeightNetwork, nn.Module]:
        """The weight network and critic; both are saved with the run."""
        import torch

        from .networks import WeightNetwork, mlp

        self.sizes.copy_(torch.tensor([latent_dim, pixels]))
        self.weights = WeightNetwork(latent_dim).to(self.m.device)
        self.critic = mlp(pixels).to(self.m.device)
        return self.weights, self.critic

    def load_state_dict(self, state, strict: bool = True, assign: bool = False):  # type: ignore[override]
        """The networks' sizes come from the saved state, so build them before loading."""
        if self.weights is None and "sizes" in state:
            self.build(*(int(v) for v in state["sizes"]))
        return super().load_state_dict(state, strict=strict, assign=assign)

    def fit(self, model: TrainedModel, data: ImageData, progress=None) -> None:
        import torch

        from gan_core import gradient_penalty

        from .calibration import real_subset

        o, device = self.options, model.device
        real_pool = real_subset(data, min(o.real_images, len(data)), device).flatten(1)
        weights, critic = self.build(model.prior.code_dim, real_pool.shape[1])
        opt_w = torch.optim.Adam(weights.parameters(), lr=o.lr, betas=(0.5, 0.9))
        opt_c = torch.optim.Adam(critic.parameters(), lr=o.lr, betas=(0.5, 0.9))
        task = progress.add_task("fitting latent-rs", total=o.steps) if progress is not None else None

        def draw() -> tuple[torch.Tensor, torch.Tensor]:
            with torch.no_grad():
                z = model.prior.sample(o.batch_size).z
                return z, model.generator(z).flatten(1)

        for step in range(o.steps):
            for _ in range(o.critic_steps):
                z, fake = draw()
                real = real_pool[torch.randint(len(real_pool), (o.batch_size,), device=device)]
                with torch.no_grad():
                    w = weights(z)
                gap = critic(real).mean() - (w * critic(fake).squeeze(1)).mean()
                loss_c = -gap + o.gp * gradient_penalty(critic, real, fake, one_sided=True)
                opt_c.zero_grad(set_to_none=True)
                loss_c.backward()
                opt_c.step()
            z, fake = draw()
            with torch.no_grad():
                scores = critic(fake).squeeze(1)
            loss_w = weight_objective(weights(z), scores, o.m, o.mean_penalty, o.max_penalty)
            opt_w.zero_grad(set_to_none=True)
            loss_w.backward()
            opt_w.step()
            if task is not None and step % 50 == 0:
                progress.update(task, completed=step + 1)
        critic.eval().requires_grad_(False)
        weights.eval().requires_grad_(False)

    def acceptance(self, z: torch.Tensor) -> torch.Tensor:
        import torch

        with torch.no_grad():
            assert self.weights is not None
            return (self.weights(z) / self.m).clamp(max=1.0)

    def sample(self, model, n, *, component=None, max_proposals=None) -> SampleResult:
        import torch

        with torch.no_grad():
            limit = proposal_limit(n, max_proposals)
            codes, labels, accepted, proposals = [], [], 0, 0
            while accepted < n:
                if proposals >= limit:
                    raise out_of_proposals(self.name, accepted, n, proposals)
                size = min(max(4 * (n - accepted), 256), 4096, limit - proposals)
                latent = model.prior.sample(size, component=component)
                keep = torch.rand(size, device=latent.z.device) < self.acceptance(latent.z)
                proposals += size
                codes.append(latent.z[keep])
                if latent.labels is not None:
                    labels.append(latent.labels[keep])
                accepted += int(keep.sum())
            z = torch.cat(codes)[:n]
            images = torch.cat([model.generator(z[i : i + 1000]) for i in range(0, n, 1000)])  # G only on accepted codes
            return SampleResult(images, torch.cat(labels)[:n] if labels else None, proposals)

    def describe(self) -> dict[str, Any]:
        return {"m": float(self.m), "latent dim": int(self.sizes[0]), "trained": self.weights is not None}

