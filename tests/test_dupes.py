"""group(): references, linkage, flat images, determinism; Hypothesis for the invariants."""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ikmeta.dupes.neighbors as neighbors_module
import ikmeta.dupes.pairs as pairs_module
from ikmeta.dupes import LINKAGES, Group, Item, group
from ikmeta.dupes.grouping import FLAT_TOLERANCE
from ikmeta.dupes.neighbors import brute_pairs
from ikmeta.dupes.rank import rank_key
from ikmeta.hashes import distance as hamming

from .test_neighbors import planted


def item(source: str, value: int, pixels: int = 100, size: int = 10, **kw) -> Item:
    return Item(source, f"{value:016x}", pixels, 1, size, **kw)


def flip(value: int, *bits: int) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def summary(groups: list[Group]) -> list[tuple[str, list[tuple[str, int | None]]]]:
    return [(g.reference.source, [(m.source, d) for m, d in g.members]) for g in groups]


def partition(groups: list[Group]) -> list[list[str]]:
    """Which items are grouped together (what the grouping decides; the reference of each group
    and its distances follow from the best-copy rule)."""
    return sorted(sorted(m.source for m, _ in g.members) for g in groups)


def slow_groups(items: list[Item], max_distance: int, linkage: str = "reference") -> list[list[str]]:
    """The obvious definition, slowly, as partition() shows groups: every pair by brute force
    over every item (copies not collapsed), then the greedy in rank order (each item joins the
    first reference near it, else is one) or the connected components."""
    ranked = sorted((it for it in items if not it.flat), key=rank_key)
    values = [int(it.phash, 16) for it in ranked]
    i, j = brute_pairs(np.array(values, dtype=np.uint64), max_distance)
    leader = list(range(len(ranked)))
    if linkage == "reference":
        near: dict[int, list[int]] = {}
        for a, b in zip(i.tolist(), j.tolist(), strict=True):
            near.setdefault(b, []).append(a)
        for b in range(len(ranked)):
            refs = [a for a in sorted(near.get(b, [])) if leader[a] == a]
            if refs:
                leader[b] = refs[0]
    else:

        def root(k: int) -> int:
            while leader[k] != k:
                k = leader[k]
            return k

        for a, b in zip(i.tolist(), j.tolist(), strict=True):
            ra, rb = root(a), root(b)
            leader[max(ra, rb)] = min(ra, rb)
        leader = [root(k) for k in range(len(ranked))]
    members: dict[int, list[str]] = {}
    for k, lead in enumerate(leader):
        members.setdefault(lead, []).append(ranked[k].source)
    return sorted(sorted(found) for found in members.values() if len(found) > 1)


def test_reference_is_the_best_copy_and_listed_first():
    base = 0x0123456789ABCDEF
    items = [
        item("small.jpg", flip(base, 1), pixels=10),
        item("big.jpg", base, pixels=1000),
        item("same-size-bigger-file.jpg", flip(base, 2), pixels=10, size=99),
        item("other.jpg", ~base & (2**64 - 1)),
    ]
    assert summary(group(items, 10)) == [
        ("big.jpg", [("big.jpg", 0), ("same-size-bigger-file.jpg", 1), ("small.jpg", 1)])
    ]


def test_ties_fall_back_to_path_order():
    items = [item("b.jpg", 5), item("a.jpg", 5), item("c.jpg", 5)]
    assert group(items, 0)[0].reference.source == "a.jpg"


def test_no_chaining_by_default_and_chaining_when_connected():
    a = 0
    b = flip(a, *range(6))  # 6 from a
    c = flip(b, *range(10, 16))  # 6 from b, 12 from a
    items = [item("a", a, pixels=3), item("b", b, pixels=2), item("c", c, pixels=1)]
    assert summary(group(items, 8)) == [("a", [("a", 0), ("b", 6)])]
    assert summary(group(items, 8, linkage="connected")) == [("a", [("a", 0), ("b", 6), ("c", 12)])]


