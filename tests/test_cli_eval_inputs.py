"""gan eval of a malformed .npz or a short file: one sentence naming the real problem, exit code 2, nothing written."""

from __future__ import annotations

import numpy as np
import pytest

from gan_core.evaluation.evaluate import read_npz
from gan_core.testing import run_cli


def refused(in_tmp, images, *fragments, absent=()):
    np.savez(in_tmp / "x.npz", images=images)
    result = run_cli(["eval", str(in_tmp / "x.npz"), "--device", "cpu"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for fragment in fragments:
        assert fragment in text, text
    for fragment in absent:
        assert fragment not in text, text
    assert "Traceback" not in result.output
    assert sorted(p.name for p in in_tmp.iterdir()) == ["x.npz"]
    return text


def test_unreadable_layout_names_the_shape_not_a_guess(in_tmp):
    refused(in_tmp, np.zeros((10, 28, 28, 2), np.uint8), "(10, 28, 28, 2)", "(N, H, W, C) or (N, C, H, W)",
            absent=("28-channel", "28x2"))


def test_ambiguous_layout_is_not_guessed(in_tmp):
    refused(in_tmp, np.zeros((10, 3, 5, 3), np.uint8), "(10, 3, 5, 3)", "either layout")


def test_nan_images_are_reported_as_nan(in_tmp):
    images = np.full((20, 28, 28), 0.5, np.float32)
    images[3, 4, 5] = np.nan
    refused(in_tmp, images, "contain NaN", absent=("not float32",))


def test_floats_out_of_range_say_their_range(in_tmp):
    refused(in_tmp, np.full((20, 28, 28), -1.0, np.float32), "[0, 1]", "from -1 to -1", absent=("not float32",))


def test_short_file_says_the_file_is_short(in_tmp):
    refused(in_tmp, np.zeros((5, 28, 28), np.uint8), "holds only 5 images", "at least 10", absent=("use --n",))


@pytest.mark.parametrize("shape, expected", [
    ((12, 28, 28), (12, 1, 28, 28)), ((12, 28, 28, 1), (12, 1, 28, 28)), ((12, 1, 28, 28), (12, 1, 28, 28)),
    ((12, 32, 32, 3), (12, 3, 32, 32)), ((12, 3, 32, 32), (12, 3, 32, 32)),
])
def test_unambiguous_layouts_still_read(tmp_path, shape, expected):
    np.savez(tmp_path / "x.npz", images=np.zeros(shape, np.float32))
    assert tuple(read_npz(tmp_path / "x.npz", 100).shape) == expected
