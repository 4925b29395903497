"""ikmeta.dupes.videos: videos grouped apart from images, and the copy of a video to keep
(longer, more pixels of picture, higher bit rate in one codec, sound, capture metadata, older),
with the reasons; on made-up items, so that each step of the rule is seen to decide."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ikmeta.dupes import Item, group
from ikmeta.dupes.model import Provenance
from ikmeta.dupes.videos import (
    best_video,
    group_videos_of,
    ranked_videos,
    same_length,
    shown_length,
    video_evidence,
)

FRAMES = tuple((float(t), f"{0x2D5AD3936D2E015B ^ (t * 0x9E3779B97F4A7C15 % 2**64):016x}") for t in range(8))


def turned(phash: str) -> tuple[str, str, str]:
    """Made-up turned pHashes, far from every frame's own."""
    value = int(phash, 16)
    return tuple(
        f"{value ^ mask:016x}" for mask in (0xFFFF0000FFFF0000, 0x00FFFF0000FFFF00, 0xF0F0F0F0F0F0F0F0)
    )


def video(source: str, seconds: float = 8.0, **traits) -> Item:
    """A video of ``seconds`` whose key frames are those of one made-up film (from its start)."""
    frames = tuple((t, h, turned(h)) for t, h in FRAMES if t < seconds)
    traits = {"width": 960, "height": 540, "bit_rate": 2000, "codec": "h264", "sound": True, **traits}
    return Item(source, frames[len(frames) // 2][1], duration=seconds, frames=frames, **traits)


def best(*items: Item) -> str:
    return best_video(list(items)).source


def test_the_longer_copy_is_kept_whatever_its_bit_rate_and_size():
    assert (
        best(video("cut.mp4", 6.0, bit_rate=9000, width=1920, height=1080), video("whole.mp4")) == "whole.mp4"
    )


def test_lengths_a_frame_apart_are_equal():
    assert same_length(7.96, 8.0) and same_length(3599.0, 3600.0) and not same_length(7.0, 8.0)
    assert best(video("a.mp4", 8.0, bit_rate=1000), video("b.mp4", 7.96, bit_rate=3000)) == "b.mp4"


def test_more_pixels_of_picture_then_no_bars():
    assert best(video("small.mp4", width=320, height=180, bit_rate=9000), video("big.mp4")) == "big.mp4"
    boxed = video("boxed.mp4", width=960, height=720, picture=(960, 548), bit_rate=4000)
    boxed = dataclasses.replace(boxed, inner_pixels=960 * 548)
    assert best(boxed, video("plain.mp4")) == "plain.mp4"


def test_bit_rate_decides_only_between_copies_in_one_codec():
    assert best(video("a.mp4", bit_rate=700), video("b.mp4", bit_rate=300)) == "a.mp4"
    assert best(video("a.mp4", bit_rate=700), video("b.mp4", bit_rate=690)) == "a.mp4"  # equal: a is first
    reencoded = video("z.webm", bit_rate=900, codec="vp9", mtime_ns=2)
    assert best(video("orig.mp4", bit_rate=700, mtime_ns=1), reencoded) == "orig.mp4"  # the older


def test_then_sound_capture_metadata_and_age():
    assert best(video("a.mp4", sound=False), video("b.mp4", sound=True)) == "b.mp4"
    assert best(video("a.mp4"), video("b.mp4", camera="Apple iPhone 15")) == "b.mp4"
    assert best(video("a.mp4", mtime_ns=2 * 10**18), video("b.mp4", mtime_ns=10**18)) == "b.mp4"


def test_an_intact_file_and_a_file_before_standard_input():
    cut = video("a.mp4", provenance=Provenance(damage="truncated"), bit_rate=9000)
    assert best(cut, video("b.mp4")) == "b.mp4"
    assert best(video("-", bit_rate=9000), video("b.mp4")) == "b.mp4"


def test_the_reasons_name_what_places_a_copy_after_the_one_kept():
    kept = video("a.mp4", camera="Apple iPhone 15", bit_rate=716)
    assert video_evidence(video("cut.mp4", 6.0, bit_rate=400), kept) == [
        "shorter (6.0 s of 8.0 s)",
        "lower bit rate (400 of 716 kbps)",
        "no capture metadata",
    ]
    boxed = dataclasses.replace(video("box.mp4", height=720, picture=(960, 548)), inner_pixels=960 * 548)
    assert video_evidence(boxed, kept)[0] == "letterboxed (picture 960x548 in 960x720)"
    assert video_evidence(video("s.webm", codec="vp9", bit_rate=90, sound=False), kept) == [
        "no sound",
        "no capture metadata",
    ]
    assert video_evidence(kept, kept) == []


def test_black_padding_does_not_make_a_copy_the_longer():
    original = video("a.mp4", 8.0, camera="Apple iPhone 15")
    padded = video("a_padded.mp4", 13.0, blank=(0.0, 5.0))
    led = video("a_leader.mp4", 11.0, blank=(3.0, 0.0))
    assert shown_length(padded) == shown_length(led) == 8.0
    assert best(padded, led, original) == "a.mp4"
    assert best(padded, video("a_cut.mp4", 6.0)) == "a_padded.mp4"  # (what it shows is still longer)
    assert video_evidence(padded, original) == ["black for its last 5.0 s", "no capture metadata"]
    assert video_evidence(led, original)[0] == "black for its first 3.0 s"
    faded = dataclasses.replace(original, source="b.mp4", blank=(0.0, 2.0))  # its own black: not added
    assert video_evidence(dataclasses.replace(padded, blank=(0.0, 2.3)), faded) == ["no capture metadata"]


def test_the_ends_are_measured_only_where_lengths_decide():
    asked: list[list[str]] = []
    blank = {"a_padded.mp4": (0.0, 4.0)}

    def blanks(items):
        asked.append([item.source for item in items])
        return [dataclasses.replace(item, blank=blank.get(item.source, (0.0, 0.0))) for item in items]

    original, trimmed = video("a.mp4", 8.0), video("a_trim.mp4", 6.0)
    padded = video("a_padded.mp4", 12.0)  # (a_trim lasts half of it: a copy still)
    (found,) = group_videos_of([trimmed, padded, original], 10, blanks=blanks)
    assert asked == [["a_padded.mp4"], ["a.mp4"]]  # a.mp4 then as long as a_padded may be
    assert [item.source for item, _ in found.members] == ["a.mp4", "a_padded.mp4", "a_trim.mp4"]
    assert found.why[1][0] == "black for its last 4.0 s"
    asked.clear()
    group_videos_of([original, video("a_copy.mp4", 8.0)], 10, blanks=blanks)
    assert asked == []  # one length: nothing to decide
    group_videos_of([trimmed, original], 10, blanks=blanks)
    assert asked == []  # a.mp4's key frames alone show 7 s, more than a_trim lasts
    (found,) = group_videos_of([original, padded], 10)  # without blanks, the duration counts
    assert found.reference.source == "a_padded.mp4"


def test_a_video_never_groups_with_an_image_of_its_pHash():
    clip = video("clip.mp4")
    still = Item("still.jpg", clip.phash, 960, 540)
    copy = video("copy.webm", codec="vp9", width=480, height=270)
    groups = group([still, clip, copy, Item("still_small.jpg", clip.phash, 480, 270)], 10)
    assert sorted([m.source for m, _ in g.members] for g in groups) == [
        ["clip.mp4", "copy.webm"],
        ["still.jpg", "still_small.jpg"],
    ]


def test_a_turned_copy_says_how():
    clip = video("clip.mp4")
    frames = tuple((t, turned(h)[0], (turned(h)[1], turned(h)[2], h)) for t, h, _ in clip.frames or ())
    copy = dataclasses.replace(clip, source="turned.mp4", frames=frames, width=540, height=960)
    (found,) = group([clip, copy], 10)
    assert [m.source for m, _ in found.members] == ["clip.mp4", "turned.mp4"]
    assert found.matches == [None, "rotated 90"] and found.members[1][1] == 0


traits = st.fixed_dictionaries(
    {
        "seconds": st.sampled_from([8.0, 7.9, 6.0, 4.5]),
        "width": st.sampled_from([960, 640, 320]),
        "bit_rate": st.integers(50, 5000),
        "codec": st.sampled_from(["h264", "hevc", "vp9"]),
        "sound": st.booleans(),
        "camera": st.sampled_from([None, "Apple iPhone 15"]),
        "mtime_ns": st.integers(0, 10**18),
        "blank": st.sampled_from([None, (0.0, 0.0), (0.0, 2.0), (1.5, 0.0), (0.5, 3.5)]),
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(traits, min_size=1, max_size=8), st.randoms())
def test_the_copy_kept_does_not_depend_on_the_order_and_none_is_lost(listed, shuffler: random.Random):
    items = [
        video(f"v{k}.mp4", t["seconds"], width=t["width"], height=t["width"] * 9 // 16, **_rest(t))
        for k, t in enumerate(listed)
    ]
    kept = best_video(items)
    shuffled = items[:]
    shuffler.shuffle(shuffled)
    assert best_video(shuffled) is kept
    assert ranked_videos(shuffled) == ranked_videos(items) and ranked_videos(items)[0] is kept
    longest = max(shown_length(item) for item in items)
    assert same_length(shown_length(kept), longest)


def _rest(t: dict) -> dict:
    return {k: t[k] for k in ("bit_rate", "codec", "sound", "camera", "mtime_ns", "blank")}
