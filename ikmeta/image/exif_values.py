"""Values read from EXIF that more than one module weighs: numbers as JSON holds them, the camera,
the capture time (and its reading as wall-clock seconds), and the size as displayed.

    >>> camera_from_exif({"Make": "Apple", "Model": "iPhone 13"})
    'Apple iPhone 13'
    >>> json_number(float("nan")) is None
    True
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


EARLIEST_YEAR = 1800  # a capture date before photography is junk (0000:00:00, 0001:01:01)
_EPOCH = datetime(1970, 1, 1)


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
    return wall_clock(taken) if taken.year >= EARLIEST_YEAR else None


def wall_clock(moment: datetime) -> float:
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


def json_number(value: int | float) -> int | float | None:
    """Floats as JSON numbers: integral ones as integers (35.0 -> 35), NaN and infinities as null."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    return value
