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

Items may carry other views of their picture (:attr:`Item.views`: turned, inside a plain
border, windows of it). With ``geometry="any"`` the groups found as the hashes stand then
join through them (:func:`_join_views`, looked up against the references only), and each
member says how it matched (:func:`relation`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .hashes import INVERSE, TURNS, WINDOWS, substring_bounds
from .parallel import ordered_map
from .rank import best_of, rank_key  # best copy first: originals before conversions

# An item's other views of its picture (Item.views): the seven turned pHashes, then the pHash
# of the picture inside a plain border (its "shape" views: the picture as a whole, seen another
# way), then the pHashes of its windows (WINDOWS: trimmed all round or on one side). For each
# shape view, how a copy relates to a reference when the copy's view matches the reference,
# and when the reference's view matches the copy.
VIEW_MATCHES = (
    *((TURNS[INVERSE[k]], TURNS[k]) for k in range(len(TURNS))),
    ("framed", "without the frame"),
)
REFRAMED = "reframed"  # the picture inside the copy's border is the one inside the reference's
# How a copy relates to a reference it shows more of: the reference is a crop of it, or the
# reference is it in a frame. Such a copy is the better one to keep, whatever its pixels.
FULLER = ("without the frame", "uncropped")
TURNS_COUNT = len(TURNS)  # the views before the inner picture's
WINDOWS_AT = len(VIEW_MATCHES)  # the first window's view
VIEWS = WINDOWS_AT + len(WINDOWS)
# How a copy relates to a reference through windows: the copy is a window of the reference;
# the reference is a window of the copy; a window of one is the same window of the other (an
# edge of one differs: a caption, a watermark band, a logo in a corner).
CROPPED, UNCROPPED, EDGE_DIFFERS = "cropped", "uncropped", "edge differs"
# The windows that find copies whose edge differs: those that trim the most from all round and
# from each side (a band up to 20% wide at one edge lies outside one of them).
EDGE_WINDOWS = (1, 3, 5, 7, 9)  # of WINDOWS: 10% off all round, 20% off the right, left, bottom, top

LINKAGES = ("reference", "connected")
GEOMETRIES = ("any", "exact")  # any: through other views too (turned, framed, windows); exact: as they stand
SMALL = 700  # up to this many items, a pure-Python pair loop beats importing numpy
PAIR_LOOP = 20_000  # up to this many pairs of look-ups, a pure-Python loop (~0.15 us a pair) beats numpy
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
    # Other views of the picture: the pHashes of it turned each way of TURNS, of it inside a
    # plain border, then of its WINDOWS; each the item's own pHash where it has no such view.
    # As VIEWS (18) big-endian 64-bit words (144 bytes: a million items hold them in 144 MB);
    # None when none is known.
    views: bytes | None = None
    inner_pixels: int | None = None  # the picture's pixels inside a plain border, if it has one

    @property
    def pixels(self) -> int:
        """Pixels as displayed, of the picture (inside its frame: a framed copy is no better)."""
        if self.inner_pixels is not None:
            return self.inner_pixels
        return (self.width or 0) * (self.height or 0)


@dataclass
class Group:
    """A reference (the best copy) and its members with their pHash distance to it, reference
    first; the distance is None in a group of flat images (grouped by colour). ``matches``
    says, for each member, how it matched when not as it stands: "rotated 90", "mirrored"...
    (:data:`ikmeta.hashes.TURNS`), "framed", "cropped", "edge differs"..., else None."""

    reference: Item
    members: list[tuple[Item, int | None]]
    matches: list[str | None] = field(default_factory=list)

    def match_of(self, k: int) -> str | None:
        return self.matches[k] if k < len(self.matches) else None

    def as_object(self) -> dict[str, Any]:
        """The group as ``ikmeta dupes --json`` prints it: reference, then files (reference first)."""
        from .output import group_object

        return group_object(self)


def group(
    items: list[Item], max_distance: int, linkage: str = "reference", jobs: int = 1, geometry: str = "any"
) -> list[Group]:
    """Groups of two or more near-duplicates, the group with the best reference first.

    With ``geometry`` "any", a copy turned or mirrored (its pixels, with no EXIF tag to undo
    it) or in a plain border matches too, and a cropped copy or one whose edge differs (a
    caption band) through windows, within :func:`view_radius` of ``max_distance``: its
    distance is the smallest over those views, and its group's
    ``matches`` name the way ("rotated 90", "framed", "cropped", "edge differs"...). A copy
    near as it stands is a plain match, whatever its views. A copy that shows more of the
    picture than the reference (the reference is a crop of it, or it in a frame) becomes the
    reference when every member is near it (:func:`_fullest`).
    """
    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}")
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry must be one of {GEOMETRIES}")
    ranked = sorted((item for item in items if not item.flat), key=rank_key)
    values = [int(item.phash, 16) for item in ranked]
    leaders = _leaders(values, max_distance, linkage, jobs)
    views: list[bytes | None] = [item.views if geometry == "any" else None for item in ranked]
    if any(views):
        leaders = _join_views(values, views, leaders, max_distance, linkage, jobs)

    def related(a: int, b: int) -> tuple[int, str | None, bool]:
        return relation(values[a], unpack(views[a]), values[b], unpack(views[b]), max_distance)

    def closest(a: int, b: int) -> tuple[int, str | None]:
        return related(a, b)[:2]

    def near(a: int, b: int) -> bool:
        return linkage == "connected" or related(a, b)[2]

    def shows_more(a: int, b: int) -> bool:  # b is a crop of a, or a in a frame
        distance, how = closest_view(values[a], unpack(views[a]), values[b], unpack(views[b]))
        return how in FULLER and distance <= view_radius(max_distance)

    groups = []
    for leader, members in _members(leaders):
        best = _fullest(_best_member(ranked, leader, members, near), members, shows_more, near)
        found = [closest(k, best) for k in _first(best, members)]
        groups.append(
            Group(
                ranked[best],
                [(ranked[k], d) for k, (d, _) in zip(_first(best, members), found, strict=True)],
                [how for _, how in found],
            )
        )
    flats = sorted((item for item in items if item.flat and item.colour), key=rank_key)

    def same_colour(a: int, b: int) -> bool:
        pairs = zip(_rgb(flats[a].colour or ""), _rgb(flats[b].colour or ""), strict=True)
        return max(abs(x - y) for x, y in pairs) <= FLAT_TOLERANCE

    for leader, members in _members(_colour_leaders(flats)):
        best = _best_member(flats, leader, members, same_colour)
        groups.append(Group(flats[best], [(flats[k], None) for k in _first(best, members)]))
    return sorted(groups, key=lambda g: rank_key(g.reference))


