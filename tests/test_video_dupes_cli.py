"""``ikmeta dupes`` over videos: copies of a clip grouped (never with an image), the copy to
keep first with the reasons, cached, on the review page with a poster, from a hash list, and
acted on by ``apply`` like any file."""

from __future__ import annotations

import json
import shutil

import pytest

from ikmeta.sources.read import read_source
from ikmeta.video.container import CONTAINERS

from .conftest import make_clip, need_module, run
from .test_review import embedded


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    """A clip, a smaller copy of it, a WebM of its last 3 seconds, another clip, and a photo of
    the clip's middle frame (its pHash near the video's)."""
    need_module("av", "PyAV (the video extra)")
    from ikmeta.video.poster import poster_frame

    root = tmp_path_factory.mktemp("videos")
    clip = {"seconds": 4, "gop": 25, "seed": 3, "tags": {"creation_time": "2024-05-06T07:08:09Z"}}
    make_clip(root / "clip.mp4", size=(640, 360), **clip)
    make_clip(root / "clip_small.mp4", size=(320, 180), picture=(640, 360), **clip)
    make_clip(root / "clip_end.webm", "webm", size=(640, 360), seconds=3, start=1, of=4, gop=25, seed=3)
    make_clip(root / "other.mp4", size=(640, 360), seconds=4, gop=25, seed=8)
    poster_frame(read_source(str(root / "clip.mp4"))).save(root / "still.jpg", quality=92)
    return root


def test_copies_of_a_clip_group_with_the_original_first_and_never_with_an_image(library):
    import ikmeta

    assert ikmeta.distance(ikmeta.phash(library / "still.jpg"), ikmeta.phash(library / "clip.mp4")) <= 10
    result = run("dupes", str(library), "--json", "--no-cache")
    assert result.exit_code == 0, result.stderr
    (group,) = json.loads(result.stdout)
    files = {f["source"].rsplit("/", 1)[1]: f for f in group["files"]}
    assert group["reference"] == str(library / "clip.mp4")
    assert list(files) == ["clip.mp4", "clip_small.mp4", "clip_end.webm"]
    kept, small, end = files.values()
    assert (kept["width"], kept["height"], kept["format"], kept["why"]) == (640, 360, "mp4", [])
    assert kept["duration"] == pytest.approx(4.0, abs=0.05) and kept["videoBitRate"] > 0
    assert small["why"][0] == "smaller (320x180 of 640x360)"
    assert end["why"] == ["shorter (3.0 s of 4.0 s)", "no capture metadata"] and end["format"] == "webm"
    assert all(0 <= f["distance"] <= 10 and f["quality"] is None for f in group["files"])
    assert result.stderr.splitlines()[-1].startswith("1 image and 4 videos scanned, 1 group, 2 duplicates, ")


def test_the_table_names_videos_and_their_length(library):
    result = run("dupes", str(library), "--table", "--no-cache")
    assert result.exit_code == 0
    assert "group 1: 3 videos" in result.stdout and "640x360, 4.0 s" in result.stdout


def test_csv_has_duration_and_bit_rate_columns(library):
    rows = run("dupes", str(library), "--csv", "--no-cache").stdout.splitlines()
    header = rows[0].split(",")
    assert header[header.index("mtimeNs") + 1 : header.index("mtimeNs") + 3] == ["duration", "videoBitRate"]
    first = dict(zip(header, rows[1].split(","), strict=True))
    assert float(first["duration"]) == pytest.approx(4.0, abs=0.05) and int(first["videoBitRate"]) > 0


def test_a_second_scan_decodes_no_video(library, tmp_path, monkeypatch):
    cache = str(tmp_path / "cache.sqlite3")
    first = run("dupes", str(library), "--json", "--cache", cache)

    def refused(*args, **kwargs):
        raise AssertionError("a cached video was fingerprinted again")

    monkeypatch.setattr("ikmeta.video.fingerprint.fingerprint", refused)
    monkeypatch.setattr("ikmeta.media.phash_blob", refused)
    again = run("dupes", str(library), "--json", "--cache", cache)
    assert (again.exit_code, again.stdout) == (0, first.stdout)


