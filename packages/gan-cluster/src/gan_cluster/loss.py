"""The ClusterGAN loss: any base adversarial loss plus an encoder that inverts G.

G and the encoder E share G's optimiser and minimise

    L_GE = L_adv + beta_n * ||z_n - E(G(z))_n||^2 + beta_c * CE(z_c, E(G(z))_c)

(squared error averaged over coordinates, as the reference code does). The
discriminator's step is the base loss's, untouched. Recovering z_c from
G(z) forces G to make the clusters distinguishable, and E then clusters real
images: that is what ``gan cluster`` measures.

The base loss (vanilla, wgan-gp, or any installed loss) is looked up by name
through the registry with ``gan_core.create_component``, so this package
never imports the package that ships it; its optimiser defaults, D steps
(and any ``critic_steps`` schedule), head and clipping all carry over. Its
own options come as one text option, ``base_options``, checked by gan-core
exactly as ``-o loss.KEY=VALUE`` would be for the base alone.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gan_core import (
    ENCODER,
    Architecture,
    Batch,
    Combination,
    Discriminator,
    GanError,
    Loss,
    NetworkSpec,
    Prior,
    TrainingDefaults,
    option,
)

from .priors import CLUSTER_CODES

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class ClusterGANOptions:
    base: str = option("wgan-gp", "the adversarial loss to wrap (any installed loss); the reference always uses wgan-gp")
    beta_n: float = option(10.0, "weight of the Gaussian part's reconstruction ||z_n - E(G(z))_n||^2", min=0.0)
    beta_c: float = option(10.0, "weight of the cluster's cross-entropy CE(z_c, E(G(z))_c)", min=0.0)
    base_options: str = option("", "the base loss's options as KEY=VALUE,KEY=VALUE (e.g. lambda_=5,critic_steps=3); "
                               "'' keeps its defaults")


#: a comma that starts the next KEY=VALUE, so a tuple value ("betas=0.5,0.9") keeps its own commas
_NEXT_ASSIGNMENT = re.compile(r",\s*(?=[A-Za-z_][A-Za-z0-9_]*\s*=)")


def parse_base_options(text: str) -> dict[str, str]:
    """``"lambda_=5,critic_steps=3"`` as ``{"lambda_": "5", "critic_steps": "3"}``; the base loss checks the values.

    One text option rather than a key per base option: the wrapper cannot know
    which options an installed base declares, and gan-core's option building
    refuses a key the base lacks, with a suggestion, when the base is created.
    """
    values: dict[str, str] = {}
    for part in _NEXT_ASSIGNMENT.split(text.strip()) if text.strip() else []:
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise GanError(f"loss 'clustergan' option base_options holds '{part}', which is not KEY=VALUE; "
                           "write for example -o loss.base_options=lambda_=5,critic_steps=3")
        values[key.strip()] = value.strip()
    return values


class ClusterGANLoss(Loss):
    """ClusterGAN: a base adversarial loss plus an encoder trained with G to recover z = (z_n, z_c)."""

    name = "clustergan"
    Options = ClusterGANOptions
    stacks = True
    member_options = ("beta_n", "beta_c")
    own_requirements = {
        ENCODER: "E(G(z)) must recover the code; mlp and dcgan build one",
        CLUSTER_CODES: "the codes must carry a cluster; use --prior cluster or cluster-gmm",
    }

    def __init__(self, options: Any) -> None:
        from gan_core import create_component

        super().__init__(options)
        if options.base == self.name:
            raise GanError("loss 'clustergan' cannot wrap itself; pick another base with -o loss.base=vanilla")
        base_options = parse_base_options(options.base_options)
        try:
            self.base: Loss = create_component("loss", options.base, base_options)  # type: ignore[assignment]
        except GanError as exc:
            if not base_options:
                raise
            raise GanError(f"-o loss.base_options: {exc.message}") from exc
        self.encoder: nn.Module | None = None
        self.base_modules: nn.Module | None = None
        self.noise_dim = 0

    # --- what the base declares holds for the wrapper too
    @property
    def requires(self) -> dict[str, str]:  # type: ignore[override]
        return {**self.base.requires, **self.own_requirements}

    def provides(self) -> frozenset[str]:
        return self.base.provides()

    def stack_refusal(self) -> str | None:
        """It stacks when its base loss does (the base's member options stay fixed within a group)."""
        refusal = self.base.stack_refusal()
        return None if refusal is None else f"its base loss '{self.base.name}' cannot: {refusal}"

    # --- the base loss decides everything about D
    def defaults(self) -> TrainingDefaults:
        """The base's; around WGAN-GP, the reference's Adam 1e-4 with betas (0.5, 0.9) and 5 critic steps."""
        if self.options.base == "wgan-gp":
            return dataclasses.replace(self.base.defaults(), betas=(0.5, 0.9))
        return self.base.defaults()

    def discriminator_outputs(self, prior: Prior) -> int:
        return self.base.discriminator_outputs(prior)

    def prepare_discriminator(self, discriminator: Discriminator) -> Discriminator:
        return self.base.prepare_discriminator(discriminator)

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        return self.base.d_loss(d, real, fake)

    def after_d_step(self, d: Discriminator) -> None:
        self.base.after_d_step(d)

    def critic_steps(self, step: int) -> int | None:
        """The base's schedule of extra D steps (WGAN's warm-up), which the wrapper must not drop."""
        return self.base.critic_steps(step)

    def realness(self, outputs: torch.Tensor) -> torch.Tensor:
        return self.base.realness(outputs)

    def check(self, combo: Combination) -> None:
        self.base.check(combo)

    # --- the encoder
    def build_modules(self, architecture: Architecture, spec: NetworkSpec, prior: Prior) -> nn.Module:
        """The encoder, plus whatever the base loss trains alongside G (saved under ``loss.base.``)."""
        from torch import nn

        if prior.num_components is None:
            raise GanError(f"loss 'clustergan' needs a prior with clusters, not '{prior.name}'; use --prior cluster")
        self.noise_dim = prior.latent_dim
        self.encoder = architecture.build_encoder(spec, prior.latent_dim + prior.num_components)
        self.base_modules = self.base.build_modules(architecture, spec, prior)
        if self.base_modules is None:
            return self.encoder  # the layout of every run saved before bases could bring modules
        return nn.ModuleDict({"encoder": self.encoder, "base": self.base_modules})

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """E's estimate of the Gaussian part and its cluster logits."""
        assert self.encoder is not None, "build_modules runs before the loss is used"
        out = self.encoder(images)
        return out[:, : self.noise_dim], out[:, self.noise_dim :]

    def code_losses(self, fake: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(||z_n - E_n||^2 averaged, CE(z_c, E_c)) on a generated batch."""
        import torch.nn.functional as F

        if fake.z is None or fake.labels is None:
            raise GanError("loss 'clustergan' needs the generator's codes and clusters; use --prior cluster")
        z_n, logits = self.encode(fake.images)
        return F.mse_loss(z_n, fake.z[:, : self.noise_dim]), F.cross_entropy(logits, fake.labels)

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch | None = None) -> torch.Tensor:
        zn_loss, zc_loss = self.code_losses(fake)
        return self.base.generator_loss(d, fake, real) + self.options.beta_n * zn_loss + self.options.beta_c * zc_loss

    def describe(self) -> dict[str, Any]:
        return {"base loss": self.base.name, "encoder outputs": self.noise_dim}
