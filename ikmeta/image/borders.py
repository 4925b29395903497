"""Plain borders: a frame, letterbox or pillarbox bars around a picture, found so that a framed
copy can be hashed without its frame.

    >>> inner_box(np.pad(np.random.default_rng(0).integers(0, 255, (80, 100)), 10, constant_values=255))
    (10, 10, 110, 90)

A border is what lies between an edge and the first row (or column) with more than
:data:`CONTENT_SHARE` of its pixels away from the border's colour (the colour of all four
corners), on a grey sample of the picture. A picture whose corners differ (a sky above a
field) has no border; one whose trimmed part would be small is left whole. A border whose
opposite sides are as wide as each other (within :data:`UNEVEN`: a frame, a mat, bars) is
:func:`centred`; uneven margins may be the picture's own (a diagram or a product shot on
white) or a frame with a wider foot (a print's), so they are not taken to shrink the picture.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 24  # grey levels from the corners' colour that still count as border
CONTENT_SHARE = 0.04  # a row holding more than this share of other pixels is picture
MIN_BORDER = 0.03  # trim only when some side loses at least this share of the picture
MIN_INNER = 0.3  # ... and what is left is at least this share of its area
UNEVEN = 0.25  # opposite sides of a border differ by at most this share of the wider (or 2 pixels)


def inner_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the picture inside a plain border of a 2-D grey array, or
    None when it has no border worth trimming."""
    height, width = grey.shape
    if height < 16 or width < 16:
        return None
    corners = np.array([grey[0, 0], grey[0, -1], grey[-1, 0], grey[-1, -1]], dtype=np.float64)
    if corners.max() - corners.min() > TOLERANCE:
        return None
    away = np.abs(grey.astype(np.float64) - corners.mean()) > TOLERANCE
    rows = np.flatnonzero(away.mean(axis=1) > CONTENT_SHARE)
    columns = np.flatnonzero(away.mean(axis=0) > CONTENT_SHARE)
    if len(rows) == 0 or len(columns) == 0:
        return None  # all border: a flat picture
    left, top, right, bottom = int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1
    trimmed = max(left / width, top / height, (width - right) / width, (height - bottom) / height)
    if trimmed < MIN_BORDER or (right - left) * (bottom - top) < MIN_INNER * width * height:
        return None
    return left, top, right, bottom


def centred(box: tuple[int, int, int, int], width: int, height: int) -> bool:
    """Whether the border around ``box`` in a ``width`` x ``height`` picture has opposite sides
    about as wide as each other (a frame, a mat or bars added around a picture).

    >>> centred((10, 10, 90, 90), 100, 100), centred((5, 10, 60, 90), 100, 100)
    (True, False)
    """
    left, top, right, bottom = box
    return _even(left, width - right) and _even(top, height - bottom)


def _even(one: int, other: int) -> bool:
    return abs(one - other) <= max(2, UNEVEN * max(one, other))
