"""The best-copy rule: which of a group's copies is the original worth keeping.

    >>> from ikmeta.dupes import Item
    >>> camera = Item("IMG_0042.jpg", "f06830ca9f1e3e90", 4032, 3024, 2_400_000, format="jpg",
    ...               quality=92, camera="Apple iPhone 13", captured="2024-06-01T10:22:33")
    >>> export = Item("IMG_0042.png", "f06830ca9f1e3e90", 4032, 3024, 19_000_000, format="png")
    >>> sorted([export, camera], key=rank_key)[0].source
    'IMG_0042.jpg'

Copies are ranked, best first, by:

0. a file before standard input (``-``): what was piped in is never kept while a file copy
   exists (there is nothing of it on disk to keep);
1. intact before damaged: a truncated file is never kept while an intact copy exists;
2. more pixels of the picture as made: inside a frame, without a band added along one side,
   and not counting pixels an upscale invented. An upscale is known by the size its EXIF
   still gives (``PixelXDimension``), or by its detail (:mod:`ikmeta.image.detail`): it holds
   no more fine detail than the smaller copy it was made from, and ranks as that copy's size.
   Where the smaller copy is too soft to tell, the two rank as the same size, and what follows
   decides. Among a group's copies, those within 1% of the most pixels are equal (see
   :func:`best_of`);
3. not upscaled: an enlargement after the copy it was made from;
4. camera metadata present (EXIF ``Make``/``Model`` or ``DateTimeOriginal``): an original
   before a conversion that dropped it;
5. not maybe upscaled (a copy larger than a soft one, which detail cannot tell apart: the
   smaller is kept);
6. nothing added beside the picture (a caption band; pixels its EXIF does not count);
7. the earlier capture time (``DateTimeOriginal``, else the file's modification time;
   unknown last), compared as wall-clock time: EXIF times are the camera's local time and
   a converter often drops their offset, so offsets are not applied (the same moment
   written with and without ``-05:00`` ties), and a modification time is read in the
   machine's local time;
8. the earlier EXIF ``ModifyDate`` (an export or edit writes its own time there);
9. the camera's own JPEG tables before the IJG's scaled ones (what encoders write);
10. the less lossy source: HEIC and AVIF, then JPEG at higher quality, then re-encodings
    (PNG, WebP, TIFF, GIF, BMP: usually made from one of the others);
11. the larger file;
12. the older file (its modification time): a backup is written after what it copies;
13. the path, in order.

A lossless PNG made from a camera JPEG has the same pixels but no camera metadata, so the
JPEG ranks first; a JPEG exported from an iPhone HEIC keeps its EXIF and capture time, so
the format decides and the HEIC ranks first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ikmeta.image.exif_values import parse_captured, wall_clock
from ikmeta.sources.base import STDIN

if TYPE_CHECKING:
    from .model import Item

PIXEL_TOLERANCE = 1.01  # pixel counts within this ratio of a group's largest rank as equal
SIZE_STEP = 1.1  # a copy is larger than another when it has this many times its pixels
MIN_SHARE = 0.5  # upscales are looked for up to 2x (a side)
MOST_JUDGED = 8  # the most sizes of copy a group asks about (each against the copies smaller than it)
ASPECT_TOLERANCE = 0.02  # two copies of one picture: width / height within this share
FORMAT_TIERS = {"heic": 0, "avif": 0, "jpg": 1}  # every other format is a re-encoding: 2
REENCODING = 2
UNKNOWN_TIME = math.inf  # an unknown capture time ranks after every known one

# A judge of upscales: whether ``big`` is an enlargement of a picture like ``small`` (True), is
# not (False), or cannot be told (None, ``small`` too soft to tell by).
Judge = Callable[["Item", "Item"], "bool | None"]


@dataclass
class Choice:
    """The best copy's index among those weighed, and what was found of the others' pixels:
    for an index, "upscaled ~1.5x" or "maybe upscaled ~1.5x" (its detail cannot tell)."""

    best: int
    pixels: dict[int, str] = field(default_factory=dict)


def rank_key(
    item: Item,
) -> tuple[int, int, int, int, int, int, int, float, float, int, int, int, int, float, str]:
    """A total order, best copy first: a file before standard input, intact, pixels as made
    (exactly), then :func:`tie_key`. Grouping walks items in this order; :func:`best_of` then
    applies the 1% pixel tolerance and looks for upscales."""
    return (int(item.source == STDIN), int(item.damaged), -made_pixels(item), *tie_key(item))


def tie_key(
    item: Item, upscaled: bool = False, maybe: bool = False
) -> tuple[int, int, int, int, float, float, int, int, int, int, float, str]:
    """Among copies with about as many pixels: steps 3 to 13 of the rule."""
    provenance = item.provenance
    return (
        int(upscaled or exif_upscale(item) is not None),
        0 if _has_camera(item) else 1,
        int(maybe),
        int(provenance.band is not None or exif_pixels_added(item) is not None),
        capture_time(item),
        modify_time(item),
        1 if provenance.tables == "libjpeg" else 0,
        FORMAT_TIERS.get(item.format or "", REENCODING),
        -(item.quality or 0) if item.format == "jpg" else 0,
        -(item.size or 0),
        item.mtime_ns if item.mtime_ns is not None else math.inf,
        item.source,
    )


def made_pixels(item: Item) -> int:
    """The picture's pixels (:attr:`Item.pixels`), or as many as its EXIF says it had when
    fewer (an upscale that kept the EXIF, :func:`exif_upscale`; a frame or canvas added
    around a photo that kept it: the pixels added are not the photo's)."""
    factor = exif_upscale(item)
    if factor is not None:
        return round(item.pixels / (factor * factor))
    added = exif_pixels_added(item)
    return item.pixels if added is None else added


def exif_pixels_added(item: Item) -> int | None:
    """The pixels the EXIF gives, when they are fewer than the picture's (by 10% or more) and
    of another shape: pixels were added around what was photographed. None otherwise.

    >>> from ikmeta.dupes.model import Item, Provenance
    >>> exif_pixels_added(Item("framed.jpg", "0", 402, 258, provenance=Provenance(exif_size=(360, 216))))
    77760
    """
    size = item.provenance.exif_size
    if size is None or not item.width or not item.height or exif_upscale(item) is not None:
        return None
    pixels = size[0] * size[1]
    return pixels if pixels * SIZE_STEP <= item.pixels else None


def exif_upscale(item: Item) -> float | None:
    """How many times (a side) the picture is larger than the size its EXIF gives, when its
    EXIF gives a smaller one of the same shape (an upscale that kept its source's EXIF); None
    when it does not.

    >>> from ikmeta.dupes.model import Item, Provenance
    >>> exif_upscale(Item("big.jpg", "0", 960, 720, provenance=Provenance(exif_size=(640, 480))))
    1.5
    """
    size = item.provenance.exif_size
    if size is None or not item.width or not item.height or item.inner_pixels is not None:
        return None
    width, height = size if _same_shape(size, (item.width, item.height)) else (size[1], size[0])
    if (
        not _same_shape((width, height), (item.width, item.height))
        or width * height * SIZE_STEP > item.pixels
    ):
        return None
    return round(item.width / width, 2)


def best_of(items: Iterable[Item], judge: Judge | None = None) -> Item:
    """The best copy: among intact copies (all, when none is) within 1% of the most pixels as
    made, the first by :func:`tie_key`; with a ``judge``, a copy larger than another of the
    same shape counts as that one's size when it is an upscale of it (or may be).

    >>> from ikmeta.dupes import Item
    >>> camera = Item("camera.jpg", "0", 1600, 1199, format="jpg", camera="Canon EOS 40D")
    >>> export = Item("export.png", "0", 1600, 1200, format="png")
    >>> best_of([export, camera]).source
    'camera.jpg'
    """
    candidates = list(items)
    return candidates[choose(candidates, judge).best]


def choose(items: list[Item], judge: Judge | None = None, barred: frozenset[int] = frozenset()) -> Choice:
    """:func:`best_of`, as the index of the best copy and what was found of upscales; never one
    of ``barred`` (unless all are).

    A copy found to be an upscale of a smaller one counts as that one's size, and so as the
    size of whatever that one was found to be enlarged from in turn."""
    files = [k for k, item in enumerate(items) if item.source != STDIN] or list(range(len(items)))
    weighed = [k for k in files if not items[k].damaged] or files
    own = {k: made_pixels(items[k]) for k in weighed}
    follows: dict[int, tuple[int, bool]] = {}  # an upscale -> (the copy it was made from, for sure)

    def made(k: int) -> int:
        while k in follows:
            k = follows[k][0]
        return own[k]

    judged: set[int] = set()
    verdicts: dict[tuple[int | None, int | None], tuple[int, bool] | None] = {}  # by size: copies alike
    while judge is not None and len(verdicts) < MOST_JUDGED:
        most = max(made(k) for k in weighed)
        leading = [k for k in weighed if made(k) * PIXEL_TOLERANCE >= most and k not in judged]
        if not leading:
            break
        for big in sorted(leading, key=lambda k: tie_key(items[k])):
            judged.add(big)
            size = (items[big].width, items[big].height)
            if size not in verdicts:  # one verdict for the copies of one size (an upscale copied ten times)
                if len(verdicts) >= MOST_JUDGED:
                    continue
                verdicts[size] = _enlarged_from(items, big, weighed, own, judge)
            verdict = verdicts[size]
            if verdict is not None:
                follows[big] = verdict
    most = max(made(k) for k in weighed)
    notes = {k: _upscale_note(own[k], made(k), sure) for k, (_, sure) in follows.items()}

    def key(k: int) -> tuple[int, int, int, int, float, float, int, int, int, int, float, str]:
        sure = follows.get(k, (k, False))[1]
        return tie_key(items[k], upscaled=k in follows and sure, maybe=k in follows and not sure)

    allowed = [k for k in weighed if k not in barred] or weighed
    most = max(made(k) for k in allowed)
    best = min((k for k in allowed if made(k) * PIXEL_TOLERANCE >= most), key=key)
    return Choice(best, notes)


def _upscale_note(own: int, made: int, sure: bool) -> str:
    factor = math.sqrt(own / max(1, made))
    return f"{'' if sure else 'maybe '}upscaled ~{factor:.2g}x"


def _enlarged_from(
    items: list[Item], big: int, weighed: list[int], own: dict[int, int], judge: Judge
) -> tuple[int, bool] | None:
    """(the copy ``big`` was enlarged from, whether for sure), else None. The smaller copies
    of its shape are asked (not those without the camera metadata ``big`` has: an upscale
    carries no EXIF its source did not), largest first, and the first whose verdict is not
    None decides; when none can tell, ``big`` may be an upscale of the largest (the two then
    rank as one size, and the rest of the rule decides)."""
    smaller = _smaller_sources(items, big, weighed, own)
    for k in smaller:  # the first copy that tells decides
        verdict = judge(items[big], items[k])
        if verdict is not None:
            return (k, True) if verdict else None
    return (smaller[0], False) if smaller else None


def _smaller_sources(items: list[Item], big: int, weighed: list[int], own: dict[int, int]) -> list[int]:
    """The copies ``big`` may have been enlarged from, largest first."""
    return sorted(
        (
            k
            for k in weighed
            if k != big
            and own[k] * SIZE_STEP <= own[big]
            and own[k] >= MIN_SHARE * MIN_SHARE * own[big]
            and exif_upscale(items[k]) is None  # (an upscale is no measure of what it was made from)
            and not _exif_names_size_of(items[k], items[big])  # (shrunk from it: not its source)
            and not (_has_camera(items[big]) and not _has_camera(items[k]))  # (it would have no EXIF to copy)
            and _same_picture_shape(items[k], items[big])
        ),
        key=lambda k: -own[k],
    )


def first_asked(items: list[Item]) -> list[Item]:
    """The copies a judge is first asked about when :func:`choose` ranks ``items``: each of the
    largest, and the largest copy it may have been enlarged from (measured ahead, together)."""
    files = [k for k, item in enumerate(items) if item.source != STDIN] or list(range(len(items)))
    weighed = [k for k in files if not items[k].damaged] or files
    own = {k: made_pixels(items[k]) for k in weighed}
    most = max(own.values())
    asked = []
    for big in _leading(items, [k for k in weighed if own[k] * PIXEL_TOLERANCE >= most]):
        smaller = _smaller_sources(items, big, weighed, own)
        if smaller:
            asked += [items[big], items[smaller[0]]]
    return asked


def _exif_names_size_of(small: Item, big: Item) -> bool:
    """Whether the smaller copy's EXIF gives the larger one's size (either way round): it was
    shrunk from a picture of that size, which the larger copy has."""
    size = small.provenance.exif_size
    if size is None or not big.width or not big.height:
        return False
    shaped = _same_shape(size, (big.width, big.height)) or _same_shape(size, (big.height, big.width))
    pixels = size[0] * size[1]
    return shaped and abs(pixels - big.width * big.height) <= (PIXEL_TOLERANCE - 1) * pixels


def _leading(items: list[Item], largest: list[int]) -> list[int]:
    """The first of the largest copies of each size, by the rest of the rule, for the first
    :data:`MOST_JUDGED` sizes (a group of 50,000 copies of one size asks about one)."""
    firsts: dict[tuple[int | None, int | None], int] = {}
    for k in sorted(largest, key=lambda k: tie_key(items[k])):
        firsts.setdefault((items[k].width, items[k].height), k)
    return list(firsts.values())[:MOST_JUDGED]


def _has_camera(item: Item) -> bool:
    return bool(item.camera or item.captured)


def _same_picture_shape(a: Item, b: Item) -> bool:
    """Two copies whose pictures have the same shape, neither framed nor banded (either way round)."""
    if not (a.width and a.height and b.width and b.height):
        return False
    if a.inner_pixels is not None or b.inner_pixels is not None or a.provenance.band or b.provenance.band:
        return False
    return _same_shape((a.width, a.height), (b.width, b.height)) or _same_shape(
        (a.width, a.height), (b.height, b.width)
    )


def _same_shape(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs(a[0] / a[1] - b[0] / b[1]) <= ASPECT_TOLERANCE * (b[0] / b[1])


def capture_time(item: Item) -> float:
    """Wall-clock seconds: when the photo was taken, else when the file was last written."""
    if item.captured:
        taken = parse_captured(item.captured)
        if taken is not None:
            return taken
    return _file_time(item)


def modify_time(item: Item) -> float:
    """Wall-clock seconds of EXIF ``ModifyDate``; a copy without one as of its capture."""
    modified = item.provenance.modified
    parsed = parse_captured(modified) if modified else None
    return parsed if parsed is not None else capture_time(item)


def _file_time(item: Item) -> float:
    if item.mtime_ns is not None:
        try:
            return wall_clock(datetime.fromtimestamp(item.mtime_ns / 1e9))
        except (ValueError, OverflowError, OSError):  # out of the platform's range
            return UNKNOWN_TIME
    return UNKNOWN_TIME


def best_member(
    ranked: list[Item],
    leader: int,
    members: list[int],
    near: Callable[[int, int], bool],
    judge: Judge | None = None,
) -> tuple[int, dict[int, str]]:
    """The group's reference: the best copy by :func:`choose` (pixels within 1% count as
    equal) that every member is ``near``; the leader the grouping found (the first in the
    exact order, which every member is near) when no better one is. With what was found of
    upscales, by index into ``ranked``."""
    copies = [ranked[k] for k in members]
    barred: set[int] = set()
    notes: dict[int, str] = {}
    for _ in range(min(len(members), MOST_JUDGED)):  # (each try looks at every member)
        choice = choose(copies, judge, frozenset(barred))
        notes = notes or {members[k]: note for k, note in choice.pixels.items()}
        best = members[choice.best]
        if best == leader or choice.best in barred:
            return leader, notes
        if all(near(k, best) for k in members):
            return best, notes
        barred.add(choice.best)
    return leader, notes


def fullest(
    best: int, members: list[int], shows_more: Callable[[int, int], bool], near: Callable[[int, int], bool]
) -> int:
    """The group's reference once a copy that shows more of the picture than it (the reference
    is a crop of it, or it in a frame: :data:`FULLER`) takes its place, when every member is
    near that copy; in rank order, until none does. An upscaled crop has more pixels than its
    original, a framed copy more than the picture: neither is the copy to keep.

    Linear in the members: two copies each of which shows more than the other (near copies
    whose windows all lie near each other) are the same picture, not a crop; a copy is tried
    once; at most :data:`MOST_JUDGED` copies a step are checked against every member, and at
    most :data:`MOST_JUDGED` steps are taken.

    >>> fullest(0, [0, 1], lambda a, b: a == 1, lambda a, b: True)
    1
    """
    tried = {best}
    for _ in range(MOST_JUDGED):
        fuller = _first_fuller(best, members, tried, shows_more, near)
        if fuller is None:
            return best
        best = fuller
    return best


def _first_fuller(
    best: int,
    members: list[int],
    tried: set[int],
    shows_more: Callable[[int, int], bool],
    near: Callable[[int, int], bool],
) -> int | None:
    """The first member in rank order that shows more than ``best`` (and not the other way
    round) and that every member is near, among the first :data:`MOST_JUDGED` such; each
    candidate goes into ``tried``."""
    checked = 0
    for k in members:
        if k in tried or not shows_more(k, best) or shows_more(best, k):
            continue
        tried.add(k)
        if all(near(m, k) for m in members):
            return k
        checked += 1
        if checked == MOST_JUDGED:
            return None
    return None
