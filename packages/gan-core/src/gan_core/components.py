"""The contracts every plugin component fulfils.

The core only ever talks to these base classes: a prior samples latent codes,
an architecture builds networks, a loss gives the D and G objectives, a
sampler turns a trained generator into images, a dataset yields uint8
images. A plugin subclasses one, sets ``name`` and ``Options``, and hands the
class to the ``register`` callback of the matching hook.

This module does not import torch: ``gan --help``, ``gan plugins`` and every
refusal of bad input read component classes without it. The contracts that
are torch modules (:class:`Prior`, :class:`Sampler`, :class:`Discriminator`)
get ``torch.nn.Module`` as their base when the first instance of any of them
is made (see :func:`attach_torch`).
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

from .kinds import KINDS
from .options import NoOptions

if TYPE_CHECKING:
    import torch
    from rich.progress import Progress
    from torch import nn
    from torch.nn import Module as _Module
else:

    class _Module:
        """Stands in for ``torch.nn.Module`` as a base until torch is needed; see :func:`attach_torch`."""


def _new_torch_module(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``__new__`` of the contracts that are torch modules: make them torch modules, then the instance."""
    attach_torch()
    from torch import nn

    return nn.Module.__new__(cls)


class Component:
    """Metadata shared by every component kind.

    ``requires`` maps a capability (``"labels"``, ``"encoder"``...) to the reason
    the component needs it; some other part of the combination must list it in
    ``provides()``. The core checks this before any work starts, for every
    kind, so an impossible pairing fails with one sentence instead of deep in
    training. The core reads ``requires`` and ``provides()`` on the
    *instance*: a component whose needs depend on its options makes
    ``requires`` a property.

    Every kind is constructed the same way, ``Cls(options)`` with its
    validated ``Options`` instance (a prior also takes ``latent_dim=``).
    A component may keep state between calls (a loss its last batch, a
    sampler what ``fit`` learned); the order of calls is fixed and documented
    in docs/plugins.md.
    """

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions
    requires: ClassVar[Mapping[str, str]] = {}
    provided: ClassVar[frozenset[str]] = frozenset()

    #: whether an instance may train as one member of a stacked group (``gan train --seeds N``): its
    #: code obeys the rules in docs/plugins.md, "Stacked training" (no host syncs in a step, static
    #: shapes, randomness only from :mod:`gan_core.rng`, reductions only over the batch, state changed
    #: only in its own tensors). False (the default for a component written before 1.1): a group with
    #: it trains its runs one after another, each exactly as ``gan train --seed K`` would.
    stacks: ClassVar[bool] = False
    #: options (plain numbers) whose values may differ between the members of one group: during a
    #: stacked step the component reads each as a 0-d tensor holding its member's value
    member_options: ClassVar[tuple[str, ...]] = ()

    options: Any

    def stack_refusal(self) -> str | None:
        """Why this instance cannot be a member of a stacked group (one clause), or None when it can.

        The default reads :attr:`stacks`; a component that stacks only under
        some options overrides this (an architecture with dropout, say).
        """
        return None if self.stacks else "it does not declare stacks = True"

    @classmethod
    def summary(cls) -> str:
        """The first line of the class docstring: what ``gan plugins`` shows."""
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    def provides(self) -> frozenset[str]:
        """Capabilities this instance offers to the rest of the combination."""
        return self.provided

    def check(self, combo: Combination) -> None:
        """Refuse a combination with a :class:`~gan_core.errors.GanError`.

        For conflicts that ``requires``/``provides`` cannot express; the
        default accepts everything.
        """

    def describe(self) -> dict[str, Any]:
        """What this component holds or learned, for ``gan inspect`` (name: JSON-able value)."""
        return {}


# --------------------------------------------------------------------------- data


@dataclass
class ImageData:
    """A whole dataset as one tensor, so batches are index lookups, not Python loops."""

    images: torch.Tensor  # uint8, (N, C, H, W)
    labels: torch.Tensor | None  # int64, (N,), or None for unlabelled data
    num_classes: int | None
    source: str  # where the data was read from, for run.json and messages

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device: torch.device) -> ImageData:
        labels = None if self.labels is None else self.labels.to(device)
        return ImageData(self.images.to(device), labels, self.num_classes, self.source)


