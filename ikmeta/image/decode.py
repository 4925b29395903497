"""Opening images with Pillow: the formats ikmeta reads, clear errors, reduced-scale decoding,
and the limits on what is decoded.

>>> im = open_image(blob)                    # header only; raises ImageError (also over max_pixels)
>>> with decoding(im):                       # waits while other decodes hold the pixel budget
...     small, truncated = load_reduced(blob, im)  # pixels at 1/2..1/8 scale where the format allows

Two limits hold whatever the number of jobs: an image of more than ``max_pixels`` pixels
(default :data:`MAX_PIXELS`, Pillow's decompression-bomb limit) is refused from its header,
before any pixel is decoded; and the decodes in flight share :data:`DECODE_BUDGET` pixels, so
that a folder of huge images never holds more than about two of them decoded at once.
"""

from __future__ import annotations

import functools
import importlib
import io
import os
import struct
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from PIL import Image, ImageFile, UnidentifiedImageError

from ikmeta.errors import ImageError
from ikmeta.sources.base import Blob

from . import isobmff
from .limits import DECODE_BUDGET, MAX_PIXELS, MemoryGate, check_pixels

# Pillow format name -> ikmeta's short name.
FORMATS = {
    "JPEG": "jpg",
    "MPO": "jpg",
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "TIFF": "tiff",
    "BMP": "bmp",
    "HEIF": "heic",
    "AVIF": "avif",
}
SUPPORTED = "jpg, png, gif, webp, tiff, bmp, heic, avif"
# The Pillow plugin (format ID, module) that reads each format. Only these run, so no EPS
# (Ghostscript) or other rarely-audited reader sees untrusted input; and only the one a
# file's first bytes name is imported (Pillow's Image.init() would import ~40, 30 ms).
PLUGINS = {
    "jpg": ("JPEG", "PIL.JpegImagePlugin"),
    "png": ("PNG", "PIL.PngImagePlugin"),
    "gif": ("GIF", "PIL.GifImagePlugin"),
    "webp": ("WEBP", "PIL.WebPImagePlugin"),
    "tiff": ("TIFF", "PIL.TiffImagePlugin"),
    "bmp": ("BMP", "PIL.BmpImagePlugin"),
    "heic": ("HEIF", "pillow_heif"),
    "avif": ("AVIF", "PIL.AvifImagePlugin"),
}
# Pillow's draft mode picks the largest reduction (up to 1/8) that keeps at least this size.
DRAFT_SIZE = (128, 128)
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"mif2"}
_heif_lock = threading.Lock()
_heif_ready = threading.Event()


def sniff(data: bytes) -> str | None:
    """The format a file's first bytes announce (ikmeta's short name), or None.

    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n...")
    'png'
    """
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if data[:2] == b"BM":
        return "bmp"
    if data[4:8] == b"ftyp":
        return _heif_family(data)
    return None


def _heif_family(data: bytes) -> str | None:
    """'avif' or 'heic' from an ISOBMFF ``ftyp`` box's major and compatible brands."""
    size = int.from_bytes(data[:4], "big")
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, min(size, 256) - 3, 4)}
    if major in (b"avif", b"avis") or (
        major in (b"mif1", b"msf1")
        and b"avif" in compatible
        and not compatible & {b"heic", b"heix", b"hevc", b"hevx"}
    ):
        return "avif"
    if major in HEIF_BRANDS or compatible & HEIF_BRANDS:
        return "heic"
    return None


def plugins_for(data: bytes) -> list[str]:
    """Pillow format IDs to try on ``data``, their plugins imported: the one its first bytes name, else all."""
    announced = sniff(data)
    wanted = [PLUGINS[announced]] if announced else list(PLUGINS.values())
    for _, module in wanted:
        _load_plugin(module)  # cheap once loaded; Pillow's own preinit may have loaded it unconfigured
    return [format_id for format_id, _ in wanted]


# The largest PNG text or ICC chunk, inflated, that Pillow may read (its own limit is 1 MB,
# which refuses valid files with a big XMP packet; all text stays under MAX_TEXT_MEMORY, 64 MB).
PNG_TEXT_CHUNK = 16 * 2**20


@functools.cache
def _quiet_libtiff() -> None:
    """Stop libtiff printing its own warnings and errors on stderr ("LZWDecode: Not enough
    data at scanline 12"), between ikmeta's one-line messages; Pillow still sees every error
    and ikmeta reports it. Linux: the libtiff Pillow loaded is found in /proc/self/maps;
    elsewhere, or when it is not there, nothing changes."""
    import ctypes

    from PIL import _imaging  # noqa: F401 - loads libtiff, when Pillow links it

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "libtiff" in line and ".so" in line}
    except OSError:
        return
    for path in paths:
        try:
            library = ctypes.CDLL(path)
            for setter in (library.TIFFSetWarningHandler, library.TIFFSetErrorHandler):
                setter.argtypes, setter.restype = [ctypes.c_void_p], ctypes.c_void_p
                setter(None)  # NULL: do not print
        except (OSError, AttributeError):
            continue


