"""A video's hash record (:func:`ikmeta.media.video_record`): the keys it holds and what each
must be, so that a record read back (from the cache or a hash list) is used only when sound.

    >>> video_problem({"pHash": "0123456789abcdef", "width": 4, "height": 3, "duration": 1.0, "frames": []})
    '"frames" is not a list of frames, each with time, pHash and turned'
"""

from __future__ import annotations

import json
from typing import Any

from ikmeta.hashes import COLOUR, FLAT_PHASH, HASH_HEX, valid_hashes

# What a video's record holds (the cache stores these; bump VIDEO_ALGORITHM when they change).
VIDEO_KEYS = (
    "pHash",
    "width",
    "height",
    "format",
    "camera",
    "captured",
    "damage",
    "duration",
    "videoBitRate",
    "videoCodec",
    "sound",
    "picture",
    "frames",
    "blank",
    "flat",
)


def valid_video(record: dict[str, Any]) -> bool:
    """A video's hash record as :func:`ikmeta.media.video_record` makes it: else it is
    fingerprinted afresh (see :func:`video_problem`)."""
    return video_problem(record) is None


def video_problem(record: dict[str, Any]) -> str | None:
    """What is wrong with a video's hash record (its ranking keys sound, its frames each a time
    and pHashes), naming the key; None when nothing is.

    >>> video_problem({"pHash": "0123456789abcdef", "width": 4, "height": 3, "duration": 1.0, "frames": []})
    '"frames" is not a list of frames, each with time, pHash and turned'
    """
    picture, width, height = record.get("picture"), record.get("width"), record.get("height")
    checks = (
        ("pHash", isinstance(record.get("pHash"), str) and HASH_HEX.fullmatch(record["pHash"]) is not None),
        ("width", _count(width)),
        ("height", _count(height)),
        ("duration", _number(record.get("duration"))),
        (
            "videoBitRate",
            record.get("videoBitRate") is None
            or (_whole(record["videoBitRate"]) and 0 <= record["videoBitRate"] < 2**63),
        ),
        ("sound", isinstance(record.get("sound", False), bool)),
        ("picture", picture is None or _picture_inside(picture, width, height)),
        ("blank", _blank_within(record.get("blank"), record.get("duration"))),
        (
            "flat",
            record.get("flat") is None
            or (isinstance(record["flat"], str) and bool(COLOUR.fullmatch(record["flat"]))),
        ),
        *((key, record.get(key) is None or isinstance(record[key], str)) for key in TEXT_KEYS),
    )
    for key, sound in checks:
        if not sound:
            return f'"{key}" is {json.dumps(record.get(key))[:40]}, not {VIDEO_VALUES[key]}'
    frames, flat = record.get("frames"), record.get("flat") is not None
    if flat and (frames != [] or record["pHash"] != FLAT_PHASH):
        return f'"flat" is a colour, yet its frames are not [] or its pHash not {FLAT_PHASH}'
    if (
        not isinstance(frames, list)
        or not (frames or flat)
        or not all(_valid_frame(frame) for frame in frames)
    ):
        return '"frames" is not a list of frames, each with time, pHash and turned'
    return None


TEXT_KEYS = ("format", "camera", "captured", "damage", "videoCodec")
# What each key of a video's record must be, as messages say it.
VIDEO_VALUES = {
    "pHash": "16 hex digits",
    "width": "a whole number of pixels",
    "height": "a whole number of pixels",
    "duration": "a number of seconds",
    "videoBitRate": "null or a whole number of kbps",
    "sound": "true or false",
    "picture": "null or [width, height] inside the video's",
    "blank": "null or [seconds, seconds] within its duration",
    "flat": 'null or a colour, "#rrggbb" (a video of one colour: no frames)',
    **dict.fromkeys(TEXT_KEYS, "null or a string"),
}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _picture_inside(picture: Any, width: Any, height: Any) -> bool:
    """[width, height] of a picture inside bars, no larger than the video's."""
    return (
        isinstance(picture, list)
        and len(picture) == 2
        and all(map(_count, picture))
        and _count(width)
        and _count(height)
        and picture[0] <= width
        and picture[1] <= height
    )


def _blank_within(blank: Any, duration: Any) -> bool:
    """Null, or [seconds at the start, seconds at the end] of one colour, together no longer
    than the video (:func:`ikmeta.video.blanks.blank_ends`)."""
    if blank is None:
        return True
    return (
        isinstance(blank, list)
        and len(blank) == 2
        and all(map(_number, blank))
        and _number(duration)
        and sum(blank) <= duration + 1e-3
    )


def _valid_frame(frame: Any) -> bool:
    """{"time": seconds, "pHash": 16 hex digits, "turned": 3 of them}."""
    return (
        isinstance(frame, dict)
        and _number(frame.get("time"))
        and isinstance(frame.get("pHash"), str)
        and HASH_HEX.fullmatch(frame["pHash"]) is not None
        and valid_hashes(frame.get("turned"), 3)
    )


def _count(value: Any) -> bool:
    """A whole number above 0 (and not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _number(value: Any) -> bool:
    """A finite number of seconds, 0 or more (and not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1e9
