"""Near-duplicate groups from pHashes: a pure :func:`group` over :class:`Item` values.

    >>> items = [Item("a.jpg", "f06830ca9f1e3e90", 4000, 3000, 2_400_000),
    ...          Item("a_small.jpg", "f06830ca9f1e3e91", 800, 600, 90_000),
    ...          Item("other.png", "0f97cf3560e1c16f", 640, 480, 300_000)]
    >>> [(g.reference.source, [(m.source, d) for m, d in g.members]) for g in group(items, 10)]
    [('a.jpg', [('a.jpg', 0), ('a_small.jpg', 1)])]

Two linkages:

- ``reference`` (default): no chaining. Items are ranked best copy first (originals before
  conversions: see :mod:`ikmeta.dupes.rank`, pixel counts exactly); each item, in that order, joins the first reference
  within ``max_distance`` of it, or becomes a reference itself. Every member of a group is
  within ``max_distance`` of the group's reference, and the result does not depend on the
  order the items came in.
- ``connected``: transitive groups, the connected components of the graph that links items
  within ``max_distance``; the reference is the best copy of each component.

Either way, a group's reference is then its best copy with pixel counts within 1% taken as
equal (:func:`ikmeta.dupes.rank.best_of`), when every member is still within ``max_distance`` of
it (for ``reference``), else the copy the grouping led with.

Flat items (a solid colour, a blank page) have a pHash that is noise, so they are never
grouped by it: a flat item joins only flat items of the same colour (each channel's mean
within ``FLAT_TOLERANCE`` of the reference's), with no distance.

Identical hashes collapse first: every copy of a value has the leader of the value's first
copy, under both linkages, so a hash copied 50,000 times is grouped once. Up to ``SMALL``
distinct hashes, near pairs come from a plain loop. Past it, no list of pairs is made: the
reference groups are built in rank order against an index of the references so far
(:func:`ikmeta.dupes.neighbors.indexed_reference_leaders`), and components join those groups
through the near pairs between groups only (:func:`ikmeta.dupes.neighbors.indexed_component_leaders`);
where brute force is the method anyway (a large radius), the groups are built block by block
(:mod:`ikmeta.dupes.neighbors`' streamed leaders). None of them holds, or looks at, the pairs of a
dense cluster, so time and memory stay bounded; tests hold them all to the groups of every
pair.

Items may carry other views of their picture (:attr:`Item.views`: turned, inside a plain
border, windows of it). With ``geometry="any"`` the groups found as the hashes stand then
join through them (:func:`join_views`, looked up against the references only), and each
member says how it matched (:func:`ikmeta.dupes.views.relation`).
"""

from __future__ import annotations

from ikmeta.hashes import FLAT_TOLERANCE, TURNS, colours_near

from .evidence import evidence_of
from .model import Group, Item
from .pairs import group_leaders
from .rank import (
    Judge,
    best_member,
    exif_pixels_added,
    first_asked,
    fullest,
    rank_key,  # best copy first: originals before conversions
)
from .videos import Blanks, Dense, group_videos_of
from .views import CROPPED, FULLER, closest_view, join_views, relation, unpack, view_radius

LINKAGES = ("reference", "connected")
GEOMETRIES = ("any", "exact")  # any: through other views too (turned, framed, windows); exact: as they stand


TRUNCATED = "truncated"  # how a truncated copy matches the file whose first bytes it is


