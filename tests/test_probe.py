"""ikmeta.video.probe and ikmeta.media: a video's metadata object (ImageKit's video fields and
ikmeta's own), held to ffprobe, and the one-line failures of broken videos."""

from __future__ import annotations

import json
import re
import shutil
import struct
import sys
import time
from pathlib import Path

import pytest

import ikmeta
from ikmeta.errors import ImageError

from .conftest import CLIP_KINDS, EXAMPLES, ROOT, agrees, make_clip, need, need_module, probed, run

VIDEO_SCHEMA = ROOT.parent / "shared" / "metadata.video.schema.json"
CODECS = {"mp4": ("h264", "aac"), "mov": ("h264", "aac"), "m4v": ("h264", "aac"), "3gp": ("h264", "aac")}
CODECS |= {"webm": ("vp9", "opus"), "mkv": ("hevc", "mp3"), "avi": ("mpeg4", "mp3")}
CODECS |= {"ts": ("h264", "aac"), "m2ts": ("h264", "aac")}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A clip in each container, 2 s of 320x240 with sound."""
    folder = tmp_path_factory.mktemp("clips")
    return {kind: make_clip(folder / f"clip.{kind}", kind, seed=i) for i, kind in enumerate(CLIP_KINDS)}


@pytest.mark.parametrize("kind", sorted(CLIP_KINDS))
def test_each_container_gives_imagekits_video_fields(clips, kind):
    meta = ikmeta.inspect(clips[kind])
    assert (meta["format"], meta["width"], meta["height"]) == (kind, 320, 240)
    assert (meta["videoCodec"], meta["audioCodec"]) == CODECS[kind]
    assert meta["duration"] == 2 and meta["size"] == clips[kind].stat().st_size
    assert meta["bitRate"] == pytest.approx(clips[kind].stat().st_size * 8 / 2000, rel=0.1)
    assert meta["frameRate"] == 25.0 and meta["rotation"] == 0


def test_every_object_validates_against_the_video_schema(clips):
    jsonschema = need_module("jsonschema", "jsonschema")
    need(VIDEO_SCHEMA.is_file(), f"the video schema ({VIDEO_SCHEMA})")
    schema = json.loads(VIDEO_SCHEMA.read_text())
    for path in clips.values():
        jsonschema.validate(ikmeta.inspect(path), schema)


def test_ffprobe_agrees_on_every_field(clips, tmp_path, ffprobe):
    """Width and height as displayed, duration (rounded), codecs, bit rate within 1%."""
    turned = make_clip(tmp_path / "turned.mp4", rotation=90, seconds=3.5, sound=False)
    upside_down = make_clip(tmp_path / "upside_down.mov", rotation=180, seconds=1)
    for path in [*clips.values(), turned, upside_down]:
        assert agrees(ikmeta.inspect(path), probed(ffprobe, path)) == [], path.name


def test_a_stored_rotation_turns_width_and_height(tmp_path):
    portrait = ikmeta.inspect(make_clip(tmp_path / "portrait.mp4", size=(320, 180), rotation=90))
    assert (portrait["width"], portrait["height"], portrait["rotation"]) == (180, 320, 90)
    turned = ikmeta.inspect(make_clip(tmp_path / "left.mov", size=(320, 180), rotation=270))
    assert (turned["width"], turned["height"], turned["rotation"]) == (180, 320, 270)


def test_a_silent_clip_has_no_audio_codec(tmp_path):
    meta = ikmeta.inspect(make_clip(tmp_path / "silent.webm", "webm", sound=False))
    assert (meta["videoCodec"], meta["audioCodec"]) == ("vp9", None)


def test_a_phones_tags_give_time_device_and_place(tmp_path):
    tags = {
        "creation_time": "2024-06-01T08:22:33.000000Z",
        "com.apple.quicktime.creationdate": "2024-06-01T10:22:33+0200",
        "com.apple.quicktime.make": "Apple",
        "com.apple.quicktime.model": "iPhone 15 Pro",
        "com.apple.quicktime.location.ISO6709": "+48.8583+002.2945+035.000/",
    }
    meta = ikmeta.inspect(make_clip(tmp_path / "phone.mov", "mov", tags=tags))
    assert meta["captured"] == "2024-06-01T10:22:33+02:00"
    assert (meta["make"], meta["model"]) == ("Apple", "iPhone 15 Pro")
    assert meta["location"] == {"latitude": 48.8583, "longitude": 2.2945, "altitude": 35.0}
    android = {"creation_time": "2023-02-03T04:05:06.000000Z", "location": "+37.7749-122.4194/"}
    meta = ikmeta.inspect(make_clip(tmp_path / "android.mp4", tags=android))
    assert meta["captured"] == "2023-02-03T04:05:06Z"
    assert meta["location"] == {"latitude": 37.7749, "longitude": -122.4194, "altitude": None}
    assert (meta["make"], meta["model"]) == (None, None)


def test_a_time_never_set_is_null(tmp_path):
    meta = ikmeta.inspect(
        make_clip(tmp_path / "zero.mp4", tags={"creation_time": "1904-01-01T00:00:00.000000Z"})
    )
    assert meta["captured"] is None


def test_bytes_standard_input_and_a_file_give_one_object(clips):
    path = clips["webm"]
    from_file = ikmeta.inspect(path)
    from_bytes = ikmeta.inspect(path.read_bytes())
    piped = run("inspect", "-", stdin=path.read_bytes())
    assert piped.exit_code == 0, piped.stderr
    for other in (from_bytes, json.loads(piped.stdout)):
        assert {k: v for k, v in other.items() if k != "source"} == {
            k: v for k, v in from_file.items() if k != "source"
        }


def test_a_folder_lists_its_videos_beside_its_images(clips, tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(clips["mov"], folder / "b.mov")
    shutil.copy(EXAMPLES / "harbour.jpg", folder / "a.jpg")
    (folder / "notes.txt").write_text("hi")
    result = run("inspect", str(folder), "--ndjson")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["format"] for line in result.stdout.splitlines()] == ["jpg", "mov"]
    assert "(1 .txt)" in result.stderr and "; the" not in result.stderr


def test_without_pyav_a_video_is_one_line_naming_the_extra(clips, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # import av raises ImportError
    result = run("inspect", str(clips["mp4"]))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"ikmeta: {clips['mp4']}: a video (mp4); reading videos needs PyAV: pip install 'ikmeta[video]'\n"
    )
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(clips["mp4"], folder / "a.mp4")
    shutil.copy(EXAMPLES / "harbour.jpg", folder / "b.jpg")
    walked = run("inspect", str(folder), "--ndjson")
    assert walked.exit_code == 0 and len(walked.stdout.splitlines()) == 1
    assert "(1 .mp4); the 1 video: reading videos needs PyAV: pip install 'ikmeta[video]'" in walked.stderr


def test_dupes_and_phash_read_the_videos_of_a_folder(clips, tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(clips["mp4"], folder / "a.mp4")
    shutil.copy(EXAMPLES / "harbour.jpg", folder / "b.jpg")
    result = run("dupes", str(folder), "--no-cache")
    assert result.exit_code == 0
    assert result.stderr.startswith("1 image and 1 video scanned, 0 groups")
    hashed = run("phash", str(folder))
    assert (hashed.exit_code, hashed.stderr) == (0, "")
    assert [line.split("  ")[1] for line in hashed.stdout.splitlines()] == [
        str(folder / "a.mp4"),
        str(folder / "b.jpg"),
    ]


# --- broken videos: one line each, never a hang or a traceback -----------------------------------


def test_a_file_cut_before_its_index_is_one_line(clips, tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clips["mp4"].read_bytes()[:3000])  # the moov box comes last: not reached
    result = run("inspect", str(cut))
    assert result.exit_code == 1 and result.stdout == ""
    assert (
        result.stderr.startswith(f"ikmeta: {cut}: corrupt or truncated mp4 (")
        and result.stderr.count("\n") == 1
    )


@pytest.mark.parametrize("kind", ["mp4", "webm", "avi"])
def test_a_file_cut_after_its_index_is_read_with_a_warning(tmp_path, kind):
    whole = make_clip(tmp_path / f"whole.{kind}", kind, faststart=True, seconds=3)
    cut = tmp_path / f"cut.{kind}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = run("inspect", str(cut))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["format"] == kind
    reason = rf"truncated: its (\w+ box|Segment|RIFF chunk) runs to byte {whole.stat().st_size}"
    said = rf"^ikmeta: {re.escape(str(cut))}: warning: {reason}, the file has {cut.stat().st_size}\n$"
    assert re.search(said, result.stderr), result.stderr


def test_text_named_as_a_video_and_an_empty_one(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    result = run("inspect", str(text), str(empty))
    assert result.exit_code == 1 and json.loads(result.stdout) == []
    assert result.stderr.splitlines() == [
        f"ikmeta: {text}: not a video ikmeta can read (containers: mp4, mov, m4v, 3gp, webm, mkv, avi, ts, m2ts)",
        f"ikmeta: {empty}: empty file",
    ]


def test_sound_only_is_not_a_video(tmp_path):
    av = need_module("av", "PyAV")
    import numpy as np

    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        for i in range(20):
            block = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            block.sample_rate, block.pts = 44100, i * 1024
            out.mux(stream.encode(block))
        out.mux(stream.encode())
    with pytest.raises(ImageError, match=r"voice.m4a: no video stream \(sound only\)$"):
        ikmeta.inspect(path)


def test_a_container_that_claims_ten_hours_answers_at_once(tmp_path):
    """A Matroska file whose Duration element says 10 hours: the object says so (as ffprobe
    does), at once: nothing is decoded past the first frame."""
    data = bytearray(make_clip(tmp_path / "short.mkv", "mkv", sound=False).read_bytes())
    at = data.index(b"\x44\x89")  # Duration, an 8-byte float of milliseconds
    assert data[at + 2] == 0x88
    data[at + 3 : at + 11] = struct.pack(">d", 36_000_000.0)
    claims = tmp_path / "claims.mkv"
    claims.write_bytes(bytes(data))
    started = time.monotonic()
    meta = ikmeta.inspect(claims)
    assert time.monotonic() - started < 10
    assert (meta["duration"], meta["bitRate"], meta["width"]) == (36_000, 0, 320)


def test_a_capture_time_that_is_not_iso_8601_or_never_set_gives_way_to_the_next_tag():
    from ikmeta.video.probe import captured

    assert captured({"creation_time": "1970-01-01T00:00:00Z", "date": "2021-05-06T07:08:09Z"}) == (
        "2021-05-06T07:08:09Z"
    )
    assert captured({"creation_time": "2024:06:01 10:22:33"}) is None
    assert captured({"date_recorded": "2019-03-04T05:06:07+0100"}) == "2019-03-04T05:06:07+01:00"


def test_a_webm_written_without_its_duration_gets_it_from_its_last_frame(tmp_path):
    """A recording written as it streamed (a browser's MediaRecorder) holds no Duration."""
    data = bytearray(make_clip(tmp_path / "clip.webm", "webm", seconds=3, sound=False).read_bytes())
    at = data.index(b"\x44\x89")  # Duration, renamed to an element readers skip
    data[at : at + 2] = b"\x44\x7f"
    live = tmp_path / "live.webm"
    live.write_bytes(bytes(data))
    meta = ikmeta.inspect(live)
    assert meta["duration"] == 3 and meta["bitRate"] > 0
