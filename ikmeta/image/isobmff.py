"""What ikmeta reads from the boxes of a HEIF/AVIF file (ISO/IEC 14496-12, 23008-12).

The stored size, the ``ispe`` property of its primary item: Pillow's HEIF and AVIF readers
report the size after the container's rotation (``irot``); ImageKit and ExifTool report the
stored size. The ``Exif`` item. And whether the primary image's coded data is all in the file
(its ``iloc`` extents, and those of a grid's tiles): a file cut short still opens, and
pillow-heif may decode it from a thumbnail early in the file without noticing.

    >>> stored_size(heic_bytes)
    (4032, 3024)
    >>> missing_image_data(heic_bytes[:100000])
    'the image data runs to byte 2084929, the file has 100000'
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in ``data[start:end]``."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for k, s, e in boxes(data, start, end):
        if k == kind:
            return s, e
    return None


def stored_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the primary item's ``ispe``, or None when the file has none."""
    try:
        return _stored_size(data)
    except (struct.error, IndexError):
        return None


def _stored_size(data: bytes) -> tuple[int, int] | None:
    meta = child(data, 0, len(data), b"meta")
    if meta is None:
        return None
    start, end = meta[0] + 4, meta[1]  # meta is a FullBox
    pitm, iprp = child(data, start, end, b"pitm"), child(data, start, end, b"iprp")
    if pitm is None or iprp is None:
        return None
    version = data[pitm[0]]
    primary = struct.unpack_from(">H" if version == 0 else ">I", data, pitm[0] + 4)[0]
    ipco, ipma = child(data, *iprp, b"ipco"), child(data, *iprp, b"ipma")
    if ipco is None or ipma is None:
        return None
    properties = list(boxes(data, *ipco))
    for index in _associations(data, *ipma, primary):
        if 0 < index <= len(properties) and properties[index - 1][0] == b"ispe":
            width, height = struct.unpack_from(">II", data, properties[index - 1][1] + 4)
            return width, height
    return None


def _associations(data: bytes, start: int, end: int, item: int) -> list[int]:
    """1-based ``ipco`` indices of the properties ``ipma`` gives ``item``."""
    version, flags = data[start], int.from_bytes(data[start + 1 : start + 4], "big")
    count = struct.unpack_from(">I", data, start + 4)[0]
    pos = start + 8
    for _ in range(count):
        if version < 1:
            item_id = struct.unpack_from(">H", data, pos)[0]
            pos += 2
        else:
            item_id = struct.unpack_from(">I", data, pos)[0]
            pos += 4
        n = data[pos]
        pos += 1
        wide = flags & 1
        indices = []
        for _ in range(n):
            if wide:
                indices.append(struct.unpack_from(">H", data, pos)[0] & 0x7FFF)
                pos += 2
            else:
                indices.append(data[pos] & 0x7F)
                pos += 1
        if item_id == item:
            return indices
        if pos > end:
            break
    return []


def exif_block(data: bytes) -> bytes | None:
    """The TIFF-structured EXIF block of a HEIF/AVIF file (its ``Exif`` item), or None."""
    try:
        return _exif_block(data)
    except (struct.error, IndexError, ValueError):
        return None


def _exif_block(data: bytes) -> bytes | None:
    items = read_items(data)
    if items is None:
        return None
    item = next((i for i, kind in items.types.items() if kind == b"Exif"), None)
    if item is None:
        return None
    payload = items.item_data(data, item)
    if payload is None or len(payload) < 4:
        return None
    skip = struct.unpack_from(">I", payload, 0)[0]  # bytes before the TIFF header (often 'Exif\0\0')
    block = payload[4 + skip :]
    if block[:4] not in (b"II*\x00", b"MM\x00*"):
        # Some writers get the offset wrong; look for the TIFF header near the start.
        for marker in (b"II*\x00", b"MM\x00*"):
            found = payload.find(marker, 0, 64)
            if found >= 0:
                return payload[found:]
        return None
    return block


# --- where each item's data is: iloc, iinf, iref, pitm ----------------------------------------

FILE_OFFSETS, IDAT_OFFSETS, ITEM_OFFSETS = 0, 1, 2  # iloc construction methods
FIELD_SIZES = (0, 4, 8)  # the byte sizes iloc allows for offset, length, base_offset and index


class IlocError(ValueError):
    """An ``iloc`` box that does not follow ISO/IEC 14496-12 (8.11.3)."""


