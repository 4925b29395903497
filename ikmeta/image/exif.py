"""EXIF: the TIFF-structured block of an image, read into six groups of JSON-native values.

    >>> groups = read_exif(tiff_bytes)
    >>> groups["exif"]["ISO"]
    100

Groups: ``image`` (IFD0), ``thumbnail`` (IFD1), ``exif``, ``gps``, ``interoperability``
and ``makernote``, always all six. Tags are named by ID from ExifTool's table
(:mod:`ikmeta.image.exif_tags`); an unknown tag is kept as ``Tag0x9A01``. The reader never
raises on bad data: what cannot be read is left out, and parsing stops at the first
thing that points outside the block or loops.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from .exif_tags import EMBEDDED_TAGS, EXIF_TAGS, EXIF_TAGS_BY_IFD, GPS_TAGS
from .exif_values import json_number

GROUPS = ("image", "thumbnail", "exif", "gps", "interoperability", "makernote")

# TIFF field types: struct code and size of one value.
BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, SSHORT, SLONG, SRATIONAL = range(1, 11)
FLOAT, DOUBLE, IFD, LONG8, SLONG8, IFD8 = 11, 12, 13, 16, 17, 18
FIELD_TYPES = {
    BYTE: ("B", 1),
    ASCII: ("s", 1),
    SHORT: ("H", 2),
    LONG: ("I", 4),
    RATIONAL: ("I", 8),
    SBYTE: ("b", 1),
    UNDEFINED: ("s", 1),
    SSHORT: ("h", 2),
    SLONG: ("i", 4),
    SRATIONAL: ("i", 8),
    FLOAT: ("f", 4),
    DOUBLE: ("d", 8),
    IFD: ("I", 4),
    LONG8: ("Q", 8),
    SLONG8: ("q", 8),
    IFD8: ("Q", 8),
}

EXIF_POINTER, GPS_POINTER, INTEROP_POINTER, MAKERNOTE = 0x8769, 0x8825, 0xA005, 0x927C
USER_COMMENT = 0x9286
GPS_TEXT_TAGS = {0x001B, 0x001C}  # GPSProcessingMethod, GPSAreaInformation: coded like UserComment
VERSION_TAGS = {0x9000, 0xA000, 0x0002}  # ExifVersion, FlashpixVersion, InteropVersion
XP_TAGS = {0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F}  # XPTitle ... XPSubject (UTF-16LE)
UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")  # a multi-byte UTF-8 character (or most of one)
MAX_ENTRIES = 1000  # more entries than any real IFD has: a corrupt count

# ExifTool's family-1 group of each of our groups, to pick a tag's name.
IFD_OF_GROUP = {"image": "IFD0", "thumbnail": "IFD1", "exif": "ExifIFD", "interoperability": "InteropIFD"}


def empty_groups() -> dict[str, dict[str, Any]]:
    return {g: {} for g in GROUPS}


def read_exif(block: bytes, *, makernote: bool = True) -> dict[str, dict[str, Any]]:
    """The six groups of a TIFF-structured EXIF block (``II*\\0...`` or ``MM\\0*...``).

    A leading ``Exif\\0\\0`` (as in JPEG APP1 and HEIF) is skipped. Anything that
    is not such a block gives six empty groups. ``makernote=False`` leaves the maker note
    (the slowest part) undecoded.
    """
    groups = empty_groups()
    tiff = _Tiff.from_block(block)
    if tiff is None:
        return groups
    ifd0, ifd1_offset = tiff.read_ifd(tiff.first_ifd, "image")
    groups["image"] = ifd0.values
    if ifd1_offset:
        groups["thumbnail"] = tiff.read_ifd(ifd1_offset, "thumbnail")[0].values
    exif_ifd = tiff.sub_ifd(ifd0, EXIF_POINTER, "exif")
    if exif_ifd is not None:
        groups["exif"] = exif_ifd.values
        interop = tiff.sub_ifd(exif_ifd, INTEROP_POINTER, "interoperability")
        if interop is not None:
            groups["interoperability"] = interop.values
    gps = tiff.sub_ifd(ifd0, GPS_POINTER, "gps")
    if gps is not None:
        groups["gps"] = gps.values
    if makernote and exif_ifd is not None and MAKERNOTE in exif_ifd.raw:
        from .makernote import read_makernote

        groups["makernote"] = read_makernote(tiff.data, tiff.endian, exif_ifd.raw[MAKERNOTE], ifd0.values)
    return groups


def read_ifd0(block: bytes) -> dict[str, Any]:
    """IFD0 (the ``image`` group) alone, without reading the rest of the block."""
    tiff = _Tiff.from_block(block)
    return tiff.read_ifd(tiff.first_ifd, "image")[0].values if tiff is not None else {}


class _Ifd:
    """One IFD read: JSON values by tag name and by tag ID, and (offset, length) of embedded blocks."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.by_id: dict[int, Any] = {}
        self.raw: dict[int, tuple[int, int]] = {}


