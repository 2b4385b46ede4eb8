"""``gan plugin new``: a plugin package skeleton that installs, registers and passes its own tests.

The fastest way to learn the plugin contract is a package that already
fulfils it, so each kind gets a small but real component (a Laplace prior,
a relativistic least-squares loss, a one-hidden-layer architecture, a top-k
sampler, a feature-mean metric, a synthetic dataset) rather than stubs that
raise NotImplementedError. The prior, loss and architecture stack
(``stacks = True``: ``gan train --seeds N`` trains their runs as one model;
randomness through ``gan_core.rng``), so the conformance kit's "stacked
equals separate" check runs on them too. The files come from the plain
string templates below, filled in with :class:`string.Template` (``$name``
placeholders, so the Python code in them keeps its own braces).

Everything is written into a hidden staging folder beside the target and
renamed into place at the end: a failure leaves nothing on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from .errors import GanError

#: a plugin name: lower case, starting with a letter, single hyphens between parts. Stricter than a
#: component name because it is also a distribution name (gan-NAME) and a module name (gan_NAME).
PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class _Kind:
    """What a skeleton of one kind holds; its class suffix, hook and option prefix come from gan_core.kinds."""

    summary: str  # the class docstring's first line, reused in pyproject and README
    usage: str  # README: the gan command that uses the component
    imports: str
    code: str


# --------------------------------------------------------------------------- the components

_PRIOR = _Kind(
    summary="z ~ Laplace(0, scale) in every coordinate: heavier tails than the normal prior.",
    usage="gan train --prior $name -o prior.scale=0.5",
    imports="""\
from dataclasses import dataclass

