"""Hash lists read back into items: ``HASH  SOURCE`` lines (as ``ikmeta phash`` prints them) and
NDJSON records (``phash --ndjson``, ``inspect --ndjson``), each checked, and a phash record or a
cache row as an :class:`~ikmeta.dupes.model.Item`.

    >>> import io
    >>> [item.phash for item in read_hash_list(io.StringIO("f06830ca9f1e3e90  a.jpg\\n"), "list.txt")]
    ['f06830ca9f1e3e90']
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator
from typing import Any, TextIO

from ikmeta.cache import HASH_LISTS, valid_inner
from ikmeta.errors import IkmetaError, SourceError
from ikmeta.hashes import COLOUR, FLAT_HASHES, HashFormatError, parse_hash, valid_hashes
from ikmeta.image.exif_values import camera_from_exif, captured_from_exif, displayed_size, parse_captured
from ikmeta.output import parse_checksum_line
from ikmeta.sources.base import is_remote, is_video_name
from ikmeta.sources.read import list_lines
from ikmeta.video.record import VIDEO_KEYS, video_problem

from .model import NO_PROVENANCE, Item, Provenance
from .views import pack

# The ranking keys a hash-list object may carry (see ikmeta.dupes.rank): numbers and their sound range.
NUMBERS = {
    "width": (1, 2**31),
    "height": (1, 2**31),
    "size": (0, 2**63),
    "quality": (0, 100),
    "mtimeNs": (0, 2**63),
}
TEXTS = ("format", "camera", "captured")
HEAD = re.compile(r"[0-9a-f]{16}")  # a provenance's head digest


def item_of(source: str, data: dict[str, Any]) -> Item:
    """An item from ``phash_blob``'s metadata, a cache row, or a checked hash-list object
    (a video's, with ``frames``: :func:`video_item_of`)."""
    if data.get("frames") is not None:
        return video_item_of(source, data)
    colour = data.get("flat")  # a flat image's mean colour, else None
    inner = data.get("inner")  # the picture inside a plain border
    return Item(
        **_file_traits(source, data),
        flat=colour is not None,
        colour=colour,
        quality=data.get("quality"),
        views=pack(data["pHash"], data.get("turned"), inner["pHash"] if inner else None, data.get("windows")),
        inner_pixels=_inner_pixels(inner, data.get("width"), data.get("height")),
        provenance=provenance_from(data.get("provenance"), data.get("damage")),
    )


def video_item_of(source: str, data: dict[str, Any]) -> Item:
    """A video's item from its hash record (:func:`ikmeta.media.video_record`, a cache row, or a
    hash list's checked line): its fingerprint's frames, length, bit rate and sound, the
    picture inside letterbox bars as its pixels, and its blank ends where they were measured."""
    picture, blank, colour = data.get("picture"), data.get("blank"), data.get("flat")
    return Item(
        **_file_traits(source, data),
        flat=colour is not None,
        colour=colour,
        inner_pixels=picture[0] * picture[1] if picture else None,
        provenance=provenance_from(None, data.get("damage")),
        duration=float(data["duration"]),
        bit_rate=data.get("videoBitRate"),
        sound=data.get("sound"),
        frames=tuple((float(f["time"]), f["pHash"], tuple(f["turned"])) for f in data["frames"]),
        picture=(picture[0], picture[1]) if picture else None,
        codec=data.get("videoCodec"),
        blank=(float(blank[0]), float(blank[1])) if blank else None,
    )


def _file_traits(source: str, data: dict[str, Any]) -> dict[str, Any]:
    """What an image's and a video's items both take from their records."""
    return {
        "source": source,
        "phash": data["pHash"],
        "width": data.get("width"),
        "height": data.get("height"),
        "size": data.get("size"),
        "format": data.get("format"),
        "camera": data.get("camera"),
        "captured": data.get("captured"),
        "mtime_ns": data.get("mtimeNs"),
    }


def provenance_from(data: Any, damage: Any = None) -> Provenance:
    """The :class:`Provenance` of a ``provenance`` object (as ``phash --ndjson`` prints it, or a
    cache row holds it) and a ``damage`` string; what is not sound in it is unknown.

    >>> provenance_from({"software": "GIMP 2.10", "exifSize": [640, 480]}).exif_size
    (640, 480)
    """
    if not isinstance(data, dict):
        data = {}
    size = data.get("exifSize")
    band = data.get("band")
    return (
        Provenance(
            damage=damage if isinstance(damage, str) and damage else None,
            software=_text(data.get("software")),
            modified=modified
            if (modified := _text(data.get("modified"))) and parse_captured(modified)
            else None,
            exif_size=(size[0], size[1]) if _sizes(size) else None,
            tables=data.get("tables") if data.get("tables") in ("libjpeg", "own") else None,
            maker_note=data.get("makerNote") is True,
            thumbnail=data.get("thumbnail") is True,
            band=(band["side"], float(band["share"])) if _band(band) else None,
            head=head if isinstance(head := data.get("head"), str) and HEAD.fullmatch(head) else None,
        )
        if data or damage
        else NO_PROVENANCE
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _sizes(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31 for v in value)
    )


def _band(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("side") in ("bottom", "top", "left", "right")
        and isinstance(value.get("share"), (int, float))
        and not isinstance(value.get("share"), bool)
        and 0 < value["share"] < 1
    )


def _inner_pixels(inner: dict[str, Any] | None, width: int | None, height: int | None) -> int | None:
    """The pixels of the picture inside a centred plain border, when they fit inside the image
    (else a hand-made list's claim is not taken for ranking). Uneven margins do not count: they
    may be the picture's own (a diagram on white)."""
    if not inner or not inner.get("centred", True) or not width or not height:
        return None
    if inner["width"] > width or inner["height"] > height:
        return None
    pixels: int = inner["width"] * inner["height"]
    return pixels


def read_hash_list(stream: TextIO, name: str) -> Iterator[Item | IkmetaError]:
    """Items from ``HASH  SOURCE`` lines or NDJSON objects with ``pHash`` and ``source``.

    NDJSON objects may also carry what ranks the copies (see :mod:`ikmeta.dupes.rank`): ``width``,
    ``height``, ``size``, ``format``, ``quality``, ``camera``, ``captured``, ``mtimeNs`` as
    ``ikmeta phash --ndjson`` prints them, or the ``exif`` groups of ``ikmeta inspect
    --ndjson``; what is missing is unknown (without any of it, path order ranks them).
    The flat-image hashes (8000000000000000, and 0000000000000000 for black) are marked flat.
    Blank lines and # comments are skipped; a source listed again is skipped too.
    """
    seen: set[str] = set()  # a source listed twice is one image, not its own duplicate
    folder = os.getcwd() + os.sep
    for where, text in list_lines(stream, name):
        item = text if isinstance(text, SourceError) else parse_list_line(where, text)
        if isinstance(item, SourceError):
            yield item
            continue
        same = same_source(item.source, folder)
        if same not in seen:
            seen.add(same)
            yield item


def parse_list_line(where: str, text: str) -> Item | SourceError:
    """The item of a hash list's line (``where``: ``name:line``), or the SourceError saying
    why it is not one."""
    try:
        return _parse_hash_line(text)
    except VideoError:
        return VideoLine(where, NOT_VIDEOS)
    except RecursionError:
        return SourceError(where, "JSON nested too deeply")
    except (ValueError, HashFormatError) as exc:
        return SourceError(where, str(exc))


def same_source(source: str, folder: str) -> str:
    """How a hash list's sources are compared: a path made absolute against ``folder`` (the
    current one, ending in a separator), a URL or stored object as written."""
    return source if "://" in source and is_remote(source) else _absolute(source, folder)


def _absolute(path: str, folder: str) -> str:
    """``os.path.abspath(path)`` with the current ``folder`` given (no system call a line):
    ./a.jpg is a.jpg."""
    joined = path if path.startswith(os.sep) else folder + path
    needs_normalizing = "/." in joined or "//" in joined or joined.endswith(os.sep)
    return os.path.normpath(joined) if needs_normalizing else joined


# Why a video's plain line is left out: its pHash stands for one frame, and a video never
# groups with an image; its record (phash --ndjson), which lists its frames, is grouped.
NOT_GROUPED = (
    "a video's plain line holds one frame's pHash ('phash --ndjson' lists its frames, which dupes groups)"
)
NOT_VIDEOS = f"a video: {NOT_GROUPED}"


class VideoError(Exception):
    """Raised inside the parser for a video's line (see :class:`VideoLine`)."""


class VideoLine(SourceError):
    """A hash list's line of a video without its frames (a plain line, or a record without
    ``frames``, of a video's file name): left out, not a bad line."""


def _parse_hash_line(text: str) -> Item:
    text = text.lstrip()  # before a hash or an object, spaces are not part of anything
    if text.startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError('a JSON line needs "pHash" and "source" strings')
        if "frames" not in data and is_video_name(str(data.get("source", ""))):
            raise VideoError
        return item_from_record(data)
    parsed = parse_checksum_line(text)
    if parsed is None:
        raise ValueError("not a 'HASH  SOURCE' line (hash, two spaces or a tab, source) nor a JSON object")
    value, source = parsed
    if is_video_name(source):
        raise VideoError
    phash = _checked_hash(value, source)
    return Item(source, phash, flat=phash in FLAT_HASHES)  # nothing but the hash is known


def item_from_record(data: dict[str, Any]) -> Item:
    """An item from a record with ``pHash`` and ``source`` strings (as ``phash --ndjson``
    prints; what else it holds ranks the copy, see :func:`read_hash_list`; a video's, with
    ``frames``, by :func:`video_from_record`); raises ValueError saying what is wrong.

    >>> item_from_record({"source": "a.jpg", "pHash": "2D5AD3936D2E015B", "width": 800}).phash
    '2d5ad3936d2e015b'
    """
    if "frames" in data:
        return video_from_record(data)
    value, source = data.get("pHash"), data.get("source")
    if not isinstance(value, str) or not isinstance(source, str):
        raise ValueError('a record needs "pHash" and "source" strings')
    phash = _checked_hash(value, source)
    colour = data.get("flat")
    if colour is not None and not (isinstance(colour, str) and COLOUR.fullmatch(colour)):
        raise ValueError(f'"flat" is {colour!r}, not null nor a colour like "#f0f0f0"')
    known = _known(data)
    traits = {**known, **_traits_from_inspect(data, known)}
    item = item_of(source, {**traits, "pHash": phash, "flat": colour})
    return dataclasses.replace(item, flat=True) if phash in FLAT_HASHES else item


def video_from_record(data: dict[str, Any]) -> Item:
    """A video's item from its record as ``phash --ndjson`` prints it (``frames`` with each
    frame's ``time``, ``pHash`` and ``turned``, ``duration``, ``width``, ``height``...); raises
    ValueError saying what is wrong."""
    value, source = data.get("pHash"), data.get("source")
    if not isinstance(value, str) or not isinstance(source, str):
        raise ValueError('a record needs "pHash" and "source" strings')
    _checked_hash(value, source)
    record = {name: data.get(name) for name in VIDEO_KEYS}
    problem = video_problem(record)
    if problem is not None:
        raise ValueError(f"a video's record, as 'ikmeta phash --ndjson' prints it: {problem}")
    if record["captured"] is not None and parse_captured(record["captured"]) is None:
        record["captured"] = None  # not a time: unknown, as an image's is
    known: dict[str, Any] = {k: data[k] for k in ("size", "mtimeNs") if k in _known(data)}
    return item_of(source, {**record, **known})


def _checked_hash(value: str, source: str) -> str:
    """The pHash of a list line or record, once it and its source are sound."""
    try:
        source.encode("utf-8", "surrogateescape")  # a name's bytes, as Python holds them
    except UnicodeEncodeError:
        raise ValueError(f"source {source!r} is not a file name (it holds a lone UTF-16 surrogate)") from None
    phash = parse_hash(value)
    if len(phash) != 16:
        raise ValueError(f"pHash {value!r} has {len(phash)} hex digits, not 16")
    return phash


def _known(data: dict[str, Any]) -> dict[str, Any]:
    """The ranking keys of a hash-list object that hold sound values (others are unknown)."""
    known = {
        k: data[k]
        for k, (low, high) in NUMBERS.items()
        if isinstance(data.get(k), int) and not isinstance(data.get(k), bool) and low <= data[k] <= high
    }
    known.update((k, data[k]) for k in TEXTS if isinstance(data.get(k), str))
    for name, count in HASH_LISTS.items():  # the turned pHashes, the windows'
        hashes = data.get(name)
        if isinstance(hashes, list) and valid_hashes(
            [h.lower() if isinstance(h, str) else h for h in hashes], count
        ):
            known[name] = [h.lower() for h in hashes]
    inner = data.get("inner")
    if isinstance(inner, dict) and isinstance(inner.get("pHash"), str):
        inner = {**inner, "pHash": inner["pHash"].lower()}
        if valid_inner(inner):
            known["inner"] = inner
    if "captured" in known and parse_captured(known["captured"]) is None:
        del known["captured"]
    if isinstance(data.get("provenance"), dict):
        known["provenance"] = data["provenance"]  # checked key by key by provenance_from
    if isinstance(data.get("damage"), str):
        known["damage"] = data["damage"]
    return known


def _traits_from_inspect(data: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """What an ``ikmeta inspect`` object says of the ranking keys: its size as displayed
    (its sound ``width`` and ``height``, in ``known``, after the EXIF orientation), camera
    and capture time from its ``exif`` groups."""
    exif = data.get("exif")
    if not isinstance(exif, dict):
        return {}
    image, sub_ifd = (
        group if isinstance(group := exif.get(name), dict) else {} for name in ("image", "exif")
    )
    width, height = displayed_size(known.get("width"), known.get("height"), image.get("Orientation"))
    found = {"camera": camera_from_exif(image), "captured": captured_from_exif(sub_ifd)}
    # The size as displayed even where a side is unknown: a sound side stays with its own axis.
    return {"width": width, "height": height, **{k: v for k, v in found.items() if v is not None}}
