"""Agreement with the reference tools: exiftool and ImageMagick, through ../shared/tools/exif_oracle.py.

The floors: at least 99.5% of all compared fields agree, and at least 99% of each top-level
field (width, height, size, format, hasColorProfile, quality, density, hasTransparency,
and the EXIF tags together). README "Agreement" shows the current figures.
"""

from __future__ import annotations

import io
import re
import struct
import subprocess
import sys
import zlib

import pytest
from PIL import Image

from ikmeta.image.quality import estimate_quality

from .conftest import ROOT, TiffBuilder, encode, need, scene

pytestmark = pytest.mark.reference
ORACLE = ROOT.parent / "shared" / "tools" / "exif_oracle.py"
FIELD_LINE = re.compile(r"^  (\w[\w ]*?)\s+(\d+)/(\d+)\s*$")


def run_oracle(*paths) -> tuple[str, float, dict[str, tuple[int, int]]]:
    command = f"{sys.executable} -m ikmeta inspect --ndjson"
    out = subprocess.run(
        [sys.executable, str(ORACLE), "--ikmeta", command, *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = {m[1]: (int(m[2]), int(m[3])) for m in map(FIELD_LINE.match, out.splitlines()) if m}
    overall = float(re.search(r"^agreement: ([\d.]+)%", out, re.M)[1])
    return out, overall, fields


def test_oracle_agreement_on_the_corpus(corpus, exiftool, identify):
    need(ORACLE.exists(), str(ORACLE))
    out, overall, fields = run_oracle(corpus)
    assert overall >= 99.5, out
    assert {"width", "height", "size", "format", "exif tags"} <= set(fields), out
    for field, (agreed, compared) in fields.items():
        assert compared and agreed / compared >= 0.99, f"{field}: {agreed}/{compared}\n{out}"
    assert "ikmeta objects: 0" not in out


def test_oracle_agreement_on_the_shipped_examples(exiftool, identify):
    need(ORACLE.exists(), str(ORACLE))
    out, overall, _ = run_oracle(ROOT / "examples")
    assert overall == 100.0, out


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_quality_equals_imagemagick_at_every_setting(mode, identify):
    im = scene((64, 48)).convert(mode)
    for q in range(1, 101):
        data = encode(im, "JPEG", quality=q)
        ours = estimate_quality(Image.open(io.BytesIO(data)).quantization)
        theirs = int(subprocess.run([identify, "-format", "%Q", "-"], input=data, capture_output=True).stdout)
        assert ours == theirs == q


def test_tag_table_is_up_to_date(exiftool):
    from ikmeta.image.exif_tags import EXIFTOOL_VERSION

    installed = subprocess.run([exiftool, "-ver"], capture_output=True, text=True).stdout.strip()
    if installed != EXIFTOOL_VERSION:
        pytest.skip(
            f"table made from ExifTool {EXIFTOOL_VERSION}, {installed} installed: "
            "run tools/gen_exif_tags.py to move to it"
        )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_exif_tags.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def png_with_chunk(data: bytes, kind: bytes, body: bytes, before: bytes) -> bytes:
    """PNG ``data`` with a chunk added before its first ``before`` chunk."""
    chunk = struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body))
    at = (data.rindex(before) if before == b"IEND" else data.index(before)) - 4  # IEND is last
    return data[:at] + chunk + data[at:]


def png_with_exif_after_pixels(im: Image.Image, exif: bytes) -> bytes:
    """A PNG whose eXIf chunk comes after IDAT, where ImageMagick writes it."""
    return png_with_chunk(encode(im, "PNG"), b"eXIf", exif, before=b"IEND")


def srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def gif_with_profile(im: Image.Image, profile: bytes) -> bytes:
    """A GIF with its ICC profile in an ICCRGBG1012 application extension (Pillow writes none)."""
    data = encode(im.convert("P"), "GIF")
    flags = data[10]
    at = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)  # after the global colour table
    blocks = b"".join(
        bytes([len(part)]) + part for part in (profile[i : i + 255] for i in range(0, len(profile), 255))
    )
    return data[:at] + b"\x21\xff\x0bICCRGBG1012" + blocks + b"\x00" + data[at:]