@dataclass(frozen=True)
class DataRequest:
    """Where and how a dataset should be read."""

    split: Literal["train", "test"] = "train"
    data_dir: Path | None = None  # --data-dir, searched before anything else
    allow_download: bool = True


class Dataset(Component):
    """A source of uint8 images of one shape (and, if it has them, labels)."""

    kind = "dataset"

    def __init__(self, options: Any) -> None:
        self.options = options

    def load(self, request: DataRequest) -> ImageData:
        raise NotImplementedError


# --------------------------------------------------------------------------- priors


class Latent(NamedTuple):
    """A batch of latent codes and, for conditional priors, the label each stands for."""

    z: torch.Tensor
    labels: torch.Tensor | None = None


class Prior(Component, _Module):
    """Samples latent codes; learnable parameters train with the generator."""

    kind = "prior"
    __new__ = _new_torch_module
    #: number of components ``gan sample --class k`` can pick from (None: not a mixture)
    num_components: int | None = None
    #: latent size when the user gives no --latent-dim
    default_latent_dim: ClassVar[int] = 100
    #: multiplies the spread around each mode when sampling (``gan sample --sigma-scale``):
    #: below 1 trades diversity for fidelity. Always 1 during training.
    spread: float = 1.0
    #: whether ``sample`` honours ``spread``; ``--sigma-scale`` is refused for priors that do not
    supports_spread: ClassVar[bool] = False

    def __init__(self, options: Any, latent_dim: int | None = None) -> None:
        import torch
        from torch import nn

        nn.Module.__init__(self)
        self.options = options
        self.latent_dim = self.default_latent_dim if latent_dim is None else latent_dim
        # An empty buffer that follows .to(device), so sample() knows its device.
        self.register_buffer("_anchor", torch.empty(0), persistent=False)

    @property
    def code_dim(self) -> int:
        """Size of the codes handed to the generator (may differ from latent_dim)."""
        return self.latent_dim

    @property
    def device(self) -> torch.device:
        return self._anchor.device

    def sample(self, n: int, *, component: int | None = None) -> Latent:
        raise NotImplementedError


# --------------------------------------------------------------------------- networks


