"""Other views of a picture: a copy turned or mirrored, in a plain border, cropped, or with an
edge that differs, matched through :attr:`Item.views <ikmeta.dupes.model.Item.views>`
(:func:`relation`, :func:`closest_view`), and groups joined through them (:func:`join_views`).

    >>> closest_view(0b1111, None, 0b0000, (0b1110, 0, 0, 0, 0, 0, 0, 0))
    (1, 'rotated 90')
"""

from __future__ import annotations

import struct
from typing import Any

from ikmeta.hashes import INVERSE, TURNS, WINDOWS
from ikmeta.parallel import ordered_map

from .pairs import component_leaders, cross_pairs, past_small

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


def join_views(
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
    as_arrays = past_small(len(values))  # numpy past SMALL items, plain Python below
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
        joined = component_leaders(len(roots), pairs)
    return [roots[joined[position[leader]]] for leader in leaders]


# The kinds of hashes looked up by join_views: an item as it stands (PLAIN), turned (TURN),
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