def test_flat_images_never_join_by_phash():
    photo = 0x8000000000000000  # a photo whose hash happens to equal the flat hash
    items = [
        item("white.png", 0x8000000000000000, flat=True, colour="#ffffff"),
        item("blue.png", 0x8000000000000000, flat=True, colour="#0000ff"),
        item("page1.png", 0xC000000000000001, flat=True, colour="#f4f4f2"),
        item("page2.png", 0x4000000000000011, flat=True, colour=None),
        item("photo.jpg", photo),
        item("photo-copy.jpg", flip(photo, 3)),
    ]
    # Same pixels and size: path order ranks "photo-copy.jpg" ("-" sorts before ".") first.
    assert summary(group(items, 10)) == [("photo-copy.jpg", [("photo-copy.jpg", 0), ("photo.jpg", 1)])]


def test_flat_images_of_one_colour_group_without_a_distance():
    items = [
        item("grey.png", 1, flat=True, colour="#898989"),
        item("grey.webp", 2, pixels=50, flat=True, colour=f"#{0x89 + FLAT_TOLERANCE:02x}8989"),
        item("dark.png", 3, flat=True, colour="#101010"),
    ]
    assert summary(group(items, 10)) == [("grey.png", [("grey.png", None), ("grey.webp", None)])]


def test_equals_brute_force_grouping_on_10k():
    hashes = planted(10_000, seed=7)
    rng = random.Random(3)
    items = [
        Item(f"img{k:05d}.jpg", f"{int(h):016x}", rng.randint(1, 4) * 100, 100, rng.randint(1, 10**6))
        for k, h in enumerate(hashes)
    ]
    groups = group(items, 10)
    # The same greedy, written the slow obvious way over the brute-force pairs.
    assert partition(groups) == slow_groups(items, 10)
    assert partition(group(items, 10, "connected")) == slow_groups(items, 10, "connected")


hash_values = st.integers(0, 2**64 - 1)


@st.composite
def libraries(draw):
    seeds = draw(st.lists(hash_values, min_size=1, max_size=6))
    items = []
    for n, seed in enumerate(draw(st.lists(st.sampled_from(seeds), max_size=30))):
        bits = draw(st.lists(st.integers(0, 63), max_size=14))
        items.append(
            item(
                f"f{n:02d}",
                flip(seed, *set(bits)),
                pixels=draw(st.integers(1, 5)),
                size=draw(st.integers(1, 5)),
            )
        )
    return items


@settings(max_examples=150, deadline=None)
@given(libraries(), st.integers(0, 20))
def test_reference_linkage_invariants(items, max_distance):
    groups = group(items, max_distance)
    seen = [m.source for g in groups for m, _ in g.members]
    assert len(seen) == len(set(seen))  # each item in one group at most
    for g in groups:
        assert g.members[0] == (g.reference, 0)
        assert len(g.members) >= 2
        for member, distance in g.members:
            assert distance == hamming(member.phash, g.reference.phash) <= max_distance
            assert (-member.pixels, -member.size, member.source) >= (
                -g.reference.pixels,
                -g.reference.size,
                g.reference.source,
            )
    shuffled = list(reversed(items))
    assert summary(group(shuffled, max_distance)) == summary(groups)  # order of input does not matter


@settings(max_examples=100, deadline=None)
@given(libraries(), st.integers(0, 20))
def test_connected_linkage_invariants(items, max_distance):
    groups = group(items, max_distance, linkage="connected")
    members = {m.source: index for index, g in enumerate(groups) for m, _ in g.members}
    for a in items:
        for b in items:
            if a.source < b.source and hamming(a.phash, b.phash) <= max_distance:
                assert a.source in members and members[a.source] == members.get(b.source)
    # Connected groups are unions of reference groups.
    for g in group(items, max_distance):
        assert len({members[m.source] for m, _ in g.members}) == 1


def test_bad_linkage():
    with pytest.raises(ValueError, match="linkage"):
        group([], 10, linkage="single")


