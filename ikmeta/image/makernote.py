"""Maker notes, decoded by exifread for the makers it knows (Canon, Nikon, Olympus, Fujifilm,
Casio, Sony, Apple, DJI), under exifread's tag names and ikmeta's value rules.

    >>> read_makernote(tiff_bytes, "<", (offset, length), {"Make": "Canon", "Model": "..."})
    {'MacroMode': 'Normal', 'SelfTimer': 0, ...}

ikmeta reads the standard IFDs itself (:mod:`ikmeta.image.exif`); exifread is handed only the
maker-note block, with the Make and Model it needs to pick a decoder.
"""

from __future__ import annotations

import io
import logging
import re
from fractions import Fraction
from typing import Any

from exifread.core.exif_header import ExifHeader
from exifread.core.ifd_tag import IfdTag
from exifread.tags.fields import FieldType

from .exif_values import json_number

logging.getLogger("exifread").addHandler(logging.NullHandler())
logging.getLogger("exifread").propagate = False

PREFIX = "MakerNote "
MAX_ENTRIES = 512  # real maker-note IFDs hold tens to a few hundred entries


class _BoundedHeader(ExifHeader):
    """exifread's reader, refusing IFDs whose entry count is garbage (past the data, or absurd).

    A corrupt maker note otherwise makes exifread walk tens of thousands of junk entries.
    """

    file_handle: io.BytesIO  # read_makernote always hands it one

    def dump_ifd(
        self, ifd: int, ifd_name: str, tag_dict: Any = None, relative: Any = 0, stop_tag: Any = None
    ) -> None:
        size = len(self.file_handle.getbuffer())
        if self.offset + ifd + 2 > size:
            return
        entries = self.s2n(ifd, 2)
        if entries > MAX_ENTRIES or self.offset + ifd + 2 + 12 * entries > size:
            return
        super().dump_ifd(ifd, ifd_name, tag_dict=tag_dict, relative=relative, stop_tag=stop_tag)


def read_makernote(tiff: bytes, endian: str, block: tuple[int, int], ifd0: dict[str, Any]) -> dict[str, Any]:
    """The decoded maker-note tags; ``{}`` where the maker's format is unknown or the block is bad."""
    make, model = ifd0.get("Make"), ifd0.get("Model")
    if not isinstance(make, str):
        return {}
    where, length = block
    header = _BoundedHeader(
        io.BytesIO(tiff), "I" if endian == "<" else "M", 0, 0, strict=False, detailed=True
    )
    header.tags = {
        "Image Make": _tag(make, FieldType.ASCII, make),
        "Image Model": _tag(model if isinstance(model, str) else "", FieldType.ASCII, model or ""),
        "EXIF MakerNote": IfdTag(
            "", 0x927C, FieldType.UNDEFINED, list(tiff[where : where + length]), where, length
        ),
    }
    try:
        header.decode_maker_note()
    except Exception:  # noqa: BLE001 - exifread raises many kinds on bad notes; what it decoded stays
        pass
    notes = {}
    for key, tag in header.tags.items():
        if key.startswith(PREFIX) and isinstance(tag, IfdTag):
            value = json_value(tag.values)
            if value is not None and value != []:
                notes[json_name(key[len(PREFIX) :])] = value
    return notes


def _tag(printable: str, field_type: FieldType, values: Any) -> IfdTag:
    return IfdTag(printable, 0, field_type, values, 0, 0)


def json_name(name: str) -> str:
    """exifread's tag name as a JSON key: 'Macro mode' -> 'MacroMode', 'Tag 0x0001' -> 'Tag0x0001'."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    key = "".join(w[0].upper() + w[1:] for w in words) or "Tag"
    return key if key[0].isalpha() else "Tag" + key


def json_value(values: Any) -> Any:
    """exifread's values as JSON: strings stay (cut at NUL, without the trailing spaces that pad
    fixed-size fields: 'FINE   ' is 'FINE', as ExifTool shows it), ratios become floats, one
    value a scalar."""
    if isinstance(values, (bytes, bytearray)):
        values = list(values)
    if isinstance(values, str):
        return values.split("\x00", 1)[0].rstrip(" ")
    if not isinstance(values, (list, tuple)):
        return _scalar(values)
    items = [_scalar(v) for v in values]
    return items[0] if len(items) == 1 else items


def _scalar(value: Any) -> Any:
    if isinstance(value, tuple):  # exifread keeps each float as a 1-tuple
        value = value[0] if value else None
    if isinstance(value, Fraction):
        if value.denominator == 0:
            return None
        return value.numerator // value.denominator if value.denominator == 1 else float(value)
    if isinstance(value, float):
        return json_number(value)
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    if isinstance(value, (int, str)) or value is None:
        return value
    return str(value)