@dataclass(frozen=True)
class Extent:
    """One piece of an item's data: ``length`` bytes at ``offset`` (0: to the end of the file or idat).

    ``offset`` is relative to the item's ``base_offset``; ``index`` is the extent_index (iloc 1 and 2).
    """

    offset: int
    length: int
    index: int = 0


@dataclass(frozen=True)
class Location:
    """An item's ``iloc`` entry."""

    construction_method: int  # 0: file offsets, 1: offsets in the meta box's idat, 2: in other items
    data_reference_index: int  # 0: this file
    base_offset: int
    extents: tuple[Extent, ...]

    def spans(self) -> list[tuple[int, int | None]]:
        """(start, end) of each extent, base_offset applied; end None: to the end of the file or idat."""
        return [
            (self.base_offset + e.offset, self.base_offset + e.offset + e.length if e.length else None)
            for e in self.extents
        ]


def parse_iloc(data: bytes, start: int, end: int) -> dict[int, Location]:
    """The entries of the ``iloc`` box whose payload is ``data[start:end]``, by item ID.

    Versions 0, 1 and 2; offset, length and base_offset of 0, 4 or 8 bytes (and index, from
    version 1). Raises :class:`IlocError` for another version or size, or when the entries
    run past the box. An item listed twice keeps its first entry.
    """
    pos = start

    def read(size: int) -> int:
        nonlocal pos
        if pos + size > end:
            raise IlocError(f"iloc box ends at byte {end - start} of its payload, inside an entry")
        value = int.from_bytes(data[pos : pos + size], "big")
        pos += size
        return value

    version = read(1)
    read(3)  # flags
    if version > 2:
        raise IlocError(f"iloc version {version} (0, 1 or 2 expected)")
    sizes = read(2)
    offset_size, length_size, base_size = sizes >> 12, sizes >> 8 & 15, sizes >> 4 & 15
    index_size = sizes & 15 if version >= 1 else 0  # reserved in version 0
    for name, size in (("offset", offset_size), ("length", length_size), ("base_offset", base_size)):
        if size not in FIELD_SIZES:
            raise IlocError(f"iloc {name}_size {size} (0, 4 or 8 expected)")
    if index_size not in FIELD_SIZES:
        raise IlocError(f"iloc index_size {index_size} (0, 4 or 8 expected)")
    id_size = 2 if version < 2 else 4
    count = read(id_size)
    locations: dict[int, Location] = {}
    for _ in range(count):
        item_id = read(id_size)
        method = read(2) & 15 if version >= 1 else FILE_OFFSETS  # 12 reserved bits, then the method
        reference = read(2)
        base = read(base_size)
        extents = []
        for _ in range(read(2)):
            index = read(index_size)
            offset = read(offset_size)
            extents.append(Extent(offset, read(length_size), index))
        locations.setdefault(item_id, Location(method, reference, base, tuple(extents)))
    return locations


def parse_iinf(data: bytes, start: int, end: int) -> dict[int, bytes]:
    """Item type (``hvc1``, ``av01``, ``grid``, ``Exif``...) by item ID, from ``infe`` boxes 2 and 3."""
    version = data[start]
    pos = start + 4 + (2 if version == 0 else 4)  # FullBox header, then entry count
    types: dict[int, bytes] = {}
    for kind, s, _ in boxes(data, pos, end):
        if kind != b"infe" or data[s] < 2:
            continue
        if data[s] == 2:
            item_id, item_type = struct.unpack_from(">H", data, s + 4)[0], data[s + 8 : s + 12]
        else:
            item_id, item_type = struct.unpack_from(">I", data, s + 4)[0], data[s + 10 : s + 14]
        types.setdefault(item_id, item_type)
    return types


def parse_iref(data: bytes, start: int, end: int) -> dict[bytes, dict[int, list[int]]]:
    """``{reference type: {from item: [to items]}}``: ``dimg`` (a derived image's inputs), ``thmb``..."""
    wide = data[start] >= 1  # version 1: 32-bit item IDs
    fmt, step = (">I", 4) if wide else (">H", 2)
    references: dict[bytes, dict[int, list[int]]] = {}
    for kind, s, e in boxes(data, start + 4, end):
        from_item = struct.unpack_from(fmt, data, s)[0]
        count = struct.unpack_from(">H", data, s + step)[0]
        first = s + step + 2
        if first + count * step > e:
            continue
        to_items = [struct.unpack_from(fmt, data, first + i * step)[0] for i in range(count)]
        references.setdefault(kind, {}).setdefault(from_item, []).extend(to_items)
    return references


