"""Near-duplicate groups from pHashes: a pure :func:`group` over :class:`Item` values.

    >>> items = [Item("a.jpg", "f06830ca9f1e3e90", 4000, 3000, 2_400_000),
    ...          Item("a_small.jpg", "f06830ca9f1e3e91", 800, 600, 90_000),
    ...          Item("other.png", "0f97cf3560e1c16f", 640, 480, 300_000)]
    >>> [(g.reference.source, [(m.source, d) for m, d in g.members]) for g in group(items, 10)]
    [('a.jpg', [('a.jpg', 0), ('a_small.jpg', 1)])]

Two linkages:

- ``reference`` (default): no chaining. Items are ranked best copy first (originals before
  conversions: see :mod:`ikmeta.rank`, pixel counts exactly); each item, in that order, joins the first reference
  within ``max_distance`` of it, or becomes a reference itself. Every member of a group is
  within ``max_distance`` of the group's reference, and the result does not depend on the
  order the items came in.
- ``connected``: transitive groups, the connected components of the graph that links items
  within ``max_distance``; the reference is the best copy of each component.

Either way, a group's reference is then its best copy with pixel counts within 1% taken as
equal (:func:`ikmeta.rank.best_of`), when every member is still within ``max_distance`` of
it (for ``reference``), else the copy the grouping led with.

Flat items (a solid colour, a blank page) have a pHash that is noise, so they are never
grouped by it: a flat item joins only flat items of the same colour (each channel's mean
within ``FLAT_TOLERANCE`` of the reference's), with no distance.

Identical hashes collapse first: every copy of a value has the leader of the value's first
copy, under both linkages, so a hash copied 50,000 times is grouped once. Up to ``SMALL``
distinct hashes, near pairs come from a plain loop. Past it, no list of pairs is made: the
reference groups are built in rank order against an index of the references so far
(:func:`ikmeta.neighbors.indexed_reference_leaders`), and components join those groups
through the near pairs between groups only (:func:`ikmeta.neighbors.indexed_component_leaders`);
where brute force is the method anyway (a large radius), the groups are built block by block
(:mod:`ikmeta.neighbors`' streamed leaders). None of them holds, or looks at, the pairs of a
dense cluster, so time and memory stay bounded; tests hold them all to the groups of every
pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .rank import best_of, rank_key  # best copy first: originals before conversions

LINKAGES = ("reference", "connected")
SMALL = 700  # up to this many items, a pure-Python pair loop beats importing numpy
FLAT_TOLERANCE = 6  # largest difference of mean red, green or blue (0-255) between flat copies


@dataclass(frozen=True)
class Item:
    """One image to group: its source, pHash (hex) and what ranks it as a copy."""

    source: str
    phash: str
    width: int | None = None
    height: int | None = None
    size: int | None = None
    flat: bool = False
    colour: str | None = None  # a flat item's mean colour, "#rrggbb" (None when unknown)
    # What the best-copy rule (ikmeta.rank) weighs besides pixels and size; None when unknown.
    format: str | None = None  # ikmeta's short name: jpg, png, heic...
    quality: int | None = None  # a JPEG's estimated quality
    camera: str | None = None  # EXIF Make and Model
    captured: str | None = None  # EXIF DateTimeOriginal, ISO 8601
    mtime_ns: int | None = None  # the file's modification time

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


@dataclass
class Group:
    """A reference (the best copy) and its members with their pHash distance to it, reference
    first; the distance is None in a group of flat images (grouped by colour)."""

    reference: Item
    members: list[tuple[Item, int | None]]


def group(items: list[Item], max_distance: int, linkage: str = "reference", jobs: int = 1) -> list[Group]:
    """Groups of two or more near-duplicates, the group with the best reference first."""
    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}")
    ranked = sorted((item for item in items if not item.flat), key=rank_key)
    values = [int(item.phash, 16) for item in ranked]
    leaders = _leaders(values, max_distance, linkage, jobs)

    def distance(a: int, b: int) -> int:
        return bin(values[a] ^ values[b]).count("1")

    def near(a: int, b: int) -> bool:
        return linkage == "connected" or distance(a, b) <= max_distance

    groups = []
    for leader, members in _members(leaders):
        best = _best_member(ranked, leader, members, near)
        groups.append(Group(ranked[best], [(ranked[k], distance(k, best)) for k in _first(best, members)]))
    flats = sorted((item for item in items if item.flat and item.colour), key=rank_key)

    def same_colour(a: int, b: int) -> bool:
        pairs = zip(_rgb(flats[a].colour or ""), _rgb(flats[b].colour or ""), strict=True)
        return max(abs(x - y) for x, y in pairs) <= FLAT_TOLERANCE

    for leader, members in _members(_colour_leaders(flats)):
        best = _best_member(flats, leader, members, same_colour)
        groups.append(Group(flats[best], [(flats[k], None) for k in _first(best, members)]))
    return sorted(groups, key=lambda g: rank_key(g.reference))


def _best_member(
    ranked: list[Item], leader: int, members: list[int], near: Callable[[int, int], bool]
) -> int:
    """The group's reference: the best copy by :func:`ikmeta.rank.best_of` (pixels within 1%
    count as equal), when every member is still ``near`` it; else the leader the grouping
    found (the first in the exact order, which every member is near)."""
    chosen = best_of(ranked[k] for k in members)
    best = next(k for k in members if ranked[k] is chosen)
    if best != leader and all(near(k, best) for k in members):
        return best
    return leader


def _first(best: int, members: list[int]) -> list[int]:
    return [best, *(k for k in members if k != best)]


def _members(leaders: list[int]) -> list[tuple[int, list[int]]]:
    """(leader, its members in rank order) for each leader with two or more members; a leader
    comes before its members (it is the first of its group in rank order)."""
    members: dict[int, list[int]] = {}
    for index, leader in enumerate(leaders):
        if leader != index:
            members.setdefault(leader, [leader]).append(index)
    return sorted(members.items())


def _colour_leaders(flats: list[Item]) -> list[int]:
    """Greedy, in rank order: a flat item joins the first flat reference of about its colour."""
    cells: dict[tuple[int, int, int], list[int]] = {}
    leaders = []
    for index, item in enumerate(flats):
        rgb = _rgb(item.colour or "")
        red, green, blue = (v // FLAT_TOLERANCE for v in rgb)
        cell = (red, green, blue)
        near = sorted(
            ref
            for dr in (-1, 0, 1)
            for dg in (-1, 0, 1)
            for db in (-1, 0, 1)
            for ref in cells.get((cell[0] + dr, cell[1] + dg, cell[2] + db), ())
            if max(abs(a - b) for a, b in zip(rgb, _rgb(flats[ref].colour or ""), strict=True))
            <= FLAT_TOLERANCE
        )
        if near:
            leaders.append(near[0])
        else:
            leaders.append(index)
            cells.setdefault(cell, []).append(index)
    return leaders


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _leaders(values: list[int], radius: int, linkage: str, jobs: int) -> list[int]:
    """The leader (group reference) of each hash in rank order; a hash alone leads itself.

    Identical hashes collapse first: every copy of a value has the leader of the value's first
    copy (under both linkages), so only distinct values are grouped, in order of first copy.
    """
    first: dict[int, int] = {}  # distinct value -> its number, in order of first copy
    copies = [first.setdefault(value, len(first)) for value in values]
    firsts: list[int] = [0] * len(first)  # each distinct value's first index
    for index in range(len(values) - 1, -1, -1):
        firsts[copies[index]] = index
    found = _distinct_leaders(list(first), radius, linkage, jobs)
    return [firsts[found[copy]] for copy in copies]


def _distinct_leaders(values: list[int], radius: int, linkage: str, jobs: int) -> list[int]:
    """Leaders of distinct hashes, in rank order, without a list of all near pairs past SMALL.

    Up to SMALL hashes, a pair loop. Past it, the indexed passes of :mod:`ikmeta.neighbors`
    (reference groups a block at a time against the references so far; components from the
    pairs between reference groups only), or where brute force is the method anyway (a large
    radius, when nearly every pair may be near) the streamed brute force. Neither holds the
    pairs of a dense cluster, so memory stays bounded whatever the input and the radius.
    """
    if radius < 1:  # distinct hashes: none within 0 of another
        return list(range(len(values)))
    if len(values) <= SMALL:
        pairs = near_pairs(values, radius, jobs)
        return (
            _reference_leaders(len(values), pairs)
            if linkage == "reference"
            else _component_leaders(len(values), pairs)
        )
    import numpy as np

    from . import neighbors

    hashes = np.array(values, dtype=np.uint64)
    if neighbors.choose_substrings(len(values), radius) is None:
        found = (
            neighbors.streamed_reference_leaders(hashes, radius)
            if linkage == "reference"
            else neighbors.streamed_component_leaders(hashes, radius)
        )
    else:
        found = (
            neighbors.indexed_reference_leaders(hashes, radius)
            if linkage == "reference"
            else neighbors.indexed_component_leaders(hashes, radius)
        )
    leaders: list[int] = found.tolist()
    return leaders


def near_pairs(values: list[int], radius: int, jobs: int = 1) -> list[tuple[int, int]]:
    """(i, j), i < j, for every pair of 64-bit ``values`` within Hamming ``radius``, sorted."""
    if len(values) <= SMALL:
        return [
            (i, j)
            for i in range(len(values))
            for j in range(i + 1, len(values))
            if bin(values[i] ^ values[j]).count("1") <= radius
        ]
    import numpy as np

    from . import neighbors

    i, j = neighbors.near_pairs(np.array(values, dtype=np.uint64), radius, jobs)
    return list(zip(i.tolist(), j.tolist(), strict=True))


def _reference_leaders(n: int, pairs: list[tuple[int, int]]) -> list[int]:
    """Greedy, in rank order: an item joins the first reference close to it, else leads its own group."""
    closer: dict[int, list[int]] = {}
    for i, j in pairs:  # sorted by i, so each list is in rank order
        closer.setdefault(j, []).append(i)
    leaders = list(range(n))
    for j in range(n):
        for i in closer.get(j, ()):
            if leaders[i] == i:  # i is a reference (decided earlier: i < j)
                leaders[j] = i
                break
    return leaders


def _component_leaders(n: int, pairs: list[tuple[int, int]]) -> list[int]:
    """Connected components; each led by its best-ranked (lowest) index."""
    parent = list(range(n))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i, j in pairs:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [root(k) for k in range(n)]
