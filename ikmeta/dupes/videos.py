"""Near-duplicate videos: grouped by their fingerprints (:mod:`ikmeta.video.matching`), never
with images, and each group led by the copy to keep.

    >>> [g.reference.source for g in group_videos_of([original, reencoded, other], 10)]  # doctest: +SKIP
    ['v000_orig.mp4']

The copy to keep, best first:

0. a file before standard input, and intact before damaged (a file cut short);
1. the longer showing a picture: a trimmed or cut copy lasts less, and seconds of one colour
   at either end (black padding, a black leader) do not count where they were measured
   (:func:`shown_length`; lengths within :data:`SAME_LENGTH` seconds, or
   :data:`SAME_LENGTH_SHARE` of the longer, are equal: re-encodes differ by a frame);
2. more pixels of the picture as displayed (a stored rotation applied; a letterboxed copy
   counts the picture inside its bars), within :data:`PIXEL_TOLERANCE` equal, and among those
   a copy without added bars;
3. the higher bit rate of the video stream (sound, other tracks and padding do not count),
   within :data:`BIT_RATE_TOLERANCE` equal, between copies in one codec (VP9 and H.265
   spend fewer bits than H.264 on the same picture, and a re-encode may spend more than its
   original: bits of two codecs do not compare);
4. with sound before without;
5. capture metadata present (the device, a capture time);
6. the earlier capture time (else the file's modification time);
7. the larger file, then the older file (its modification time), then the path.

Each other copy says why it ranks after the one kept (``why``): "shorter (6.5 s of 8.0 s)",
"black for its last 5.0 s", "smaller (320x180 of 960x540)", "letterboxed (picture 960x540 in
960x720)", "lower bit rate (600 of 2400 kbps)", "no sound", "no capture metadata", "truncated"; and how it matched when
turned ("rotated 90": its frames are the kept copy's turned, a rotation the container stores
or the pixels'). Its distance is the median pHash distance of its frames found in the kept
copy's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ikmeta.hashes import TURNS
from ikmeta.sources.base import STDIN

from .model import Group, Item
from .rank import capture_time

if TYPE_CHECKING:
    from ikmeta.video.fingerprint import Fingerprint

# A video's item with its dense fingerprint's frames (every frame decoded), or None when it cannot be made.
Dense = Callable[[Item], "Item | None"]
# Video items with their ``blank`` ends measured where their files can be read (the others as they were).
Blanks = Callable[[Sequence[Item]], list[Item]]
SAME_LENGTH = 0.5  # seconds: lengths this close are equal (re-encodes differ by a frame or so)
SAME_LENGTH_SHARE = 0.002  # ... or this share of the longer (0.2%: 7 s of an hour)
PIXEL_TOLERANCE = 1.05  # pictures within 5% of the most pixels are equal (bars are found to a row)
BIT_RATE_TOLERANCE = 1.05  # bit rates within 5% are equal (a remux differs by its container)
MOST_RANKED = 64  # copies of a group ranked by the rule, each against those left; the rest sorted


def group_videos_of(
    items: Sequence[Item],
    max_distance: int,
    turns: bool = True,
    dense: Dense | None = None,
    jobs: int = 1,
    blanks: Blanks | None = None,
) -> list[Group]:
    """The groups of copies among videos' ``items`` (each with its fingerprint's ``frames``):
    frames within ``max_distance`` bits show the same moment (see
    :func:`ikmeta.video.matching.group_videos`; without ``turns``, as the pictures stand; a
    match on fewer than three frames checked on the videos' ``dense`` fingerprints,
    :class:`ikmeta.dupes.dense.DenseFingerprints`, where it is given); each group's copy to
    keep first (:func:`best_video`), the others in rank order; in a group whose lengths
    differ, each video's ends of one colour are measured first where ``blanks`` is given
    (:class:`ikmeta.dupes.dense.BlankEnds`), so that black padding does not make a copy the
    longer. The dense fingerprints a first pass asks for are made on ``jobs`` threads."""
    from ikmeta.parallel import ordered_map
    from ikmeta.video.matching import compare, group_videos

    prints = [fingerprint_of(item) for item in items]
    made: dict[int, Fingerprint | None] = {}

    def densify(k: int) -> Fingerprint | None:
        if k not in made:
            made[k] = _dense_print(dense, items[k])
        made_print = made[k]
        if made_print is not None:
            prints[k] = made_print
        return made_print

    asked: set[int] = set()  # the videos of weak matches: a first pass asks for them, makes none
    found = group_videos(prints, max_distance, turns, asked.add if dense is not None else None)
    if asked:  # made dense side by side, then grouped again with them (else the first pass stands)
        wanted = sorted(asked)
        made.update(
            zip(wanted, ordered_map(lambda k: _dense_print(dense, items[k]), wanted, jobs), strict=True)
        )
        found = group_videos(prints, max_distance, turns, densify)
    measured = _blank_ends(items, found, blanks)
    groups = [_flat_group(ranked_videos([items[k] for k in indexes])) for indexes in _flat_groups(items)]
    for indexes in found:
        members = [measured.get(k, items[k]) for k in indexes]
        best, *others = ranked_videos(members)
        print_of = {id(member): prints[k] for k, member in zip(indexes, members, strict=True)}
        matches = [compare(print_of[id(best)], print_of[id(item)], max_distance, turns) for item in others]
        groups.append(
            Group(
                best,
                [(best, 0), *((item, match.distance) for item, match in zip(others, matches, strict=True))],
                [None, *(TURNS[match.turn - 1] if match.turn else None for match in matches)],
                [video_evidence(best, best), *(video_evidence(item, best) for item in others)],
            )
        )
    return groups


def _flat_groups(items: Sequence[Item]) -> list[list[int]]:
    """Videos of one colour throughout (no frame to match, :attr:`Item.colour` their colour)
    grouped as flat images are, by colour, and as videos are, around the longest: each joins
    the first group whose longest video is of its colour and lasts at most twice as long."""
    from ikmeta.hashes import colours_near
    from ikmeta.video.matching import MIN_COVER

    flat = [k for k, item in enumerate(items) if not item.frames and item.colour]
    groups: list[list[int]] = []
    for k in sorted(flat, key=lambda k: (-(items[k].duration or 0.0), k)):
        item = items[k]
        for group in groups:
            leader = items[group[0]]
            if colours_near(leader.colour or "", item.colour or "") and (
                item.duration or 0.0
            ) >= MIN_COVER * (leader.duration or 0.0):
                group.append(k)
                break
        else:
            groups.append([k])
    return [sorted(group) for group in groups if len(group) > 1]


def _flat_group(ranked: list[Item]) -> Group:
    """A group of videos of one colour, the copy to keep first: no distances, no turns."""
    best = ranked[0]
    return Group(
        best,
        [(item, None) for item in ranked],
        [None] * len(ranked),
        [video_evidence(item, best) for item in ranked],
    )


def _blank_ends(items: Sequence[Item], found: list[list[int]], blanks: Blanks | None) -> dict[int, Item]:
    """The items whose ends of one colour decide which copy is the longer, by index, measured by
    ``blanks`` (a round's videos all at once: ``blanks`` measures side by side). In each group
    whose lengths differ, the longest copies are measured unless their key frames alone show a
    picture for longer than every other copy lasts (:func:`_surely_longest`); a copy measured
    shorter leaves the next longest to be measured in the next round."""
    if blanks is None:
        return {}
    measured: dict[int, Item] = {}
    while True:
        wanted = [k for indexes in found for k in _to_measure(items, indexes, measured)]
        if not wanted:
            return measured
        measured.update(zip(wanted, blanks([items[k] for k in wanted]), strict=True))
        for k in wanted:
            if measured[k].blank is None:  # not measurable (a URL, a file changed): as it is
                measured[k] = dataclasses.replace(measured[k], blank=(0.0, 0.0))


def _to_measure(items: Sequence[Item], indexes: list[int], measured: dict[int, Item]) -> list[int]:
    """The copies of one group whose ends are to be measured now: the longest ones not yet
    measured, where the group's lengths differ."""
    known = {k: measured.get(k, items[k]) for k in indexes}
    lengths = {k: shown_length(item) for k, item in known.items()}
    longest = max(lengths.values())
    if all(same_length(length, longest) for length in lengths.values()):
        return []
    tops = [k for k in indexes if same_length(lengths[k], longest) and k not in measured]
    return [k for k in tops if not _surely_longest(known[k], max(v for j, v in lengths.items() if j != k))]


def _surely_longest(item: Item, others: float) -> bool:
    """Whether a video's key frames alone show a picture for longer than ``others`` seconds
    (the longest of the other copies, as long as it may be) and then some: from its first
    hashed frame to its last."""
    frames = item.frames or ()
    shown = frames[-1][0] - frames[0][0] if frames else 0.0
    return not same_length(others, shown) and shown > others


def _dense_print(dense: Dense | None, item: Item) -> Fingerprint | None:
    """The dense fingerprint of a video's item, or None when ``dense`` cannot make it."""
    found = dense(item) if dense is not None else None
    return dataclasses.replace(fingerprint_of(found), dense=True) if found is not None else None


def fingerprint_of(item: Item) -> Fingerprint:
    """The :class:`~ikmeta.video.fingerprint.Fingerprint` an item's frames and traits make."""
    from ikmeta.video.fingerprint import Fingerprint, Frame

    frames = [Frame(time, phash, turned) for time, phash, turned in item.frames or ()]
    return Fingerprint(
        item.source,
        frames,
        item.duration or 0.0,
        item.width or 0,
        item.height or 0,
        item.format or "video",
        item.camera,
        item.captured,
        item.bit_rate,
        bool(item.sound),
        codec=item.codec,
    )


def best_video(items: Sequence[Item]) -> Item:
    """The copy to keep among copies of one video, by the rule in the module's text.

    >>> long = Item("a.mp4", "0", 960, 540, duration=8.0, bit_rate=2400, frames=())
    >>> cut = Item("a_cut.mp4", "0", 960, 540, duration=6.0, bit_rate=3000, frames=())
    >>> best_video([cut, long]).source
    'a.mp4'
    """
    weighed = [item for item in items if item.source != STDIN] or list(items)
    weighed = [item for item in weighed if not item.damaged] or weighed
    longest = max(shown_length(item) for item in weighed)
    weighed = [item for item in weighed if same_length(shown_length(item), longest)]
    most = max(item.pixels for item in weighed)
    weighed = [item for item in weighed if item.pixels * PIXEL_TOLERANCE >= most]
    weighed = [item for item in weighed if item.picture is None] or weighed
    weighed = [item for item in weighed if not _lower_bit_rate(item, weighed)]
    return min(weighed, key=_tie_key)


def _lower_bit_rate(item: Item, copies: Sequence[Item]) -> bool:
    """Whether a copy in the same codec has a bit rate more than :data:`BIT_RATE_TOLERANCE`
    times ``item``'s (bits of different codecs say nothing of which copy is better: VP9 or
    H.265 spends fewer than H.264 on the same picture, a re-encode may spend more)."""
    rate = item.bit_rate or 0
    return any(
        other.codec == item.codec and (other.bit_rate or 0) > rate * BIT_RATE_TOLERANCE for other in copies
    )


def ranked_videos(items: Sequence[Item]) -> list[Item]:
    """Copies of one video, the copy to keep first, each next the best of those left
    (:func:`best_video`); past :data:`MOST_RANKED` copies, the rest by :func:`video_rank_key`."""
    left, ranked = list(items), list[Item]()
    while left and len(ranked) < MOST_RANKED:
        best = best_video(left)
        ranked.append(best)
        left = [item for item in left if item is not best]
    return ranked + sorted(left, key=video_rank_key)


def video_rank_key(item: Item) -> tuple[int, int, float, int, int, int, int, int, float, int, float, str]:
    """A total order of copies, best first (the rule's steps, each without its tolerance)."""
    return (
        int(item.source == STDIN),
        int(item.damaged),
        -shown_length(item),
        -item.pixels,
        int(item.picture is not None),
        -(item.bit_rate or 0),
        *_tie_key(item),
    )


def _tie_key(item: Item) -> tuple[int, int, float, int, float, str]:
    """Steps 4 to 7 of the rule: sound, capture metadata, capture time, size, age, path."""
    return (
        0 if item.sound else 1,
        0 if item.camera or item.captured else 1,
        capture_time(item),
        -(item.size or 0),
        item.mtime_ns if item.mtime_ns is not None else math.inf,
        item.source,
    )


def shown_length(item: Item) -> float:
    """How long a video shows a picture (seconds): its duration less the seconds of one colour
    at its ends, where they were measured (:attr:`Item.blank`).

    >>> shown_length(Item("padded.mp4", "0", duration=13.8, blank=(0.0, 5.0), frames=()))
    8.8
    """
    lead, tail = item.blank or (0.0, 0.0)
    return round(max(0.0, (item.duration or 0.0) - lead - tail), 3)


def same_length(seconds: float, longest: float) -> bool:
    """Whether a copy of ``seconds`` lasts as long as the longest (``longest`` seconds).

    >>> same_length(7.98, 8.0), same_length(6.5, 8.0)
    (True, False)
    """
    return longest - seconds <= max(SAME_LENGTH, SAME_LENGTH_SHARE * longest)


def video_evidence(item: Item, best: Item) -> list[str]:
    """Why ``item`` ranks after ``best``, the copy kept (for ``best`` itself, only its damage
    and bars).

    >>> best = Item("a.mp4", "0", 960, 540, duration=8.0, bit_rate=2400, sound=True, frames=())
    >>> video_evidence(Item("a_small.mp4", "0", 320, 180, duration=8.0, bit_rate=300, frames=()), best)
    ['smaller (320x180 of 960x540)', 'lower bit rate (300 of 2400 kbps)', 'no sound']
    """
    found = ["truncated"] if item.damaged else []
    duration, longest = shown_length(item), shown_length(best)
    if not same_length(duration, longest):
        found.append(f"shorter ({duration:.1f} s of {longest:.1f} s)")
    if item is not best:
        found += _black_ends(item, best)
    if item.pixels * PIXEL_TOLERANCE < best.pixels:
        found.append(f"smaller ({_picture_size(item)} of {_picture_size(best)})")
    if item.picture is not None:
        found.append(f"letterboxed (picture {_picture_size(item)} in {item.width}x{item.height})")
    if item is best:
        return found
    if (
        item.bit_rate is not None
        and best.bit_rate
        and item.codec == best.codec
        and item.bit_rate * BIT_RATE_TOLERANCE < best.bit_rate
    ):
        found.append(f"lower bit rate ({item.bit_rate} of {best.bit_rate} kbps)")
    if best.sound and not item.sound:
        found.append("no sound")
    if (best.camera or best.captured) and not (item.camera or item.captured):
        found.append("no capture metadata")
    return found


def _black_ends(item: Item, best: Item) -> list[str]:
    """ "black for its first 3.0 s", "black for its last 5.0 s": where ``item`` has more of one
    colour at an end than the copy kept (padding added), by more than :data:`SAME_LENGTH`."""
    ends, kept = item.blank or (0.0, 0.0), best.blank or (0.0, 0.0)
    return [
        f"black for its {which} {seconds:.1f} s"
        for which, seconds, theirs in zip(("first", "last"), ends, kept, strict=True)
        if seconds - theirs > SAME_LENGTH
    ]


def _picture_size(item: Item) -> str:
    """The picture's displayed size, "960x540": inside its bars for a letterboxed copy."""
    width, height = item.picture or (item.width, item.height)
    return f"{width}x{height}" if width and height else "unknown size"