class Discriminator(_Module):
    """D(x) = head(features(x)) with ``head`` an ``nn.Linear``.

    Keeping the last linear layer separate is the contract that lets a loss
    reshape it (SAN splits it into a direction and a scale) whatever the
    architecture plugin that built the rest.
    """

    __new__ = _new_torch_module
    head: nn.Module
    #: whether batches may be concatenated into one forward pass. None (the
    #: default): the core decides, False when D normalises over the batch
    #: (any BatchNorm layer), since real and fake statistics would mix.
    #: Setting True on a D with BatchNorm is refused when the networks are built.
    joint_batches: bool | None = None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def discriminate(d: Discriminator, *images: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """D's outputs for several batches, in one forward pass when D allows it.

    One pass over the concatenated batches runs larger matrix products, which
    is markedly faster on CPUs, and gives the same result for a D without
    batch statistics.
    """
    if len(images) == 1 or not joins_batches(d):
        return tuple(d(x) for x in images)
    import torch

    outputs = d(torch.cat(images))
    return tuple(outputs.split([len(x) for x in images]))


def normalises_over_batch(module: nn.Module) -> bool:
    """Whether ``module`` holds a layer whose output depends on the rest of the batch (BatchNorm)."""
    from torch import nn

    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def joins_batches(d: nn.Module) -> bool:
    """Whether ``discriminate`` may score several batches of ``d`` in one pass."""
    joint = getattr(d, "joint_batches", None)
    if joint is None:
        joint = not normalises_over_batch(d)
        try:
            d.joint_batches = joint  # decided once per instance
        except AttributeError:
            pass
    return bool(joint)


@dataclass(frozen=True)
class NetworkSpec:
    image_shape: tuple[int, int, int]  # (C, H, W)
    latent_dim: int  # size of the generator's input code
    d_outputs: int = 1  # width of the discriminator's head


@dataclass
class Networks:
    generator: nn.Module  # code (B, latent_dim) -> images (B, C, H, W) in [-1, 1]
    discriminator: Discriminator


#: capability of an architecture that can build an encoder (see :meth:`Architecture.build_encoder`)
ENCODER = "encoder"


class Architecture(Component):
    """Builds the generator and discriminator for a data shape and latent size.

    An architecture that can also build an encoder E (images to codes) lists
    ``ENCODER`` in ``provided``; losses that need one declare it in
    ``requires``, so a combination without it is refused before training.
    """

    kind = "architecture"

    def __init__(self, options: Any) -> None:
        self.options = options

    def build(self, spec: NetworkSpec) -> Networks:
        raise NotImplementedError

    def build_encoder(self, spec: NetworkSpec, outputs: int) -> nn.Module:
        """E: images (B, C, H, W) in [-1, 1] -> (B, outputs), in this architecture's style."""
        from .errors import GanError

        raise GanError(f"architecture '{self.name}' builds no encoder; use one that 'gan plugins show' lists as providing one")


# --------------------------------------------------------------------------- losses


class Batch(NamedTuple):
    """Images with their labels (real data) or, for fakes, the labels and codes they came from."""

    images: torch.Tensor
    labels: torch.Tensor | None = None
    z: torch.Tensor | None = None  # the generator's input codes (fakes only): losses that invert G need them


@dataclass(frozen=True)
class TrainingDefaults:
    """What a loss needs by default; explicit CLI values override each field."""

    optimizer: Literal["adam", "rmsprop"] = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1


class Loss(Component):
    """The discriminator and generator objectives of one adversarial method."""

    kind = "loss"

    def __init__(self, options: Any) -> None:
        self.options = options

    def defaults(self) -> TrainingDefaults:
        return TrainingDefaults()

    def discriminator_outputs(self, prior: Prior) -> int:
        """Width of D's head this loss needs (K+1 for a K-class loss, say)."""
        return 1

    def prepare_discriminator(self, discriminator: Discriminator) -> Discriminator:
        """Adapt D once after it is built (a loss may replace ``head``)."""
        return discriminator

    def build_modules(self, architecture: Architecture, spec: NetworkSpec, prior: Prior) -> nn.Module | None:
        """Extra networks this loss trains alongside G, with G's optimiser (ClusterGAN's encoder).

        The loss keeps a reference to what it returns and uses it in its
        objectives; the core moves it to the device, trains it, and saves it
        in the run under ``loss.``. The default: none.
        """
        return None

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        """Scalar to minimise w.r.t. D's parameters; ``fake.images`` are detached."""
        raise NotImplementedError

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch) -> torch.Tensor:
        """Scalar to minimise w.r.t. G's (and the prior's) parameters.

        ``real`` is the last real batch D saw in this step (relativistic
        losses compare against it). The core passes it by keyword, to an
        implementation that has a parameter named ``real`` (or ``**kwargs``);
        one written for gan-core 0.1, ``g_loss(self, d, fake)``, is called
        without it.
        """
        raise NotImplementedError

    def generator_loss(self, d: Discriminator, fake: Batch, real: Batch) -> torch.Tensor:
        """Call :meth:`g_loss` with ``real`` if it takes it: how the core and wrapping losses call it.

        The core always passes the real batch; a wrapper passes on what it was given.
        """
        if _takes_real(type(self).g_loss):
            return self.g_loss(d, fake, real=real)
        from .deprecation import deprecated

        deprecated(f"loss '{self.name}': g_loss(self, d, fake) without the real batch (gan-core 0.1's form)",
                   "declare g_loss(self, d, fake, real)", key=f"g_loss:{type(self).__qualname__}")
        return self.g_loss(d, fake)  # type: ignore[call-arg]  # gan-core 0.1's two-argument form

    def after_d_step(self, d: Discriminator) -> None:
        """Called after every optimiser step of D (weight clipping goes here)."""

    def critic_steps(self, step: int) -> int | None:
        """D steps before generator step ``step`` (counted from 0), when the loss wants more than ``--d-steps``.

        None (the default) keeps the schedule's ``--d-steps``. The extra D
        steps draw random real batches, so epochs and data order stay as
        they are (WGAN's warm-up: 100 critic steps early on).
        """
        return None

    def realness(self, outputs: torch.Tensor) -> torch.Tensor:
        """One score per image from D's outputs, higher for images D finds more real.

        Post-hoc samplers calibrate and rank by it. The default reads a
        one-output head; losses with wider heads say how to collapse them.
        """
        return outputs[:, 0]


