"""What a file says of where it came from: the evidence the best-copy rule weighs to keep an
original over an export, an edit or a damaged copy (:mod:`ikmeta.dupes.rank`).

    >>> libjpeg_quality({0: scaled(LUMA, 95), 1: scaled(CHROMA, 95)})
    95

All of it is read from what hashing already has in hand (the bytes, the EXIF, the JPEG tables,
the grey sample), so it costs next to nothing:

- ``software`` and ``modified``: EXIF ``Software`` and ``ModifyDate`` (an editor writes both);
- ``exifSize``: EXIF ``PixelXDimension`` x ``PixelYDimension``, the size when the EXIF was
  written (an upscale that kept the EXIF still says the size it was made from);
- ``tables``: a JPEG's quantisation tables, ``"libjpeg"`` when they are the IJG's example
  tables scaled to a quality (what encoders write: Pillow, GIMP, ImageMagick, most exporters;
  ExifTool's JPEGDigest rests on this), ``"own"`` when they are not (what most cameras write);
- ``makerNote`` and ``thumbnail``: whether the EXIF keeps the camera's maker note and thumbnail
  (a conversion often drops them);
- ``band``: a plain band along one side (a caption strip added below a photo), and its share of
  the picture (:func:`ikmeta.image.borders.band_side`);
- ``head``: a digest of the first 4 KiB, so that a truncated copy is matched with its file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from .exif_values import parse_captured

HEAD_BYTES = 4096  # what the head digest covers
# The IJG's example tables (JPEG standard, Annex K), in natural order.
LUMA = (
    *(16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55),
    *(14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62),
    *(18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92),
    *(49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99),
)
CHROMA = (
    *(17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99),
    *(24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99),
    *(99,) * 32,
)


def scaled(base: Sequence[int], quality: int) -> tuple[int, ...]:
    """An IJG example table scaled to ``quality`` 1..100, as libjpeg's ``jpeg_set_quality``
    does it (baseline: entries kept to 1..255)."""
    factor = 5000 // quality if quality < 50 else 200 - 2 * quality
    return tuple(min(255, max(1, (v * factor + 50) // 100)) for v in base)


_LIBJPEG = {(scaled(LUMA, q), scaled(CHROMA, q)): q for q in range(1, 101)}
_LIBJPEG_GREY = {scaled(LUMA, q): q for q in range(1, 101)}


def libjpeg_quality(tables: Mapping[int, Sequence[int]]) -> int | None:
    """The IJG quality whose scaled example tables these are (Pillow's ``Image.quantization``),
    or None when they are a camera's or an encoder's own.

    >>> libjpeg_quality({0: [2] * 64}) is None
    True
    """
    luma, chroma = tables.get(0), tables.get(1)
    if not luma or len(luma) != 64:
        return None
    if chroma is None or len(tables) == 1:
        return _LIBJPEG_GREY.get(tuple(luma))
    if len(chroma) != 64:
        return None
    return _LIBJPEG.get((tuple(luma), tuple(chroma)))


def provenance_of(
    data: bytes,
    groups: Mapping[str, Mapping[str, Any]],
    quantization: Mapping[int, Sequence[int]] | None,
    fmt: str,
    band: tuple[str, float] | None,
) -> dict[str, Any]:
    """The provenance object of a file: its ``data``, EXIF ``groups`` (as
    :func:`ikmeta.image.exif.read_exif` gives them), JPEG ``quantization`` tables, format and
    the plain ``band`` along one side of its picture, if any.

    >>> groups = {"image": {"Software": "GIMP 2.10"}, "exif": {}, "thumbnail": {}}
    >>> provenance_of(b"", groups, None, "png", None)["software"]
    'GIMP 2.10'
    """
    image, exif = groups.get("image", {}), groups.get("exif", {})
    tables = None
    if fmt == "jpg" and quantization:
        tables = "libjpeg" if libjpeg_quality(quantization) is not None else "own"
    return {
        "software": _text(image.get("Software")),
        "modified": _iso(image.get("ModifyDate")),
        "exifSize": _exif_size(exif),
        "tables": tables,
        "makerNote": "MakerNote" in exif,
        "thumbnail": bool(groups.get("thumbnail")),
        "band": None if band is None else {"side": band[0], "share": round(band[1], 4)},
        "head": head_digest(data),
    }


def head_digest(data: bytes) -> str:
    """A digest of the first :data:`HEAD_BYTES` bytes (all of a shorter file), 16 hex digits."""
    return hashlib.blake2b(data[:HEAD_BYTES], digest_size=8).hexdigest()


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:200] or None


def _iso(value: Any) -> str | None:
    """An EXIF date ("2026:01:02 03:04:05") as ISO 8601, or None when it is not a sound one."""
    text = _text(value)
    if text is None or len(text) < 19:
        return None
    iso = f"{text[0:4]}-{text[5:7]}-{text[8:10]}T{text[11:19]}"
    return iso if parse_captured(iso) is not None else None


def _exif_size(exif: Mapping[str, Any]) -> list[int] | None:
    width, height = exif.get("ExifImageWidth"), exif.get("ExifImageHeight")
    if isinstance(width, int) and isinstance(height, int) and 0 < width < 2**31 and 0 < height < 2**31:
        return [width, height]
    return None