def view_radius(max_distance: int) -> int:
    """How far a copy may be through another view (turned, inside its border, through a
    window): 40% of ``max_distance`` (4 at the default 10). Such copies are seldom edited as
    well: in the labelled sets, turned and mirrored copies come within 0 to 4 of their
    original, framed ones and crops within 0 to 4, captioned ones within 0 (one at 6), while
    other photos stay 10 or more away, and pictures with plain borders come within 8 to 10 of
    each other once turned. The tight radius keeps them apart, and makes the look-up of
    seventeen more hashes an image affordable (at 60%, the turned views alone cost as much
    as grouping as the hashes stand)."""
    return max_distance * 4 // 10


def relation(
    value: int,
    views: tuple[int, ...] | None,
    reference: int,
    reference_views: tuple[int, ...] | None,
    max_distance: int,
) -> tuple[int, str | None, bool]:
    """(distance, how, near) of a copy to a reference: as they stand when within
    ``max_distance`` (how: None); else the closest other view (:func:`closest_view`), near
    when within :func:`view_radius`.

    >>> relation(0b1111, None, 0b0000, (0b1110, 0, 0, 0, 0, 0, 0, 0), 10)
    (4, None, True)
    """
    plain = (value ^ reference).bit_count()
    if plain <= max_distance:
        return plain, None, True
    distance, how = closest_view(value, views, reference, reference_views)
    return distance, how, how is not None and distance <= view_radius(max_distance)


def closest_view(
    value: int, views: tuple[int, ...] | None, reference: int, reference_views: tuple[int, ...] | None
) -> tuple[int, str | None]:
    """(distance, how) of a copy to a reference: the Hamming distance as they stand (how:
    None), or, when smaller, that of a view of the copy (turned back, or inside its frame) to
    the reference, or of a view of the reference to the copy (how, from VIEW_MATCHES: the
    copy is the reference "rotated 90", "mirrored", "framed", "without the frame"...), or
    through windows: a window of the reference to the copy ("cropped"), a window of the copy
    to the reference ("uncropped"), or a window of the copy to the same window of the
    reference ("edge differs"). ``views`` and ``reference_views``: the :data:`VIEWS` values
    (or the seven turned hashes alone), or None.

    >>> closest_view(0b1111, None, 0b0000, (0b1110, 0, 0, 0, 0, 0, 0, 0))
    (1, 'rotated 90')
    """
    shape = _closest_shape(value, views, reference, reference_views)
    return min(shape, _closest_window(value, views, reference, reference_views), key=lambda found: found[0])


