"""What is grouped and what a group is: :class:`Item` (an image's pHash, views and what ranks it
as a copy) and :class:`Group` (a reference and its members).

    >>> item = Item("a.jpg", "f06830ca9f1e3e90", 4000, 3000, 2_400_000)
    >>> Group(item, [(item, 0)]).as_object()["reference"]
    'a.jpg'
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeAlias


@dataclass(frozen=True)
class Provenance:
    """What a file says of where it came from (:func:`ikmeta.image.provenance.provenance_of`):
    the evidence :mod:`ikmeta.dupes.rank` weighs besides pixels. Each is None (or False) when
    unknown or absent."""

    damage: str | None = None  # "truncated": the file's data ends early
    software: str | None = None  # EXIF Software
    modified: str | None = None  # EXIF ModifyDate, ISO 8601
    exif_size: tuple[int, int] | None = None  # EXIF PixelXDimension x PixelYDimension
    tables: str | None = None  # a JPEG's quantisation tables: "libjpeg" (the IJG's, scaled) or "own"
    maker_note: bool = False  # the EXIF keeps a maker note
    thumbnail: bool = False  # the EXIF keeps a thumbnail
    band: tuple[str, float] | None = None  # a plain band along one side (a caption's), its share
    head: str | None = None  # a digest of the first 4 KiB
    prefix_of: str | None = None  # a truncated file: the file whose first bytes it is

    def __repr__(self) -> str:
        """What is known, only: ``Provenance(software='GIMP 2.10')``, ``Provenance()``."""
        return _readable_repr(self)


NO_PROVENANCE = Provenance()


@dataclass(frozen=True)
class Item:
    """One image to group: its source, pHash (hex) and what ranks it as a copy."""

    source: str
    phash: str
    width: int | None = None
    height: int | None = None
    size: int | None = None
    flat: bool = False
    colour: str | None = None  # a flat item's mean colour, "#rrggbb" (None when unknown)
    # What the best-copy rule (ikmeta.dupes.rank) weighs besides pixels and size; None when unknown.
    format: str | None = None  # ikmeta's short name: jpg, png, heic...
    quality: int | None = None  # a JPEG's estimated quality
    camera: str | None = None  # EXIF Make and Model
    captured: str | None = None  # EXIF DateTimeOriginal, ISO 8601
    mtime_ns: int | None = None  # the file's modification time
    # Other views of the picture: the pHashes of it turned each way of TURNS, of it inside a
    # plain border, then of its WINDOWS; each the item's own pHash where it has no such view.
    # As VIEWS (18) big-endian 64-bit words (144 bytes: a million items hold them in 144 MB);
    # None when none is known.
    views: bytes | None = None
    inner_pixels: int | None = None  # the picture's pixels inside a plain border, if it has one
    provenance: Provenance = NO_PROVENANCE
    also_at: tuple[str, ...] = ()  # the file's other names (hard links to it)
    # A video's, None for an image: how long it plays (seconds), its bit rate (the video stream's,
    # kbps), whether it has sound, and its fingerprint's key frames (time, pHash, and the
    # pHashes of the picture turned 90, 180 and 270 degrees clockwise; see ikmeta.video), and
    # the displayed size of the picture inside letterbox bars (its pixels are inner_pixels),
    # and its video codec (FFmpeg's name: h264, hevc, vp9...).
    duration: float | None = None
    bit_rate: int | None = None
    sound: bool | None = None
    frames: tuple[VideoFrame, ...] | None = None
    picture: tuple[int, int] | None = None
    codec: str | None = None
    # A video's seconds of one colour at its start and at its end (ikmeta.video.blanks), where
    # its group's lengths differ and its file was decoded for them; None when not measured.
    blank: tuple[float, float] | None = None

    def __repr__(self) -> str:
        """The source and pHash, then what is known (fields at their default left out), the
        views as a count rather than their bytes: ``Item(source='a.jpg',
        phash='f06830ca9f1e3e90', width=4000, height=3000, size=2400000, views=<18 views>)``."""
        return _readable_repr(self)

    @property
    def pixels(self) -> int:
        """Pixels as displayed, of the picture (inside its frame, without a band along one
        side: a framed or captioned copy is no better)."""
        if self.inner_pixels is not None:
            return self.inner_pixels
        whole = (self.width or 0) * (self.height or 0)
        band = self.provenance.band
        return whole if band is None else round(whole * (1 - band[1]))

    @property
    def damaged(self) -> bool:
        return self.provenance.damage is not None

    @property
    def video(self) -> bool:
        """Whether the item is a video (it has a fingerprint's frames): grouped only with videos."""
        return self.frames is not None


# A video's key frame as an item holds it: (time in seconds, pHash, (turned 90, 180, 270)).
VideoFrame: TypeAlias = tuple[float, str, tuple[str, str, str]]


def _readable_repr(obj: Any) -> str:
    """``Name(field=value, ...)`` with the fields at their default left out and bytes shown
    as a count of 64-bit views (a repr to read, not to evaluate)."""
    parts = []
    for spec in fields(obj):
        value = getattr(obj, spec.name)
        if spec.default is not MISSING and value == spec.default:
            continue
        if isinstance(value, bytes):
            shown = f"<{len(value) // 8} views>"
        elif spec.name == "frames" and value is not None:
            shown = f"<{len(value)} frames>"
        else:
            shown = repr(value)
        parts.append(f"{spec.name}={shown}")
    return f"{type(obj).__name__}({', '.join(parts)})"


@dataclass
class Group:
    """A reference (the best copy) and its members with their pHash distance to it, reference
    first; the distance is None in a group of flat images (grouped by colour). ``matches``
    says, for each member, how it matched when not as it stands: "rotated 90", "mirrored"...
    (:data:`ikmeta.hashes.TURNS`), "framed", "cropped", "edge differs", "truncated"..., else None."""

    reference: Item
    members: list[tuple[Item, int | None]]
    matches: list[str | None] = field(default_factory=list)
    # For each member, the evidence that places it (ikmeta.dupes.evidence): "truncated",
    # "upscaled ~1.5x", "band along the bottom (14%)"...
    why: list[list[str]] = field(default_factory=list)

    def match_of(self, k: int) -> str | None:
        return self.matches[k] if k < len(self.matches) else None

    def why_of(self, k: int) -> list[str]:
        return self.why[k] if k < len(self.why) else []

    def as_object(self) -> dict[str, Any]:
        """The group as ``ikmeta dupes --json`` prints it: reference, then files (reference first)."""
        from .report import group_object

        return group_object(self)
