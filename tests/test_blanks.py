"""ikmeta.video.blanks and ikmeta.dupes.dense.BlankEnds: the seconds of one colour at a video's
ends, decoded from its first and last frames (or read from its dense fingerprint), cached, and
never guessed for a file that is not the one scanned."""

from __future__ import annotations

import dataclasses
import json
from contextlib import closing

import pytest

from ikmeta.cache import HashCache, cache_key
from ikmeta.dupes.dense import BLANKS_KIND, BlankEnds, DenseFingerprints
from ikmeta.dupes.hashlist import video_item_of
from ikmeta.media import video_record
from ikmeta.sources.base import STDIN
from ikmeta.sources.read import read_source
from ikmeta.video.record import video_problem

from .conftest import make_clip, need_module

FPS = 25


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory):
    """A 3 s clip; it padded with 2 s of black (one key frame in 5 s: none in the black); it
    after 1 s of black; and one that fades to black for its last 4 frames."""
    need_module("av", "PyAV (the video extra)")
    root = tmp_path_factory.mktemp("blanks")
    make_clip(root / "clip.mp4", seconds=3, seed=5)
    make_clip(root / "padded.mp4", seconds=5, of=3, dark_end=2 * FPS, gop=10 * FPS, seed=5)
    make_clip(root / "leader.mp4", seconds=4, dark=FPS, seed=5)
    make_clip(root / "fade.mp4", seconds=3, dark_end=4, seed=5)
    return root


def ends(path) -> tuple[float, float]:
    from ikmeta.video.blanks import blank_ends

    return blank_ends(read_source(str(path)))


def test_a_clip_showing_a_picture_throughout_has_no_blank_end(clips):
    assert ends(clips / "clip.mp4") == (0.0, 0.0)


def test_padding_is_found_to_a_frame_with_no_key_frame_in_it(clips):
    assert ends(clips / "padded.mp4") == pytest.approx((0.0, 2.0), abs=1.01 / FPS)


def test_a_black_leader_and_a_fade_are_measured(clips):
    assert ends(clips / "leader.mp4") == pytest.approx((1.0, 0.0), abs=1.01 / FPS)
    assert ends(clips / "fade.mp4") == pytest.approx((0.0, 4 / FPS), abs=1.01 / FPS)


def test_a_dense_fingerprint_says_the_same_and_a_key_frames_one_says_nothing(clips):
    for name in ("padded.mp4", "leader.mp4", "clip.mp4"):
        dense = video_record(read_source(str(clips / name)), dense=True).metadata
        assert dense["blank"] == pytest.approx(ends(clips / name), abs=1e-3)
        assert video_problem(dense) is None
        assert video_item_of(name, dense).blank == tuple(dense["blank"])
        assert "blank" not in video_record(read_source(str(clips / name))).metadata


@pytest.mark.parametrize(
    ("blank", "named"),
    [
        ([1.0], True),
        ([-1.0, 0.0], True),
        ([5.0, 5.0], True),
        ("0 2", True),
        ([0.0, 2.0], False),
        (None, False),
    ],
)
def test_a_record_s_blank_ends_are_checked(blank, named):
    record = {
        "pHash": "0123456789abcdef",
        "width": 4,
        "height": 3,
        "duration": 8.0,
        "frames": [{"time": 0.0, "pHash": "0123456789abcdef", "turned": ["0123456789abcdef"] * 3}],
        "blank": blank,
    }
    problem = video_problem(record)
    assert (problem is not None and problem.startswith('"blank" is')) is named


def scanned(path) -> object:
    """The video's item as ``dupes`` scans it (key frames, size and time of the file)."""
    record = video_record(read_source(str(path))).metadata
    key = cache_key(str(path))
    return video_item_of(str(path), {**record, "size": key.size, "mtimeNs": key.mtime_ns})


def test_blank_ends_are_measured_once_and_cached(clips, tmp_path, monkeypatch):
    import ikmeta.video.blanks

    path = str(tmp_path / "cache.sqlite3")
    items = [scanned(clips / "padded.mp4"), scanned(clips / "clip.mp4")]
    with closing(HashCache.open(path)) as cache:
        measured = BlankEnds(cache, jobs=2)(items)
    assert [item.blank for item in measured] == [ends(clips / "padded.mp4"), (0.0, 0.0)]
    assert [dataclasses.replace(item, blank=None) for item in measured] == items

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(ikmeta.video.blanks, "blank_ends", no_decoding)
    with closing(HashCache.open(path)) as cache:
        assert BlankEnds(cache)(items) == measured


