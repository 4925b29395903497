"""ikmeta.video.fingerprint and the video hash records of ``phash``: key frames only, at most
one a second, each as displayed (turned upright, bars cut), frames of one colour left out."""

from __future__ import annotations

import json

import pytest

import ikmeta
from ikmeta.errors import ImageError
from ikmeta.hashes import distance
from ikmeta.sources.read import read_source
from ikmeta.video.fingerprint import fingerprint

from .conftest import make_clip, need_module, run


@pytest.fixture(autouse=True)
def _pyav():
    need_module("av", "PyAV (the video extra)")


def test_key_frames_only_at_most_one_a_second(tmp_path):
    """Key frames every 0.4 s (10 frames at 25 fps) over 4 s: one a second is hashed, at the
    key frames' own times."""
    fp = fingerprint(read_source(str(make_clip(tmp_path / "clip.mp4", seconds=4, gop=10))))
    times = [frame.time for frame in fp.frames]
    assert times == [0.0, 1.2, 2.4, 3.6]
    assert (fp.width, fp.height, fp.format, fp.duration) == (320, 240, "mp4", pytest.approx(4.0, abs=0.05))
    assert fp.phash == fp.frames[2].phash


def test_sparse_key_frames_give_fewer_frames(tmp_path):
    fp = fingerprint(read_source(str(make_clip(tmp_path / "clip.mp4", seconds=4))))  # one key frame
    assert [frame.time for frame in fp.frames] == [0.0]


def test_a_copy_in_another_codec_size_and_container_hashes_alike(tmp_path):
    original = fingerprint(read_source(str(make_clip(tmp_path / "a.mp4", size=(640, 360), gop=25))))
    webm = make_clip(tmp_path / "b.webm", "webm", size=(320, 180), picture=(640, 360), gop=25)
    webm = fingerprint(read_source(str(webm)))
    assert len(original.frames) == len(webm.frames) == 2
    for one, other in zip(original.frames, webm.frames, strict=True):
        assert distance(one.phash, other.phash) <= 6


def test_a_stored_rotation_is_applied_and_its_turns_are_kept(tmp_path):
    plain = fingerprint(read_source(str(make_clip(tmp_path / "plain.mp4"))))
    turned = fingerprint(read_source(str(make_clip(tmp_path / "turned.mp4", rotation=90))))
    assert (turned.width, turned.height) == (240, 320)
    assert distance(turned.frames[0].phash, plain.frames[0].turned[0]) <= 4  # displayed: turned 90
    assert distance(turned.frames[0].phash, plain.frames[0].phash) > 16


def test_letterbox_bars_are_cut_before_hashing(tmp_path):
    plain = fingerprint(read_source(str(make_clip(tmp_path / "plain.mp4", size=(320, 180)))))
    boxed = make_clip(tmp_path / "boxed.mp4", size=(320, 240), picture=(320, 180), letterbox=True)
    boxed = fingerprint(read_source(str(boxed)))
    assert distance(plain.frames[0].phash, boxed.frames[0].phash) <= 8


def test_a_video_of_one_colour_is_flat_as_an_image_of_one_colour_is(tmp_path):
    from ikmeta.media import video_record
    from ikmeta.video.record import video_problem

    black = make_clip(tmp_path / "black.mp4", colour=(0, 0, 0), sound=False)
    found = fingerprint(read_source(str(black)))
    assert found.frames == [] and found.colour is not None and max(bytes.fromhex(found.colour[1:])) <= 4
    assert ikmeta.phash(black) == "8000000000000000"  # a flat image's
    record = video_record(read_source(str(black))).metadata
    assert (record["frames"], record["flat"]) == ([], found.colour) and video_problem(record) is None
    frame = {"time": 0.0, "pHash": "0123456789abcdef", "turned": ["0123456789abcdef"] * 3}
    assert (video_problem({**record, "frames": [frame]}) or "").startswith(
        '"flat" is a colour, yet its frames'
    )
    assert (
        video_problem({**record, "flat": None})
        == '"frames" is not a list of frames, each with time, pHash and turned'
    )


def test_letterbox_bars_are_as_wide_on_both_sides():

    from ikmeta.video.fingerprint import letterbox_bars

    assert letterbox_bars((0, 12, 128, 84), 128, 96) == (0, 12, 128, 84)
    assert letterbox_bars((20, 12, 128, 84), 128, 96) == (0, 12, 128, 84)  # a dark edge of the picture: kept
    assert letterbox_bars((0, 30, 128, 84), 128, 96) == (0, 12, 128, 84)  # a night sky under the bar: kept
    assert letterbox_bars((20, 0, 128, 96), 128, 96) is None


