"""The metadata object of ImageKit's Metadata API, computed from an image's bytes.

    >>> report = inspect_blob(read_source("photo.jpg"))
    >>> report.metadata["exif"]["exif"]["ISO"], report.warnings
    (100, [])

Keys, in ImageKit's order after ``source``: height, width, size, format, hasColorProfile,
quality, density, hasTransparency, pHash, exif (see README "Output fields").
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from ikmeta.errors import ImageError
from ikmeta.sources.base import Blob, FetchOptions
from ikmeta.sources.read import read_source

from . import isobmff
from .borders import band_box, band_side, centred, inner_box
from .decode import DRAFT_FORMATS, decoding, load_reduced, open_image, png_chunk, short_format, shrink
from .exif import read_exif
from .exif_values import camera_from_exif, captured_from_exif
from .limits import MAX_PIXELS
from .perceptual import greyscale, low_frequencies, phash_of, turned_hashes, upright, window_hashes
from .provenance import provenance_of
from .quality import estimate_quality

DEFAULT_DENSITY = 72
EXIF_DENSITY_FORMATS = ("jpg", "tiff", "heic", "avif")  # where ImageMagick takes density from EXIF
# A 32x32 grey sample with less spread than this (std, 0-255 levels) is flat: a solid colour
# or a blank page, whose pHash is noise rather than a fingerprint.
FLAT_SPREAD = 1.5
TRUNCATED = "truncated image data: the pHash is of the part that decodes"
DAMAGE = "truncated"  # a damaged file's problem, as reports name it


@dataclass
class Report:
    """What one source gave: its metadata object (or just its hash) and any warnings."""

    source: str
    metadata: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def phash_source(
    source: str, fetch: FetchOptions | None = None, max_pixels: int | None = MAX_PIXELS
) -> Report:
    """:func:`phash_blob` of a path, ``-`` or URL; raises :class:`~ikmeta.errors.IkmetaError`."""
    return phash_blob(read_source(source, fetch=fetch), max_pixels)


def inspect_blob(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> Report:
    """The full metadata object of ``blob``; raises :class:`~ikmeta.errors.ImageError`, also
    for an image of more than ``max_pixels`` pixels (None or 0: no limit), before decoding it."""
    im, fmt, exif, metadata = _described(blob, max_pixels)
    hashed, warnings = hash_opened(blob, im, fmt, exif["image"].get("Orientation"))
    metadata["pHash"] = hashed.phash
    metadata["exif"] = exif
    return Report(blob.source, metadata, warnings)


def describe_blob(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> dict[str, Any]:
    """The metadata object of ``blob`` without ``pHash`` and ``exif``: what its header says
    (size, format, colour profile, quality, density, transparency), read without decoding the
    picture (a millisecond or two, where :func:`inspect_blob` takes tens). Raises as it does.

        >>> describe_blob(read_source("examples/harbour.jpg"))["width"]
        800
    """
    return _described(blob, max_pixels)[3]


def _described(blob: Blob, max_pixels: int | None) -> tuple[Image.Image, str, dict[str, Any], dict[str, Any]]:
    """The opened image, its short format, its EXIF groups and its metadata object but for
    ``pHash`` and ``exif``."""
    im = open_image(blob, max_pixels)
    fmt = short_format(im)
    block = exif_block(blob, im, fmt)
    exif = read_exif(block) if block else read_exif(b"")
    width, height = stored_size(blob, im, fmt, exif["image"])
    metadata = {
        "source": blob.source,
        "height": height,
        "width": width,
        "size": len(blob.data),
        "format": fmt,
        "hasColorProfile": has_color_profile(blob.data, im, fmt),
        "quality": estimate_quality(getattr(im, "quantization", None) or {}) if fmt == "jpg" else 0,
        "density": density(im, fmt, exif["image"]),
        "hasTransparency": has_transparency(im),
    }
    return im, fmt, exif, metadata


def phash_blob(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> Report:
    """The pHash of ``blob`` (the same as :func:`inspect_blob` reports), read as cheaply as
    possible, with what ranks it among its copies (see :mod:`ikmeta.dupes.rank`). An image of
    more than ``max_pixels`` pixels (None or 0: no limit) is an :class:`ImageError`.

    Its metadata: ``source``, ``pHash``; for a flat image (a solid colour, a blank page: the
    hash carries no information) its mean colour as ``flat`` (``"#rrggbb"``), else None;
    ``width`` and ``height`` as displayed (after the EXIF orientation), ``size`` (bytes),
    ``format``, ``quality`` (a JPEG's, else 0), ``camera`` (EXIF Make and Model),
    ``captured`` (EXIF DateTimeOriginal, ISO 8601) and ``mtimeNs`` (a file's modification
    time in nanoseconds), each None when unknown; ``provenance``
    (:func:`ikmeta.image.provenance.provenance_of`) and ``damage`` ("truncated" when the
    file's data ends early, else None).

        >>> phash_blob(read_source("examples/harbour.jpg")).metadata["camera"]
        'ikmeta Sample Camera 1'
    """
    im = open_image(blob, max_pixels)
    fmt = short_format(im)
    block = exif_block(blob, im, fmt)
    groups = read_exif(block or b"", makernote=False)
    stored = stored_size(blob, im, fmt, groups["image"])
    opened = im.size  # before a reduced decode changes it: as Pillow reports it, maybe turned
    hashed, warnings = hash_opened(blob, im, fmt, groups["image"].get("Orientation"), colour=True)
    width, height = displayed_size(stored, opened, hashed.turned)
    metadata = {
        "source": blob.source,
        "pHash": hashed.phash,
        "flat": (hashed.colour or mean_colour(blob)) if hashed.spread < FLAT_SPREAD else None,
        "width": width,
        "height": height,
        "size": len(blob.data),
        "format": fmt,
        "quality": estimate_quality(getattr(im, "quantization", None) or {}) if fmt == "jpg" else 0,
        "camera": camera_from_exif(groups["image"]),
        "captured": captured_from_exif(groups["exif"]),
        "mtimeNs": blob.mtime_ns,
        # The pHash of the picture rotated 90, 180, 270, mirrored, and mirrored then rotated
        # (as TURNS lists them): what finds turned copies. None for a flat image.
        "turned": None if hashed.spread < FLAT_SPREAD or not hashed.turns else list(hashed.turns),
        # The picture inside a plain border (a frame, letterbox bars): its pHash and size as
        # displayed; None without such a border.
        "inner": None
        if hashed.spread < FLAT_SPREAD or hashed.inner is None
        else inner_object(hashed, width, height),
        # The pHashes of the windows of ikmeta.hashes.WINDOWS (the picture trimmed all round,
        # or on one side): what finds cropped and captioned copies; the pHash itself for a
        # nearly blank window. None for a flat image.
        "windows": None if hashed.spread < FLAT_SPREAD or not hashed.windows else list(hashed.windows),
        # What the file says of where it came from (ikmeta.image.provenance): evidence that it
        # is an export, an edit or damaged, weighed when its copies are ranked.
        "provenance": provenance_of(blob.data, groups, getattr(im, "quantization", None), fmt, hashed.band),
        "damage": DAMAGE if TRUNCATED in warnings else None,
    }
    return Report(blob.source, metadata, warnings)


def inner_object(hashed: Hashed, width: int, height: int) -> dict[str, Any]:
    """The ``inner`` object: the picture inside the border's pHash, width and height (displayed),
    and whether the border is centred (only then does the picture count as smaller)."""
    share_x, share_y = hashed.inner_share
    return {
        "pHash": hashed.inner,
        "width": max(1, round(width * share_x)),
        "height": max(1, round(height * share_y)),
        "centred": hashed.inner_centred,
    }


def displayed_size(stored: tuple[int, int], opened: tuple[int, int], turned: bool) -> tuple[int, int]:
    """The stored (width, height) as displayed: turned when exactly one of Pillow (which
    reports HEIF and TIFF sizes already rotated: ``opened``) and ikmeta's own orientation
    step (``turned``: EXIF orientation 5 to 8 still applied) swapped the axes.

    >>> displayed_size((1000, 999), (1000, 999), True), displayed_size((4032, 3024), (3024, 4032), False)
    ((999, 1000), (3024, 4032))
    """
    width, height = stored
    by_pillow = width != height and opened == (height, width)
    return (height, width) if by_pillow != turned else (width, height)


def mean_colour(blob: Blob) -> str:
    """The mean colour of an image as ``#rrggbb`` (decoded again, in colour, at reduced scale;
    its size was checked when it was hashed)."""
    im = open_image(blob, max_pixels=None)
    with decoding(im):
        pixels, _ = load_reduced(blob, im, mode="RGB")
        return colour_of(pixels)


def colour_of(pixels: Image.Image) -> str:
    """The mean colour of decoded pixels as ``#rrggbb``; without a copy of an RGB or grey image
    (a huge one's copy would double what it holds).

    >>> colour_of(Image.new("L", (4, 4), 128))
    '#808080'
    """
    from PIL import ImageStat

    if pixels.mode in ("RGB", "L"):
        rgb = pixels
    else:
        try:
            rgb = pixels.convert("RGB")
        except ValueError:  # LAB and the like: their grey
            rgb = greyscale(pixels)
    means = ImageStat.Stat(rgb).mean
    red, green, blue = (round(v) for v in (means * 3 if len(means) == 1 else means)[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


class Hashed(NamedTuple):
    """An image's pHash, the spread of its grey sample (flat below FLAT_SPREAD), whether
    making it upright swapped its axes (an EXIF orientation 5 to 8 that ikmeta applied), and
    the pHashes of the picture turned each way of :data:`ikmeta.hashes.TURNS`."""

    phash: str
    spread: float
    turned: bool
    turns: tuple[str, ...] = ()
    inner: str | None = None  # the pHash of the picture inside a plain border, if it has one
    inner_share: tuple[float, float] = (1.0, 1.0)  # its share of the width and height
    inner_centred: bool = True  # whether its border is centred (borders.centred)
    windows: tuple[str, ...] = ()  # the pHashes of the picture's windows (ikmeta.hashes.WINDOWS)
    band: tuple[str, float] | None = None  # a plain band along one side, its share (borders.band_side)
    colour: str | None = None  # a flat picture's mean colour, when asked for and read from its decode


def grey_sample(blob: Blob, im: Image.Image, fmt: str, orientation: Any) -> tuple[Image.Image, bool, bool]:
    """The grey picture ikmeta hashes: the opened image decoded at reduced scale, upright (EXIF
    ``orientation`` applied) and grey; whether making it upright swapped its axes, and whether
    its data was truncated."""
    pixels, truncated = load_reduced(blob, im)
    grey, turned = grey_of(blob, pixels, fmt, orientation)
    return grey, turned, truncated


def grey_of(blob: Blob, pixels: Image.Image, fmt: str, orientation: Any) -> tuple[Image.Image, bool]:
    """Decoded ``pixels`` as :func:`grey_sample` gives them: upright, grey, reduced."""
    still_to_apply = display_orientation(pixels, fmt, orientation)
    try:
        grey = greyscale(upright(shrink(pixels), still_to_apply))
    except ValueError:  # a mode Pillow cannot make grey ("La", ...)
        raise ImageError(blob.source, f"cannot hash pixels of colour mode {pixels.mode}") from None
    return grey, still_to_apply in (5, 6, 7, 8)


def hash_opened(
    blob: Blob, im: Image.Image, fmt: str, orientation: Any, colour: bool = False
) -> tuple[Hashed, list[str]]:
    """The pHash of the opened image as displayed (EXIF ``orientation`` applied), and warnings.
    With ``colour``, a flat image's mean colour too when its decode is the one
    :func:`mean_colour` would make (not a JPEG's or HEIC's, decoded in grey at reduced scale).
    The decoded pixels are let go (``im`` is closed) before its share of the pixel budget is."""
    with decoding(im):  # so that many cores do not hold many huge images at once
        pixels, truncated = load_reduced(blob, im)
        try:
            grey, turned = grey_of(blob, pixels, fmt, orientation)
            hashed = hash_grey(grey, turned, truncated)
            if colour and hashed.spread < FLAT_SPREAD and im.format not in DRAFT_FORMATS:
                hashed = hashed._replace(colour=colour_of(pixels))
        finally:
            pixels.close()  # (``im`` itself, or its truncated decode) freed while its share is held
    return hashed, [TRUNCATED] if truncated else []


def hash_grey(grey: Image.Image, turned: bool, truncated: bool) -> Hashed:
    """The hashes of a picture's grey sample (:func:`grey_sample`): its pHash, turned hashes,
    windows, and those of the picture inside a plain border or beside a band, if it has one."""
    low, spread = low_frequencies(grey)
    own = phash_of(low)
    windows = tuple(h or own for h in window_hashes(grey, FLAT_SPREAD))
    box = inner_box(np.asarray(grey))
    plain_box = box is not None and centred(box, grey.width, grey.height)
    # (a truncated file's grey below the cut is no band added)
    band = None if plain_box or truncated else band_side(np.asarray(grey))
    if band is not None:  # the picture without the band is hashed as a framed one's is
        box = band_box(band, grey.width, grey.height)
    inside = low_frequencies(grey.crop(box)) if box else None
    if box is None or inside is None or inside[1] < FLAT_SPREAD:  # no border, or a blank inside
        return Hashed(own, spread, turned, turned_hashes(low), windows=windows)
    # Its share of the picture, less the box's edge rows and columns, where the frame's
    # edge blurs into the picture: so a framed copy never counts more pixels than its original.
    share = ((box[2] - box[0] - 2) / grey.width, (box[3] - box[1] - 2) / grey.height)
    # The turned hashes of a picture in plain bars are those of the picture inside: the
    # bars' pattern, turned, would come near that of other pictures in bars.
    inner = phash_of(inside[0])
    is_centred = band is None and centred(box, grey.width, grey.height)
    return Hashed(own, spread, turned, turned_hashes(inside[0]), inner, share, is_centred, windows, band)


def exif_block(blob: Blob, im: Image.Image, fmt: str) -> bytes | None:
    """The TIFF-structured EXIF block, where each container keeps it."""
    if fmt == "tiff":
        return blob.data
    if fmt in ("heic", "avif"):
        return isobmff.exif_block(blob.data)
    block = im.info.get("exif")
    if block is None and fmt == "png":  # an eXIf chunk after the pixels (as ImageMagick writes it)
        block = png_chunk(blob.data, b"eXIf")
    return block if isinstance(block, bytes) else None


def stored_size(blob: Blob, im: Image.Image, fmt: str, ifd0: dict[str, Any]) -> tuple[int, int]:
    """Width and height as stored, before any rotation the file asks for.

    Pillow reports HEIF and AVIF sizes after the container's rotation, and (since
    Pillow 12) TIFF sizes after the Orientation tag; the stored size is in the
    HEIF ``ispe`` box and in the TIFF's own ImageWidth and ImageLength tags.
    """
    if fmt in ("heic", "avif"):
        size = isobmff.stored_size(blob.data)
        if size and all(size):
            return size
    if fmt == "tiff":
        width, height = ifd0.get("ImageWidth"), ifd0.get("ImageHeight")
        if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
            return width, height
    return im.size


def display_orientation(pixels: Image.Image, fmt: str, orientation: Any) -> int | None:
    """The EXIF orientation still to apply to Pillow's decoded pixels to show the image upright.

    Pillow-heif has already applied a HEIF file's rotation and mirroring (and, as the HEIF
    spec says, the EXIF Orientation does not count there). Pillow's AVIF reader leaves the
    pixels as stored and puts the container's rotation in its EXIF Orientation. Pillow 12+
    turns TIFF pixels itself and then drops Orientation from the tags it keeps.
    """
    if fmt == "heic":
        return None
    if fmt == "avif":
        return pixels.getexif().get(0x0112)
    if fmt == "tiff":
        return getattr(pixels, "tag_v2", {}).get(0x0112)
    return orientation if isinstance(orientation, int) else None


def density(im: Image.Image, fmt: str, ifd0: dict[str, Any]) -> int | float:
    """Pixels per inch as ImageMagick reports it, else 72.

    JPEG, HEIC, AVIF: the EXIF resolution (even 0, which ImageMagick then shows as 72),
    else (JPEG) JFIF; TIFF: its own resolution tags; PNG: pHYs (of unknown unit: the bare
    number); BMP: its header.
    ImageMagick reads no resolution from the EXIF of PNG or WebP files, nor any from GIF.
    """
    x = ifd0.get("XResolution") if fmt in EXIF_DENSITY_FORMATS else None
    if isinstance(x, (int, float)):
        return _tidy(x * 2.54 if ifd0.get("ResolutionUnit") == 3 else x) if x > 0 else DEFAULT_DENSITY
    if fmt == "jpg":
        jfif, unit = im.info.get("jfif_density"), im.info.get("jfif_unit")
        if unit in (1, 2) and jfif and jfif[0] > 0 and tuple(jfif) != (1, 1):
            return _tidy(jfif[0] * 2.54 if unit == 2 else jfif[0])
    if fmt in ("png", "bmp"):
        dpi = im.info.get("dpi")
        if dpi and dpi[0] and dpi[0] > 0:
            return _tidy(float(dpi[0]))
        aspect = im.info.get("aspect")  # PNG pHYs of unknown unit: ImageMagick shows the number as it is
        if fmt == "png" and aspect and aspect[0] > 0:
            return _tidy(float(aspect[0]))
    return DEFAULT_DENSITY


def _tidy(value: float) -> int | float:
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


GIF_ICC = b"\x21\xff\x0bICCRGBG1012"  # the application extension that holds a GIF's ICC profile
BMP_EMBEDDED_PROFILE = 0x4D424544  # 'MBED': a BITMAPV5HEADER's colour space is an embedded profile


def has_color_profile(data: bytes, im: Image.Image, fmt: str) -> bool:
    """An ICC profile is embedded: as Pillow reads it, or in the GIF and BMP places Pillow skips."""
    if im.info.get("icc_profile"):  # bytes, or None / b"" when absent
        return True
    if fmt == "gif":
        return GIF_ICC in data
    if fmt == "bmp" and len(data) >= 134 and struct.unpack_from("<I", data, 14)[0] >= 124:
        colour_space: int = struct.unpack_from("<I", data, 14 + 56)[0]  # bV5CSType
        profile_size: int = struct.unpack_from("<I", data, 14 + 116)[0]  # bV5ProfileSize
        return colour_space == BMP_EMBEDDED_PROFILE and profile_size > 0
    return False


def has_transparency(im: Image.Image) -> bool:
    """An alpha channel, or a transparent colour key (PNG tRNS, GIF transparency index)."""
    return "A" in im.mode or "a" in im.mode or "transparency" in im.info