def group(
    items: list[Item],
    max_distance: int,
    linkage: str = "reference",
    jobs: int = 1,
    geometry: str = "any",
    judge: Judge | None = None,
    dense: Dense | None = None,
    blanks: Blanks | None = None,
) -> list[Group]:
    """Groups of two or more near-duplicates, the group with the best reference first.

    With ``geometry`` "any", a copy turned or mirrored (its pixels, with no EXIF tag to undo
    it) or in a plain border matches too, and a cropped copy or one whose edge differs (a
    caption band) through windows, within :func:`view_radius` of ``max_distance``: its
    distance is the smallest over those views, and its group's
    ``matches`` name the way ("rotated 90", "framed", "cropped", "edge differs"...). A copy
    near as it stands is a plain match, whatever its views. A copy that shows more of the
    picture than the reference (the reference is a crop of it, or it in a frame) becomes the
    reference when every member is near it (:func:`fullest`); a copy with a band added along
    one side (a caption strip) does not count as showing more.

    Videos (items with a fingerprint's ``frames``) are grouped among themselves, never with
    an image, by :func:`ikmeta.dupes.videos.group_videos_of` (whatever the ``linkage``: each
    group around its longest video), frames within ``max_distance`` of each other showing
    the same moment; with ``geometry`` "exact", not through turns; a match on fewer than
    three frames checked on the videos' ``dense`` fingerprints where it is given
    (:class:`ikmeta.dupes.dense.DenseFingerprints`); where a group's lengths differ, the
    seconds of one colour at each video's ends measured by ``blanks``
    (:class:`ikmeta.dupes.dense.BlankEnds`), so that padding does not make a copy the longer.

    A truncated copy whose file is among the items (:attr:`Provenance.prefix_of`) joins that
    file's group whatever its pHash, matched as "truncated". ``judge`` tells upscales from the
    copies they were made from (:data:`ikmeta.dupes.rank.Judge`; with a ``prepare(items)``
    method, it is first handed the copies it will first be asked about,
    :func:`ikmeta.dupes.rank.first_asked`); without one, only the
    EXIF's size tells them.
    """
    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}")
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry must be one of {GEOMETRIES}")
    videos = [item for item in items if item.video]
    if videos:  # grouped apart: a video never groups with an image
        items = [item for item in items if not item.video]
    sources = {item.source for item in items}
    truncated = [item for item in items if item.provenance.prefix_of in sources]
    whole = [item for item in items if item.provenance.prefix_of not in sources]
    ranked = sorted((item for item in whole if not item.flat), key=rank_key)
    values = [int(item.phash, 16) for item in ranked]
    leaders = group_leaders(values, max_distance, linkage, jobs)
    views: list[bytes | None] = [item.views if geometry == "any" else None for item in ranked]
    if any(views):
        leaders = join_views(values, views, leaders, max_distance, linkage, jobs)

    def related(a: int, b: int) -> tuple[int, str | None, bool]:
        return relation(values[a], unpack(views[a]), values[b], unpack(views[b]), max_distance)

    def closest(a: int, b: int) -> tuple[int, str | None]:
        return related(a, b)[:2]

    def near(a: int, b: int) -> bool:
        return linkage == "connected" or related(a, b)[2]

    def shows_more(a: int, b: int) -> bool:  # b is a crop of a, or a in a frame
        if ranked[a].provenance.band is not None or exif_pixels_added(ranked[a]) is not None:
            return False  # a band or pixels added around b: more pixels, not more picture
        distance, how = closest_view(values[a], unpack(views[a]), values[b], unpack(views[b]))
        return how in FULLER and distance <= view_radius(max_distance)

    def scaled_judge(big: Item, small: Item) -> bool | None:  # copies of one picture, scaled
        a, b = position[id(big)], position[id(small)]
        distance, how, _ = related(b, a)
        if judge is None or (how is not None and how not in TURNS):
            return False
        window, through = closest_view(values[b], unpack(views[b]), values[a], unpack(views[a]))
        if how is None and through == CROPPED and window < distance:
            return False  # nearer as a window of it: a crop, not a smaller copy
        return judge(big, small)

    position = {id(item): k for k, item in enumerate(ranked)}
    grouped = _members(leaders)
    if judge is not None and hasattr(judge, "prepare"):  # measured together, on every core
        judge.prepare([item for _, members in grouped for item in first_asked([ranked[k] for k in members])])
    groups = []
    for leader, members in grouped:
        chosen, notes = best_member(ranked, leader, members, near, scaled_judge if judge else None)
        best = fullest(chosen, members, shows_more, near)
        own_tables = _own_tables(ranked, members)  # once a group: groups can be huge
        found = [closest(k, best) for k in _first(best, members)]
        groups.append(
            Group(
                ranked[best],
                [(ranked[k], d) for k, (d, _) in zip(_first(best, members), found, strict=True)],
                [
                    _named_match(how, ranked[k], ranked[best])
                    for k, (_, how) in zip(_first(best, members), found, strict=True)
                ],
                [evidence_of(ranked[k], notes.get(k), own_tables) for k in _first(best, members)],
            )
        )
    flats = sorted((item for item in whole if item.flat and item.colour), key=rank_key)

    def same_colour(a: int, b: int) -> bool:
        return colours_near(flats[a].colour or "", flats[b].colour or "")

    for leader, members in _members(_colour_leaders(flats)):
        best, notes = best_member(flats, leader, members, same_colour, judge)
        order = _first(best, members)
        own_tables = _own_tables(flats, members)
        groups.append(
            Group(
                flats[best],
                [(flats[k], None) for k in order],
                [],
                [evidence_of(flats[k], notes.get(k), own_tables) for k in order],
            )
        )
    _add_truncated(groups, truncated, whole)
    if videos:
        groups += group_videos_of(
            videos, max_distance, turns=geometry == "any", dense=dense, jobs=jobs, blanks=blanks
        )
    return sorted(groups, key=lambda g: rank_key(g.reference))


def _own_tables(items: list[Item], members: list[int]) -> bool:
    """Whether a copy in the group has a camera's own JPEG tables (then an encoder's are evidence)."""
    return any(items[k].provenance.tables == "own" for k in members)


def _named_match(how: str | None, copy: Item, reference: Item) -> str | None:
    """How a copy matched, a band along one side named as one (it is matched as a frame is)."""
    if how == "framed" and copy.provenance.band is not None:
        return "band added"
    if how == "without the frame" and reference.provenance.band is not None:
        return "without the band"
    return how


def _add_truncated(groups: list[Group], truncated: list[Item], whole: list[Item]) -> None:
    """Each truncated copy into the group of the file whose first bytes it is (a group of the
    two when that file has no other copy), matched as "truncated"."""
    by_source = {item.source: item for item in whole}
    group_of = {member.source: g for g in groups for member, _ in g.members}
    for part in truncated:
        source = part.provenance.prefix_of or ""
        target = group_of.get(source)
        if target is None:
            full = by_source[source]
            target = Group(full, [(full, 0 if not full.flat else None)], [None], [evidence_of(full)])
            groups.append(target)
            group_of[source] = target
        reference = target.reference
        distance = None if reference.flat else (int(part.phash, 16) ^ int(reference.phash, 16)).bit_count()
        while len(target.matches) < len(target.members):
            target.matches.append(None)
        target.members.append((part, distance))
        target.matches.append(TRUNCATED)
        target.why.append(evidence_of(part))
        group_of[part.source] = target


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