class _Tiff:
    """A TIFF structure: classic (32-bit offsets, 12-byte entries) or BigTIFF (64-bit, 20-byte)."""

    def __init__(self, data: bytes, endian: str, big: bool = False) -> None:
        self.data = data
        self.endian = endian
        self.big = big
        # Struct codes and sizes of an IFD's entry count, an offset, and an entry.
        self.count_code, self.offset_code = ("Q", "Q") if big else ("H", "I")
        self.count_size, self.offset_size = (8, 8) if big else (2, 4)
        self.entry_size = 4 + 2 * self.offset_size
        self.seen: set[int] = set()

    @classmethod
    def from_block(cls, block: bytes) -> _Tiff | None:
        data = bytes(block[6:]) if block[:4] == b"Exif" else bytes(block)
        if len(data) < 8:
            return None
        endian = {b"II": "<", b"MM": ">"}.get(data[:2])
        if endian is None:
            return None
        magic = struct.unpack_from(endian + "H", data, 2)[0]
        if magic == 42:
            return cls(data, endian)
        if magic == 43 and len(data) >= 16 and struct.unpack_from(endian + "HH", data, 4) == (8, 0):
            return cls(data, endian, big=True)
        return None

    @property
    def first_ifd(self) -> int:
        offset: int = self.unpack(self.offset_code, 8 if self.big else 4)[0]
        return offset

    def unpack(self, code: str, offset: int, count: int = 1) -> tuple[Any, ...]:
        return struct.unpack_from(f"{self.endian}{count}{code}", self.data, offset)

    def sub_ifd(self, parent: _Ifd, pointer_tag: int, group: str) -> _Ifd | None:
        offset = parent.by_id.get(pointer_tag)
        if not isinstance(offset, int):
            return None
        return self.read_ifd(offset, group)[0]

    def read_ifd(self, offset: int, group: str) -> tuple[_Ifd, int]:
        """The IFD at ``offset`` and the offset of the next one (0 for none)."""
        ifd = _Ifd()
        size = len(self.data)
        if offset in self.seen or offset < 8 or offset + self.count_size > size:
            return ifd, 0
        self.seen.add(offset)
        count = self.unpack(self.count_code, offset)[0]
        if count > MAX_ENTRIES:
            return ifd, 0
        first = offset + self.count_size
        count = min(count, (size - first) // self.entry_size)
        names = _names_for(group)
        for i in range(count):
            entry = first + self.entry_size * i
            tag, field_type, n = self.unpack("HH" + self.offset_code, entry)
            if field_type not in FIELD_TYPES:
                continue
            _, width = FIELD_TYPES[field_type]
            length = n * width
            value_at = entry + 4 + self.offset_size  # the value itself when it fits, else its offset
            where = value_at if length <= self.offset_size else self.unpack(self.offset_code, value_at)[0]
            if where + length > size or (n == 0 and field_type != ASCII):
                continue
            if tag in EMBEDDED_TAGS:
                ifd.raw[tag] = (where, length)
                continue
            value = self.decode(tag, field_type, n, where, group)
            name = names.get(tag) or f"Tag0x{tag:04X}"
            ifd.values[name] = value
            ifd.by_id[tag] = value
        next_at = first + self.entry_size * count
        following = self.unpack(self.offset_code, next_at)[0] if next_at + self.offset_size <= size else 0
        return ifd, following

    def decode(self, tag: int, field_type: int, n: int, where: int, group: str) -> Any:
        code, width = FIELD_TYPES[field_type]
        raw = self.data[where : where + n * width]
        if field_type == ASCII:
            return _text(raw.split(b"\x00", 1)[0])
        if field_type in (BYTE, UNDEFINED):
            text = _text_tag(tag, raw, group, self.endian)
            if text is not None:
                return text
        if field_type == UNDEFINED:
            return raw[0] if n == 1 else list(raw)
        values: list[int | float | None]
        if field_type in (RATIONAL, SRATIONAL):
            pairs = self.unpack(code, where, 2 * n)
            values = [_ratio(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]
        else:
            values = [json_number(v) for v in self.unpack(code, where, n)]
        return values[0] if n == 1 else values


def _names_for(group: str) -> dict[int, str]:
    if group == "gps":
        return GPS_TAGS
    overrides = EXIF_TAGS_BY_IFD.get(IFD_OF_GROUP.get(group, ""), {})
    return {**EXIF_TAGS, **overrides} if overrides else EXIF_TAGS


def _ratio(num: int, den: int) -> int | float | None:
    if den == 0:
        return None
    if num % den == 0:
        return num // den
    return num / den


def _text(raw: bytes) -> str:
    """Text bytes as a string: UTF-8 where they are UTF-8, else Latin-1 (one byte, one character).

    Bytes that hold UTF-8 sequences as well as stray bytes are UTF-8 with the strays replaced.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if UTF8_SEQUENCE.search(raw):
            return raw.decode("utf-8", "replace")
        return raw.decode("latin-1")


def coded_text(raw: bytes, endian: str) -> str:
    """UserComment-style text: an 8-byte character-code header, then the text (EXIF 2.3, 4.6.5).

    >>> coded_text(b"ASCII\0\0\0Hello  ", "<")
    'Hello'
    """
    header, body = raw[:8], raw[8:]
    if header == b"UNICODE\x00":
        text = _utf16(body, endian)
    elif header == b"JIS\x00\x00\x00\x00\x00":
        text = _jis(body)
    elif header in (b"ASCII\x00\x00\x00", b"\x00" * 8):
        text = _text(body)
    else:  # no header, or one of no known code: the bytes are the text, as ExifTool shows them
        text = _text(raw.replace(b"\x00", b""))
    return text.split("\x00", 1)[0].rstrip(" ")


def _utf16(body: bytes, endian: str) -> str:
    """UTF-16 text: by its byte-order mark, else by where its zero bytes are, else in the file's order.

    Writers disagree on the order (Microsoft Photo writes little-endian even in big-endian
    EXIF); in text of Latin letters every other byte is zero, which tells the order.
    """
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return body.decode("utf-16", "replace")
    body = body[: len(body) // 2 * 2]
    zeros_first, zeros_second = body[0::2].count(0), body[1::2].count(0)
    big = zeros_first > zeros_second if zeros_first != zeros_second else endian == ">"
    return body.decode("utf-16-be" if big else "utf-16-le", "replace")


def _jis(body: bytes) -> str:
    """JIS-coded text: JIS X 0208 byte pairs (as EXIF means), else ISO-2022-JP or Shift-JIS."""
    body = body.split(b"\x00", 1)[0]
    if len(body) % 2 == 0 and all(0x21 <= b <= 0x7E for b in body):
        try:  # EUC-JP is JIS X 0208 with the high bits set
            return bytes(b | 0x80 for b in body).decode("euc_jp")
        except UnicodeDecodeError:
            pass
    for codec in ("iso2022_jp", "shift_jis"):
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            continue
    return _text(body)


def _xp_text(raw: bytes) -> str:
    """An XP* tag (Windows Explorer's title, comment...): UTF-16LE up to its first NUL."""
    return raw[: len(raw) // 2 * 2].decode("utf-16-le", "replace").split("\x00", 1)[0]


def _text_tag(tag: int, raw: bytes, group: str, endian: str) -> str | None:
    """The text of a tag stored as bytes, for the tags that hold text; None for the others."""
    if tag in VERSION_TAGS and group != "gps":
        return _text(raw.rstrip(b"\x00"))
    if (tag == USER_COMMENT and group == "exif") or (tag in GPS_TEXT_TAGS and group == "gps"):
        return coded_text(raw, endian)
    if tag in XP_TAGS and group != "gps":
        return _xp_text(raw)
    return None
