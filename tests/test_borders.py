"""Plain borders: where the picture inside a frame or bars is."""

from __future__ import annotations

import numpy as np
import pytest

from ikmeta.image.borders import centred, inner_box


def picture(height: int = 80, width: int = 120, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(60, 200, (height, width))


@pytest.mark.parametrize(
    ("pad", "value"), [((10, 10, 10, 10), 255), ((0, 12, 0, 12), 0), ((15, 0, 15, 0), 0), ((5, 6, 6, 4), 250)]
)
def test_the_box_inside_a_border(pad, value):
    left, top, right, bottom = pad
    framed = np.pad(picture(), ((top, bottom), (left, right)), constant_values=value)
    assert inner_box(framed) == (left, top, left + 120, top + 80)


def test_noise_in_the_border_and_ringing_at_its_edge_do_not_count():
    framed = np.pad(picture(), 10, constant_values=255).astype(np.float64)
    framed += np.random.default_rng(1).normal(0, 4, framed.shape)  # JPEG-like noise
    framed[3, 40:43] = 0  # a speck of dust in the frame
    assert inner_box(framed) == (10, 10, 130, 90)


@pytest.mark.parametrize(
    "grey",
    [
        picture(),  # no border
        np.pad(picture(), 1, constant_values=255),  # a hairline: under 3% of a side
        np.full((50, 50), 128),  # flat: nothing inside
        np.pad(picture(10, 10), 40, constant_values=255),  # a speck in a blank page: too small
        np.vstack([np.full((20, 120), 255), picture(), np.full((20, 120), 0)]),  # corners differ
        np.pad(picture(8, 8), 2, constant_values=0),  # too small to judge
    ],
)
def test_no_box_where_there_is_no_plain_border(grey):
    assert inner_box(grey) is None


@pytest.mark.parametrize(
    ("pad", "even"),
    [
        ((10, 10, 10, 10), True),
        ((0, 12, 0, 12), True),
        ((5, 6, 6, 4), True),
        ((6, 4, 6, 30), False),
        ((3, 10, 25, 10), False),
    ],
)
def test_a_border_is_centred_when_opposite_sides_match(pad, even):
    """Uneven margins (a diagram on white, a print's wider foot) are still a border to look
    inside, but not a centred one."""
    left, top, right, bottom = pad
    framed = np.pad(picture(), ((top, bottom), (left, right)), constant_values=255)
    box = inner_box(framed)
    assert box == (left, top, left + 120, top + 80)
    assert centred(box, *framed.shape[::-1]) is even