def _closest_shape(
    value: int, views: tuple[int, ...] | None, reference: int, reference_views: tuple[int, ...] | None
) -> tuple[int, str | None]:
    """:func:`closest_view` as they stand, turned, or inside a border."""
    best, how = (value ^ reference).bit_count(), None
    # What each is as it stands: its hash, and the picture inside its border (the turned views
    # of a picture in a border are of the picture inside).
    copies = {value, *(views[TURNS_COUNT:WINDOWS_AT] if views is not None else ())}
    references = {reference, *(reference_views[TURNS_COUNT:WINDOWS_AT] if reference_views else ())}
    for k, (copy_view, reference_view) in enumerate(VIEW_MATCHES):
        turn = k < TURNS_COUNT  # a turned view is matched against the picture inside a border too
        if reference_views is not None and k < len(reference_views):  # the copy looks like this view
            d = min((own ^ reference_views[k]).bit_count() for own in (copies if turn else (value,)))
            if d < best:
                best, how = d, reference_view
        if views is not None and k < len(views):  # this view of the copy looks like the reference
            d = min((views[k] ^ other).bit_count() for other in (references if turn else (reference,)))
            if d < best:
                best, how = d, copy_view
    if (
        views is not None
        and reference_views is not None
        and min(len(views), len(reference_views)) > TURNS_COUNT
    ):
        d = (views[TURNS_COUNT] ^ reference_views[TURNS_COUNT]).bit_count()  # each inside its own border
        if d < best:
            best, how = d, REFRAMED
    return best, how


def _closest_window(
    value: int, views: tuple[int, ...] | None, reference: int, reference_views: tuple[int, ...] | None
) -> tuple[int, str | None]:
    """:func:`closest_view` as they stand or through windows."""
    best, how = (value ^ reference).bit_count(), None
    copy_windows = views[WINDOWS_AT:] if views is not None else ()
    reference_windows = reference_views[WINDOWS_AT:] if reference_views is not None else ()
    for window in reference_windows:  # the copy is this window of the reference
        d = (value ^ window).bit_count()
        if d < best:
            best, how = d, CROPPED
    for window in copy_windows:  # the reference is this window of the copy
        d = (window ^ reference).bit_count()
        if d < best:
            best, how = d, UNCROPPED
    for j in EDGE_WINDOWS if copy_windows and reference_windows else ():  # the same window of each
        d = (copy_windows[j] ^ reference_windows[j]).bit_count()
        if d < best:
            best, how = d, EDGE_DIFFERS
    return best, how