def test_a_changed_video_is_fingerprinted_again(library, tmp_path):
    folder = tmp_path / "lib"
    shutil.copytree(library, folder)
    cache = str(tmp_path / "cache.sqlite3")
    assert len(json.loads(run("dupes", str(folder), "--json", "--cache", cache).stdout)[0]["files"]) == 3
    shutil.copy(folder / "other.mp4", folder / "clip_small.mp4")  # now a copy of the other clip
    groups = json.loads(run("dupes", str(folder), "--json", "--cache", cache).stdout)
    assert sorted(sorted(f["source"].rsplit("/", 1)[1] for f in g["files"]) for g in groups) == [
        ["clip.mp4", "clip_end.webm"],
        ["clip_small.mp4", "other.mp4"],
    ]


def test_the_review_page_shows_a_poster_and_the_duration(library, tmp_path):
    page = tmp_path / "review.html"
    result = run("dupes", str(library), "--html", str(page), "--no-cache")
    assert result.exit_code == 0, result.stderr
    data = embedded(page.read_text(encoding="utf-8"))
    files = data["groups"][0]["files"]
    assert [f["problem"] for f in files] == [None, None, None]
    assert all(f["thumb"] is not None for f in files)
    assert (files[0]["thumbWidth"], files[0]["thumbHeight"]) == (256, 144)
    assert files[0]["record"]["duration"] == pytest.approx(4.0, abs=0.05)


def test_a_hash_list_of_video_records_groups_as_the_scan_does(library):
    records = run("phash", "--ndjson", str(library)).stdout
    listed = run("dupes", "--hashes", "-", "--json", stdin=records)
    scanned = run("dupes", str(library), "--json", "--no-cache")
    assert listed.exit_code == 0, listed.stderr
    assert [g["reference"] for g in json.loads(listed.stdout)] == [str(library / "clip.mp4")]
    assert [[f["why"] for f in g["files"]] for g in json.loads(listed.stdout)] == [
        [f["why"] for f in g["files"]] for g in json.loads(scanned.stdout)
    ]


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("videoBitRate", False, '"videoBitRate" is false, not null or a whole number of kbps'),
        ("videoCodec", 5, '"videoCodec" is 5, not null or a string'),
        ("picture", [100000, 100000], '"picture" is [100000, 100000], not null or [width, height] inside'),
        ("duration", -1, '"duration" is -1, not a number of seconds'),
    ],
)
def test_each_bad_key_of_a_video_record_is_named(library, key, value, said):
    record = {**json.loads(run("phash", "--ndjson", str(library / "clip.mp4")).stdout), key: value}
    result = run("dupes", "--hashes", "-", "--json", stdin=json.dumps(record) + "\n")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"ikmeta: <stdin>:1: a video's record, as 'ikmeta phash --ndjson' prints it: {said}"
    )


def test_an_unreadable_capture_time_in_a_record_is_unknown(library):
    records = [json.loads(line) for line in run("phash", "--ndjson", str(library)).stdout.splitlines()]
    records = [
        {**r, "captured": "not a date"} if r["source"].endswith("clip_end.webm") else r for r in records
    ]
    report = run("dupes", "--hashes", "-", "--json", stdin="".join(json.dumps(r) + "\n" for r in records))
    (group,) = json.loads(report.stdout)
    assert group["reference"].endswith("clip.mp4") and group["files"][2]["captured"] is None


def test_python_group_takes_video_records():
    import ikmeta

    from .conftest import EXAMPLES

    records = list(
        ikmeta.hash_records([EXAMPLES / "clip.mp4", EXAMPLES / "clip_small.webm", EXAMPLES / "harbour.jpg"])
    )
    (found,) = ikmeta.group(records)
    assert [item.video for item, _ in found.members] == [True, True]


