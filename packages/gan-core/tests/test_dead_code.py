"""Names removed as unused stay removed: nothing in the repository read them, and a second copy of a list drifts."""

import pytest

from gan_core import cli, config


@pytest.mark.parametrize(("module", "name"), [(cli, "Device"), (config, "COMPONENT_FIELDS")])
def test_unused_names_are_gone(module, name):
    # --device is a plain string checked by resolve_device; the kinds and their prefixes live in
    # config.KINDS and options.OPTION_PREFIXES
    assert not hasattr(module, name)
