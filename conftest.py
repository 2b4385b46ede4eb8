"""Test-wide settings: real MNIST from ../shared, an empty cache, never the network.

Set at import time (not in a fixture) so session fixtures and the subprocesses
that tests start see the same environment.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
DATA_ROOT = (REPO.parent / "shared" / "data").resolve()
MNIST_DIR = DATA_ROOT / "mnist"

if MNIST_DIR.is_dir():
    os.environ.setdefault("GAN_DATA_DIR", str(DATA_ROOT))
os.environ["GAN_NO_DOWNLOAD"] = "1"
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="gan-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)  # leave no cache behind


@pytest.fixture
def mnist_dir() -> Path:
    if not MNIST_DIR.is_dir():
        pytest.skip(f"MNIST files are expected in {MNIST_DIR}")
    return MNIST_DIR
