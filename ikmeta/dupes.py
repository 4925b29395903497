"""Near-duplicate groups from pHashes: a pure :func:`group` over :class:`Item` values.

    >>> items = [Item("a.jpg", "f06830ca9f1e3e90", 4000, 3000, 2_400_000),
    ...          Item("a_small.jpg", "f06830ca9f1e3e91", 800, 600, 90_000),
    ...          Item("other.png", "0f97cf3560e1c16f", 640, 480, 300_000)]
    >>> [(g.reference.source, [(m.source, d) for m, d in g.members]) for g in group(items, 10)]
    [('a.jpg', [('a.jpg', 0), ('a_small.jpg', 1)])]

Two linkages:

- ``reference`` (default): no chaining. Items are ranked best copy first (most pixels, then
  largest file, then path order); each item, in that order, joins the first reference
  within ``max_distance`` of it, or becomes a reference itself. Every member of a group is
  within ``max_distance`` of the group's reference, and the result does not depend on the
  order the items came in.
- ``connected``: transitive groups, the connected components of the graph that links items
  within ``max_distance``; the reference is the best copy of each component.

Flat items (a solid colour, a blank page) have a pHash that is noise, so they are never
grouped by it: a flat item joins only flat items of the same colour (each channel's mean
within ``FLAT_TOLERANCE`` of the reference's), with no distance.

Near pairs come from a plain loop for small inputs and from
:func:`ikmeta.neighbors.near_pairs` (multi-index hashing) for large ones; both find exactly
the same pairs. Where brute force is the method anyway (a large radius), the groups are
built block by block without a list of pairs (:mod:`ikmeta.neighbors`' streamed leaders),
so memory stays bounded; tests hold all three to the same groups.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


@dataclass
class Group:
    """A reference (the best copy) and its members with their pHash distance to it, reference
    first; the distance is None in a group of flat images (grouped by colour)."""

    reference: Item
    members: list[tuple[Item, int | None]]


def rank_key(item: Item) -> tuple[int, int, str]:
    """Best copy first: most pixels, then largest file, then path order."""
    return (-item.pixels, -(item.size or 0), item.source)


def group(items: list[Item], max_distance: int, linkage: str = "reference", jobs: int = 1) -> list[Group]:
    """Groups of two or more near-duplicates, the group with the best reference first."""
    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}")
    ranked = sorted((item for item in items if not item.flat), key=rank_key)
    values = [int(item.phash, 16) for item in ranked]
    leaders = _leaders(values, max_distance, linkage, jobs)
    groups = [
        Group(ranked[leader], [(ranked[k], bin(values[k] ^ values[leader]).count("1")) for k in members])
        for leader, members in _members(leaders)
    ]
    flats = sorted((item for item in items if item.flat and item.colour), key=rank_key)
    groups += [
        Group(flats[leader], [(flats[k], None) for k in members])
        for leader, members in _members(_colour_leaders(flats))
    ]
    return sorted(groups, key=lambda g: rank_key(g.reference))


def _members(leaders: list[int]) -> list[tuple[int, list[int]]]:
    """(leader, its members in rank order) for each leader with two or more members."""
    members: dict[int, list[int]] = {}
    for index, leader in enumerate(leaders):
        members.setdefault(leader, []).append(index)
    return [(leader, found) for leader, found in sorted(members.items()) if len(found) > 1]


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

    Few pairs (the usual case: a small radius, or the multi-index search pays) come as a list
    of pairs. Where brute force is the method anyway (a large radius, when nearly every pair
    may be near), the groups are built block by block, with no list of pairs, so memory stays
    bounded whatever the radius.
    """
    if len(values) > SMALL:
        import numpy as np

        from . import neighbors

        if neighbors.choose_substrings(len(values), radius) is None:
            hashes = np.array(values, dtype=np.uint64)
            found = (
                neighbors.streamed_reference_leaders(hashes, radius)
                if linkage == "reference"
                else neighbors.streamed_component_leaders(hashes, radius)
            )
            leaders: list[int] = found.tolist()
            return leaders
    pairs = near_pairs(values, radius, jobs)
    return (
        _reference_leaders(len(values), pairs)
        if linkage == "reference"
        else _component_leaders(len(values), pairs)
    )


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