def bmp_with_profile(im: Image.Image, profile: bytes) -> bytes:
    """A 24-bit BMP with a BITMAPV5HEADER and an embedded ICC profile (Pillow writes none)."""
    width, height = im.size
    stride = (width * 3 + 3) & ~3
    rows = b"".join(
        im.convert("RGB").crop((0, y, width, y + 1)).tobytes("raw", "BGR").ljust(stride, b"\x00")
        for y in reversed(range(height))
    )
    pixels_at = 14 + 124
    profile_at = pixels_at + len(rows)
    header = struct.pack("<IiiHHIIiiII", 124, width, height, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
    header += struct.pack("<IIIII", 0, 0, 0, 0, 0x4D424544) + b"\x00" * 36 + struct.pack("<III", 0, 0, 0)
    header += struct.pack("<IIII", 4, profile_at - 14, len(profile), 0)
    return b"BM" + struct.pack("<IHHI", profile_at + len(profile), 0, 0, pixels_at) + header + rows + profile


def text_block(endian: str) -> bytes:
    """IFD0 with Make, resolution and an XPTitle; an Exif IFD whose UserComment is UTF-16 in the
    other byte order (as Microsoft Photo writes it), and an XPComment of its own."""
    e = endian
    other = "utf-16-le" if e == ">" else "utf-16-be"
    b = TiffBuilder(e)
    b.ifd(
        [
            (0x010F, 2, 6, b"Maker\0"),
            (0x011A, 5, 1, struct.pack(e + "II", 300, 1)),
            (0x0128, 3, 1, struct.pack(e + "H", 2)),
            (0x9C9B, 1, 8, "Tïtle".encode("utf-16-le")[:8]),
            (0x8769, 4, 1, b""),
        ]
    )
    comment = b"UNICODE\0" + "Hello wörld".encode(other)
    b.ifd([(0x9286, 7, len(comment), comment), (0x9C9C, 1, 6, "abc".encode("utf-16-le"))])
    return b.build(links={(0, 0x8769): 1})


def test_oracle_agreement_on_made_edge_cases(tmp_path, exiftool, identify):
    """Files the corpus lacks, each a case once read wrong: eXIf after the pixels, density from
    EXIF only where ImageMagick takes it and from a pHYs of unknown unit, UTF-16 text in the
    other byte order, XP tags in the Exif IFD, JPEG tables that match no IJG quality, ICC
    profiles in GIF and BMP files."""
    need(ORACLE.exists(), str(ORACLE))
    im = scene((96, 64), seed=4)
    for endian, name in (("<", "ii"), (">", "mm")):
        block = text_block(endian)
        (tmp_path / f"after_idat_{name}.png").write_bytes(png_with_exif_after_pixels(im, block))
        (tmp_path / f"text_{name}.jpg").write_bytes(encode(im, "JPEG", exif=b"Exif\0\0" + block))
        (tmp_path / f"text_{name}.webp").write_bytes(encode(im, "WEBP", exif=b"Exif\0\0" + block))
        (tmp_path / f"phys_{name}.png").write_bytes(encode(im, "PNG", exif=block, dpi=(96, 96)))
    zero = TiffBuilder("<")
    zero.ifd([(0x011A, 5, 1, struct.pack("<II", 0, 1)), (0x0128, 3, 1, struct.pack("<H", 2))])
    (tmp_path / "xres0_jfif96.jpg").write_bytes(
        encode(im, "JPEG", dpi=(96, 96), exif=b"Exif\0\0" + zero.build())
    )
    (tmp_path / "phys_unknown_unit.png").write_bytes(
        png_with_chunk(encode(im, "PNG"), b"pHYs", struct.pack(">IIB", 3, 3, 0), before=b"IDAT")
    )
    (tmp_path / "profile.gif").write_bytes(gif_with_profile(im, srgb_profile()))
    (tmp_path / "profile.bmp").write_bytes(bmp_with_profile(im, srgb_profile()))
    (tmp_path / "odd_tables.jpg").write_bytes(encode(im, "JPEG", qtables=[[1] * 64, [255] * 64]))
    (tmp_path / "odd_grey_tables.jpg").write_bytes(
        encode(im.convert("L"), "JPEG", qtables=[[255] * 32 + [1] * 32])
    )
    out, overall, _ = run_oracle(tmp_path)
    assert overall == 100.0, out
