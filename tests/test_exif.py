"""The EXIF reader: names by tag ID, JSON-native values, and no exception on any input."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ikmeta.image.exif import GROUPS, coded_text, read_exif, read_ifd0
from ikmeta.image.exif_tags import EXIF_TAGS, GPS_TAGS

from .conftest import TiffBuilder


def ascii_(text: str) -> tuple[int, int, bytes]:
    raw = text.encode() + b"\x00"
    return 2, len(raw), raw


def short(e: str, *values: int) -> tuple[int, int, bytes]:
    return 3, len(values), struct.pack(f"{e}{len(values)}H", *values)


def long_(e: str, *values: int) -> tuple[int, int, bytes]:
    return 4, len(values), struct.pack(f"{e}{len(values)}I", *values)


def rational(e: str, *pairs: tuple[int, int], signed: bool = False) -> tuple[int, int, bytes]:
    flat = [v for p in pairs for v in p]
    return (10 if signed else 5), len(pairs), struct.pack(f"{e}{len(flat)}{'i' if signed else 'I'}", *flat)


def undefined(raw: bytes) -> tuple[int, int, bytes]:
    return 7, len(raw), raw


def entry(tag: int, spec: tuple[int, int, bytes]) -> tuple[int, int, int, bytes]:
    return (tag, *spec)


@pytest.fixture(params=["<", ">"], ids=["little-endian", "big-endian"])
def endian(request) -> str:
    return request.param


def canon_like(e: str) -> bytes:
    """IFD0 -> Exif IFD -> Interop IFD, GPS IFD, and IFD1, the Canon 40D layout in miniature."""
    b = TiffBuilder(e)
    b.ifd(
        [
            entry(0x010F, ascii_("Canon")),
            entry(0x0112, short(e, 1)),
            entry(0x011A, rational(e, (72, 1))),
            entry(0x0132, ascii_("2008:07:31 10:38:11")),
            entry(0x8769, long_(e, 0)),
            entry(0x8825, long_(e, 0)),
        ]
    )
    b.ifd(
        [  # 1: Exif IFD
            entry(0x829A, rational(e, (1, 160))),
            entry(0x829D, rational(e, (71, 10))),
            entry(0x8827, short(e, 100)),
            entry(0x9000, undefined(b"0221")),
            entry(0x9004, ascii_("2008:05:30 15:56:01")),
            entry(0x9204, rational(e, (0, 1), signed=True)),
            entry(0x9201, rational(e, (-7, 2), signed=True)),
            entry(0x9101, undefined(b"\x01\x02\x03\x00")),
            entry(0xA300, undefined(b"\x03")),
            entry(0x9286, undefined(b"ASCII\x00\x00\x00hello   ")),
            entry(0xA005, long_(e, 0)),
            entry(0xA003, short(e, 68)),
            entry(0x9A01, short(e, 7)),  # an ID no table knows
        ]
    )
    b.ifd(
        [  # 2: Interop IFD
            entry(0x0001, ascii_("R98")),
            entry(0x0002, undefined(b"0100")),
        ]
    )
    b.ifd(
        [  # 3: GPS IFD
            entry(0x0000, (1, 4, bytes([2, 2, 0, 0]))),
            entry(0x0001, ascii_("N")),
            entry(0x0002, rational(e, (52, 1), (30, 1), (1234, 100))),
            entry(0x001B, undefined(b"ASCII\x00\x00\x00GPS")),
        ]
    )
    b.ifd(
        [  # 4: IFD1
            entry(0x0103, short(e, 6)),
            entry(0x0201, long_(e, 1090)),
            entry(0x0202, long_(e, 1378)),
        ]
    )
    return b.build(links={(0, 0x8769): 1, (0, 0x8825): 3, (1, 0xA005): 2}, chain=(0, 4))


def test_groups_names_and_values(endian):
    groups = read_exif(canon_like(endian))
    assert tuple(groups) == GROUPS
    image, exif = groups["image"], groups["exif"]
    assert image["Make"] == "Canon"
    assert image["Orientation"] == 1
    assert image["XResolution"] == 72 and isinstance(image["XResolution"], int)
    assert image["ModifyDate"] == "2008:07:31 10:38:11"
    assert isinstance(image["ExifOffset"], int) and isinstance(image["GPSInfo"], int)
    assert exif["ExposureTime"] == 0.00625
    assert exif["FNumber"] == 7.1
    assert exif["ISO"] == 100
    assert exif["ExifVersion"] == "0221"
    assert exif["CreateDate"] == "2008:05:30 15:56:01"
    assert exif["ExposureCompensation"] == 0
    assert exif["ShutterSpeedValue"] == -3.5
    assert exif["ComponentsConfiguration"] == [1, 2, 3, 0]
    assert exif["FileSource"] == 3
    assert exif["UserComment"] == "hello"
    assert exif["ExifImageHeight"] == 68
    assert exif["Tag0x9A01"] == 7
    assert groups["interoperability"] == {"InteropIndex": "R98", "InteropVersion": "0100"}
    gps = groups["gps"]
    assert gps["GPSVersionID"] == [2, 2, 0, 0]
    assert gps["GPSLatitudeRef"] == "N"
    assert gps["GPSLatitude"] == [52, 30, 12.34]
    assert gps["GPSProcessingMethod"] == "GPS"
    assert groups["thumbnail"] == {"Compression": 6, "ThumbnailOffset": 1090, "ThumbnailLength": 1378}
    assert groups["makernote"] == {}


def test_exif_header_prefix_is_skipped():
    block = canon_like("<")
    assert read_exif(b"Exif\x00\x00" + block) == read_exif(block)


def test_table_names_from_exiftool():
    expected = {
        0x8827: "ISO",
        0x9004: "CreateDate",
        0x9204: "ExposureCompensation",
        0xA003: "ExifImageHeight",
        0x0132: "ModifyDate",
        0x8769: "ExifOffset",
        0x014A: "SubIFD",
        0x8825: "GPSInfo",
        0xA005: "InteropOffset",
        0x0001: "InteropIndex",
        0x0002: "InteropVersion",
    }
    for tag, name in expected.items():
        assert EXIF_TAGS[tag] == name
    assert GPS_TAGS[0x0000] == "GPSVersionID" and GPS_TAGS[0x0002] == "GPSLatitude"


def test_names_that_depend_on_the_ifd_are_exiftools():
    """0x0201/0x0202 are the thumbnail's offset and length in IFD1, other images' elsewhere."""
    e = "<"
    b = TiffBuilder(e)
    b.ifd([entry(0x0201, long_(e, 4000)), entry(0x0202, long_(e, 900))])
    b.ifd([entry(0x0201, long_(e, 5000)), entry(0x0202, long_(e, 1200))])
    groups = read_exif(b.build(chain=(0, 1)))
    assert groups["image"] == {"OtherImageStart": 4000, "OtherImageLength": 900}
    assert groups["thumbnail"] == {"ThumbnailOffset": 5000, "ThumbnailLength": 1200}


def test_zero_denominator_is_null_and_several_values_are_an_array():
    e = "<"
    b = TiffBuilder(e)
    b.ifd([entry(0x011A, rational(e, (72, 0))), entry(0x0214, rational(e, (0, 1), (255, 1), (128, 0)))])
    image = read_exif(b.build())["image"]
    assert image["XResolution"] is None
    assert image["ReferenceBlackWhite"] == [0, 255, None]


def test_ascii_is_cut_at_the_first_nul_and_count_zero_is_empty():
    e = "<"
    b = TiffBuilder(e)
    b.ifd([entry(0x010F, (2, 12, b"Nikon\x00\x00junk\x00\x00\x00")), entry(0x010E, (2, 0, b""))])
    image = read_exif(b.build())["image"]
    assert image["Make"] == "Nikon"
    assert image["ImageDescription"] == ""


def test_xp_tags_are_utf16():
    title = "Sommer am See ☀".encode("utf-16-le") + b"\x00\x00"
    b = TiffBuilder("<")
    b.ifd([entry(0x9C9B, (1, len(title), title))])
    assert read_exif(b.build())["image"]["XPTitle"] == "Sommer am See ☀"


def test_float_and_double_types():
    e = ">"
    b = TiffBuilder(e)
    b.ifd([entry(0x920A, (11, 1, struct.pack(">f", 35.0))), entry(0x9202, (12, 1, struct.pack(">d", 2.5)))])
    image = read_exif(b.build())["image"]
    assert image["FocalLength"] == 35 and isinstance(image["FocalLength"], int)
    assert image["ApertureValue"] == 2.5


def test_makernote_and_embedded_blocks_are_left_out():
    e = "<"
    b = TiffBuilder(e)
    b.ifd(
        [
            entry(0x8773, undefined(b"ICC!" * 10)),
            entry(0x02BC, (1, 8, b"<x:xmp/>")),
            entry(0x8769, long_(e, 0)),
        ]
    )
    b.ifd([entry(0x927C, undefined(b"\x00" * 40)), entry(0x8827, short(e, 200))])
    groups = read_exif(b.build(links={(0, 0x8769): 1}))
    assert "ICC_Profile" not in groups["image"] and "ApplicationNotes" not in groups["image"]
    assert groups["exif"] == {"ISO": 200}


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"ASCII\x00\x00\x00Hello world  \x00\x00", "Hello world"),
        (b"\x00" * 8 + b"\x00" * 20, ""),
        (b"UNICODE\x00" + "Grüße".encode("utf-16-le"), "Grüße"),
        (b"UNICODE\x00" + "Grüße".encode("utf-16-be"), "Grüße"),  # the other order, told by its zero bytes
        (b"UNICODE\x00" + "\ufeffGrüße".encode("utf-16-be"), "Grüße"),
        (b"JIS\x00\x00\x00\x00\x00" + bytes(b & 0x7F for b in "写真".encode("euc_jp")), "写真"),  # JIS X 0208
        (b"JIS\x00\x00\x00\x00\x00" + "写真".encode("shift_jis"), "写真"),
        (b"no header at all", "no header at all"),
        (
            b"FOOBAR\x00\x00text here",
            "FOOBARtext here",
        ),  # an unknown code: all the bytes, as ExifTool shows them
        (b"ASCII\x00\x00\x00line\n  ", "line\n"),  # only spaces are padding
    ],
)
def test_coded_text(raw, text):
    assert coded_text(raw, "<") == text


def test_text_tags_decode_like_exiftool():
    e = "<"
    b = TiffBuilder(e)
    b.ifd(
        [
            entry(0x010E, (2, 12, b"\xc3\xa9 and \xe9\x00\x00")),
            entry(0x013B, (2, 5, b"Caf\xe9\x00")),
            entry(0x9C9B, (1, 10, "ab".encode("utf-16-le") + b"\x00\x00" + "cd".encode("utf-16-le"))),
            entry(0x9C9C, (1, 7, "abc".encode("utf-16-le") + b"x")),
            entry(0x8769, long_(e, 0)),
        ]
    )
    b.ifd([entry(0x9C9F, (1, 6, "sub".encode("utf-16-le")))])
    groups = read_exif(b.build(links={(0, 0x8769): 1}))
    assert groups["image"]["ImageDescription"] == "é and \ufffd"  # UTF-8 with a stray byte
    assert groups["image"]["Artist"] == "Café"  # Latin-1
    assert groups["image"]["XPTitle"] == "ab" and groups["image"]["XPComment"] == "abc"
    assert groups["exif"]["XPSubject"] == "sub"


def test_loops_and_bad_offsets_end_quietly():
    e = "<"
    b = TiffBuilder(e)
    b.ifd([entry(0x010F, ascii_("Loop")), entry(0x8769, long_(e, 0))])
    block = b.build(links={(0, 0x8769): 0}, chain=(0, 0))  # Exif IFD and IFD1 point back at IFD0
    groups = read_exif(block)
    assert groups["image"]["Make"] == "Loop"
    assert groups["exif"] == {} and groups["thumbnail"] == {}
    b = TiffBuilder(e)
    b.ifd([entry(0x010F, (2, 100, struct.pack("<I", 10_000)))])  # value far past the end
    assert read_exif(b.build())["image"] == {}


@pytest.mark.parametrize(
    "block", [b"", b"Exif\x00\x00", b"II*\x00", b"MM\x00*\xff\xff\xff\xff", b"not exif at all"]
)
def test_not_a_block_gives_empty_groups(block):
    assert read_exif(block) == {g: {} for g in GROUPS}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([b"II*\x00\x08\x00\x00\x00", b"MM\x00*\x00\x00\x00\x08"]))
def test_random_bytes_never_raise(tail, header):
    groups = read_exif(header + tail)
    assert set(groups) == set(GROUPS)


def test_read_ifd0_alone():
    block = canon_like("<")
    assert read_ifd0(block) == read_exif(block)["image"]
    assert read_ifd0(b"nothing") == {}


@pytest.mark.parametrize("e", ["<", ">"])
def test_bigtiff_is_read(e):
    """BigTIFF: 64-bit offsets and counts, 20-byte entries, values up to 8 bytes inline."""

    def entry20(tag, typ, count, raw, data_at=None):
        value = struct.pack(e + "Q", data_at) if data_at is not None else raw.ljust(8, b"\x00")
        return struct.pack(e + "HHQ", tag, typ, count) + value

    header = (b"II+\x00" if e == "<" else b"MM\x00+") + struct.pack(e + "HHQ", 8, 0, 16)
    description = b"a long description\x00"
    entries = [
        entry20(0x0100, 3, 1, struct.pack(e + "H", 96)),
        entry20(0x0101, 4, 1, struct.pack(e + "I", 64)),
        entry20(0x010E, 2, len(description), b"", data_at=0),
        entry20(0x0112, 3, 1, struct.pack(e + "H", 6)),
        entry20(0x011A, 5, 1, struct.pack(e + "II", 300, 1)),
    ]
    data_at = 16 + 8 + 20 * len(entries) + 8
    entries[2] = entry20(0x010E, 2, len(description), b"", data_at=data_at)
    block = (
        header
        + struct.pack(e + "Q", len(entries))
        + b"".join(entries)
        + struct.pack(e + "Q", 0)
        + description
    )
    assert read_exif(block)["image"] == {
        "ImageWidth": 96,
        "ImageHeight": 64,
        "ImageDescription": "a long description",
        "Orientation": 6,
        "XResolution": 300,
    }
    assert read_ifd0(block)["Orientation"] == 6


def test_maker_note_strings_lose_their_padding():
    from ikmeta.image.makernote import json_value

    assert json_value("FINE   ") == "FINE"
    assert json_value("AUTO\x00junk") == "AUTO"
    assert json_value(" LEAD") == " LEAD"