@pytest.mark.parametrize("linkage", ["reference", "connected"])
def test_wide_radius_groups_in_bounded_memory_equal_the_pair_groups(linkage, monkeypatch):
    """Past SMALL items and at a radius where brute force runs, group() builds groups block by
    block; they are the groups the pair list gives."""
    import ikmeta.dupes.pairs as pairs_module

    rng = random.Random(11)
    items = [Item(f"img{k:04d}.jpg", f"{rng.getrandbits(64):016x}", 100, 100, k) for k in range(1000)]
    streamed = summary(group(items, 26, linkage))
    monkeypatch.setattr(pairs_module, "SMALL", 10**6)  # the plain pair loop, for comparison
    assert streamed == summary(group(items, 26, linkage)) and streamed


def dense_library(seed: int, copies: int = 300, near: int = 300, scattered: int = 2000) -> list[Item]:
    """The shape of issue 9 at a small scale: many copies of one hash and near copies of it (1-3
    bits), a second smaller cluster, random hashes; and, ranked first, shapes that the two
    linkages group differently at radius 10 (SHAPES)."""
    rng = random.Random(seed)
    centre, second = rng.getrandbits(64), rng.getrandbits(64)
    values = [centre] * copies
    values += [flip(centre, *rng.sample(range(64), rng.randint(1, 3))) for _ in range(near)]
    values += [second] * 40 + [flip(second, *rng.sample(range(64), rng.randint(1, 6))) for _ in range(80)]
    values += [rng.getrandbits(64) for _ in range(scattered)]
    items = [
        item(f"img{k:05d}.jpg", value, pixels=rng.randint(1, 4) * 100, size=rng.randint(1, 10**6))
        for k, value in enumerate(values)
    ]
    # Bits spread evenly over the hash (any run of them falls on every substring alike): the
    # hardest near pairs for a multi-index to find.
    rotation = rng.randrange(64)
    bits = [(b + rotation) % 64 for b in sorted(range(64), key=lambda b: (b % 16, b // 16))]
    member = flip(centre, *bits[:3])  # in the cluster, 3 bits from its reference...
    a, q, x, y = rng.getrandbits(64), rng.getrandbits(64), rng.getrandbits(64), rng.getrandbits(64)
    shapes = {
        "centre.jpg": centre,  # the best copy: the cluster's reference
        "member.jpg": member,
        "edge.jpg": flip(member, *bits[3:12]),  # ...9 from this, 12 from the reference
        "chain-a.jpg": a,
        "chain-b.jpg": flip(a, *bits[:6]),
        "chain-c.jpg": flip(a, *bits[:6], *bits[20:26]),  # 6 from b, 12 from a
        "bridge-a.jpg": x,
        "bridge-b.jpg": flip(x, *bits[:12]),  # 12 from a: a reference too
        "bridge-x.jpg": flip(x, *bits[:6]),  # 6 from both: joins a, the first
        "pair-a.jpg": q,
        "pair-b.jpg": flip(q, *bits[:8], *bits[20:36]),  # 24 from a: a reference
        "pair-a2.jpg": flip(q, *bits[:8]),  # 8 from a: joins a
        "pair-b2.jpg": flip(q, *bits[:8], *bits[20:28]),  # 8 from b and a2, 16 from a: joins b
        "spread-a.jpg": y,
        "spread-b.jpg": flip(y, bits[0]),  # a group 1 bit wide
        "spread-out.jpg": flip(y, *bits[:11]),  # 10 from b, 11 from a: a reference
    }
    items += [item(name, value, pixels=10**6 - k) for k, (name, value) in enumerate(shapes.items())]
    # Ranked last, blocks after the rest: 6 from chain-b only (which is not a reference).
    items.append(item("chain-d.jpg", flip(a, *bits[:6], *bits[40:46]), pixels=1))
    rng.shuffle(items)
    return items


# The groups of the shapes in dense_library under each linkage (their names, sorted).
SHAPES = {
    "reference": [
        ["bridge-a.jpg", "bridge-x.jpg"],
        ["centre.jpg", "member.jpg"],
        ["chain-a.jpg", "chain-b.jpg"],
        ["pair-a.jpg", "pair-a2.jpg"],
        ["pair-b.jpg", "pair-b2.jpg"],
        ["spread-a.jpg", "spread-b.jpg"],
    ],
    "connected": [
        ["bridge-a.jpg", "bridge-b.jpg", "bridge-x.jpg"],
        ["centre.jpg", "edge.jpg", "member.jpg"],
        ["chain-a.jpg", "chain-b.jpg", "chain-c.jpg", "chain-d.jpg"],
        ["pair-a.jpg", "pair-a2.jpg", "pair-b.jpg", "pair-b2.jpg"],
        ["spread-a.jpg", "spread-b.jpg", "spread-out.jpg"],
    ],
}


# Ways group() can take past SMALL distinct hashes: the substrings the cost model picks, m
# substrings of equal width, and the streamed brute force (None).
PATHS = ["default", 3, 4, 6, 8, None]


def forced(path: object) -> contextlib.ExitStack:
    """A context where group() takes ``path`` (see PATHS) in small steps (blocks, bucket depths,
    query chunks, listed ranges), so every part of the indexed passes runs on small inputs."""
    stack = contextlib.ExitStack()
    small_steps = (
        ("REFERENCE_BLOCK", 16),
        ("SHALLOW", 1),
        ("QUERY_CHUNK", 7),
        ("SPAN_LIMIT", 50),
        ("BIG_GROUPS_PER_STEP", 1),
    )
    for name, value in small_steps:
        stack.enter_context(mock.patch.object(neighbors_module, name, value))
    if path is None:
        stack.enter_context(mock.patch.object(neighbors_module, "choose_substrings", return_value=None))
    elif path != "default":
        even = neighbors_module.even_layout
        stack.enter_context(
            mock.patch.object(neighbors_module, "layout", lambda n, radius: even(path, radius))
        )
    return stack


@pytest.mark.parametrize("linkage", ["reference", "connected"])
def test_dense_clusters_group_exactly_as_the_brute_force(linkage):
    items = dense_library(seed=9)
    expected = slow_groups(items, 10, linkage)
    assert partition(group(items, 10, linkage)) == expected
    sizes = sorted(len(members) for members in expected)
    assert sizes[-1] >= 600 and sizes[-2] >= 120  # both clusters are there, whole
    shapes = [[source for source in members if not source.startswith("img")] for members in expected]
    assert sorted(names for names in shapes if names) == SHAPES[linkage]


@pytest.mark.parametrize("small", [0, 10**6])
@pytest.mark.parametrize("linkage", ["reference", "connected"])
def test_copies_take_the_leader_of_their_first_copy(small, linkage, monkeypatch):
    """group_leaders over hashes with many repeats equals the leaders from every pair of every hash:
    a copy's leader is its value's first copy's, and the copies never lead."""
    from ikmeta.dupes.pairs import component_leaders, group_leaders, reference_leaders

    rng = random.Random(5)
    seeds = [rng.getrandbits(64) for _ in range(40)]
    values = [
        flip(rng.choice(seeds), *rng.sample(range(64), rng.choice([0, 0, 0, 2, 5]))) for _ in range(1500)
    ]
    i, j = brute_pairs(np.array(values, dtype=np.uint64), 10)
    pairs = list(zip(i.tolist(), j.tolist(), strict=True))
    expected = (reference_leaders if linkage == "reference" else component_leaders)(len(values), pairs)
    monkeypatch.setattr(pairs_module, "SMALL", small)
    assert group_leaders(values, 10, linkage, 1) == expected
    assert len(set(values)) < len(values) // 2


@pytest.mark.parametrize("path", PATHS)
def test_every_path_groups_dense_clusters_exactly(path):
    items = dense_library(seed=4, copies=120, near=150, scattered=700)
    for linkage in ("reference", "connected"):
        with forced(path):
            found = partition(group(items, 10, linkage))
        assert found == slow_groups(items, 10, linkage), (path, linkage)


@st.composite
def crowded_libraries(draw):
    """Few seeds, many exact copies and near copies of them, and some random hashes."""
    seeds = draw(st.lists(hash_values, min_size=1, max_size=4))
    values = [
        flip(draw(st.sampled_from(seeds)), *set(draw(st.lists(st.integers(0, 63), max_size=4))))
        for _ in range(draw(st.integers(0, 90)))
    ]
    values += draw(st.lists(hash_values, max_size=15))
    ranks = draw(st.lists(st.integers(1, 3), min_size=len(values), max_size=len(values)))
    return [
        item(f"f{n:03d}", value, pixels=rank, size=n % 3)
        for n, (value, rank) in enumerate(zip(values, ranks, strict=True))
    ]


@settings(max_examples=120, deadline=None)
@given(crowded_libraries(), st.integers(0, 16), st.sampled_from(PATHS))
def test_fast_paths_equal_the_brute_force_on_crowded_libraries(items, max_distance, path):
    for linkage in ("reference", "connected"):
        with forced(path), mock.patch.object(pairs_module, "SMALL", 0):
            found = partition(group(items, max_distance, linkage))
        assert found == slow_groups(items, max_distance, linkage)


BIG_CLUSTER = r"""
import random, sys, time
from ikmeta.dupes import Item, group

rng = random.Random(1)
centre = 0xCEDBD88C49EAF808
values = [centre] * 20_000
values += [centre ^ sum(1 << b for b in rng.sample(range(64), rng.randint(1, 3))) for _ in range(5_000)]
values += [rng.getrandbits(64) for _ in range(5_000)]
items = [Item(f"img{k:05d}.jpg", f"{v:016x}", 100, 100, k) for k, v in enumerate(values)]
start = time.perf_counter()
for linkage in ("reference", "connected"):
    groups = group(items, 10, linkage)
    assert max(len(g.members) for g in groups) >= 25_000, linkage
# The peak of this program's own memory (VmHWM): ru_maxrss would also count the pytest process
# it was forked from, which Linux carries over an exec.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(time.perf_counter() - start, peak_kb // 1024)
"""


def test_a_huge_cluster_groups_in_bounded_time_and_memory():
    """20,000 copies of one hash and 5,000 near copies: all pairs would be 300 million."""

    def limit() -> None:  # an all-pairs method fails here at once instead of swapping
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    out = subprocess.run(
        [sys.executable, "-c", BIG_CLUSTER], capture_output=True, text=True, timeout=120, preexec_fn=limit
    )
    assert out.returncode == 0, out.stderr[-500:]
    seconds, peak_mb = out.stdout.split()
    assert float(seconds) < 10 and int(peak_mb) < 400


# --- turned and mirrored copies ---------------------------------------------------------------


def packed(turns: tuple[int, ...], inner: int, windows: tuple[int, ...] | None = None) -> bytes:
    """Item.views: seven turned hashes, the inner one (the item's own hash when unframed), and
    the ten windows' (the inner hash when not given)."""
    return b"".join(t.to_bytes(8, "big") for t in (*turns, inner, *(windows or (inner,) * 10)))


def turned_item(source: str, value: int, turns: tuple[int, ...], pixels: int = 100) -> Item:
    return Item(source, f"{value:016x}", pixels, 1, 10, views=packed(turns, value))


def test_a_turned_copy_joins_and_says_how():
    """b is a turned 90: b's pHash is a's hash turned 90 (a's turned[0]), and b turned 270
    (b's turned[2]) is a's own pHash; turned copies match within 40% of the radius."""
    a = turned_item("a.jpg", 0x0F0F, (0xF0F0_0000, 2, 3, 4, 5, 6, 7), pixels=200)
    b = turned_item("b.jpg", 0xF0F0_0000, (11, 12, 0x0F0F, 14, 15, 16, 17))
    c = turned_item("c.jpg", 0xFFFF_FFFF_0000_0000, (21, 22, 23, 24, 25, 26, 27))
    found = group([a, b, c], 4)
    assert summary(found) == [("a.jpg", [("a.jpg", 0), ("b.jpg", 0)])]
    assert found[0].matches == [None, "rotated 90"]
    assert group([a, b, c], 4, geometry="exact") == []
    b3 = turned_item("b.jpg", 0xF0F0_0007, (11, 12, 0x0F0F ^ 0b111, 14, 15, 16, 17))  # 3 bits off
    assert group([a, b3, c], 7) == []  # turned: within 2 at --max 7
    assert len(group([a, b3, c], 8)) == 1  # within 3 at --max 8


def test_a_copy_matched_from_one_side_only():
    """A hash list without turned hashes for b still finds it through a's."""
    a = turned_item("a.jpg", 0x0F0F, (1, 2, 3, 0xF0F0_0003, 5, 6, 7), pixels=200)
    b = item("b.jpg", 0xF0F0_0000)
    found = group([a, b], 5)  # 2 bits: within 40% of 5
    assert summary(found) == [("a.jpg", [("a.jpg", 0), ("b.jpg", 2)])]
    assert found[0].matches == [None, "mirrored"]


def windowed_item(source: str, value: int, windows: tuple[int, ...], pixels: int = 100) -> Item:
    return Item(source, f"{value:016x}", pixels, 1, 10, views=packed((value,) * 7, value, windows))


def test_a_cropped_copy_and_one_whose_edge_differs_join_and_say_how():
    """b is a's window 3 (a crop), c shares a's window 3 (edge windows: 1, 3, 5, 7, 9) but
    differs as a whole; windows match within 40% of the radius."""
    a_windows = tuple(0x1111 * (k + 1) << 20 for k in range(10))
    a = windowed_item("a.jpg", 0xF0F0_F0F0_F0F0_F0F0, a_windows, pixels=300)
    b = windowed_item("b.jpg", a_windows[3] ^ 0b11, tuple(range(10)), pixels=200)  # 2 bits off
    c_windows = tuple(a_windows[k] if k == 3 else 0xFFFF_0000_FFFF_0000 ^ k for k in range(10))
    c = windowed_item("c.jpg", 0xAAAA_AAAA_0000_0000, c_windows, pixels=100)
    found = group([a, b, c], 10)
    assert summary(found) == [("a.jpg", [("a.jpg", 0), ("b.jpg", 2), ("c.jpg", 0)])]
    assert found[0].matches == [None, "cropped", "edge differs"]
    assert group([a, b, c], 10, geometry="exact") == []
    assert len(group([a, b], 5)) == 1 and group([a, b], 4) == []  # window radius: 2 at 5, 1 at 4


def test_the_copy_that_shows_more_is_kept_whatever_its_pixels():
    """a is a window of b (an enlarged crop: more pixels): it ranks first, b joins it as
    "uncropped", then b, which shows more of the picture, becomes the reference."""
    b_windows = tuple(0x1234 << (4 * k) for k in range(10))
    a = windowed_item("a.jpg", b_windows[5], tuple(range(100, 110)), pixels=300)  # a is b's window
    b = windowed_item("b.jpg", 0xFFFF_FFFF_FFFF_0000, b_windows, pixels=200)
    for linkage in ("reference", "connected"):
        (found,) = group([a, b], 10, linkage=linkage)
        assert found.reference is b and found.matches == [None, "cropped"]


def test_closest_turn_prefers_the_copy_as_it_stands():
    from ikmeta.dupes.views import closest_view

    assert closest_view(0b1, (0b1,) * 7, 0b11, (0b11,) * 7) == (1, None)
    assert closest_view(0b1, None, 0b1, None) == (0, None)


def turned_libraries():
    """Items with random hashes, and random turned, inner and window hashes drawn near other
    items' hashes: some with no views (a bare hash list), turned ones only (a list made before
    windows), framed, with blank windows (their own hash), or exact copies of another."""

    @st.composite
    def build(draw):
        n = draw(st.integers(2, 24))
        bases = draw(st.lists(st.integers(0, 2**64 - 1), min_size=3, max_size=6))

        def near(value):
            return flip(value, *draw(st.lists(st.integers(0, 63), max_size=6)))

        items: list[Item] = []
        for k in range(n):
            pixels = draw(st.integers(1, 4)) * 100
            kind = draw(st.sampled_from(["none", "turned", "full", "full", "framed", "copy"]))
            if kind == "copy" and items:
                source = draw(st.sampled_from(items))
                items.append(Item(f"{k:02d}.jpg", source.phash, pixels, 1, 10, views=source.views))
                continue
            value = near(draw(st.sampled_from(bases)))
            turns = tuple(near(draw(st.sampled_from(bases))) for _ in range(7))
            inner = near(draw(st.sampled_from(bases))) if kind == "framed" else value
            windows = tuple(
                value if draw(st.integers(0, 4)) == 0 else near(draw(st.sampled_from(bases)))
                for _ in range(10)
            )
            views = {
                "none": None,
                "turned": packed(turns, value),
                "full": packed(turns, inner, windows),
                "framed": packed(turns, inner, windows),
                "copy": packed(turns, inner, windows),
            }[kind]
            items.append(Item(f"{k:02d}.jpg", f"{value:016x}", pixels, 1, 10, views=views))
        return items

    return build()


@settings(max_examples=60, deadline=None)
@given(turned_libraries(), st.integers(0, 12), st.sampled_from(LINKAGES))
def test_the_numpy_and_the_plain_python_look_ups_group_alike(items, max_distance, linkage):
    """Past SMALL items the look-ups run in numpy; below, in plain Python: the same groups."""
    with mock.patch.object(pairs_module, "SMALL", 10**9):
        plain = group(items, max_distance, linkage)
    with mock.patch.object(pairs_module, "SMALL", 0):
        vectorised = group(items, max_distance, linkage)
    assert [(summary([g]), g.matches) for g in plain] == [(summary([g]), g.matches) for g in vectorised]


@settings(max_examples=150, deadline=None)
@given(turned_libraries(), st.integers(0, 12))
def test_turned_reference_linkage_invariants(items, max_distance):
    """Every member is within the radius of its reference, turned or not, and its distance and
    match are the closest turn; each item is in one group; the input's order does not matter."""
    from ikmeta.dupes.views import relation, unpack

    groups = group(items, max_distance)
    seen = [m.source for g in groups for m, _ in g.members]
    assert len(seen) == len(set(seen))
    for g in groups:
        assert g.members[0] == (g.reference, 0) and g.matches[0] is None
        for k, (member, distance) in enumerate(g.members):
            expected = relation(
                int(member.phash, 16),
                unpack(member.views),
                int(g.reference.phash, 16),
                unpack(g.reference.views),
                max_distance,
            )
            assert (distance, g.matches[k], True) == expected
    assert summary(group(list(reversed(items)), max_distance)) == summary(groups)
    # Matching turned copies only ever joins groups: each plain group lies within one.
    where = {m.source: n for n, g in enumerate(groups) for m, _ in g.members}
    for g in group(items, max_distance, geometry="exact"):
        assert len({where.get(m.source) for m, _ in g.members}) == 1


@settings(max_examples=100, deadline=None)
@given(turned_libraries(), st.integers(0, 12))
def test_turned_connected_linkage_joins_every_turned_match(items, max_distance):
    """Connected groups join when a member of one, turned, is within the turned radius of the
    other's leader (its best-ranked member as they stand), or meets it through windows within
    the window radius; and plain groups lie within one."""
    from ikmeta.dupes.views import EDGE_WINDOWS, unpack, view_radius

    groups = group(items, max_distance, linkage="connected")
    where = {m.source: n for n, g in enumerate(groups) for m, _ in g.members}
    plain = group(items, max_distance, linkage="connected", geometry="exact")
    grouped = {m.source for g in plain for m, _ in g.members}
    leaders = [min((m for m, _ in g.members), key=rank_key) for g in plain]
    leaders += [it for it in items if it.source not in grouped and not it.flat]
    for leader in leaders:
        for other in items:
            turns = (unpack(other.views) or ())[:7]
            if other.source != leader.source and any(
                (t ^ int(leader.phash, 16)).bit_count() <= view_radius(max_distance) for t in turns
            ):
                assert leader.source in where and where[leader.source] == where.get(other.source)
            value, mine = int(other.phash, 16), (unpack(other.views) or ())[8:]
            theirs = (unpack(leader.views) or ())[8:]
            through_windows = [
                *((value ^ w).bit_count() for w in theirs),  # other is cropped
                *((w ^ int(leader.phash, 16)).bit_count() for w in mine),  # other is uncropped
                *((mine[j] ^ theirs[j]).bit_count() for j in EDGE_WINDOWS if mine and theirs),
            ]
            if other.source != leader.source and any(d <= view_radius(max_distance) for d in through_windows):
                assert leader.source in where and where[leader.source] == where.get(other.source)
    for g in plain:
        assert len({where.get(m.source) for m, _ in g.members}) == 1


def test_bad_geometry():
    with pytest.raises(ValueError, match="geometry"):
        group([], 10, geometry="sideways")


def test_a_cluster_of_near_copies_with_windows_looks_up_each_reference_once_a_copy(monkeypatch):
    """3,000 near copies of one picture whose windows lie near their own pHash (re-encoded
    copies of a slide or a product shot do): the look-ups find pairs linear in the copies,
    never every copy from every other (which took minutes and gigabytes)."""
    import random

    from ikmeta.dupes import grouping, neighbors

    rng = random.Random(1)
    base = rng.getrandbits(64)
    items = []
    for k in range(3000):
        value = flip(base, *rng.sample(range(64), rng.randint(0, 2)))
        windows = tuple(flip(base, *rng.sample(range(64), rng.randint(0, 3))) for _ in range(10))
        items.append(
            Item(f"{k:05d}.jpg", f"{value:016x}", 100, 100, k, views=packed((value,) * 7, value, windows))
        )
    found = []
    cross_pairs = neighbors.cross_pairs

    def counted(*args, **kwargs):
        i, j = cross_pairs(*args, **kwargs)
        found.append(len(i))
        return i, j

    compared = {"copies": 0}

    def counting(compare):
        def call(*args):
            compared["copies"] += 1
            return compare(*args)

        return call

    monkeypatch.setattr(neighbors, "cross_pairs", counted)
    # Every comparison of two copies after the look-ups (choosing the reference, the fullest
    # copy, each member's distance) goes through these two: linear too.
    monkeypatch.setattr(grouping, "relation", counting(grouping.relation))
    monkeypatch.setattr(grouping, "closest_view", counting(grouping.closest_view))
    (only,) = group(items, 10)
    assert len(only.members) == 3000
    assert sum(found) <= 20 * len(items), found
    assert compared["copies"] <= 20 * len(items), compared


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=60),
    st.lists(st.integers(0, 63), max_size=8),
    st.integers(0, 12),
)
def test_the_plain_python_cross_pairs_are_every_near_pair(bases, flips, radius):
    """The pigeonhole tables find exactly the pairs a loop over every pair finds."""
    from ikmeta.dupes.pairs import _pigeonhole_pairs

    targets = bases
    queries = [flip(value, *flips[: k % (len(flips) + 1)]) for k, value in enumerate(bases * 3)]
    every = sorted(
        (i, j)
        for j, query in enumerate(queries)
        for i, target in enumerate(targets)
        if (target ^ query).bit_count() <= radius
    )
    assert _pigeonhole_pairs(targets, queries, radius) == every
