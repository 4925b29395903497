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


BAND_TEXT = 0.7  # a band's row with a caption's letters: at most this share off its colour
BAND_FLAT = 4.0  # a band's plain rows: their mean within this of its colour, their spread below it
PICTURE = 0.3  # the rows just past a band: at least this share of their pixels off its colour
MIN_BAND = 0.04  # a band is at least this share of the picture's height (or width)
MAX_BAND = 0.35  # ... and at most this share


def band_side(grey: np.ndarray) -> tuple[str, float] | None:
    """The side along which a picture (a 2-D grey array) has a plain band, a caption strip or
    a bar added to one side, and the band's share of the picture's height (or width); None
    when it has none, or has a plain border all round (:func:`inner_box`'s centred frame),
    or plain margins on more than one side (a diagram's, a graphic's: its own).

    A band is a run of rows from the edge, each of one flat colour (the band's) or holding
    letters on it, that ends in a flat row with the picture past it: a sky, which shades, is
    not one.

    >>> picture = np.random.default_rng(0).integers(0, 255, (100, 120))
    >>> band_side(np.vstack([picture, np.zeros((20, 120))]))
    ('bottom', 0.1667)
    """
    if grey.shape[0] < 16 or grey.shape[1] < 16:
        return None
    box = inner_box(grey)
    if box is not None and centred(box, grey.shape[1], grey.shape[0]):
        return None
    views = {"bottom": grey, "top": grey[::-1], "right": grey.T, "left": grey.T[::-1]}
    found = [(side, band) for side, view in views.items() if (band := _band(view)) is not None]
    return (found[0][0], found[0][1][0]) if len(found) == 1 else None  # plain on two sides: its own


def band_box(band: tuple[str, float], width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the picture beside a band (:func:`band_side`).

    >>> band_box(("bottom", 0.25), 100, 80)
    (0, 0, 100, 60)
    """
    side, share = band
    across = round(share * (height if side in ("bottom", "top") else width))
    return {
        "bottom": (0, 0, width, height - across),
        "top": (0, across, width, height),
        "right": (0, 0, width - across, height),
        "left": (across, 0, width, height),
    }[side]


def _band(grey: np.ndarray) -> tuple[float, bool] | None:
    """The share of the rows at the bottom of ``grey`` that make a plain band, and whether
    it holds letters (rows that are not flat), else None."""
    rows = grey[::-1].astype(np.float64)  # from the bottom edge up
    colour = float(np.median(rows[0]))
    away = (np.abs(rows - colour) > TOLERANCE).mean(axis=1)
    flat = (np.abs(rows.mean(axis=1) - colour) <= BAND_FLAT) & (rows.std(axis=1) <= BAND_FLAT)
    height = len(rows)
    limit = int(MAX_BAND * height)
    length = 0  # the rows up to the band's last flat row
    for index in range(limit + 1):
        if flat[index]:
            length = index + 1
        elif away[index] > BAND_TEXT:
            break
    if length < MIN_BAND * height or length > limit or not flat[0]:
        return None
    if away[length : length + 3].mean() < PICTURE:
        return None
    return round(length / height, 4), not flat[:length].all()
