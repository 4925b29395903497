"""Thumbnails for the review page: each image as displayed, its long side at most 256 pixels,
as WebP in sRGB, made in parallel and kept in the hash cache.

    >>> thumb = thumbnail_blob(read_source("examples/harbour.jpg"))
    >>> thumb.width, thumb.height, thumb.data[8:12]
    (256, 171, b'WEBP')

A JPEG decodes at reduced scale (libjpeg's DCT scaling) and a HEIF from its embedded
thumbnail when that is large enough, so a thumbnail costs a fraction of a full decode.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ikmeta.cache import HashCache, cache_key
from ikmeta.errors import IkmetaError, ImageError, SourceError, guarded
from ikmeta.image.decode import decoded_bytes, load_reduced, open_image, pixel_memory, short_format
from ikmeta.image.exif import read_ifd0
from ikmeta.image.metadata import display_orientation, exif_block
from ikmeta.image.perceptual import greyscale, upright
from ikmeta.parallel import ordered_map
from ikmeta.sources.base import STDIN, Blob, FetchOptions, is_remote
from ikmeta.sources.read import read_source
from ikmeta.video.container import video_format

SIDE = 256  # the long side, in pixels
QUALITY = 50  # WebP: a photograph at 256x171 takes about 4.5 kB (5,000 groups: about 80 MB of page)
METHOD = 4  # libwebp's default effort: 6 saves a few percent and takes 2.5 times as long
# What a cached thumbnail is: bump when its size, format, quality or making changes.
KIND = f"webp-{SIDE}-q{QUALITY}-m{METHOD}-srgb-v1"
CACHE_BATCH = 200


@dataclass(frozen=True)
class Thumbnail:
    """An encoded thumbnail (WebP) and its size in pixels."""

    data: bytes
    width: int
    height: int
    mime: str = "image/webp"


def thumbnail_blob(blob: Blob) -> Thumbnail:
    """The thumbnail of an image: upright as displayed (its EXIF orientation applied), in sRGB,
    alpha kept, long side at most :data:`SIDE`; of a video, its poster frame
    (:func:`ikmeta.video.poster.poster_frame`). Raises :class:`~ikmeta.errors.ImageError`.

        >>> thumbnail_blob(read_source("examples/harbour.jpg")).width
        256
    """
    if video_format(blob.data):
        from ikmeta.video.poster import poster_frame

        return _encoded(poster_frame(blob))
    im = open_image(blob)
    fmt = short_format(im)
    orientation = read_ifd0(exif_block(blob, im, fmt) or b"").get("Orientation")
    profile = im.info.get("icc_profile")
    with pixel_memory.hold(decoded_bytes(im)):
        pixels, _ = load_reduced(blob, im, mode="RGB", size=fitted(im.size))
        turn = display_orientation(pixels, fmt, orientation)
        pixels.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)  # the box is square:
        pixels = upright(pixels, turn)  # turning after shrinking gives the same, for less memory
        try:
            shown = in_srgb(pixels, profile if isinstance(profile, bytes) else None)
        except ValueError:
            raise ImageError(blob.source, f"cannot show pixels of colour mode {pixels.mode}") from None
    return _encoded(shown)


def _encoded(pixels: Image.Image) -> Thumbnail:
    """Pixels as the page's thumbnail: fitted into :data:`SIDE` (never enlarged), as WebP."""
    if max(pixels.size) > SIDE:
        pixels.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    pixels.save(out, "WEBP", quality=QUALITY, method=METHOD)
    return Thumbnail(out.getvalue(), pixels.width, pixels.height)


def fitted(size: tuple[int, int]) -> tuple[int, int]:
    """The thumbnail's size for an image of ``size``: the long side :data:`SIDE`, never enlarged.
    (Asking a JPEG or HEIF decoder for this, not SIDE x SIDE, lets it reduce further.)

    >>> fitted((4032, 3024)), fitted((100, 50))
    ((256, 192), (100, 50))
    """
    width, height = size
    scale = SIDE / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def in_srgb(im: Image.Image, profile: bytes | None) -> Image.Image:
    """``im`` as 8-bit RGB (RGBA when it has alpha), converted from its ICC ``profile`` to sRGB.

    A profile that cannot be read or applied is ignored (the pixels are taken as sRGB).
    Raises ValueError for a mode Pillow cannot make RGB.
    """
    alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info)
    target = "RGBA" if alpha else "RGB"
    if profile and im.mode in ("RGB", "RGBA", "CMYK", "L"):
        converted = _from_profile(im, profile, target)
        if converted is not None:
            return converted
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F", "LAB"):
        im = greyscale(im)
    return im if im.mode == target else im.convert(target)


def _from_profile(im: Image.Image, profile: bytes, target: str) -> Image.Image | None:
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = target if im.mode in ("RGB", "RGBA") else "RGB"
        converted = ImageCms.profileToProfile(im, source, _srgb(), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return converted if converted is not None and converted.mode in ("RGB", "RGBA") else None


_SRGB: list[Any] = []


def _srgb() -> Any:
    from PIL import ImageCms

    if not _SRGB:
        _SRGB.append(ImageCms.createProfile("sRGB"))
    return _SRGB[0]


def thumbnail_source(source: str, fetch: FetchOptions | None = None) -> Thumbnail:
    """:func:`thumbnail_blob` of a path or URL; raises :class:`~ikmeta.errors.IkmetaError`."""
    return thumbnail_blob(read_source(source, fetch=fetch))


def make_thumbnails(
    sources: Iterable[str], cache: HashCache, jobs: int, fetch: FetchOptions | None = None
) -> Iterator[tuple[str, Thumbnail | IkmetaError]]:
    """(source, its thumbnail or the error that prevented one) for each source: the cached
    ones first, then the others as they are made on ``jobs`` threads (and cached).

        >>> dict(make_thumbnails(["examples/harbour.jpg"], HashCache.open(None), jobs=2))["examples/harbour.jpg"].height
        171
    """
    keys = {source: cache_key(source) if source != STDIN else None for source in dict.fromkeys(sources)}
    local = [key for source, key in keys.items() if key is not None and not is_remote(source)]
    known = cache.get_thumbnails(local, KIND)
    wanted = []
    for source, key in keys.items():
        if key is not None and key in known:
            width, height, data = known[key]
            yield source, Thumbnail(data, width, height)
        else:
            wanted.append(source)

    def make(source: str) -> Thumbnail | IkmetaError:
        if source == STDIN:  # a report's "-": there is no standard input to read again
            return SourceError(source, "standard input, read when the report was made: no thumbnail")
        result: Thumbnail | IkmetaError = guarded(lambda s: thumbnail_source(s, fetch), source)
        return result

    made = []
    for source, result in zip(wanted, ordered_map(make, wanted, jobs), strict=True):
        key = keys[source]
        # Cached only when the file did not change while it was read.
        if isinstance(result, Thumbnail) and key is not None and key == cache_key(source):
            made.append((key, (result.width, result.height, result.data)))
            if len(made) >= CACHE_BATCH:
                cache.put_thumbnails(made, KIND)
                made.clear()
        yield source, result
    cache.put_thumbnails(made, KIND)