# --------------------------------------------------------------------------- samplers


@dataclass
class TrainedModel:
    """The parts of a run a sampler or metric may use, in eval mode on one device."""

    generator: nn.Module
    discriminator: Discriminator
    prior: Prior
    loss: Loss
    device: torch.device
    #: (C, H, W) of the generated images; None when unknown (a model built by hand)
    image_shape: tuple[int, int, int] | None = None

    def generate(self, n: int, *, component: int | None = None) -> Batch:
        """``n`` images from the prior (one component of it if given), with their labels and codes."""
        import torch

        from .checks import checked_latent

        with torch.no_grad():
            latent = checked_latent(self.prior, self.prior.sample(n, component=component), n, self.prior.code_dim)
            return Batch(self.generator(latent.z), latent.labels, latent.z)

    def score(self, images: torch.Tensor) -> torch.Tensor:
        """D's realness score of each image (differentiable: latent ascent follows its gradient)."""
        from .checks import checked_scores

        return checked_scores(self.loss, self.loss.realness(self.discriminator(images)), images.shape[0])


class SampleResult(NamedTuple):
    images: torch.Tensor  # float in [-1, 1], (n, C, H, W)
    labels: torch.Tensor | None
    proposals: int  # how many candidates were drawn to accept ``n``


class Sampler(Component, _Module):
    """Turns a trained generator into images, possibly rejecting or moving samples.

    State learned by :meth:`fit` lives in the module's parameters and buffers
    and is saved in the run's weights under ``sampler.<name>.``.
    """

    kind = "sampler"
    __new__ = _new_torch_module
    #: whether :meth:`fit` must run once on a trained model before sampling; read on the
    #: instance, so a sampler may decide from its options (set it in ``__init__``)
    needs_fit: bool = False
    #: share of the training images to keep away from D when this is the run's ``--sampler``,
    #: so that :meth:`fit` calibrates on images D never saw (0: fit on the training images)
    holdout: float = 0.0

    def __init__(self, options: Any) -> None:
        from torch import nn

        nn.Module.__init__(self)
        self.options = options

    def fit(self, model: TrainedModel, data: ImageData, progress: Progress | None = None) -> None:
        """Learn what sampling needs from the model and real data (default: nothing).

        ``data`` is the run's hold-out slice (images D never trained on) when the
        run kept one, else its training images; never the evaluation reference.
        """

    def sample(
        self,
        model: TrainedModel,
        n: int,
        *,
        component: int | None = None,
        max_proposals: int | None = None,
    ) -> SampleResult:
        raise NotImplementedError


@dataclass
class FeatureSet:
    """Images seen through the evaluation network: features and class probabilities."""

    features: torch.Tensor  # float32 (N, D), the feature network's penultimate layer
    probs: torch.Tensor | None  # float32 (N, K) class probabilities, None when the network has no classes
    #: the images themselves, uint8 (N, C, H, W) on the CPU: always for generated images, for the
    #: real reference only when a chosen metric sets ``needs_images``
    images: torch.Tensor | None = None
    _knn: torch.Tensor | None = field(default=None, repr=False)
    _cross: dict[int, torch.Tensor] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return self.features.shape[0]

    def radii(self, k: int) -> torch.Tensor:
        """Each point's distance to its k-th nearest neighbour; one neighbour search serves every k <= 10."""
        from .evaluation.neighbours import nearest_squared_distances

        if self._knn is None or self._knn.shape[1] <= k:
            self._knn = nearest_squared_distances(self.features, max(k, 10))
        return self._knn[:, k].sqrt()

    def distances_to(self, other: FeatureSet) -> torch.Tensor | None:
        """Squared distances from each of these points to each of ``other``'s, kept for reuse.

        Precision, recall, density and coverage all read this matrix; it is
        kept only while it fits in about 800 MB, otherwise each metric
        streams it in blocks.
        """
        from .evaluation.neighbours import squared_distances

        if len(self) * len(other) > 2e8:
            return None
        if id(other) not in self._cross:
            self._cross[id(other)] = squared_distances(self.features, other.features)
        return self._cross[id(other)]