def _join_views(
    values: list[int],
    views: list[bytes | None],
    leaders: list[int],
    radius: int,
    linkage: str,
    jobs: int,
) -> list[int]:
    """The leaders once groups that match through other views (turned, mirrored, framed,
    cropped, with an edge that differs) are joined: in rank order, a group joins the first
    earlier group it matches (``reference``), or every match joins (``connected``). A group
    matches another when a hash of one of its members meets a hash of the other's leader (its
    reference) as the look-ups below pair them: hashes are looked up in indexes
    (:func:`cross_pairs`) that hold references' hashes, or members' only where references'
    are looked up, never members' among members', so a dense cluster of copies costs no more
    than it does as they stand."""
    roots = sorted(set(leaders))
    position = {root: p for p, root in enumerate(roots)}
    led = [k for k, leader in enumerate(leaders) if k != leader]  # the members that are not leaders
    as_arrays = len(values) > SMALL  # numpy past SMALL items, plain Python below
    refs = _lookup_hashes(views, values, roots, list(range(len(roots))), as_arrays)
    others = _lookup_hashes(views, values, led, [position[leaders[k]] for k in led], as_arrays)
    windows = tuple(range(WINDOW, KINDS))
    # Each look-up: (hashes indexed, hashes looked up among them); the index holds references'
    # hashes, and members' only where the look-up is of references'.
    lookups = [
        # Turned views, and pictures inside borders, against references as they stand and inside.
        (_pick(refs, (PLAIN, INNER)), _both(_pick(refs, (TURN, INNER)), _pick(others, (TURN, INNER)))),
        # References' windows against references and members as they stand: one is a crop of the other.
        (_both(_pick(refs, (PLAIN,)), _pick(others, (PLAIN,))), _pick(refs, windows)),
        # Members' windows against references as they stand: the reference is a crop of the member.
        (_pick(refs, (PLAIN,)), _pick(others, windows)),
        # Each edge window against the references' same window: an edge of one differs.
        *(
            (_pick(refs, (WINDOW + j,)), _both(_pick(refs, (WINDOW + j,)), _pick(others, (WINDOW + j,))))
            for j in EDGE_WINDOWS
        ),
    ]

    def look_up(lookup: tuple[tuple[Any, Any], tuple[Any, Any]]) -> list[tuple[int, int]]:
        (indexed, indexed_owners), (asked, asked_owners) = lookup
        return _group_pairs(indexed, indexed_owners, asked, asked_owners, view_radius(radius))

    partners: dict[int, set[int]] = {}
    for found in ordered_map(look_up, lookups, jobs):  # numpy works on other threads meanwhile
        for x, y in found:  # a leader, and another group's member
            partners.setdefault(x, set()).add(y)
            partners.setdefault(y, set()).add(x)
    if not partners:
        return leaders
    joined = list(range(len(roots)))
    if linkage == "reference":
        members: dict[int, list[int]] = {}
        for k, leader in enumerate(leaders):
            if position[leader] in partners:
                members.setdefault(position[leader], []).append(k)

        def within(k: int, x: int) -> bool:
            reference = roots[x]
            return relation(values[k], unpack(views[k]), values[reference], unpack(views[reference]), radius)[
                2
            ]

        # In rank order, a group joins the first earlier group still leading that every one of
        # its members is within the radius of (so every member stays near its reference).
        for y in sorted(partners):
            for x in sorted(partners[y]):
                if x < y and joined[x] == x and all(within(k, x) for k in members[y]):
                    joined[y] = x
                    break
    else:
        pairs = sorted({(min(x, y), max(x, y)) for x, ys in partners.items() for y in ys})
        joined = _component_leaders(len(roots), pairs)
    return [roots[joined[position[leader]]] for leader in leaders]


# The kinds of hashes looked up by _join_views: an item as it stands (PLAIN), turned (TURN),
# the picture inside its border (INNER), and window j (WINDOW + j).
PLAIN, TURN, INNER, WINDOW = 0, 1, 2, 3
KINDS = WINDOW + len(WINDOWS)


