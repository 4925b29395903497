"""ikmeta.video.container: which bytes are a video (never an image of the corpus), and which
videos end before their container says."""

from __future__ import annotations

import pytest

from ikmeta.video.container import cut_short, video_format

from .conftest import CLIP_KINDS, make_clip


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (ftyp(b"isom", b"isom", b"avc1"), "mp4"),
        (ftyp(b"mp42", b"mp41"), "mp4"),
        (ftyp(b"qt  ", b"qt  "), "mov"),
        (ftyp(b"M4V ", b"M4V ", b"mp42"), "m4v"),
        (ftyp(b"3gp4", b"3gp4"), "3gp"),
        (ftyp(b"heic", b"mif1", b"heic"), None),
        (ftyp(b"mif1", b"heic", b"miaf"), None),
        (ftyp(b"avif", b"mif1", b"miaf"), None),
        (ftyp(b"avis", b"msf1"), None),
        (ftyp(b"mp42", b"mp42", b"mif1"), "mp4"),  # a phone's video that lists an image brand too
        (b"\0\0\0\x08wide\0\0\0\x10mdat", "mov"),  # an old QuickTime file: no ftyp
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "mkv"),
        (b"RIFF\x10\0\0\0AVI LIST", "avi"),
        (b"\x47" + bytes(187) + b"\x47" + bytes(187) + b"\x47", "ts"),
        (bytes(4) + b"\x47" + bytes(191) + b"\x47" + bytes(191), "m2ts"),
        (b"G" + bytes(10), None),  # one sync byte is not a stream
        (b"RIFF\x10\0\0\0WEBPVP8 ", None),
        (b"\xff\xd8\xff\xe0", None),
        (b"hello, world", None),
        (b"", None),
    ],
)
def test_the_first_bytes_name_the_container(start, expected):
    assert video_format(start) == expected


def test_no_image_of_the_corpus_is_taken_for_a_video(corpus):
    files = [p for p in corpus.rglob("*") if p.is_file()]
    assert len(files) > 50
    taken = [p.name for p in files if video_format(p.read_bytes()[:512])]
    assert taken == []


@pytest.mark.parametrize("kind", sorted(set(CLIP_KINDS) - {"ts", "m2ts"}))  # (packets: no size to check)
def test_a_whole_clip_is_not_cut_short_and_half_of_one_is(tmp_path, kind):
    data = make_clip(tmp_path / f"clip.{kind}", kind, faststart=True).read_bytes()
    assert video_format(data) == kind
    assert cut_short(data) is None
    half = cut_short(data[: len(data) // 2])
    assert half is not None and half.endswith(f"runs to byte {len(data)}, the file has {len(data) // 2}")


def test_a_box_of_size_zero_runs_to_the_end(tmp_path):
    assert cut_short(ftyp(b"isom") + b"\0\0\0\0mdat" + bytes(100)) is None


def test_bytes_after_the_last_box_are_not_a_cut(tmp_path):
    data = make_clip(tmp_path / "clip.mp4").read_bytes()
    assert cut_short(data + b"\x7f\xff\xff\xffjunk" + bytes(100)) is None


def test_a_file_that_ends_inside_a_box_header_is_cut_short():
    assert cut_short(ftyp(b"isom") + b"\0\0\0\x01mdat" + bytes(4)) == (
        "truncated: the file ends inside a box's header, at byte 28"
    )


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (ftyp(b"3gp4", b"mif1", b"heic"), "3gp"),  # a video's major brand decides
        (ftyp(b"MSNV", b"mif1"), "mp4"),
        (ftyp(b"crx ", b"isom"), None),  # a Canon CR3 raw still
        (ftyp(b"abcd", b"mif1", b"heic"), None),  # an unknown major brand beside image brands
    ],
)
def test_a_major_brand_that_names_a_video_or_a_still_decides(start, expected):
    assert video_format(start) == expected
