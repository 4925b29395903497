"""The metadata object for every format ikmeta reads, and the errors for what it cannot."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import jsonschema
import pytest
from PIL import Image, ImageCms

from ikmeta.errors import ImageError
from ikmeta.image.metadata import TRUNCATED, density, inspect_blob, phash_blob
from ikmeta.image.perceptual import phash_image
from ikmeta.sources.base import Blob

from .conftest import ROOT, TiffBuilder, encode, exif_with, need, png_claiming, scene

SCHEMA_PATH = ROOT.parent / "shared" / "metadata.schema.json"
KEYS = [
    "source",
    "height",
    "width",
    "size",
    "format",
    "hasColorProfile",
    "quality",
    "density",
    "hasTransparency",
    "pHash",
    "exif",
]


@pytest.fixture(scope="module")
def schema():
    need(SCHEMA_PATH.exists(), f"the metadata schema ({SCHEMA_PATH})")
    return json.loads(SCHEMA_PATH.read_text())


def inspect(data: bytes, source: str = "x") -> dict:
    return inspect_blob(Blob(source, data)).metadata


EXIF = {"t0x010F": "Maker", "t0x011A": 150.0, "t0x0128": 2}
FORMATS = {
    "jpg": lambda im: encode(im, "JPEG", quality=90, exif=exif_with(**EXIF)),
    "png": lambda im: encode(im, "PNG", exif=exif_with(**EXIF)),
    "gif": lambda im: encode(im.convert("P"), "GIF"),
    "webp": lambda im: encode(im, "WEBP", quality=80, exif=exif_with(**EXIF)),
    "tiff": lambda im: encode(im, "TIFF", exif=exif_with(**EXIF)),
    "bmp": lambda im: encode(im, "BMP"),
    "heic": lambda im: encode(im, "HEIF", exif=exif_with(**EXIF)),
    "avif": lambda im: encode(im, "AVIF", exif=exif_with(**EXIF)),
}


@pytest.fixture(scope="module", autouse=True)
def heif_writer():
    import pillow_heif

    pillow_heif.register_heif_opener()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format(fmt, schema):
    im = scene((320, 240), seed=2)
    data = FORMATS[fmt](im)
    meta = inspect(data, f"photo.{fmt}")
    jsonschema.validate(meta, schema)
    assert list(meta) == KEYS
    assert (meta["source"], meta["format"], meta["width"], meta["height"]) == (f"photo.{fmt}", fmt, 320, 240)
    assert meta["size"] == len(data)
    assert meta["hasTransparency"] is False
    assert meta["quality"] == (90 if fmt == "jpg" else 0)
    if fmt not in ("gif", "bmp"):
        assert meta["exif"]["image"]["Make"] == "Maker"
        # ImageMagick takes density from EXIF in JPEG, TIFF, HEIC and AVIF, not in PNG or WebP.
        assert meta["density"] == (72 if fmt in ("png", "webp") else 150)
    # Lossy formats change pixels a little; the hash stays close to the drawing's.
    distance = bin(int(meta["pHash"], 16) ^ int(phash_image(im), 16)).count("1")
    assert distance <= (0 if fmt in ("png", "tiff", "bmp") else 6)


def test_jpeg_without_exif_has_six_empty_groups():
    meta = inspect(encode(scene(), "JPEG"))
    assert meta["exif"] == {
        g: {} for g in ("image", "thumbnail", "exif", "gps", "interoperability", "makernote")
    }
    assert meta["density"] == 72


def test_colour_profile():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert inspect(encode(scene(), "JPEG", icc_profile=srgb))["hasColorProfile"] is True
    assert inspect(encode(scene(), "PNG", icc_profile=srgb))["hasColorProfile"] is True
    assert inspect(encode(scene(), "PNG"))["hasColorProfile"] is False


def with_hole(mode: str = "RGBA") -> Image.Image:
    """The scene with a fully transparent rectangle."""
    im = scene().convert(mode)
    im.paste((0,) * len(mode), (10, 10, 60, 60))
    return im


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: encode(with_hole(), "PNG"), True),
        (lambda: encode(with_hole("LA"), "PNG"), True),
        (lambda: encode(scene().convert("P"), "PNG", transparency=0), True),
        (lambda: encode(scene().convert("P"), "GIF", transparency=0, optimize=False), True),
        (lambda: encode(with_hole(), "WEBP", lossless=True), True),
        (lambda: encode(with_hole(), "TIFF"), True),
        (lambda: encode(scene().convert("P"), "PNG"), False),
        (lambda: encode(scene(), "WEBP"), False),
    ],
)
def test_transparency(make, expected):
    assert inspect(make())["hasTransparency"] is expected


def test_density_sources():
    # EXIF before JFIF: the EXIF resolution wins over the JFIF header's.
    both = encode(scene(), "JPEG", dpi=(72, 72), exif=exif_with(t0x011A=180.0, t0x0128=2))
    assert inspect(both)["density"] == 180
    assert inspect(encode(scene(), "JPEG", dpi=(240, 240)))["density"] == 240
    # Dots per centimetre, in EXIF and in PNG's pHYs (stored per metre), become per inch.
    per_cm = encode(scene(), "JPEG", exif=exif_with(t0x011A=100.0, t0x0128=3))
    assert inspect(per_cm)["density"] == 254
    assert inspect(encode(scene(), "PNG", dpi=(300, 300)))["density"] == pytest.approx(300, abs=0.01)
    assert inspect(encode(scene(), "PNG"))["density"] == 72
    assert inspect(encode(scene(), "GIF"))["density"] == 72


def test_density_ignores_jfif_aspect_ratio_only():
    im = Image.open(__import__("io").BytesIO(encode(scene(), "JPEG")))
    im.info.update(jfif_density=(1, 1), jfif_unit=0)
    assert density(im, "jpg", {}) == 72


@pytest.mark.parametrize("big", [False, True])
def test_tiff_stored_size_and_orientation(big):
    im = scene((320, 240), seed=5)
    data = encode(im.transpose(Image.Transpose.ROTATE_90), "TIFF", exif=exif_with(t0x0112=6), big_tiff=big)
    assert data[2:4] in ((b"+\x00", b"\x00+") if big else (b"*\x00", b"\x00*"))
    meta = inspect(data)
    assert (meta["width"], meta["height"]) == (240, 320)
    assert meta["exif"]["image"]["Orientation"] == 6
    assert meta["pHash"] == phash_image(im)


def test_truncated_jpeg_still_hashes_with_a_warning():
    data = encode(scene((800, 600), seed=1), "JPEG", quality=90)
    cut = data[: len(data) * 2 // 3]
    report = inspect_blob(Blob("cut.jpg", cut))
    assert report.warnings == [TRUNCATED]
    assert report.metadata["width"] == 800
    assert len(report.metadata["pHash"]) == 16
    assert phash_blob(Blob("cut.jpg", cut)).warnings == [TRUNCATED]


def test_truncated_png_still_hashes_with_a_warning():
    data = encode(scene((400, 300), seed=1), "PNG")
    report = inspect_blob(Blob("cut.png", data[: len(data) // 2]))
    assert report.warnings == [TRUNCATED]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a not really", "corrupt"),
        (b"%PDF-1.4 a document", "not an image ikmeta can read"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "corrupt"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 10, "corrupt"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", "not an image ikmeta can read"),
    ],
)
def test_bad_bytes_raise_image_error(data, reason):
    with pytest.raises(ImageError) as info:
        inspect_blob(Blob("bad", data))
    assert info.value.source == "bad" and reason in info.value.reason


def test_decompression_bomb_is_refused():
    with pytest.raises(ImageError) as info:
        inspect_blob(Blob("bomb.png", png_claiming(20000, 20000)))
    assert info.value.reason == "400,000,000 pixels, more than --max-pixels 89,478,485"


def test_corrupt_pixels_are_an_error():
    data = bytearray(encode(scene((400, 300)), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start : start + 200] = b"\x00" * 200
    with pytest.raises(ImageError) as info:
        inspect_blob(Blob("broken.png", bytes(data)))
    assert "corrupt image data" in info.value.reason


def test_examples_are_valid(schema):
    for path in sorted(p for p in Path(ROOT, "examples").iterdir() if p.suffix in (".jpg", ".png")):
        jsonschema.validate(inspect(path.read_bytes(), str(path)), schema)


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("P", "GIF"),
        ("P", "PNG"),
        ("1", "PNG"),
        ("1", "BMP"),
        ("I;16", "PNG"),
        ("I;16", "TIFF"),
        ("LA", "PNG"),
        ("CMYK", "TIFF"),
    ],
)
def test_large_images_of_every_mode_hash_like_imagehash(mode, fmt):
    """Images of 256 pixels a side and more are box-reduced before the resize; Pillow cannot
    reduce palette, 1-bit or 16-bit grey pixels, which are made grey first."""
    im = scene((640, 480), seed=3).convert("L" if mode in ("1", "I;16") else "RGB").convert(mode)
    data = encode(im, fmt)
    ours = inspect_blob(Blob(f"big.{fmt.lower()}", data)).metadata["pHash"]
    assert bin(int(ours, 16) ^ int(phash_image(Image.open(io.BytesIO(data))), 16)).count("1") <= 4
    assert phash_blob(Blob("x", data)).metadata["pHash"] == ours


def test_lab_images_hash_their_lightness():
    im = scene((640, 480), seed=3).convert("LAB")
    ours = inspect_blob(Blob("lab.tif", encode(im, "TIFF"))).metadata["pHash"]
    assert bin(int(ours, 16) ^ int(phash_image(im.getchannel("L")), 16)).count("1") <= 4


def test_a_sound_tiff_in_a_pixel_format_pillow_lacks_says_so():
    e = "<"
    b = TiffBuilder(e)
    pixels = struct.pack("<12f", *([0.5] * 12))  # 2x2 RGB, 32-bit float samples

    def short(*values):
        return (3, len(values), struct.pack(f"{e}{len(values)}H", *values))

    b.ifd(
        [
            (0x0100, *short(2)),
            (0x0101, *short(2)),
            (0x0102, *short(32, 32, 32)),
            (0x0103, *short(1)),
            (0x0106, *short(2)),
            (0x0111, 4, 1, struct.pack("<I", 0)),
            (0x0115, *short(3)),
            (0x0116, *short(2)),
            (0x0117, 4, 1, struct.pack("<I", len(pixels))),
            (0x0153, *short(3, 3, 3)),
        ]
    )
    block = bytearray(b.build())
    at = block.index(struct.pack("<HHI", 0x0111, 4, 1)) + 8  # StripOffsets: the pixels follow the block
    block[at : at + 4] = struct.pack("<I", len(block))
    data = bytes(block) + pixels
    with pytest.raises(
        ImageError, match=r"TIFF pixel format Pillow cannot decode \(3 samples of 32-bit floating-point"
    ):
        inspect_blob(Blob("float.tif", data))


def test_png_with_a_text_chunk_over_a_megabyte_is_read():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("XML:com.adobe.xmp", "<x:xmpmeta>" + "a" * 3_000_000 + "</x:xmpmeta>", zip=True)
    data = encode(scene((64, 48)), "PNG", pnginfo=info)
    assert inspect_blob(Blob("big-xmp.png", data)).metadata["width"] == 64