class Metric(Component):
    """Compares generated images with real ones in the evaluation network's feature space.

    ``compute`` returns named values; the one under :attr:`headline` (the
    metric's own name unless it says otherwise) is its headline value, what
    ``--keep-best`` and ``gan compare`` rank by; the others are details shown
    beside it. Options come from ``-o metric.KEY=VALUE``.
    """

    kind = "metric"
    higher_is_better: ClassVar[bool] = False
    #: whether the metric needs class probabilities (left out of the default set, and
    #: refused when named, for feature networks without classes)
    needs_classes: ClassVar[bool] = False
    #: whether the metric reads ``real.images`` (the reference images are then loaded too)
    needs_images: ClassVar[bool] = False
    #: whether it is computed when no metric is named; a slow metric sets False and is computed only
    #: when named (``gan eval --metrics NAME``, ``gan train --keep-best NAME``)
    by_default: ClassVar[bool] = True

    def __init__(self, options: Any) -> None:
        self.options = options

    @property
    def headline(self) -> str:
        """The key of ``compute``'s result that is this metric's value (default: its name)."""
        return self.name

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        """Named values from the real and generated feature sets (``.features``, ``.probs``, ``.images``)."""
        raise NotImplementedError


# --------------------------------------------------------------------------- combinations


@dataclass
class Combination:
    """The parts chosen for one run, as seen by :meth:`Component.check`."""

    prior: Prior
    loss: Loss
    architecture: Architecture
    dataset: Dataset
    data: ImageData

    def parts(self) -> list[Component]:
        return [self.dataset, self.prior, self.architecture, self.loss]


#: each kind's contract class, named in the kinds table (gan_core.kinds)
COMPONENT_BASES: dict[str, type[Component]] = {k.name: globals()[k.contract] for k in KINDS}


@functools.lru_cache(maxsize=None)
def _takes_real(g_loss: Callable[..., Any]) -> bool:
    """Whether a ``g_loss`` implementation takes the real batch by keyword (0.1-era ones do not).

    Only the name counts: a 0.1 loss with an extra defaulted parameter
    (``g_loss(self, d, fake, weight=1.0)``) must not receive a batch as its weight.
    """
    try:
        params = inspect.signature(g_loss).parameters
    except (TypeError, ValueError):
        return False
    real = params.get("real")
    if real is not None:
        return real.kind is not real.POSITIONAL_ONLY
    return any(p.kind is p.VAR_KEYWORD for p in params.values())


#: the contracts that are torch modules, defined with a stand-in base until torch is needed
TORCH_MODULES: tuple[type, ...] = (Prior, Discriminator, Sampler)
_attached = False


def attach_torch() -> None:
    """Give :data:`TORCH_MODULES` their real base, ``torch.nn.Module``, in place of the stand-in.

    Python recomputes the method resolution order of every subclass already
    defined, which comes out as if the contract had named ``nn.Module`` from
    the start. Called for every instance of any of them (the first does the
    work), and on import when torch is already loaded.
    """
    global _attached
    if _attached:
        return
    from torch import nn

    for cls in TORCH_MODULES:
        if _Module in cls.__bases__:
            try:
                cls.__bases__ = tuple(nn.Module if base is _Module else base for base in cls.__bases__)
            except TypeError as exc:  # a subclass listing nn.Module before the contract: no consistent order
                raise TypeError(f"gan_core.{cls.__name__} cannot become a torch module ({exc}); a subclass that names "
                                f"both must list {cls.__name__} before nn.Module") from exc
    _attached = True


if "torch" in sys.modules:  # torch is loaded anyway: be a torch module from the start
    attach_torch()
