"""ikmeta.sources.filebytes, and large videos read where they lie: the same objects, hashes,
groups and posters as when read into memory, for a fraction of the memory."""

from __future__ import annotations

import json
import os

import pytest

import ikmeta
from ikmeta.sources import read
from ikmeta.sources.filebytes import FileBytes

from .conftest import CLIP_KINDS, make_clip, need_module, run


def opened(path) -> FileBytes:
    return FileBytes(os.open(path, os.O_RDONLY), os.path.getsize(path))


def test_it_answers_as_bytes_do(tmp_path):
    path = tmp_path / "data"
    data = bytes(range(256)) * 40
    path.write_bytes(data)
    found = opened(path)
    assert len(found) == len(data) and bool(found) and repr(found) == f"<FileBytes: {len(data)} bytes>"
    for index in (0, 1, 255, 256, len(data) - 1, -1, -len(data)):
        assert found[index] == data[index]
    for piece in (
        slice(0, 4),
        slice(4, 8),
        slice(-10, None),
        slice(100, 50),
        slice(0, 10**9),
        slice(1, 20, 3),
    ):
        assert found[piece] == data[piece]
    with pytest.raises(IndexError):
        found[len(data)]
    with found.reader() as reader:
        assert reader.read(4) == data[:4] and reader.seek(0, 2) == len(data)


def test_it_reads_the_file_it_opened_after_a_rename_and_closes_when_dropped(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"0123456789")
    found = opened(path)
    path.rename(tmp_path / "moved")
    assert found[2:5] == b"234"
    descriptor = found.descriptor
    del found
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(descriptor)


@pytest.fixture
def streamed(monkeypatch):
    """Every video of 1 KiB or more read where it lies (32 MiB and more otherwise)."""
    monkeypatch.setattr(read, "STREAM_AT", 1024)


@pytest.mark.parametrize("kind", sorted(CLIP_KINDS))
def test_a_video_read_where_it_lies_gives_what_its_bytes_give(tmp_path, kind, monkeypatch):
    need_module("av", "PyAV (the video extra)")
    clip = make_clip(tmp_path / f"clip.{kind}", kind, seconds=3, gop=25, rotation=90 if kind == "mp4" else 0)
    held = ikmeta.inspect(clip), list(ikmeta.hash_records([clip]))
    monkeypatch.setattr(read, "STREAM_AT", 1024)
    assert read.read_source(str(clip)).file is not None  # (really read where it lies)
    assert (ikmeta.inspect(clip), list(ikmeta.hash_records([clip]))) == held


def test_dupes_posters_and_cut_files_read_where_they_lie(tmp_path, streamed):
    need_module("av", "PyAV (the video extra)")
    from ikmeta.review.thumbnails import thumbnail_source

    clip = {"seconds": 4, "gop": 25, "seed": 3}
    whole = make_clip(tmp_path / "a.mp4", size=(640, 360), faststart=True, **clip)
    make_clip(tmp_path / "a_small.mp4", size=(320, 180), picture=(640, 360), **clip)
    (group,) = json.loads(run("dupes", str(tmp_path), "--json", "--no-cache").stdout)
    assert [f["source"].rsplit("/", 1)[1] for f in group["files"]] == ["a.mp4", "a_small.mp4"]
    assert thumbnail_source(str(whole)).width == 256
    cut = tmp_path / "cut" / "a.mp4"
    cut.parent.mkdir()
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = run("inspect", str(cut))
    assert result.exit_code == 0 and "warning: truncated: its mdat box runs to byte" in result.stderr
