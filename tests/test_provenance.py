"""What a file says of where it came from: the encoder's tables, EXIF edit marks, its head."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from ikmeta.image.metadata import phash_blob
from ikmeta.image.provenance import CHROMA, LUMA, head_digest, libjpeg_quality, provenance_of, scaled
from ikmeta.sources.base import Blob

from .conftest import scene


def saved(im: Image.Image, **params) -> Image.Image:
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", **params)
    return Image.open(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("quality", [10, 50, 75, 92, 95, 100])
def test_pillow_writes_libjpeg_tables_at_its_quality(quality):
    assert libjpeg_quality(saved(scene(), quality=quality).quantization) == quality


def test_grey_jpegs_have_one_table():
    assert libjpeg_quality(saved(scene().convert("L"), quality=80).quantization) == 80


def test_a_cameras_own_tables_are_not_libjpegs():
    own = [max(1, v - 1) for v in scaled(LUMA, 90)]
    custom = saved(scene(), qtables=[own, list(scaled(CHROMA, 90))])
    assert libjpeg_quality(custom.quantization) is None


@given(st.integers(1, 100))
def test_every_ijg_quality_is_known_by_its_tables(quality):
    assert libjpeg_quality({0: list(scaled(LUMA, quality)), 1: list(scaled(CHROMA, quality))}) == quality


def test_an_export_says_its_software_and_edit_time_and_the_size_it_was_made_from():
    exif = Image.Exif()
    exif[0x0131] = "Photo Export 2.1"  # Software
    exif[0x0132] = "2026:01:02 03:04:05"  # ModifyDate
    sub = exif.get_ifd(0x8769)
    sub[0xA002], sub[0xA003] = 640, 480  # PixelXDimension, PixelYDimension
    buffer = io.BytesIO()
    scene((960, 720)).save(buffer, "JPEG", quality=92, exif=exif)
    found = phash_blob(Blob("export.jpg", buffer.getvalue())).metadata["provenance"]
    assert found["software"] == "Photo Export 2.1"
    assert found["modified"] == "2026-01-02T03:04:05"
    assert found["exifSize"] == [640, 480]
    assert found["tables"] == "libjpeg"
    assert found["band"] is None
    assert found["head"] == head_digest(buffer.getvalue())


def test_a_caption_band_is_found_and_a_png_has_no_tables():
    picture = scene((320, 240), seed=4)
    captioned = Image.new("RGB", (320, 280), (0, 0, 0))
    captioned.paste(picture, (0, 0))
    from PIL import ImageDraw

    ImageDraw.Draw(captioned).text((20, 250), "Summer 2019 - family archive", fill=(255, 255, 255))
    buffer = io.BytesIO()
    captioned.save(buffer, "PNG")
    metadata = phash_blob(Blob("captioned.png", buffer.getvalue())).metadata
    assert metadata["provenance"]["band"] == {"side": "bottom", "share": pytest.approx(40 / 280, abs=0.02)}
    assert metadata["provenance"]["tables"] is None
    assert metadata["inner"]["centred"] is False  # the picture beside the band, hashed as a frame's


def test_junk_exif_values_are_unknown():
    groups = {
        "image": {"Software": b"\x00\x00", "ModifyDate": "0000:00:00 00:00:00"},
        "exif": {"ExifImageWidth": -3},
    }
    found = provenance_of(b"", groups, None, "jpg", None)
    assert (found["software"], found["modified"], found["exifSize"], found["tables"]) == (
        None,
        None,
        None,
        None,
    )


def test_the_head_digest_covers_the_first_4_kib():
    data = bytes(range(256)) * 40
    assert head_digest(data) == head_digest(data[:4096] + b"anything after")
    assert head_digest(data) != head_digest(b"x" + data)