def test_a_video_of_several_plain_colours_is_not_flat(tmp_path):
    """Red, then blue: no frame holds a picture, and it is not of one colour (it would group
    with a red clip as flat)."""
    import av
    import numpy as np

    path = tmp_path / "red_blue.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for colour in [(255, 0, 0)] * 50 + [(0, 0, 255)] * 50:
            picture = np.full((240, 320, 3), colour, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        out.mux(stream.encode())
    with pytest.raises(ImageError, match=r"no frame of it holds a picture \(several plain colours\)"):
        ikmeta.phash(path)


def test_phash_prints_the_middle_frame_and_ndjson_every_frame(tmp_path):
    clip = make_clip(
        tmp_path / "clip.mov", "mov", seconds=3, gop=25, tags={"creation_time": "2024-01-02T03:04:05Z"}
    )
    plain = run("phash", str(clip))
    record = json.loads(run("phash", "--ndjson", str(clip)).stdout)
    assert plain.stdout == f"{record['pHash']}  {clip}\n"
    assert [frame["time"] for frame in record["frames"]] == [0.0, 1.0, 2.0]
    assert record["pHash"] == record["frames"][1]["pHash"] == ikmeta.phash(clip)
    assert (record["format"], record["duration"], record["captured"]) == ("mov", 3.0, "2024-01-02T03:04:05Z")
    assert (record["width"], record["height"], record["turned"], record["windows"]) == (320, 240, None, None)


def test_dupes_never_groups_a_videos_hash_line_with_an_image(tmp_path):
    """A video's lines, plain and NDJSON, next to an image whose pHash is the video's: the
    plain line (one frame's pHash) left out and counted, the record read as a video; no group."""
    clip = make_clip(tmp_path / "clip.mp4")
    lines = run("phash", str(clip)).stdout + run("phash", "--ndjson", str(clip)).stdout
    lines += f"{ikmeta.phash(clip)}  still.jpg\n"
    result = run("dupes", "--hashes", "-", "--json", stdin=lines)
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])
    assert result.stderr.splitlines()[0] == (
        "ikmeta: left out 1 video of the hash list: a video's plain line holds one frame's pHash "
        "('phash --ndjson' lists its frames, which dupes groups)"
    )
    assert result.stderr.splitlines()[1].startswith("2 hashes listed, 0 groups")


def test_open_gop_key_frames_are_all_hashed(tmp_path):
    """x264's open GOPs: key frames the decoder would hold back, fed alone, are drained."""
    options = {"x264-params": "open-gop=1:keyint=25:min-keyint=25:scenecut=0", "bf": "3"}
    clip = make_clip(tmp_path / "open.mp4", seconds=4, options=options)
    closed = make_clip(tmp_path / "closed.mp4", seconds=4, gop=25)
    open_frames = fingerprint(read_source(str(clip))).frames
    assert [frame.time for frame in open_frames] == [0.0, 1.0, 2.0, 3.0]
    for one, other in zip(open_frames, fingerprint(read_source(str(closed))).frames, strict=True):
        assert distance(one.phash, other.phash) <= 6


def test_a_clip_whose_only_key_frame_is_black_is_hashed_from_the_frames_after(tmp_path):
    """A fade in: the one key frame is black, so the frames between are decoded, one a second."""
    clip = make_clip(tmp_path / "fade.mp4", seconds=3, dark=10)
    fp = fingerprint(read_source(str(clip)))
    assert [round(frame.time) for frame in fp.frames] == [0, 1, 2] and fp.frames[0].time >= 0.4
    assert ikmeta.phash(clip) == fp.frames[1].phash


def test_the_rotation_is_read_past_damaged_first_frames(tmp_path):
    data = bytearray(
        make_clip(tmp_path / "turned.mp4", rotation=90, seconds=4, gop=25, sound=False).read_bytes()
    )
    at = data.index(b"mdat") + 4
    data[at : at + 2000] = bytes(range(256)) * 7 + bytes(208)  # the first key frame's data scrambled
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    meta = ikmeta.inspect(damaged)
    assert (meta["width"], meta["height"], meta["rotation"]) == (240, 320, 90)


def test_max_pixels_holds_for_videos(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", sound=False)
    for call in (ikmeta.inspect, ikmeta.phash):
        with pytest.raises(ImageError, match=r"clip\.mp4: 76,800 pixels, more than --max-pixels 1,000$"):
            call(clip, max_pixels=1000)


def test_a_copy_whose_timestamps_start_later_is_as_long_and_matches(tmp_path):
    """A stream copy with its timestamps moved on by 30 s (``-output_ts_offset 30``): FFmpeg's
    duration runs from 0 to its end; the fingerprint's is how long it plays."""
    import av

    from ikmeta.video.matching import same

    source = make_clip(tmp_path / "a.mp4", seconds=4, gop=25, sound=False)
    moved = tmp_path / "moved.mkv"
    with av.open(str(source)) as original, av.open(str(moved), "w", format="matroska") as out:
        stream = original.streams.video[0]
        copied = out.add_stream_from_template(stream)
        shift = int(30 / stream.time_base)
        for packet in original.demux(stream):
            if packet.dts is None:
                continue
            packet.pts, packet.dts, packet.stream = packet.pts + shift, packet.dts + shift, copied
            out.mux(packet)
    one, other = fingerprint(read_source(str(source))), fingerprint(read_source(str(moved)))
    assert other.duration == pytest.approx(4.0, abs=0.1)
    assert [frame.time for frame in other.frames] == [frame.time for frame in one.frames]
    assert same(one, other)
