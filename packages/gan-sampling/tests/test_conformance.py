"""gan-sampling's samplers pass gan-core's conformance kit, as any third-party plugin must.

The fits are shortened (fewer calibration images, a few weight-network
steps): the kit checks the contract, not the quality of the fit.
"""

import gan_sampling
from gan_core.testing import conformance_suite

SHORT = {
    "drs": {"burn_in": 100, "calibration": 100},
    "mh": {"calibration": 100, "chain_length": 3},
    "latent-rs": {"steps": 5, "batch_size": 32, "real_images": 100},
    "latent-ga": {"steps": 2},
}

test_conformance = conformance_suite(gan_sampling, options=SHORT)
