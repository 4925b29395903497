"""Whether two videos are copies of one another, from their fingerprints
(:mod:`ikmeta.video.fingerprint`), and videos grouped by it.

Copies differ in their key frames' times (a re-encode places them anew, a trimmed copy starts
later), so frames are compared by content: each hashed frame of the shorter video looks for
its nearest hash among the longer one's frames. Two videos are copies when the shorter lasts
at least :data:`MIN_COVER` of the longer, most of its frames (:data:`MIN_SHARE`) find a frame
within ``radius`` bits (of two videos about as long, either one's frames may), and those
frames keep their order: the matched times move by one shift (within :data:`DRIFT` seconds),
as a trimmed or cut copy's do; the picture may be turned, the same way for every frame.

    >>> same(fp_original, fp_reencoded, radius=10)  # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .fingerprint import Fingerprint

MIN_COVER = 0.5  # the shorter video lasts at least this share of the longer
ALIKE = 0.05  # durations this close (a share of the longer): neither video is cut from the other
MIN_SHARE = 0.7  # share of the shorter's frames that must find a near frame in the longer
DRIFT = 2.5  # seconds: how far matched frames may stray from the pair's common shift
DENSE_DRIFT = 1.0  # ... when both have a frame about every second (the nearest is within it)
RADIUS = 10  # bits: default pHash distance at which two frames show the same moment
MIN_EVIDENCE = 3  # frames found: a match on fewer is weak (checked on dense fingerprints where it can be)
MOST_SHIFTS = 64  # shifts in time tried a pair of videos (rounded to DRIFT: 160 s either way at 600 frames)


@dataclass(frozen=True)
class Match:
    """How two videos match: the share of the shorter one's frames found in the other, the
    turn (quarters clockwise) that turns the first video's frames into the second's, the
    median pHash distance of the frames found, and how many were found."""

    share: float
    turn: int = 0
    distance: int = 0
    found: int = 0

    @property
    def weak(self) -> bool:
        """A match that rests on fewer than :data:`MIN_EVIDENCE` frames found."""
        return self.share >= MIN_SHARE and self.found < MIN_EVIDENCE


NO_MATCH = Match(0.0)


def same(a: Fingerprint, b: Fingerprint, radius: int = RADIUS, turns: bool = True) -> bool:
    """Whether ``a`` and ``b`` are copies of one video (see the module's text); without
    ``turns``, only as their pictures stand."""
    return compare(a, b, radius, turns).share >= MIN_SHARE


def match_share(a: Fingerprint, b: Fingerprint, radius: int = RADIUS) -> float:
    """The share of the shorter video's frames that find their moment in the longer one
    (0 when the shorter lasts less than half the longer, or either holds no picture)."""
    return compare(a, b, radius).share


def compare(a: Fingerprint, b: Fingerprint, radius: int = RADIUS, turns: bool = True) -> Match:
    """How ``a`` and ``b`` match (:class:`Match`; its share 0 when the shorter lasts less than
    half the longer, or either holds no picture); without ``turns``, only as they stand."""
    if abs(a.duration - b.duration) <= ALIKE * max(a.duration, b.duration):
        # Neither is cut from the other: whichever finds more of its frames in the other says
        # (encoders place key frames apart: one copy may hold 4 where the other holds 1).
        forward, backward = _directed(a, b, radius, turns), _directed(b, a, radius, turns)
        return forward if forward.share >= backward.share else _reversed(backward)
    if a.duration < b.duration:
        return _directed(a, b, radius, turns)
    return _reversed(_directed(b, a, radius, turns))


def _reversed(match: Match) -> Match:
    """The match seen from the other video (the turn undone)."""
    return Match(match.share, (4 - match.turn) % 4, match.distance, match.found)


def _directed(short: Fingerprint, long: Fingerprint, radius: int, turns: bool = True) -> Match:
    """How ``short``'s frames are found in ``long`` (the turn: ``short``'s into ``long``'s),
    when it lasts long enough."""
    if not short.frames or not long.frames or short.duration < MIN_COVER * long.duration:
        return NO_MATCH
    others = long.hashes[0]
    best = NO_MATCH
    for turn in range(4 if turns else 1):
        found = _share(short, long, short.hashes[turn], others, radius)
        if found.share > best.share:
            best = Match(found.share, turn, found.distance, found.found)
    return best


def _share(short: Fingerprint, long: Fingerprint, mine: np.ndarray, others: np.ndarray, radius: int) -> Match:
    """The share of ``short``'s frames (hashes ``mine``) with a frame of ``long`` within
    ``radius`` at one common shift in time (within :data:`DRIFT`, :data:`DENSE_DRIFT` between
    fingerprints whose frames are about a second apart): the best shift of those the
    near pairs suggest; with the median distance of the frames found."""
    distances = np.bitwise_count(mine[:, None] ^ others[None, :])
    close = distances <= radius
    if not close.any():
        return NO_MATCH
    shifts = long.times[None, :] - short.times[:, None]
    drift = DENSE_DRIFT if short.every_second and long.every_second else DRIFT
    steps, counts = np.unique(np.round(shifts[close] / drift), return_counts=True)
    suggested = steps[np.argsort(-counts, kind="stable")[:MOST_SHIFTS]] * drift
    best_found, best_pairs = -1, close
    for shift in suggested:
        at_shift = close & (np.abs(shifts - shift) <= drift)
        found = int(at_shift.any(axis=1).sum())
        if found > best_found:
            best_found, best_pairs = found, at_shift
    nearest = np.where(best_pairs, distances, 65).min(axis=1)
    nearest = nearest[nearest <= radius]
    return Match(best_found / len(short.frames), 0, int(np.median(nearest) + 0.5), best_found)


class _LeaderFrames:
    """The frames of each group's leading video, so that a video is compared only with the
    leaders it has a frame near: within ``radius``, its frames in every turn against a
    leader's as displayed, or its own as displayed against a leader's in every turn (the two
    ways :func:`compare` looks). The others cannot match it. Grouping thousands of videos
    then costs a pass over the leaders' frames a video, not a comparison with each group."""

    AT_ONCE = 1 << 21  # pairs of frames compared in one step (16 MB of differences)

    def __init__(self, radius: int) -> None:
        self.radius = radius
        # As displayed (False) and in every turn (True): the frames' pHashes and their groups,
        # in arrays that grow by doubling (a new leader is added, not the index copied anew).
        self.values = {turned: np.empty(0, dtype=np.uint64) for turned in (False, True)}
        self.owners = {turned: np.empty(0, dtype=np.int64) for turned in (False, True)}
        self.used = {False: 0, True: 0}

    def add(self, group: int, fp: Fingerprint) -> None:
        for turned, values in ((False, fp.hashes[0]), (True, fp.hashes.reshape(-1))):
            used, count = self.used[turned], len(values)
            if used + count > len(self.values[turned]):
                size = max(2 * len(self.values[turned]), used + count, 1024)
                self.values[turned] = np.resize(self.values[turned], size)
                self.owners[turned] = np.resize(self.owners[turned], size)
            self.values[turned][used : used + count] = values
            self.owners[turned][used : used + count] = group
            self.used[turned] = used + count

    def near(self, fp: Fingerprint) -> set[int]:
        if not self.used[False] or not fp.frames:
            return set()
        found: set[int] = set()
        for turned, mine in ((False, fp.hashes.reshape(-1)), (True, fp.hashes[0])):
            values, owners = (
                self.values[turned][: self.used[turned]],
                self.owners[turned][: self.used[turned]],
            )
            step = max(1, self.AT_ONCE // len(mine))
            for start in range(0, len(values), step):
                block = values[start : start + step]
                close = (np.bitwise_count(mine[:, None] ^ block[None, :]) <= self.radius).any(axis=0)
                found.update(owners[start : start + step][close].tolist())
        return found


def _join(
    i: int,
    groups: list[list[int]],
    leaders: _LeaderFrames,
    prints: list[Fingerprint],
    copies: Callable[[int, int], bool],
) -> bool:
    """Video ``i`` into the first group, in the order they were made, whose leader it is a
    copy of; whether it found one. Only the leaders it has a frame near are compared; a
    leader made dense on the way has its new frames indexed, and a video made dense looks
    for the leaders near its new frames among the groups after the one it was made dense at."""
    last = -1
    while True:
        before = prints[i]
        later = sorted(number for number in leaders.near(prints[i]) if number > last)
        for number in later:
            last = number
            leader = groups[number][0]
            was = prints[leader]
            matched = copies(leader, i)
            if prints[leader] is not was:  # made dense: its new frames may be near later videos
                leaders.add(number, prints[leader])
            if matched:
                groups[number].append(i)
                return True
            if prints[i] is not before:
                break  # made dense: look again for the leaders near its new frames
        else:
            return False


def group_videos(
    fingerprints: Sequence[Fingerprint],
    radius: int = RADIUS,
    turns: bool = True,
    densify: Callable[[int], Fingerprint | None] | None = None,
) -> list[list[int]]:
    """Groups (as indexes into ``fingerprints``, each sorted) of two or more videos, each
    around its longest: the videos are taken longest first, and each joins the first group
    whose longest video it is a copy of (:func:`same`), else starts one. So a copy is always
    a copy of its group's longest video, never only of another part of it (a 2-second
    excerpt does not join a 6-second film through a 3-second one). Videos of no group are
    left out.

    A match that rests on fewer than :data:`MIN_EVIDENCE` frames (clips whose key frames are
    far apart: one frame each may be all two different clips share) is checked again on
    dense fingerprints when ``densify(index)`` gives them (every frame decoded, one a second
    hashed; None when it cannot), and stands or falls by that.

    >>> group_videos([fp_a, fp_a_small, fp_b])  # doctest: +SKIP
    [[0, 1]]
    """
    prints = list(fingerprints)

    def copies(i: int, j: int) -> bool:
        match = compare(prints[i], prints[j], radius, turns)
        if not match.weak or densify is None or (prints[i].every_second and prints[j].every_second):
            return match.share >= MIN_SHARE
        for k in (i, j):
            dense = None if prints[k].every_second else densify(k)
            if dense is not None:
                prints[k] = dense
        return compare(prints[i], prints[j], radius, turns).share >= MIN_SHARE

    order = sorted(range(len(prints)), key=lambda i: (-prints[i].duration, i))
    groups: list[list[int]] = []
    leaders = _LeaderFrames(radius)
    for i in order:
        joined = _join(i, groups, leaders, prints, copies)
        if not joined:
            leaders.add(len(groups), prints[i])
            groups.append([i])
    return sorted((sorted(members) for members in groups if len(members) > 1), key=lambda g: g[0])