def _group_pairs(
    targets: Any, target_owners: Any, queries: Any, owners: Any, radius: int
) -> list[tuple[int, int]]:
    """The distinct (target's owner, query's owner) of the targets and queries within
    ``radius``, where the two owners differ (lists, or numpy arrays)."""
    if len(targets) == 0 or len(queries) == 0:
        return []
    if isinstance(targets, list):
        near = cross_pairs(targets, queries, radius)
        return sorted({(target_owners[t], owners[j]) for t, j in near if target_owners[t] != owners[j]})
    import numpy as np

    from . import neighbors

    if len(targets) > len(queries):  # index the smaller set: the pairs are the same
        j, i = neighbors.cross_pairs(queries, targets, radius)
    else:
        i, j = neighbors.cross_pairs(targets, queries, radius)
    x, y = target_owners[i].astype(np.int64), owners[j].astype(np.int64)
    apart = x != y  # every member's windows meet those of its own group's reference
    count = int(max(target_owners.max(), owners.max())) + 1
    codes = np.unique(x[apart] * count + y[apart])
    return list(zip((codes // count).tolist(), (codes % count).tolist(), strict=True))


def _pick(found: tuple[Any, Any, Any], wanted: tuple[int, ...]) -> tuple[Any, Any]:
    """The (hashes, owners) of :func:`_lookup_hashes`' output whose kind is ``wanted``."""
    hashes, owners, kinds = found
    if isinstance(hashes, list):
        chosen = [k for k, kind in enumerate(kinds) if kind in wanted]
        return [hashes[k] for k in chosen], [owners[k] for k in chosen]
    import numpy as np

    mask = np.isin(kinds, wanted)
    return hashes[mask], owners[mask]


def _both(one: tuple[Any, Any], other: tuple[Any, Any]) -> tuple[Any, Any]:
    """Two (hashes, owners) as one."""
    if isinstance(one[0], list):
        return one[0] + other[0], one[1] + other[1]
    import numpy as np

    return np.concatenate([one[0], other[0]]), np.concatenate([one[1], other[1]])


# The kind of each column of Item.views.
VIEW_KINDS = (*(TURN for _ in range(TURNS_COUNT)), INNER, *(WINDOW + j for j in range(len(WINDOWS))))


def _lookup_hashes(
    views: list[bytes | None], values: list[int], chosen: list[int], owners: list[int], as_arrays: bool
) -> tuple[Any, Any, Any]:
    """The distinct (hash, owner, kind) of the ``chosen`` items (their owners: their groups):
    each item as it stands, and its views but for those that are its own hash (views it
    lacks). Three lists, or ``as_arrays`` three numpy arrays (uint64 hashes, integer owners
    and kinds)."""
    if not as_arrays:
        found: dict[tuple[int, int, int], None] = {}
        for k, owner in zip(chosen, owners, strict=True):
            found[(values[k], owner, PLAIN)] = None
            for column, view in enumerate(unpack(views[k]) or ()):
                if view != values[k]:
                    found[(view, owner, VIEW_KINDS[column])] = None
        return [h for h, _, _ in found], [o for _, o, _ in found], [kind for _, _, kind in found]
    import numpy as np

    plain = np.array([values[k] for k in chosen], dtype=np.uint64)
    # Owner and kind in one number: 32 bits while they fit (half the memory at a million items).
    wide = (max(owners, default=0) + 1) * KINDS >= 2**31
    codes = np.array(owners, dtype=np.int64 if wide else np.int32) * KINDS
    parts = [(plain, codes + PLAIN)]
    have = np.array([p for p, k in enumerate(chosen) if views[k]], dtype=np.int64)
    if len(have):
        packed = b"".join(views[chosen[p]] or b"" for p in have)
        rows = np.frombuffer(packed, dtype=">u8").reshape(-1, VIEWS).astype(np.uint64)
        del packed
        kept = rows != plain[have][:, None]  # a view the item lacks is its own hash: not looked up
        kinds = codes[have][:, None] + np.array(VIEW_KINDS, dtype=codes.dtype)[None, :]
        parts.append((rows[kept], kinds[kept]))
        del rows, kinds
    hashes, code = (np.concatenate(part) for part in zip(*parts, strict=True))
    # Each (hash, owner, kind) once: copies of an image, and near copies in one group, share
    # most of their hashes.
    order = np.lexsort((code, hashes))
    hashes, code = hashes[order], code[order]
    unseen = np.ones(len(hashes), dtype=bool)
    unseen[1:] = (hashes[1:] != hashes[:-1]) | (code[1:] != code[:-1])
    hashes, code = hashes[unseen], code[unseen]
    return hashes, code // KINDS, code % KINDS


def unpack(views: bytes | None) -> tuple[int, ...] | None:
    """An item's views as integers (kept as VIEWS big-endian words)."""
    return struct.unpack(f">{VIEWS}Q", views) if views else None


def pack(
    phash: str, turned: list[str] | None, inner: str | None, windows: list[str] | None = None
) -> bytes | None:
    """An item's views (Item.views) from its pHash, turned pHashes, inner pHash and windows'
    pHashes (hex; the pHash itself stands in for a view it lacks); None when it has none.

    >>> unpack(pack("0000000000000002", ["0000000000000001"] * 7, None))[:10]
    (1, 1, 1, 1, 1, 1, 1, 2, 2, 2)
    """
    if not turned and not inner and not windows:
        return None
    return bytes.fromhex(
        "".join([*(turned or [phash] * len(TURNS)), inner or phash, *(windows or [phash] * len(WINDOWS))])
    )


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


def _fullest(
    best: int, members: list[int], shows_more: Callable[[int, int], bool], near: Callable[[int, int], bool]
) -> int:
    """The group's reference once a copy that shows more of the picture than it (the reference
    is a crop of it, or it in a frame: :data:`FULLER`) takes its place, when every member is
    near that copy; in rank order, until none does. An upscaled crop has more pixels than its
    original, a framed copy more than the picture: neither is the copy to keep.

    >>> _fullest(0, [0, 1], lambda a, b: a == 1, lambda a, b: True)
    1
    """
    for _ in members:  # each step moves to a copy showing more: at most one step a member
        fuller = next(
            (k for k in members if k != best and shows_more(k, best) and all(near(m, k) for m in members)),
            None,
        )
        if fuller is None:
            return best
        best = fuller
    return best


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
    if len(values) > SMALL:
        import numpy as np

        found: list[int] = leaders_of(np.array(values, dtype=np.uint64), radius, linkage, jobs).tolist()
        return found
    first: dict[int, int] = {}  # distinct value -> its number, in order of first copy
    copies = [first.setdefault(value, len(first)) for value in values]
    firsts: list[int] = [0] * len(first)  # each distinct value's first index
    for index in range(len(values) - 1, -1, -1):
        firsts[copies[index]] = index
    distinct = _distinct_leaders(list(first), radius, linkage, jobs)
    return [firsts[distinct[copy]] for copy in copies]


def leaders_of(values: Any, radius: int, linkage: str, jobs: int = 1) -> Any:
    """:func:`_leaders` of a numpy array of hashes (uint64) in rank order, as a numpy array
    (int64): identical hashes collapse (the first copy's leader for all), then the distinct
    ones are grouped in order of first copy.

        >>> import numpy as np
        >>> leaders_of(np.array([5, 4, 5, 1024], dtype=np.uint64), 1, "reference").tolist()
        [0, 0, 0, 3]
    """
    import numpy as np

    distinct, first, copies = np.unique(values, return_index=True, return_inverse=True)
    by_first = np.argsort(first, kind="stable")  # the distinct values in order of first copy
    number = np.empty(len(by_first), dtype=np.int64)
    number[by_first] = np.arange(len(by_first))
    found = np.asarray(_distinct_leaders(distinct[by_first], radius, linkage, jobs), dtype=np.int64)
    return first[by_first][found[number[copies.ravel()]]]


def _distinct_leaders(values: Any, radius: int, linkage: str, jobs: int) -> Any:
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
        pairs = near_pairs([int(v) for v in values], radius, jobs)
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
            neighbors.indexed_reference_leaders(hashes, radius, jobs=jobs)
            if linkage == "reference"
            else neighbors.indexed_component_leaders(hashes, radius, jobs=jobs)
        )
    return found


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


def cross_pairs(targets: Any, queries: Any, radius: int, jobs: int = 1) -> list[tuple[int, int]]:
    """(i, j) for every ``targets[i]`` within Hamming ``radius`` of ``queries[j]`` (each a list,
    or a numpy array of uint64), sorted.

    Lists are searched in plain Python (no numpy import, which would cost a cached run more
    than its grouping): a loop over every pair when there are few, else the pigeonhole
    principle: split into ``radius + 1`` chunks of bits, two hashes within ``radius`` agree
    exactly on one of them, so each query looks in one table a chunk.

        >>> cross_pairs([0, 0xFF], [1, 2, 0xFE], 1)
        [(0, 0), (0, 1), (1, 2)]
    """
    if isinstance(targets, list) and isinstance(queries, list):
        if len(targets) * len(queries) <= PAIR_LOOP or radius >= PIGEONHOLE_LIMIT:
            return sorted(
                (i, j)
                for j, query in enumerate(queries)
                for i, target in enumerate(targets)
                if (target ^ query).bit_count() <= radius
            )
        return _pigeonhole_pairs(targets, queries, radius)
    import numpy as np

    from . import neighbors

    i, j = neighbors.cross_pairs(
        np.asarray(targets, dtype=np.uint64), np.asarray(queries, dtype=np.uint64), radius, jobs
    )
    return list(zip(i.tolist(), j.tolist(), strict=True))


PIGEONHOLE_LIMIT = 16  # from this radius on, chunks get too narrow to narrow anything down


def _pigeonhole_pairs(targets: list[int], queries: list[int], radius: int) -> list[tuple[int, int]]:
    """:func:`cross_pairs` of two lists through ``radius + 1`` tables of chunks of bits."""
    bounds = substring_bounds(radius + 1)
    tables: list[dict[int, list[int]]] = [{} for _ in bounds]
    for i, target in enumerate(targets):
        for table, (low, width) in zip(tables, bounds, strict=True):
            table.setdefault((target >> low) & ((1 << width) - 1), []).append(i)
    found: set[tuple[int, int]] = set()
    for j, query in enumerate(queries):
        for table, (low, width) in zip(tables, bounds, strict=True):
            for i in table.get((query >> low) & ((1 << width) - 1), ()):
                if (targets[i] ^ query).bit_count() <= radius:
                    found.add((i, j))
    return sorted(found)


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
