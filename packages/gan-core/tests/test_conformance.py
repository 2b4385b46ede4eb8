"""gan-core's own components pass the conformance kit it offers to plugins (the core eats its own API)."""

from gan_core.testing import conformance_suite

test_conformance = conformance_suite("gan-core")
