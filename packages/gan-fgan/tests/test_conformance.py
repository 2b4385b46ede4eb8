"""gan-fgan's components pass gan-core's conformance kit, as any third-party plugin must."""

import gan_fgan
from gan_core.testing import conformance_suite

test_conformance = conformance_suite(gan_fgan)