@functools.cache
def _quiet_pillow_logging() -> None:
    """Pillow logs some decoding problems itself ("More samples per pixel than can be
    decoded"), which Python would print on stderr; ikmeta reports them in its own line."""
    import logging

    logger = logging.getLogger("PIL")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False


def _load_plugin(module: str) -> None:
    _quiet_pillow_logging()
    if module != "pillow_heif":
        plugin: Any = importlib.import_module(module)  # a Pillow plugin; only PNG's has MAX_TEXT_CHUNK
        if hasattr(plugin, "MAX_TEXT_CHUNK"):  # PNG: a text or ICC chunk may inflate past Pillow's 1 MB
            plugin.MAX_TEXT_CHUNK = max(plugin.MAX_TEXT_CHUNK, PNG_TEXT_CHUNK)
        if module == "PIL.TiffImagePlugin":
            _quiet_libtiff()
        return
    if _heif_ready.is_set():
        return
    with _heif_lock:  # registering pillow-heif's opener twice at once would race
        if not _heif_ready.is_set():
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_ready.set()


# Pillow allocates a decoded image in blocks (16 MiB by default). Once one such block is freed,
# glibc raises its mmap threshold past that size and serves later blocks from the arena of the
# thread that asks, which keeps them once freed: --jobs threads decoding huge images one after
# another each kept an image's worth (four 169 MP PNGs, one at a time on four threads: 2.1 GB,
# against 0.77 GB with these blocks; bench/pixels.py). Blocks above the threshold's ceiling
# (32 MiB) are mapped for each image and given back to the system when it is freed.
BLOCK_SIZE = 64 * 2**20


