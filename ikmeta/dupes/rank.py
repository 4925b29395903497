"""The best-copy rule: which of a group's copies is the original worth keeping.

    >>> from ikmeta.dupes import Item
    >>> camera = Item("IMG_0042.jpg", "f06830ca9f1e3e90", 4032, 3024, 2_400_000, format="jpg",
    ...               quality=92, camera="Apple iPhone 13", captured="2024-06-01T10:22:33")
    >>> export = Item("IMG_0042.png", "f06830ca9f1e3e90", 4032, 3024, 19_000_000, format="png")
    >>> sorted([export, camera], key=rank_key)[0].source
    'IMG_0042.jpg'

Copies are ranked, best first, by:

1. more pixels as displayed: among a group's copies, those within 1% of the most pixels
   are equal (so a 4032x3024 original and a 4032x3016 export tie; see :func:`best_of`);
2. camera metadata present (EXIF ``Make``/``Model`` or ``DateTimeOriginal``): an original
   before a conversion that dropped it;
3. the earlier capture time (``DateTimeOriginal``, else the file's modification time;
   unknown last), compared as wall-clock time: EXIF times are the camera's local time and
   a converter often drops their offset, so offsets are not applied (the same moment
   written with and without ``-05:00`` ties), and a modification time is read in the
   machine's local time;
4. the less lossy source: HEIC and AVIF, then JPEG at higher quality, then re-encodings
   (PNG, WebP, TIFF, GIF, BMP: usually made from one of the others);
5. the larger file;
6. the path, in order.

A lossless PNG made from a camera JPEG has the same pixels but no camera metadata, so the
JPEG ranks first; a JPEG exported from an iPhone HEIC keeps its EXIF and capture time, so
the format decides and the HEIC ranks first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from ikmeta.image.exif_values import parse_captured, wall_clock

if TYPE_CHECKING:
    from .model import Item

PIXEL_TOLERANCE = 1.01  # pixel counts within this ratio of a group's largest rank as equal
FORMAT_TIERS = {"heic": 0, "avif": 0, "jpg": 1}  # every other format is a re-encoding: 2
REENCODING = 2
UNKNOWN_TIME = math.inf  # an unknown capture time ranks after every known one


def rank_key(item: Item) -> tuple[int, int, float, int, int, int, str]:
    """A total order, best copy first: pixels (exactly), then :func:`tie_key`. Grouping
    walks items in this order; :func:`best_of` then applies the 1% pixel tolerance."""
    return (-item.pixels, *tie_key(item))


def tie_key(item: Item) -> tuple[int, float, int, int, int, str]:
    """Among copies with about as many pixels: camera metadata, capture time, format, size, path."""
    return (
        0 if item.camera or item.captured else 1,
        capture_time(item),
        FORMAT_TIERS.get(item.format or "", REENCODING),
        -(item.quality or 0) if item.format == "jpg" else 0,
        -(item.size or 0),
        item.source,
    )


def best_of(items: Iterable[Item]) -> Item:
    """The best copy: among those within 1% of the most pixels, the first by :func:`tie_key`.

    >>> from ikmeta.dupes import Item
    >>> camera = Item("camera.jpg", "0", 1600, 1199, format="jpg", camera="Canon EOS 40D")
    >>> export = Item("export.png", "0", 1600, 1200, format="png")
    >>> best_of([export, camera]).source
    'camera.jpg'
    """
    candidates = list(items)
    most = max(item.pixels for item in candidates)
    return min((item for item in candidates if item.pixels * PIXEL_TOLERANCE >= most), key=tie_key)


def capture_time(item: Item) -> float:
    """Wall-clock seconds: when the photo was taken, else when the file was last written."""
    if item.captured:
        taken = parse_captured(item.captured)
        if taken is not None:
            return taken
    if item.mtime_ns is not None:
        try:
            return wall_clock(datetime.fromtimestamp(item.mtime_ns / 1e9))
        except (ValueError, OverflowError, OSError):  # out of the platform's range
            return UNKNOWN_TIME
    return UNKNOWN_TIME


def best_member(ranked: list[Item], leader: int, members: list[int], near: Callable[[int, int], bool]) -> int:
    """The group's reference: the best copy by :func:`ikmeta.dupes.rank.best_of` (pixels within 1%
    count as equal), when every member is still ``near`` it; else the leader the grouping
    found (the first in the exact order, which every member is near)."""
    chosen = best_of(ranked[k] for k in members)
    best = next(k for k in members if ranked[k] is chosen)
    if best != leader and all(near(k, best) for k in members):
        return best
    return leader


def fullest(
    best: int, members: list[int], shows_more: Callable[[int, int], bool], near: Callable[[int, int], bool]
) -> int:
    """The group's reference once a copy that shows more of the picture than it (the reference
    is a crop of it, or it in a frame: :data:`FULLER`) takes its place, when every member is
    near that copy; in rank order, until none does. An upscaled crop has more pixels than its
    original, a framed copy more than the picture: neither is the copy to keep.

    >>> fullest(0, [0, 1], lambda a, b: a == 1, lambda a, b: True)
    1
    """
    for _ in members:  # each step moves to a copy showing more: at most one step a member
        fuller = next(
            (k for k in members if k != best and shows_more(k, best) and all(near(m, k) for m in members)),
            None,
        )
        if fuller is None:
            return best
        best = fuller
    return best