def test_a_videos_plain_line_is_left_out_and_a_bad_record_is_named(library):
    plain = run("phash", str(library / "clip.mp4")).stdout
    record = json.loads(run("phash", "--ndjson", str(library / "clip.mp4")).stdout)
    del record["frames"][0]["turned"]
    result = run("dupes", "--hashes", "-", "--json", stdin=plain + json.dumps(record) + "\n")
    assert result.exit_code == 1 and json.loads(result.stdout) == []
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        "ikmeta: <stdin>:2: a video's record, as 'ikmeta phash --ndjson' prints it: \"frames\" is not a list"
    )
    assert lines[1] == (
        "ikmeta: left out 1 video of the hash list: a video's plain line holds one frame's pHash "
        "('phash --ndjson' lists its frames, which dupes groups)"
    )


def test_apply_moves_the_copies_of_a_video(library, tmp_path):
    folder = tmp_path / "lib"
    shutil.copytree(library, folder)
    report = tmp_path / "report.json"
    report.write_text(run("dupes", str(folder), "--json", "--no-cache").stdout)
    moved = tmp_path / "moved"
    result = run("apply", "move", str(report), "--to", str(moved), "--yes")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["clip.mp4", "other.mp4", "still.jpg"]
    assert sorted(p.name for p in moved.rglob("*") if p.is_file()) == ["clip_end.webm", "clip_small.mp4"]


def test_a_copy_turned_by_its_container_matches_unless_geometry_is_exact(tmp_path):
    clip = {"seconds": 3, "gop": 25, "seed": 5}
    make_clip(tmp_path / "a.mp4", size=(320, 180), **clip)
    make_clip(tmp_path / "b.mov", "mov", size=(320, 180), rotation=90, **clip)
    (group,) = json.loads(run("dupes", str(tmp_path), "--json", "--no-cache").stdout)
    assert [(f["width"], f["match"]) for f in group["files"]] == [(320, None), (180, "rotated 90")]
    exact = run("dupes", str(tmp_path), "--json", "--no-cache", "--geometry", "exact")
    assert json.loads(exact.stdout) == []


def test_broken_videos_in_a_folder_are_one_line_each(library, tmp_path):
    folder = tmp_path / "lib"
    shutil.copytree(library, folder)
    (folder / "notes.mov").write_text("not a video")
    (folder / "empty.mp4").write_bytes(b"")
    result = run("dupes", str(folder), "--json", "--no-cache")
    assert result.exit_code == 1 and len(json.loads(result.stdout)) == 1
    assert sorted(line for line in result.stderr.splitlines() if line.startswith("ikmeta: ")) == [
        f"ikmeta: {folder / 'empty.mp4'}: empty file",
        f"ikmeta: {folder / 'notes.mov'}: not a video ikmeta can read (containers: {', '.join(CONTAINERS)})",
    ]


def test_a_file_cut_short_before_its_middle_has_its_start_as_poster(tmp_path):
    from ikmeta.review.thumbnails import thumbnail_source

    clip = make_clip(tmp_path / "clip.mp4", size=(320, 180), seconds=4, gop=25, faststart=True)
    whole = clip.read_bytes()  # its index first: a third of it still opens, its middle is gone
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 3])
    assert thumbnail_source(str(cut)).width == 256


def film(path, seeds: list[int], gop: int, fps: int = 25):
    """A clip of one second per seed, each second a still of ``scene(seed)`` drifting, key
    frames ``gop`` frames apart (250: one at the start, as x264 places them by default)."""
    av = need_module("av", "PyAV (the video extra)")
    import numpy as np

    from .conftest import scene

    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps, options={"g": str(gop), "sc_threshold": "0"})
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        for second, seed in enumerate(seeds):
            still = np.asarray(scene((400, 240), seed=seed))
            for k in range(fps):
                x = (second * fps + k) // 4
                frame = np.ascontiguousarray(still[20:200, x : x + 320])
                out.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(video.encode())
    return path


