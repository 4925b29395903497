"""The stored size of a HEIF/AVIF image: the ``ispe`` property of its primary item.

Pillow's HEIF and AVIF readers report the size after the container's rotation
(``irot``); ImageKit and ExifTool report the stored size, which this reads.

    >>> stored_size(heic_bytes)
    (4032, 3024)
"""

from __future__ import annotations

import struct
from collections.abc import Iterator


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
    except (struct.error, IndexError):
        return None


def _exif_block(data: bytes) -> bytes | None:
    meta = child(data, 0, len(data), b"meta")
    if meta is None:
        return None
    start, end = meta[0] + 4, meta[1]
    iinf, iloc = child(data, start, end, b"iinf"), child(data, start, end, b"iloc")
    if iinf is None or iloc is None:
        return None
    item = _exif_item(data, *iinf)
    if item is None:
        return None
    extent = _item_extent(data, *iloc, item)
    if extent is None:
        return None
    offset, length = extent
    payload = data[offset : offset + length] if length else data[offset:]
    if len(payload) < 4:
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


def _exif_item(data: bytes, start: int, end: int) -> int | None:
    """The item ID of the ``infe`` entry whose type is 'Exif'."""
    version = data[start]
    pos = start + 4 + (2 if version == 0 else 4)  # FullBox header, then entry count
    for kind, s, _ in boxes(data, pos, end):
        if kind != b"infe" or data[s] < 2:
            continue
        infe_version = data[s]
        item_id: int
        if infe_version == 2:
            item_id, item_type = struct.unpack_from(">H", data, s + 4)[0], data[s + 8 : s + 12]
        else:
            item_id, item_type = struct.unpack_from(">I", data, s + 4)[0], data[s + 10 : s + 14]
        if item_type == b"Exif":
            return item_id
    return None


def _item_extent(data: bytes, start: int, end: int, item: int) -> tuple[int, int] | None:
    """(file offset, length) of ``item``'s first extent in ``iloc`` (construction method 0)."""
    version = data[start]
    sizes = data[start + 4 : start + 6]
    offset_size, length_size = sizes[0] >> 4, sizes[0] & 15
    base_size, index_size = sizes[1] >> 4, (sizes[1] & 15 if version in (1, 2) else 0)
    pos = start + 6
    if version < 2:
        count = struct.unpack_from(">H", data, pos)[0]
        pos += 2
    else:
        count = struct.unpack_from(">I", data, pos)[0]
        pos += 4

    def read(size: int) -> int:
        nonlocal pos
        value = int.from_bytes(data[pos : pos + size], "big") if size else 0
        pos += size
        return value

    for _ in range(count):
        item_id = read(2 if version < 2 else 4)
        method = read(2) & 15 if version in (1, 2) else 0
        read(2)  # data_reference_index
        base = read(base_size)
        extents = read(2)
        first = None
        for _ in range(extents):
            read(index_size)
            extent_offset, extent_length = read(offset_size), read(length_size)
            if first is None:
                first = (base + extent_offset, extent_length)
        if item_id == item:
            return first if method == 0 else None
        if pos > end:
            break
    return None