def open_image(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> Image.Image:
    """Open ``blob`` with Pillow (header only); raise :class:`ImageError` with the reason, and
    for an image of more than ``max_pixels`` pixels (None or 0: no limit), before any decoding.

    >>> open_image(read_source("big.png"), max_pixels=1000)  # doctest: +SKIP
    ImageError('big.png: 169,000,000 pixels, more than --max-pixels 1,000')
    """
    _own_pixel_limit()
    try:
        im = Image.open(io.BytesIO(blob.data), formats=plugins_for(blob.data))
    except Image.DecompressionBombError as exc:  # Image.MAX_IMAGE_PIXELS set again since ikmeta lifted it
        raise ImageError(
            blob.source,
            f"{_pixels(exc)} pixels, more than Pillow's decompression-bomb limit "
            f"(2 x Image.MAX_IMAGE_PIXELS) of {2 * (Image.MAX_IMAGE_PIXELS or 0):,}",
        ) from None
    except UnidentifiedImageError:
        announced = sniff(blob.data)
        _refuse_cut_heif(blob, announced)
        unsupported = _unsupported_tiff(blob.data) if announced == "tiff" else None
        if unsupported:
            raise ImageError(blob.source, unsupported) from None
        if announced:
            raise ImageError(blob.source, f"corrupt or truncated {announced} header") from None
        sent = f"; the server sent {blob.content_type}" if blob.content_type else ""
        raise ImageError(blob.source, f"not an image ikmeta can read (formats: {SUPPORTED}{sent})") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's plugins raise SyntaxError, ValueError, struct.error...
        announced = sniff(blob.data)
        _refuse_cut_heif(blob, announced)
        what = f"corrupt or truncated {announced} header" if announced else "corrupt image header"
        raise ImageError(blob.source, f"{what} ({_describe(exc)})") from None
    if im.width < 1 or im.height < 1:
        raise ImageError(blob.source, "image has no pixels (width or height is 0)")
    check_pixels(blob.source, im.size, max_pixels)
    return im


@functools.cache
def _own_pixel_limit() -> None:
    """Once a process: Pillow's own pixel limit lifted (ikmeta checks each image against its
    caller's ``max_pixels`` instead, which a global could not do for threads with different
    limits; Pillow would also warn, not refuse, up to twice its limit), and Pillow's block
    size raised to :data:`BLOCK_SIZE` unless the environment sets it (PILLOW_BLOCK_SIZE)."""
    from PIL import _imaging

    Image.MAX_IMAGE_PIXELS = None
    if "PILLOW_BLOCK_SIZE" not in os.environ and _imaging.get_block_size() < BLOCK_SIZE:
        _imaging.set_block_size(BLOCK_SIZE)


def _refuse_cut_heif(blob: Blob, announced: str | None) -> None:
    """A HEIF/AVIF file that Pillow cannot open because its image data is cut short (libavif
    checks that at open): say so, rather than blame its header, which is whole."""
    if announced in ("heic", "avif"):
        missing = isobmff.missing_image_data(blob.data)
        if missing:
            raise ImageError(blob.source, f"truncated image data ({missing})") from None


def png_chunk(data: bytes, kind: bytes) -> bytes | None:
    """The data of a PNG's first ``kind`` chunk, wherever it is; None when it has none.

    Pillow's header read stops at the first IDAT, so chunks after the pixels (ImageMagick
    writes eXIf there) are found only by walking the chunk list.
    """
    at = 8  # after the signature
    while at + 8 <= len(data):
        length, name = struct.unpack_from(">I4s", data, at)
        start, end = at + 8, at + 8 + length
        if name == kind:
            return data[start:end] if end <= len(data) else None
        if name == b"IEND":
            return None
        at = end + 4  # and the CRC
    return None


SAMPLE_FORMATS = {1: "unsigned integer", 2: "signed integer", 3: "floating-point", 4: "undefined"}


def _unsupported_tiff(data: bytes) -> str | None:
    """Why Pillow refused a TIFF whose header is sound: its pixel format, as its tags give it."""
    from .exif import read_ifd0

    ifd0 = read_ifd0(data)
    if not isinstance(ifd0.get("ImageWidth"), int):
        return None

    def first(name: str, default: object) -> object:  # a per-sample tag's first value
        value = ifd0.get(name, default)
        return value[0] if isinstance(value, list) and value else value

    sample_format = first("SampleFormat", 1)
    kind = SAMPLE_FORMATS.get(sample_format, "unknown") if isinstance(sample_format, int) else "unknown"
    return (
        f"TIFF pixel format Pillow cannot decode ({first('SamplesPerPixel', 1)} samples of "
        f"{first('BitsPerSample', 1)}-bit {kind}, photometric {first('PhotometricInterpretation', '?')}, "
        f"compression {first('Compression', 1)})"
    )


def short_format(im: Image.Image) -> str:
    return FORMATS.get(im.format or "", (im.format or "unknown").lower())


def load_reduced(
    blob: Blob, im: Image.Image, mode: str = "L", size: tuple[int, int] = DRAFT_SIZE
) -> tuple[Image.Image, bool]:
    """Decode ``im`` (opened from ``blob``), at reduced scale where the format allows it.

    JPEG decodes at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling), keeping at least ``size``,
    straight to greyscale unless ``mode`` is "RGB";
    HEIF uses an embedded thumbnail when it is a scaled copy of the image (see
    :func:`_load_heif` for a file cut short). Returns the
    image and whether its data was truncated (then the part that decodes is returned).
    Raises :class:`ImageError` when the pixels cannot be decoded.
    """
    if im.format in ("HEIF", "AVIF"):
        return _load_heif(blob, im, mode, size)
    try:
        with _gate.shared():
            return _decode(im, mode, size), False
    except MemoryError:
        raise
    except OSError as exc:
        if "truncated" not in str(exc):
            raise ImageError(blob.source, f"corrupt image data ({_describe(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - decoders raise ValueError, SyntaxError, struct.error...
        raise ImageError(blob.source, f"corrupt image data ({_describe(exc)})") from None
    im.close()  # what the first decode allocated, before the second allocates as much again
    try:
        with _gate.alone():  # (its size was checked when ``im`` was opened)
            return _decode(open_image(blob, max_pixels=None), mode, size), True
    except (ImageError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - as above, for the second, truncation-tolerant decode
        raise ImageError(blob.source, f"truncated image data ({_describe(exc)})") from None


def _load_heif(blob: Blob, im: Image.Image, mode: str, size: tuple[int, int]) -> tuple[Image.Image, bool]:
    """:func:`load_reduced` for HEIF and AVIF, whose item data is checked against the file.

    A file cut short still opens (its header boxes are whole), and its thumbnail, early in
    the file, may still decode: so the ``iloc`` extents of the primary image (and of a grid's
    tiles) are checked. When some are past the end, the primary image itself is decoded,
    never the thumbnail (a picture of data that is gone): libheif fills the grid tiles it
    lacks, and that is reported as truncated; when nothing decodes (a single coded image,
    AVIF), it is an :class:`ImageError` "truncated image data (...)", as for a JPEG or PNG
    whose truncation-tolerant decode fails. (A thumbnail that does not decode, pillow-heif skips.)
    """
    missing, missing_anywhere = isobmff.missing_data(blob.data)
    # Cut after the primary image's data (in a thumbnail, depth or gain map): the image itself
    # decodes whole, from its own data rather than a thumbnail, and the file is still truncated.
    cut_after = missing is None and missing_anywhere is not None
    try:
        # Never under LOAD_TRUNCATED_IMAGES: pillow-heif then turns a decode that fails into a black image.
        with _gate.shared():
            return _decode(im, mode, size, thumbnail=not (missing or cut_after)), bool(missing) or cut_after
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - libheif and libavif errors come as ValueError, SyntaxError...
        if missing:
            raise ImageError(blob.source, f"truncated image data ({missing})") from None
        raise ImageError(blob.source, f"corrupt image data ({_describe(exc)})") from None


# Modes whose box reduction means something (Pillow refuses P, 1 and I;16, and would
# average PA's palette indices); the others are made grey first.
REDUCIBLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "HSV", "I", "F"})


def shrink(im: Image.Image) -> Image.Image:
    """A large decoded image box-reduced by an integer factor (up to 8, keeping 128 pixels a side).

    What libjpeg's DCT scaling does inside the JPEG decoder (an 8x8 block's mean is its DC
    coefficient), done after decoding for the formats that cannot decode at reduced scale,
    so that the Lanczos resize to 32x32 works on a small image.
    """
    factor = min(8, min(im.size) // DRAFT_SIZE[0])
    if factor <= 1:
        return im
    if im.mode not in REDUCIBLE_MODES:  # palette, 1-bit, 16-bit grey, LAB: box means need grey levels
        from .perceptual import greyscale

        im = greyscale(im)
    return im.reduce(factor)


# The formats whose decode depends on the mode and size asked for (draft): the others decode
# the same pixels whatever load_reduced is asked.
DRAFT_FORMATS = ("JPEG", "MPO", "HEIF")


def _decode(im: Image.Image, mode: str, size: tuple[int, int], thumbnail: bool = True) -> Image.Image:
    """Decode ``im``; JPEG at reduced scale (at least ``size``), HEIF from a thumbnail at
    least that large when ``thumbnail`` and it has one."""
    if im.format in ("JPEG", "MPO") or (im.format == "HEIF" and thumbnail):
        im.draft(mode if im.mode in ("RGB", "L") else None, size)
    im.load()
    return im


def _describe(exc: BaseException) -> str:
    """A library's exception as a lowercase phrase: 'Truncated File Read' -> 'truncated file read'."""
    text = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    if text.istitle():
        return text.lower()
    return text[0].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _pixels(exc: BaseException) -> str:
    """The pixel count in Pillow's DecompressionBombError: 'Image size (400000000 pixels) ...' -> '400,000,000'."""
    words = str(exc).split("(", 1)
    count = words[1].split(" ", 1)[0] if len(words) > 1 else ""
    return f"{int(count):,}" if count.isdigit() else "too many"


class _TruncationGate:
    """Lets a decode accept truncated data without letting any other decode do so.

    Pillow decides whether to accept truncated data from a global,
    ``ImageFile.LOAD_TRUNCATED_IMAGES``. Ordinary decodes run together under
    :meth:`shared`; a decode that must accept truncation runs under :meth:`alone`,
    with no other decode in flight, and the flag is set only for it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before
            with self._cond:
                self._writer = False
                self._cond.notify_all()


_gate = _TruncationGate()


JPEG_SCALE = 8  # JPEG decodes at 1/8 scale a side for the hash (draft): 1/64 of its pixels
pixel_memory = MemoryGate(DECODE_BUDGET)  # the process's budget of decoded pixels, its threads share


def decoded_pixels(im: Image.Image, reduced: bool = True) -> int:
    """About the pixels decoding ``im`` holds: all of them, or a JPEG's at 1/8 scale a side
    when ``reduced`` (as :func:`load_reduced` decodes it for the hash).

    >>> decoded_pixels(Image.new("L", (4000, 3000)))
    12000000
    """
    width, height = im.size
    pixels = width * height
    if reduced and im.format in ("JPEG", "MPO"):
        pixels //= JPEG_SCALE * JPEG_SCALE
    return pixels


decoded_bytes = decoded_pixels  # its former name (review/thumbnails.py): the budget counts pixels now


def decoding(im: Image.Image, reduced: bool = True) -> AbstractContextManager[None]:
    """A share of the pixel budget for decoding ``im`` (see :func:`decoded_pixels`), held for
    the ``with`` block: it waits while other decodes hold the rest. Never nested.

    >>> with decoding(Image.new("L", (400, 300))):
    ...     pixel_memory.used >= 120000
    True
    """
    return pixel_memory.hold(decoded_pixels(im, reduced))