@dataclass
class Items:
    """The items of a HEIF/AVIF file's ``meta`` box."""

    primary: int | None
    types: dict[int, bytes]
    locations: dict[int, Location]
    references: dict[bytes, dict[int, list[int]]]
    idat: tuple[int, int] | None  # the idat box's payload (start, end) in the file

    def image_items(self, item: int) -> list[int]:
        """``item`` and the items it is derived from (``dimg``: a grid's tiles), recursively."""
        found: dict[int, None] = {}  # in the order found
        todo = [item]
        while todo:
            current = todo.pop()
            if current not in found:
                found[current] = None
                todo += reversed(self.references.get(b"dimg", {}).get(current, []))
        return list(found)

    def missing(self, size: int, items: list[int]) -> str | None:
        """Why some data of ``items`` lies outside a file of ``size`` bytes (or outside its idat
        box), or None when all of it is there; an item the file cannot say about (no iloc entry,
        data in another file or built from other items) counts as there."""
        needed = 0
        for item in items:
            location = self.locations.get(item)
            if location is None or location.data_reference_index != 0:
                continue
            for start, end in location.spans():
                stop = end if end is not None else start + 1  # to the end: at least a byte
                if location.construction_method == FILE_OFFSETS:
                    needed = max(needed, stop)
                elif location.construction_method == IDAT_OFFSETS:
                    room = self.idat[1] - self.idat[0] if self.idat else 0
                    if stop > room:
                        return f"item {item}'s data runs past its idat box ({room} bytes)"
        if needed > size:
            return f"the image data runs to byte {needed}, the file has {size}"
        return None

    def item_data(self, data: bytes, item: int) -> bytes | None:
        """The bytes of ``item`` that ``data`` holds (its extents joined, a cut one as far as it
        goes), or None when it has no entry or its data is elsewhere (another file, other items)."""
        location = self.locations.get(item)
        if location is None or location.data_reference_index != 0:
            return None
        if location.construction_method == FILE_OFFSETS:
            origin, limit = 0, len(data)
        elif location.construction_method == IDAT_OFFSETS and self.idat:
            origin, limit = self.idat
        else:
            return None
        return b"".join(
            data[origin + start : origin + end if end is not None else limit]
            for start, end in location.spans()
        )


def read_items(data: bytes) -> Items | None:
    """The items of ``data``'s top-level ``meta`` box, or None when it has no complete one.

    Raises :class:`IlocError` (a ValueError), ``struct.error`` or IndexError for a malformed box.
    """
    meta = child(data, 0, len(data), b"meta")
    if meta is None:
        return None
    start, end = meta[0] + 4, meta[1]  # meta is a FullBox
    found = {kind: (s, e) for kind, s, e in reversed(list(boxes(data, start, end)))}  # the first of each
    if b"iloc" not in found:
        return None
    primary = None
    if b"pitm" in found:
        pitm = found[b"pitm"][0]
        primary = struct.unpack_from(">H" if data[pitm] == 0 else ">I", data, pitm + 4)[0]
    return Items(
        primary=primary,
        types=parse_iinf(data, *found[b"iinf"]) if b"iinf" in found else {},
        locations=parse_iloc(data, *found[b"iloc"]),
        references=parse_iref(data, *found[b"iref"]) if b"iref" in found else {},
        idat=found.get(b"idat"),
    )


def missing_image_data(data: bytes) -> str | None:
    """Why some coded data of the primary image (and of the tiles of a grid) is not in ``data``,
    as when the file was cut short, or None when all of it is there.

    Its ``meta`` box must be whole: None when the file has none, or one this cannot read.

    >>> missing_image_data(heic_bytes[:100000])
    'the image data runs to byte 2084929, the file has 100000'
    """
    return missing_data(data)[0]


def missing_data(data: bytes) -> tuple[str | None, str | None]:
    """Why some data of the primary image, and why some data of any item (a thumbnail, a
    depth or gain map, the Exif block: a file cut after its primary image's data), is not
    in ``data``; each None when all of it is there (or the ``meta`` box cannot tell).

    >>> missing_data(heic_bytes[:2100000])
    (None, 'the image data runs to byte 2182707, the file has 2100000')
    """
    items = _readable_items(data)
    if items is None:
        return None, None
    image = None if items.primary is None else items.missing(len(data), items.image_items(items.primary))
    return image, items.missing(len(data), list(items.locations))


def _readable_items(data: bytes) -> Items | None:
    """:func:`read_items`, or None for a ``meta`` box this cannot read."""
    try:
        return read_items(data)
    except (struct.error, IndexError, ValueError):
        return None
