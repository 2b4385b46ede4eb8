"""The plugin API version: what a plugin written for this gan-core may rely on.

Semantic versioning of the *contract* (hooks, component base classes, what
the core passes and accepts), independent of gan-core's release number:

* a minor bump (1.0 -> 1.1) only adds: new optional methods, new hooks, new
  fields with defaults. A plugin written for 1.0 keeps working with 1.x.
* a major bump (1.x -> 2.0) may remove or change; plugins that declare
  ``GAN_PLUGIN_API = ">=1.0,<2"`` are then reported as incompatible by
  ``gan plugins`` instead of failing in the middle of a run.

API 1.0 is the contract gan-core 0.1 shipped, plus what 0.2 added: the real
batch in ``Loss.g_loss``, ``Loss.critic_steps``, complete metrics (options,
images, headline), the feature-network hook, per-instance
``needs_fit``/``requires``/``provides``, ``Prior.supports_spread``,
``Sampler.holdout``, ``option(legacy=)``, and the command-plugin functions.

API 1.1 adds stacked training: ``Component.stacks``, ``member_options`` and
``stack_refusal()`` (all defaulting to "does not stack", so a 1.0 component
trains one run at a time as before) and :mod:`gan_core.rng`, the draws a
stackable component makes.
"""

from __future__ import annotations

#: the version of the plugin contract this gan-core implements
PLUGIN_API_VERSION = "1.1"

#: the module attribute a plugin sets to the versions it supports (a PEP 440 specifier)
API_ATTRIBUTE = "GAN_PLUGIN_API"

#: the range assumed for a plugin that declares none: it was written for API 1 (or gan-core 0.1)
DEFAULT_RANGE = ">=1.0,<2"


def supports(specifier: str, version: str = PLUGIN_API_VERSION) -> bool:
    """Whether a plugin declaring ``specifier`` (e.g. ``">=1.0,<2"``) fits ``version``.

    Raises ValueError for a malformed specifier.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(specifier).contains(version)
    except InvalidSpecifier as exc:
        raise ValueError(f"{specifier!r} is not a version range like '>=1.0,<2'") from exc
