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
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dupes import Item

PIXEL_TOLERANCE = 1.01  # pixel counts within this ratio of a group's largest rank as equal
EARLIEST_YEAR = 1800  # a capture date before photography is junk (0000:00:00, 0001:01:01)
_EPOCH = datetime(1970, 1, 1)
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
            return _wall_clock(datetime.fromtimestamp(item.mtime_ns / 1e9))
        except (ValueError, OverflowError, OSError):  # out of the platform's range
            return UNKNOWN_TIME
    return UNKNOWN_TIME


def parse_captured(captured: str) -> float | None:
    """An ISO 8601 capture time as wall-clock seconds (its offset, if any, not applied), or
    None when it is not one or is before photography.

    >>> parse_captured("2008-05-30T15:56:01+02:00") == parse_captured("2008-05-30T15:56:01")
    True
    """
    try:
        taken = datetime.fromisoformat(captured)
    except ValueError:
        return None
    return _wall_clock(taken) if taken.year >= EARLIEST_YEAR else None


def _wall_clock(moment: datetime) -> float:
    return (moment.replace(tzinfo=None) - _EPOCH).total_seconds()


def captured_from_exif(exif: dict[str, Any]) -> str | None:
    """``DateTimeOriginal`` (with ``OffsetTimeOriginal`` when given) as ISO 8601, or None.

    >>> captured_from_exif({"DateTimeOriginal": "2008:05:30 15:56:01", "OffsetTimeOriginal": "+02:00"})
    '2008-05-30T15:56:01+02:00'
    >>> captured_from_exif({"DateTimeOriginal": "0000:00:00 00:00:00"}) is None
    True
    """
    value = exif.get("DateTimeOriginal")
    if not isinstance(value, str):
        return None
    try:
        taken = datetime.strptime(value.strip()[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if taken.year < EARLIEST_YEAR:
        return None
    offset = exif.get("OffsetTimeOriginal")
    text = taken.isoformat()
    if isinstance(offset, str) and _is_offset(offset.strip()):
        text += offset.strip()
    return text


def camera_from_exif(image: dict[str, Any]) -> str | None:
    """ "Make Model" from IFD0 (the model alone when it already names the make), or None.

    >>> camera_from_exif({"Make": "Canon", "Model": "Canon EOS 40D"})
    'Canon EOS 40D'
    """
    make, model = (value.strip() if isinstance(value := image.get(k), str) else "" for k in ("Make", "Model"))
    if model.lower().startswith(make.lower()):
        make = ""
    return " ".join(part for part in (make, model) if part) or None


def displayed_size(width: int | None, height: int | None, orientation: Any) -> tuple[int | None, int | None]:
    """(width, height) as the image is displayed: swapped for EXIF orientations 5 to 8."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _is_offset(text: str) -> bool:
    """``+hh:mm`` or ``-hh:mm``, hours 0-23 and minutes 0-59 (as ISO 8601 allows)."""
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":" or not (text[1:3] + text[4:]).isdigit():
        return False
    return int(text[1:3]) <= 23 and int(text[4:]) <= 59