def test_two_clips_that_share_only_their_first_second_are_not_copies(tmp_path, monkeypatch):
    """One key frame in the first clip, six in the second: the first's one frame is found in
    the second, but the dense fingerprints (every frame decoded, one a second) tell them apart;
    and a real copy whose key frames are as sparse is still found, and decodes nothing again."""
    film(tmp_path / "take1.mp4", [1, 1, 1, 1, 1, 1], gop=250)
    film(tmp_path / "take2.mp4", [1, 2, 3, 4, 5, 6], gop=25)
    assert json.loads(run("dupes", str(tmp_path), "--json", "--no-cache").stdout) == []
    film(tmp_path / "take1_copy.mp4", [1, 1, 1, 1, 1, 1], gop=250)
    cache = str(tmp_path / "cache.sqlite3")
    first = run("dupes", str(tmp_path), "--json", "--cache", cache)
    (group,) = json.loads(first.stdout)
    assert sorted(f["source"].rsplit("/", 1)[1] for f in group["files"]) == ["take1.mp4", "take1_copy.mp4"]

    def refused(*args, **kwargs):
        raise AssertionError("a dense fingerprint was made again")

    monkeypatch.setattr("ikmeta.video.fingerprint.fingerprint", refused)
    assert run("dupes", str(tmp_path), "--json", "--cache", cache).stdout == first.stdout


def test_a_copy_padded_with_black_is_not_kept_for_its_length(tmp_path, monkeypatch):
    """A copy with 3 s of black after the clip (no key frame in the black) lasts longer, shows
    no more: the clip is kept, the copy says why, and a second run decodes nothing."""
    need_module("av", "PyAV (the video extra)")
    import ikmeta.video.blanks

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_clip(tmp_path / "clip.mp4", seconds=4, seed=6)
    make_clip(tmp_path / "padded.mp4", seconds=7, of=4, dark_end=75, gop=250, seed=6)
    result = run("dupes", str(tmp_path), "--json")
    assert result.exit_code == 0, result.stderr
    (found,) = json.loads(result.stdout)
    assert [(f["source"], f["duration"]) for f in found["files"]] == [
        (str(tmp_path / "clip.mp4"), 4.0),
        (str(tmp_path / "padded.mp4"), 7.0),
    ]
    assert found["files"][1]["why"][0] == "black for its last 3.0 s"
    monkeypatch.setattr(ikmeta.video.blanks, "blank_ends", lambda *a, **k: pytest.fail("decoded again"))
    assert json.loads(run("dupes", str(tmp_path), "--json").stdout) == [found]


def test_videos_of_one_colour_group_by_colour_and_length(tmp_path):
    """A black clip and a shorter black copy group (the longer first); a black clip a third as
    long, a white one, and a clip with a picture do not join them; none is unreadable."""
    need_module("av", "PyAV (the video extra)")
    make_clip(tmp_path / "black.mp4", seconds=3, colour=(0, 0, 0))
    make_clip(tmp_path / "black_short.webm", "webm", seconds=2, colour=(0, 0, 0))
    make_clip(tmp_path / "black_tiny.mp4", seconds=1, colour=(0, 0, 0))
    make_clip(tmp_path / "white.mp4", seconds=3, colour=(255, 255, 255))
    make_clip(tmp_path / "clip.mp4", seconds=3)
    result = run("dupes", str(tmp_path), "--json", "--no-cache")
    assert result.exit_code == 0, result.stderr
    (found,) = json.loads(result.stdout)
    assert [(f["source"], f["distance"]) for f in found["files"]] == [
        (str(tmp_path / "black.mp4"), None),
        (str(tmp_path / "black_short.webm"), None),
    ]
    assert found["files"][1]["why"][0] == "shorter (2.0 s of 3.0 s)"