import torch
from gan_core import Latent, Prior, hookimpl, option, rng
""",
    code='''\
@dataclass(frozen=True)
class $options:
    scale: float = option(1.0, "scale b of every latent coordinate (its std is b * sqrt(2))", min=0.0, max=100.0)


class $cls(Prior):
    """$summary

    The constructor is Prior's: ``Cls(options, latent_dim)``. Setting
    ``supports_spread`` lets ``gan sample --sigma-scale`` pull codes towards 0
    (fidelity over diversity); during training ``self.spread`` is always 1.

    ``stacks`` lets ``gan train --seeds N`` train N runs of it as one stacked
    model: ``sample`` draws only through ``gan_core.rng`` and reads no tensor
    on the host (the rules: gan's docs/plugins.md, "Stacked training"). The
    runs of one group may each have their own ``scale`` (``member_options``);
    during a stacked step it is a 0-d tensor, which the arithmetic below takes
    as it takes a float.
    """

    name = "$name"
    Options = $options
    supports_spread = True
    stacks = True
    member_options = ("scale",)

    def sample(self, n: int, *, component: int | None = None) -> Latent:
        # Inverse CDF of the Laplace distribution. u stays in (-1, 1), so log1p never sees -1. rng.uniform is
        # torch.rand on self.device: alone it draws from torch's global RNG, which gan seeds, and in a stacked
        # group from each run's own generator, so runs repeat exactly either way.
        eps = torch.finfo(torch.float32).eps
        u = rng.uniform(n, self.latent_dim, device=self.device) * (2 - eps) + (eps - 1)
        scale = self.options.scale * self.spread
        return Latent(-scale * torch.sign(u) * torch.log1p(-u.abs()))
''',
)

_LOSS = _Kind(
    summary="Relativistic average least-squares GAN (Jolicoeur-Martineau 2018).",
    usage="gan train --loss $name -o loss.margin=1.0",
    imports="""\
from dataclasses import dataclass

import torch
from gan_core import Batch, Discriminator, Loss, discriminate, hookimpl, option
""",
    code='''\
@dataclass(frozen=True)
class $options:
    margin: float = option(1.0, "how far D should score real images above the average fake one", min=0.0, max=10.0)


class $cls(Loss):
    """$summary

    D learns how much more real a real image looks than the average fake one,
    and G learns to reverse that gap. G's objective reads real images too,
    which is why ``g_loss`` takes the real batch gan passes it.

    ``stacks`` lets ``gan train --seeds N`` train N runs of it as one stacked
    model: its objectives draw nothing, read no tensor on the host and
    average only over their own batch (the rules: gan's docs/plugins.md,
    "Stacked training"). The runs of one group may each have their own
    ``margin`` (``member_options``), read from ``self.options`` in each step.
    """

    name = "$name"
    Options = $options
    stacks = True
    member_options = ("margin",)

    def d_loss(self, d: Discriminator, real: Batch, fake: Batch) -> torch.Tensor:
        # discriminate() scores both batches in one forward pass when D allows it (no BatchNorm).
        r, f = discriminate(d, real.images, fake.images)
        return self._gap(r, f)

    def g_loss(self, d: Discriminator, fake: Batch, real: Batch) -> torch.Tensor:
        r, f = discriminate(d, real.images, fake.images)
        return self._gap(f, r)

    def _gap(self, up: torch.Tensor, down: torch.Tensor) -> torch.Tensor:
        """Pull ``up`` to ``margin`` above the mean of ``down``, and ``down`` to ``margin`` below the mean of ``up``."""
        m = self.options.margin
        return 0.5 * ((up - down.mean() - m).square().mean() + (down - up.mean() + m).square().mean())
''',
)

_ARCHITECTURE = _Kind(
    summary="Fully connected G and D with one hidden layer each: small and quick to train.",
    usage="gan train --arch $name -o arch.hidden=512",
    imports="""\
import math
from dataclasses import dataclass

import torch
from gan_core import Architecture, Discriminator, Networks, NetworkSpec, hookimpl, option
from torch import nn
""",
    code='''\
@dataclass(frozen=True)
class $options:
    hidden: int = option(256, "width of the hidden layer of G and of D", min=1, max=8192)


class ${camel}Generator(nn.Module):
    """Codes (B, latent_dim) -> images (B, C, H, W) in [-1, 1]: the tanh keeps them in range."""

    def __init__(self, latent_dim: int, image_shape: tuple[int, int, int], hidden: int) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, math.prod(image_shape)), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.image_shape)


class ${camel}Discriminator(Discriminator):
    """features(x) is the hidden layer; ``head`` is the last nn.Linear, kept apart so losses (SAN) can replace it."""

    def __init__(self, image_shape: tuple[int, int, int], outputs: int, hidden: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(image_shape), hidden), nn.LeakyReLU(0.2))
        self.head = nn.Linear(hidden, outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class $cls(Architecture):
    """$summary

    ``spec.d_outputs`` is the head width the loss asked for (1 for most).
    ``stacks`` lets ``gan train --seeds N`` train N runs of it as one stacked
    model: its networks draw nothing while training (no dropout, which would
    draw from torch's global RNG; see gan's docs/plugins.md, "Stacked
    training").
    """

    name = "$name"
    Options = $options
    stacks = True

    def build(self, spec: NetworkSpec) -> Networks:
        hidden = self.options.hidden
        return Networks(
            generator=${camel}Generator(spec.latent_dim, spec.image_shape, hidden),
            discriminator=${camel}Discriminator(spec.image_shape, spec.d_outputs, hidden),
        )
''',
)

_SAMPLER = _Kind(
    summary="Keep the images D finds most real among factor x n generated candidates.",
    usage="gan sample RUN --sampler $name -o sampler.factor=4 --out samples/",
    imports="""\
import math
from dataclasses import dataclass

import torch
from gan_core import GanError, Sampler, SampleResult, TrainedModel, hookimpl, option
""",
    code='''\
@dataclass(frozen=True)
class $options:
    factor: float = option(4.0, "candidates drawn per image kept (1: keep everything)", min=1.0, max=100.0)


class $cls(Sampler):
    """$summary

    A deterministic cousin of discriminator rejection sampling: no
    calibration, so nothing to fit (``needs_fit`` stays False), and it always
    returns exactly n images.
    """

    name = "$name"
    Options = $options

    @torch.no_grad()
    def sample(self, model: TrainedModel, n: int, *, component: int | None = None,
               max_proposals: int | None = None) -> SampleResult:
        drawn = math.ceil(n * self.options.factor)
        if max_proposals is not None:
            drawn = min(drawn, max_proposals)
        if drawn < n:
            raise GanError(f"sampler '{self.name}' may draw only {max_proposals} candidates for {n} images; "
                           "raise --max-proposals")
        batch = model.generate(drawn, component=component)
        best = model.score(batch.images).topk(n).indices
        labels = None if batch.labels is None else batch.labels[best]
        return SampleResult(batch.images[best], labels, proposals=drawn)
''',
)

_METRIC = _Kind(
    summary="Distance between the mean real and the mean generated feature vector (lower is better).",
    usage="gan eval RUN --metrics $name,fid",
    imports="""\
from dataclasses import dataclass

import torch
from gan_core import FeatureSet, Metric, hookimpl, option
""",
    code='''\
@dataclass(frozen=True)
class $options:
    p: float = option(2.0, "which p-norm measures the distance (2: Euclidean, 1: Manhattan)", min=1.0, max=100.0)


class $cls(Metric):
    """$summary

    The first-moment half of FID: cheap and stable with few images, blind to
    a wrong spread. ``real`` and ``fake`` are gan_core.FeatureSet objects:
    ``.features`` (N, D), ``.probs`` (N, K) or None, ``.images`` (uint8; for
    the real set only when a metric sets ``needs_images = True``).
    """

    name = "$name"
    Options = $options
    higher_is_better = False

    def compute(self, real: FeatureSet, fake: FeatureSet) -> dict[str, float]:
        # float64: the mean of thousands of float32 features loses digits otherwise
        gap = real.features.double().mean(0) - fake.features.double().mean(0)
        return {self.name: float(torch.linalg.vector_norm(gap, ord=self.options.p))}
''',
)

_DATASET = _Kind(
    summary="Synthetic 28x28 images of horizontal bars, vertical bars and squares, labelled by shape.",
    usage="gan train --dataset $name -o dataset.count=6000",
    imports="""\
from dataclasses import dataclass

import torch
from gan_core import DataRequest, Dataset, ImageData, hookimpl, option
""",
    code='''\
SIDE = 28
CLASSES = ("horizontal bar", "vertical bar", "square")


@dataclass(frozen=True)
class $options:
    count: int = option(6000, "images in each split", min=1, max=1_000_000)


class $cls(Dataset):
    """$summary

    Drawn procedurally from a seeded torch.Generator, so it needs no files
    and every load gives the same images; the test split uses another seed.
    """

    name = "$name"
    Options = $options

    def load(self, request: DataRequest) -> ImageData:
        n, seed = self.options.count, 0 if request.split == "train" else 1
        g = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, len(CLASSES), (n,), generator=g)
        width = torch.where(labels == 2, 10, 4)  # squares are 10 pixels wide, bars 4
        top = (torch.rand(n, generator=g) * (SIDE - width + 1)).long()
        left = (torch.rand(n, generator=g) * (SIDE - width + 1)).long()
        pixels = torch.arange(SIDE)
        rows = (pixels >= top[:, None]) & (pixels < (top + width)[:, None])  # (n, SIDE): the band of rows
        cols = (pixels >= left[:, None]) & (pixels < (left + width)[:, None])
        rows |= (labels == 1)[:, None]  # a vertical bar spans every row
        cols |= (labels == 0)[:, None]  # a horizontal bar spans every column
        images = (rows[:, :, None] & cols[:, None, :]).to(torch.uint8) * 255
        return ImageData(images.unsqueeze(1), labels, len(CLASSES), f"synthetic shapes ({request.split}, seed {seed})")
''',
)

#: a skeleton per kind of gan_core.kinds (a test checks that every kind has one)
TEMPLATES: dict[str, _Kind] = {
    "prior": _PRIOR,
    "loss": _LOSS,
    "architecture": _ARCHITECTURE,
    "sampler": _SAMPLER,
    "metric": _METRIC,
    "dataset": _DATASET,
}


# --------------------------------------------------------------------------- the package around it

_MODULE = '''\
"""gan-$name: $summary

A gan plugin with one $kind, '$name', started with ``gan plugin new``. gan
finds this module through the ``gan`` entry point in pyproject.toml and
calls its ``$hook`` hook.

gan imports this module on every command, so it only defines classes:
anything costly happens inside methods. Import gan's API from ``gan_core``
itself; its submodules are internal and may change in any release.
"""

from __future__ import annotations

$imports
#: the plugin API versions this plugin works with; gan refuses to load it, with a reason, outside them
GAN_PLUGIN_API = ">=1.1,<2"  # 1.1: stacked training (stacks, gan_core.rng)


$code

@hookimpl
def $hook(register) -> None:
    register($cls)
'''

_TEST = '''\
"""$module's tests: gan's conformance checks, and that ``gan plugins`` lists it.

Both work whether or not the package is pip-installed: the kit registers the
module for the duration of each test when gan has not loaded it already.
"""

from gan_core.testing import conformance_suite, plugin_registered, run_cli

import $module

#: one pytest test per contract check of every component $module registers, combined with
#: the installed components of the other kinds (ids like $kind:$name:...)
test_conformance = conformance_suite($module)


def test_gan_plugins_lists_it():
    with plugin_registered($module):
        result = run_cli(["plugins"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("plugins that failed to load")[0]  # not merely named in a failure
    assert "$name" in listed, result.output
'''

_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "gan-$name"
version = "0.1.0"
description = "$summary"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["gan-core>=0.2"]

[project.optional-dependencies]
test = ["pytest"]

# gan loads every module listed in this group; the key is the plugin's name in `gan plugins`.
[project.entry-points.gan]
$name = "$module"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.ruff]
line-length = 120  # as gan's own code
'''

_README = '''\
# gan-$name

A plugin for gan, the GAN workbench, that adds one $kind, `$name`:
$summary

## Install

```sh
pip install -e .
```

`gan plugins` then lists `$name` (kind $kind, package gan-$name).

## Test

```sh
pip install -e ".[test]"
pytest
```

`tests/test_conformance.py` runs gan's conformance checks
(`gan_core.testing.conformance_suite`): the component is built the way gan
builds it and checked against its contract, combined with every installed
component of the other kinds. A failure says what to fix.

## Use

```sh
$usage
```

`gan plugins show $name` lists its options; set them with `-o $prefix.KEY=VALUE`.
$extra
## Next

The code is in `src/$module/__init__.py`. gan's `docs/plugins.md` describes
every hook, the contract of each kind, and how to keep imports cheap.
'''

_EXTRA = {
    "sampler": "\nA run can also keep it as its default sampler: `gan train ... --sampler $name`.\n",
    "dataset": (
        "\n`gan eval` compares images in the feature space of a network named after the\n"
        "dataset; register one with the `register_feature_networks` hook, or pass\n"
        "`gan eval RUN --features NAME` with an installed one.\n"
    ),
}


# --------------------------------------------------------------------------- writing


def write_skeleton(name: str, kind: str, out: Path | None) -> Path:
    """Write the package ``gan-NAME`` for a ``kind`` component into ``out`` (default ./gan-NAME); return its path.

    Raises GanError, with nothing written, for a malformed or taken name or
    an existing non-empty folder.
    """
    from .kinds import kind as kind_named

    kind_named(kind)  # one sentence naming the kinds, for a typo
    if not PLUGIN_NAME.match(name):
        raise GanError(
            f"'{name}' cannot name a plugin: use lower-case letters and digits, starting with a letter, "
            f"with single hyphens between parts (e.g. '{_suggest(name)}')"
        )
    target = (Path(out) if out is not None else Path(f"gan-{name}")).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise GanError(f"{target} already exists and is not an empty folder; choose another --out or remove it")
    if not target.parent.is_dir():
        raise GanError(f"{target.parent} does not exist; create it first or choose another --out")
    _check_name_is_free(name, kind)
    _write_atomically(target, render(name, kind))
    return target


def render(name: str, kind: str) -> dict[str, str]:
    """The skeleton's files: relative path -> text."""
    from .kinds import kind as kind_named

    spec, table = TEMPLATES[kind], kind_named(kind)
    module = "gan_" + name.replace("-", "_")
    camel = "".join(part.capitalize() for part in name.split("-"))
    values = {
        "name": name,
        "kind": kind,
        "module": module,
        "camel": camel,
        # "my-loss" gives MyLoss, not MyLossLoss; "loss" gives LossLoss, not a class shadowing gan_core.Loss
        "cls": camel if camel.endswith(table.contract) and camel != table.contract else camel + table.contract,
        "options": f"{camel}Options",
        "hook": table.hook,
        "summary": spec.summary,
        "prefix": table.prefix,
    }

    def fill(template: str) -> str:
        return Template(template).substitute(values)

    values["usage"] = fill(spec.usage)
    values["extra"] = fill(_EXTRA.get(kind, ""))
    values["imports"] = spec.imports
    values["code"] = fill(spec.code)
    return {
        "pyproject.toml": fill(_PYPROJECT),
        "README.md": fill(_README),
        f"src/{module}/__init__.py": fill(_MODULE),
        "tests/test_conformance.py": fill(_TEST),
    }


def _suggest(name: str) -> str:
    """A valid name close to ``name``, for the error message."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    suggestion = "-".join(words).lstrip("0123456789-")
    return suggestion if PLUGIN_NAME.match(suggestion) else "my-plugin"


def _check_name_is_free(name: str, kind: str) -> None:
    """Refuse a name the generated plugin could never register under, before writing anything.

    A distribution gan-NAME that is installed already (gan-core itself for
    'core') would be replaced by the new package, and a component name taken
    in its kind makes gan refuse the whole plugin.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution(f"gan-{name}")
    except PackageNotFoundError:
        pass
    else:
        raise GanError(f"a package gan-{name} is installed already; choose another name (or pip uninstall gan-{name})")
    from .registry import get_registry

    for entry in get_registry().all(kind):
        if entry.name == name:
            raise GanError(f"{kind} '{name}' exists already (from {entry.package}); choose another name")


def _write_atomically(target: Path, files: dict[str, str]) -> None:
    """Write ``files`` under a staging folder beside ``target``, then rename it into place."""
    from .safefiles import staged_folder

    with staged_folder(target) as staging:  # target is absent or empty: checked before writing
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