def test_a_dense_fingerprint_in_the_cache_saves_the_decoding(clips, tmp_path, monkeypatch):
    import ikmeta.video.blanks

    item = scanned(clips / "leader.mp4")
    with closing(HashCache.open(str(tmp_path / "cache.sqlite3"))) as cache:
        assert DenseFingerprints(cache)(item) is not None
        monkeypatch.setattr(ikmeta.video.blanks, "blank_ends", lambda *a, **k: pytest.fail("decoded"))
        (found,) = BlankEnds(cache)([item])
        assert found.blank == pytest.approx((1.0, 0.0), abs=1.01 / FPS)
        assert cache.get_details([cache_key(item.source)], BLANKS_KIND) == {}


def test_what_is_not_the_file_scanned_is_not_measured(clips, tmp_path):
    item = scanned(clips / "padded.mp4")
    changed = dataclasses.replace(item, mtime_ns=(item.mtime_ns or 0) - 10**9)
    piped = dataclasses.replace(item, source=STDIN)
    remote = dataclasses.replace(item, source="https://example.com/padded.mp4")
    gone = dataclasses.replace(item, source=str(tmp_path / "gone.mp4"))
    unreadable = tmp_path / "text.mp4"
    unreadable.write_text("not a video")
    key = cache_key(str(unreadable))
    broken = dataclasses.replace(item, source=str(unreadable), size=key.size, mtime_ns=key.mtime_ns)
    asked = [changed, piped, remote, gone, broken]
    with closing(HashCache.open(None)) as cache:
        assert BlankEnds(cache)(asked) == asked


def test_a_video_without_a_picture_has_no_blank_end_to_count(tmp_path):
    need_module("av", "PyAV (the video extra)")
    black = make_clip(tmp_path / "black.mp4", seconds=1, colour=(0, 0, 0))
    assert ends(black) == (0.0, 0.0)


def frame_of(values, fmt: str = "yuv420p"):
    """A decoded-like frame whose grey (luma) values are ``values`` (a 2-D uint8 array)."""
    import av
    import numpy as np

    grey = av.VideoFrame.from_ndarray(np.ascontiguousarray(values, dtype=np.uint8), format="gray")
    return grey.reformat(format=fmt)


@pytest.mark.parametrize("fmt", ["yuv420p", "rgb24"])  # the luma plane read as it is, and a frame made grey
def test_padding_is_blank_and_a_dark_scene_is_not(fmt):
    import numpy as np

    need_module("av", "PyAV (the video extra)")
    from ikmeta.video.blanks import is_blank

    rows = np.random.default_rng(1).integers(16, 29, size=(96, 128))  # a night scene: 16 to 28
    assert is_blank(frame_of(np.full((96, 128), 16), fmt))
    assert not is_blank(frame_of(rows, fmt))


def test_only_frames_decoded_blank_count():
    from ikmeta.video.blanks import Shown

    held = Shown(first=0.0, last=6.0)  # its last picture held on screen, or its sound longer
    assert held.blank(10.0) == (0.0, 0.0)
    late = Shown(first=0.8, last=6.0)  # a stream whose first frame comes late, not after black
    assert late.blank(7.0) == (0.0, 0.0)
    assert Shown().blank(5.0) == (0.0, 0.0)
    assert Shown(first=9.0, last=9.5, blank_before=True, blank_after=9.6).blank(8.0) == (8.0, 0.0)


def test_a_transport_stream_lasts_as_long_as_its_mp4(tmp_path):
    """FFmpeg's duration of a transport stream leaves out its muxer's 1.4 s delay: the video
    plays as long as the same clip in MP4 (it was counted 1.4 s short)."""
    from ikmeta.video.fingerprint import fingerprint

    mp4 = make_clip(tmp_path / "a.mp4", seconds=4, seed=2)
    ts = make_clip(tmp_path / "a.ts", "ts", seconds=4, seed=2)
    assert fingerprint(read_source(str(ts))).duration == pytest.approx(
        fingerprint(read_source(str(mp4))).duration
    )


def test_an_avi_whose_first_frame_is_not_marked_a_key_frame_is_one_line_not_a_traceback(tmp_path):
    """FFmpeg refuses to seek in such a file; its blank ends are then not measured (it ranks by
    its duration) and ``dupes`` still groups it."""
    from .conftest import run

    clip = make_clip(tmp_path / "a.avi", "avi", seconds=4, gop=25, seed=4)
    data = bytearray(clip.read_bytes())
    entry = data.rindex(b"idx1") + 8
    while data[entry : entry + 2] != b"00":  # the index's first entry of the video stream
        entry += 16
    data[entry + 4 : entry + 8] = (0).to_bytes(4, "little")  # its flags: no AVIIF_KEYFRAME
    clip.write_bytes(bytes(data))
    make_clip(tmp_path / "b.mp4", seconds=3, of=4, gop=25, seed=4)
    result = run("dupes", str(tmp_path), "--json", "--no-cache")
    assert result.exit_code == 0 and "Traceback" not in result.stderr
    (found,) = json.loads(result.stdout)
    assert [f["source"] for f in found["files"]] == [str(tmp_path / "a.avi"), str(tmp_path / "b.mp4")]
