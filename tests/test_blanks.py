"""ikmeta.video.blanks and ikmeta.dupes.dense.BlankEnds: the seconds of one colour at a video's
ends, decoded from its first and last frames (or read from its dense fingerprint), cached, and
never guessed for a file that is not the one scanned."""

from __future__ import annotations

import dataclasses
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
