"""Which bytes are a video, and in which container, from their first bytes alone (no library).

ISO base media files (MP4, MOV, M4V, 3GP) say so in an ``ftyp`` box, which HEIF and AVIF
images share: their brands tell them apart. Matroska and WebM start with an EBML header that
names the document type; AVI is a RIFF file of form ``AVI ``; an MPEG transport stream has a
sync byte every 188 bytes (192 in AVCHD's M2TS). Old QuickTime files may start with another
box (``moov``, ``mdat``, ``wide``, ``free``, ``skip``) and no ``ftyp``.

    >>> video_format(b"\\x00\\x00\\x00\\x18ftypmp42\\x00\\x00\\x00\\x00mp42isom")
    'mp4'
    >>> video_format(b"\\x00\\x00\\x00\\x18ftypheic\\x00\\x00\\x00\\x00mif1heic") is None
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ikmeta.sources.filebytes import FileBytes

HEAD = 1024  # bytes enough to tell a container by (a transport stream's packets come 188 or 192 apart)

# The containers ikmeta reads as videos, as file extensions (the ``format`` field).
CONTAINERS = ("mp4", "mov", "m4v", "3gp", "webm", "mkv", "avi", "ts", "m2ts")
ISO_CONTAINERS = ("mp4", "mov", "m4v", "3gp")

# ftyp brands of ISO base media files that hold images, not videos (HEIF, AVIF, their sequences).
IMAGE_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
)
QUICKTIME_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
EBML_MAGIC = b"\x1a\x45\xdf\xa3"


def video_format(data: bytes) -> str | None:
    """The container ``data`` starts as (one of :data:`CONTAINERS`), or None when it is not a
    video's start (an image, text, nothing ikmeta knows)."""
    if data[4:8] == b"ftyp":
        return _iso_format(data)
    if data[4:8] in QUICKTIME_BOXES and int.from_bytes(data[:4], "big") >= 8:
        return "mov"
    if data[:4] == EBML_MAGIC:
        return "webm" if b"webm" in data[:64] else "mkv"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "avi"
    if _in_step(data, 0, 188):
        return "ts"  # MPEG transport stream: a sync byte every 188 bytes
    if _in_step(data, 4, 192):
        return "m2ts"  # AVCHD's (camcorders' .MTS): each packet after a 4-byte time
    return None


def _in_step(data: bytes, first: int, step: int) -> bool:
    """Whether MPEG-TS sync bytes (0x47) stand at ``first`` and every ``step`` bytes after,
    as far as ``data`` goes (at least twice, at most five times)."""
    places = range(first, min(len(data), first + 5 * step), step)
    return len(places) >= 2 and all(data[at] == 0x47 for at in places)


def _iso_format(data: bytes) -> str | None:
    """mp4, mov, m4v or 3gp from an ``ftyp`` box's major and compatible brands; None for HEIF
    and AVIF images and raw stills, whose brands say so. A major brand that names a video
    decides; an unknown one beside image brands (and no video brand) is an image."""
    size = int.from_bytes(data[:4], "big")
    major = data[8:12]
    brands = {major} | {data[i : i + 4] for i in range(16, min(size, 256) - 3, 4)}
    if major in IMAGE_BRANDS or major in STILL_BRANDS:
        return None
    known_video = major in VIDEO_BRANDS or major.startswith(VIDEO_BRAND_PREFIXES)
    if not known_video and brands & IMAGE_BRANDS and not brands & VIDEO_BRANDS:
        return None
    if major == b"qt  ":
        return "mov"
    if major.startswith((b"3gp", b"3g2")):
        return "3gp"
    if major.startswith(b"M4V"):
        return "m4v"
    return "mp4"


# Brands that say a file holds a timed video track, whatever image brands it also lists
# (a phone's MP4 may list mif1 for its cover picture).
VIDEO_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"qt  ", b"M4V "}
    | {b"MSNV", b"mmp4", b"dash", b"f4v ", b"XAVC", b"M4VH", b"M4VP"}
)
VIDEO_BRAND_PREFIXES = (b"3gp", b"3g2", b"mp4", b"M4V")
STILL_BRANDS = frozenset({b"crx "})  # Canon's CR3 raw stills are ISO base media files too
# The boxes found at the top of an ISO base media file: past any other, this cannot tell.
TOP_BOXES = frozenset(
    {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"moof", b"mfra", b"meta"}
    | {b"pdin", b"styp", b"sidx", b"ssix", b"prft", b"emsg", b"pnot", b"mfro"}
)


def cut_short(data: bytes | FileBytes) -> str | None:
    """Why ``data`` ends before its container says it does (a copy or download cut short), or
    None when its top-level boxes (ISO base media), its Segment (Matroska, WebM) or its RIFF
    chunk (AVI) fit.

    >>> cut_short(b"\\x00\\x00\\x00\\x10ftypisom\\x00\\x00\\x00\\x00" + b"\\x00\\x00\\x10\\x00mdat" + bytes(8))
    'truncated: its mdat box runs to byte 4112, the file has 32'
    """
    fmt = video_format(data[:HEAD])
    if fmt in ("webm", "mkv"):
        return _matroska_cut_short(data)
    if fmt == "avi":
        end = 8 + int.from_bytes(data[4:8], "little")
        return (
            f"truncated: its RIFF chunk runs to byte {end}, the file has {len(data)}"
            if end > len(data)
            else None
        )
    if fmt not in ISO_CONTAINERS:
        return None  # (a transport stream is a run of packets: any cut is a whole file)
    pos = 0
    while pos < len(data):
        if pos + 8 > len(data) or (data[pos : pos + 4] == b"\0\0\0\1" and pos + 16 > len(data)):
            return f"truncated: the file ends inside a box's header, at byte {len(data)}"
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        if kind not in TOP_BOXES:
            return None  # not a box (bytes after the last one): nothing more this can tell
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:  # runs to the end of the file
            return None
        if size < 8:
            return None
        if pos + size > len(data):
            return f"truncated: its {kind.decode('ascii')} box runs to byte {pos + size}, the file has {len(data)}"
        pos += size
    return None


def _matroska_cut_short(data: bytes | FileBytes) -> str | None:
    """The Segment element's declared end against the file's (None when its size is unknown,
    as a live recording writes it)."""
    pos = 4
    header_size, pos = _vint(data, pos)
    if header_size is None:
        return None
    pos += header_size
    if data[pos : pos + 4] != b"\x18\x53\x80\x67":  # Segment
        return None
    size, start = _vint(data, pos + 4)
    if size is None or start + size <= len(data):
        return None
    return f"truncated: its Segment runs to byte {start + size}, the file has {len(data)}"


def _vint(data: bytes | FileBytes, pos: int) -> tuple[int | None, int]:
    """An EBML variable-size integer at ``pos``: (value, position after it); value None when
    unreadable or 'unknown' (all its value bits set)."""
    if pos >= len(data) or data[pos] == 0:
        return None, pos
    length = 8 - data[pos].bit_length() + 1
    if pos + length > len(data):
        return None, pos
    value = int.from_bytes(data[pos : pos + length], "big") & ((1 << (7 * length)) - 1)
    if value == (1 << (7 * length)) - 1:
        return None, pos + length
    return value, pos + length
