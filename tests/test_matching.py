"""ikmeta.video.matching: copies of one video found by their fingerprints (re-encoded, scaled,
another codec or container, silent, turned by metadata, letterboxed, trimmed), never a video
that lasts less than half the other, and never two different videos."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ikmeta
from ikmeta.sources.read import read_source
from ikmeta.video.fingerprint import Fingerprint, Frame, fingerprint
from ikmeta.video.matching import MIN_SHARE, compare, group_videos, match_share, same

from .conftest import agrees, make_clip, need, need_module, probed, run

# --- invariants, on made-up fingerprints -----------------------------------------------------------

hashes = st.integers(0, 2**64 - 1).map(lambda v: f"{v:016x}")
frames = st.lists(st.tuples(st.floats(0, 100), hashes, hashes, hashes, hashes), max_size=8)


def made_up(draw_frames: list, duration: float) -> Fingerprint:
    listed = [Frame(round(t, 3), h, (a, b, c)) for t, h, a, b, c in sorted(draw_frames)]
    return Fingerprint("x.mp4", listed, duration, 320, 240, "mp4")


@settings(max_examples=200, deadline=None)
@given(frames, frames, st.floats(1, 100), st.floats(1, 100))
def test_matching_is_symmetric_and_a_share(one, other, first, second):
    a, b = made_up(one, first), made_up(other, second)
    assert match_share(a, b) == match_share(b, a)
    assert 0.0 <= match_share(a, b) <= 1.0


@settings(max_examples=100, deadline=None)
@given(frames.filter(bool), st.floats(1, 100))
def test_a_video_matches_itself(listed, duration):
    a = made_up(listed, duration)
    assert same(a, a)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(frames, st.floats(1, 100)), max_size=8))
def test_groups_are_disjoint_and_hold_two_or_more(videos):
    fingerprints = [made_up(listed, duration) for listed, duration in videos]
    groups = group_videos(fingerprints)
    members = [i for group in groups for i in group]
    assert len(members) == len(set(members)) and all(len(group) >= 2 for group in groups)
    for group in groups:  # each member matches another member
        for i in group:
            assert any(same(fingerprints[i], fingerprints[j]) for j in group if j != i)


def test_a_video_less_than_half_as_long_is_not_a_copy():
    frame = Frame(0.0, "2d5ad3936d2e015b", ("0" * 16, "0" * 16, "0" * 16))
    short = Fingerprint("a.mp4", [frame], 4.0, 320, 240, "mp4")
    assert same(short, Fingerprint("b.mp4", [frame], 8.0, 320, 240, "mp4"))
    assert not same(short, Fingerprint("b.mp4", [frame], 8.1, 320, 240, "mp4"))


def test_frames_that_match_out_of_order_do_not_count():
    """The same three pictures shown in another order, far apart: not the same video."""
    a, b, c = "2d5ad3936d2e015b", "f0f0f0f00f0f0f0f", "123456789abcdef0"
    turns = ("0" * 16,) * 3
    one = Fingerprint(
        "a.mp4", [Frame(0, a, turns), Frame(10, b, turns), Frame(20, c, turns)], 30, 1, 1, "mp4"
    )
    other = Fingerprint(
        "b.mp4", [Frame(0, c, turns), Frame(10, b, turns), Frame(20, a, turns)], 30, 1, 1, "mp4"
    )
    assert match_share(one, other) == pytest.approx(1 / 3)


# --- clips made here --------------------------------------------------------------------------------


@pytest.fixture(autouse=False)
def pyav():
    need_module("av", "PyAV (the video extra)")


def test_copies_of_a_clip_group_and_another_clip_does_not(tmp_path, pyav):
    def clip(name: str, **kwargs) -> Fingerprint:
        kwargs = {"seconds": 6, "gop": 25, "size": (320, 180), **kwargs}
        return fingerprint(read_source(str(make_clip(tmp_path / name, **kwargs))))

    videos = [
        clip("a.mp4", seed=1),
        clip("a_small.webm", seed=1, kind="webm", size=(160, 90), picture=(320, 180)),
        clip("a_turned.mov", seed=1, kind="mov", rotation=90),
        clip("a_boxed.mkv", seed=1, kind="mkv", size=(320, 240), picture=(320, 180), letterbox=True),
        clip("a_trimmed.mp4", seed=1, seconds=4.5, start=1.5, of=6),
        clip("a_cut.mp4", seed=1, seconds=3.5, of=6),
        clip("b.mp4", seed=5),
        clip("a_too_short.mp4", seed=1, seconds=2),
    ]
    assert group_videos(videos) == [[0, 1, 2, 3, 4, 5]]


# --- the shared tool's labelled set -----------------------------------------------------------------


def test_quality_on_the_labelled_video_set(corpus, shared_tmp, ffprobe):
    """``make_video_set.py --seed 1 --scenes 3 --variants 10`` (every kind of copy in each
    scene), grouped by ``ikmeta dupes``: pairwise precision at least 0.99, recall 0.95, the
    original kept in every group, and every kind of copy found with its original at least 9
    times in 10; and ``inspect`` agrees with ffprobe on every file."""
    need_module("av", "PyAV (the video extra)")
    need(shutil.which("ffmpeg") is not None, "ffmpeg (Debian's, for the shared tool)")
    tool = corpus.parent.parent / "tools" / "make_video_set.py"
    need(tool.is_file(), f"the shared tools ({tool})")
    out = shared_tmp / "video-set"
    if not (out / "truth.json").is_file():
        args = ["--seed", "1", "--scenes", "3", "--variants", "10", "--seconds", "6"]
        subprocess.run(
            [sys.executable, str(tool), str(corpus), str(out), *args], check=True, capture_output=True
        )
    truth = json.loads((out / "truth.json").read_text())
    names = sorted(truth)
    disagree = {name: agrees(ikmeta.inspect(out / name), probed(ffprobe, out / name)) for name in names}
    assert {name: wrong for name, wrong in disagree.items() if wrong} == {}
    report = run("dupes", str(out), "--json", "--no-cache", "-q")
    assert report.exit_code == 0, report.stderr
    (out / "groups.json").write_text(report.stdout)
    groups = [[f["source"].rsplit("/", 1)[1] for f in g["files"]] for g in json.loads(report.stdout)]
    scored = subprocess.run(
        [
            sys.executable,
            str(tool.parent / "score_dupes.py"),
            str(out / "truth.json"),
            str(out / "groups.json"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    kept = next(line for line in scored.stdout.splitlines() if line.startswith("originals kept"))
    assert kept.startswith("originals kept 3/3"), scored.stdout  # the copy to keep: the original
    words = scored.stdout.splitlines()[-1].split()
    precision, recall = float(words[1]), float(words[3])
    assert precision >= 0.99 and recall >= 0.95, scored.stdout
    found, tried = Counter(), Counter()
    group_of = {name: k for k, group in enumerate(groups) for name in group}
    for name in names:
        if "_orig" in name:
            continue
        kind = name.split(".")[0].split("_", 1)[1]
        original = next(n for n in names if truth[n] == truth[name] and "_orig" in n)
        tried[kind] += 1
        found[kind] += group_of.get(name, -1) == group_of.get(original, -2)
    assert all(found[kind] / tried[kind] >= 0.9 for kind in tried), (found, tried)


def test_a_weak_match_is_checked_on_dense_fingerprints_and_a_strong_one_is_not():
    """One frame in common is weak: ``densify`` is asked for both videos and its answer
    decides; three frames found settle it without asking."""
    a = made_up([(0.0, "0" * 16, "1" * 16, "2" * 16, "3" * 16)], 30.0)
    b = made_up(
        [(0.0, "0" * 16, "1" * 16, "2" * 16, "3" * 16), (20.0, "f" * 16, "e" * 16, "d" * 16, "c" * 16)], 30.0
    )
    asked: list[int] = []

    def apart(k: int) -> Fingerprint:  # dense: the two differ after their first second
        asked.append(k)
        seconds = [
            (float(t), f"{(k + 1) * 0x0F0F0F0F0F0F0F0F * t % 2**64:016x}", "1" * 16, "2" * 16, "3" * 16)
            for t in range(1, 30)
        ]
        return dataclasses.replace(
            made_up([(0.0, "0" * 16, "1" * 16, "2" * 16, "3" * 16), *seconds], 30.0), dense=True
        )

    assert group_videos([a, b]) == [[0, 1]]  # without densify, the weak match stands
    assert group_videos([a, b], densify=apart) == [] and sorted(asked) == [0, 1]
    asked.clear()
    alike = [
        (float(t), f"{0x1234567 * (t + 1):016x}", "1" * 16, "2" * 16, "3" * 16) for t in range(0, 30, 10)
    ]
    assert group_videos([made_up(alike, 30.0), made_up(alike, 30.0)], densify=apart) == [[0, 1]]
    assert asked == []


def brute_force_groups(fingerprints: list[Fingerprint], densify=None) -> list[list[int]]:
    """group_videos as its text says, comparing each video with every group's leader (a weak
    match checked on what ``densify`` gives, as group_videos checks it)."""
    prints = list(fingerprints)

    def copies(i: int, j: int) -> bool:
        match = compare(prints[i], prints[j])
        if not match.weak or densify is None or (prints[i].every_second and prints[j].every_second):
            return match.share >= MIN_SHARE
        for k in (i, j):
            dense = None if prints[k].every_second else densify(k)
            if dense is not None:
                prints[k] = dense
        return compare(prints[i], prints[j]).share >= MIN_SHARE

    order = sorted(range(len(prints)), key=lambda i: (-prints[i].duration, i))
    groups: list[list[int]] = []
    for i in order:
        for members in groups:
            if copies(members[0], i):
                members.append(i)
                break
        else:
            groups.append([i])
    return sorted((sorted(g) for g in groups if len(g) > 1), key=lambda g: g[0])


PICTURES = (0x2D5AD3936D2E015B, 0x0F0F00FF33CC55AA, 0xFFFF0000FFFF0000, 0x123456789ABCDEF0)
near_hashes = st.tuples(st.integers(0, 3), st.integers(0, 63), st.integers(0, 63)).map(
    lambda t: f"{PICTURES[t[0]] ^ (1 << t[1]) ^ (1 << t[2]):016x}"
)
near_frames = st.lists(
    st.tuples(st.integers(0, 20), near_hashes, near_hashes, near_hashes, near_hashes), min_size=1, max_size=6
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(near_frames, near_frames, st.integers(5, 25)), max_size=10))
def test_the_index_of_leaders_changes_no_group(videos):
    """Comparing a video only with the leaders it has a frame near gives the groups that
    comparing it with every leader gives (hashes drawn near a few pictures, so that many
    match), with and without dense fingerprints (each video's own, drawn the same way)."""
    fingerprints = [made_up([(float(t), *hs) for t, *hs in listed], float(d)) for listed, _, d in videos]
    dense = [
        dataclasses.replace(made_up([(float(t), *hs) for t, *hs in [*listed, *more]], float(d)), dense=True)
        for listed, more, d in videos
    ]
    assert group_videos(fingerprints) == brute_force_groups(fingerprints)
    assert group_videos(fingerprints, densify=dense.__getitem__) == brute_force_groups(
        fingerprints, dense.__getitem__
    )


def test_a_leader_made_dense_by_a_failed_match_is_found_by_a_later_copy():
    """L (one key frame) meets W, which shares only L's opening second: both are made dense
    and do not match. X, a trimmed copy of L whose key frames are none of L's, has frames near
    L's dense frames only: it must still be compared with L, and join it."""
    rng = __import__("random").Random(1)

    def fresh() -> str:
        return f"{rng.getrandbits(64):016x}"

    opening, own, other = fresh(), {t: fresh() for t in range(30)}, {t: fresh() for t in range(30)}

    def print_of(frames, seconds, dense=False):
        listed = [(float(t), value, fresh(), fresh(), fresh()) for t, value in frames]
        return dataclasses.replace(made_up(listed, seconds), dense=dense)

    leader, lookalike = print_of([(0, opening)], 30.0), print_of([(0, opening)], 29.9)
    dense = {
        0: print_of([(0, opening), *((t, own[t]) for t in range(1, 30))], 30.0, dense=True),
        1: print_of([(0, opening), *((t, other[t]) for t in range(1, 30))], 29.9, dense=True),
    }
    trimmed = print_of([(t - 3, own[t]) for t in (3, 8, 13, 18, 23)], 27.0)
    assert group_videos([leader, lookalike, trimmed], turns=False, densify=dense.get) == [[0, 2]]
