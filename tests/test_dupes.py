"""group(): references, linkage, flat images, determinism; Hypothesis for the invariants."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ikmeta.dupes import FLAT_TOLERANCE, Group, Item, group
from ikmeta.hashes import distance as hamming
from ikmeta.neighbors import brute_pairs

from .test_neighbors import planted


def item(source: str, value: int, pixels: int = 100, size: int = 10, **kw) -> Item:
    return Item(source, f"{value:016x}", pixels, 1, size, **kw)


def flip(value: int, *bits: int) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def summary(groups: list[Group]) -> list[tuple[str, list[tuple[str, int | None]]]]:
    return [(g.reference.source, [(m.source, d) for m, d in g.members]) for g in groups]


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
    ranked = sorted(items, key=lambda it: (-it.pixels, -it.size, it.source))
    i, j = brute_pairs(np.array([int(it.phash, 16) for it in ranked], dtype=np.uint64), 10)
    # The same greedy, written the slow obvious way over the brute-force pairs.
    near = {}
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        near.setdefault(b, []).append(a)
    leader = list(range(len(ranked)))
    for b in range(len(ranked)):
        refs = [a for a in sorted(near.get(b, [])) if leader[a] == a]
        if refs:
            leader[b] = refs[0]
    expected = {}
    for k, lead in enumerate(leader):
        expected.setdefault(lead, []).append(ranked[k].source)
    assert sorted(sorted(m.source for m, _ in g.members) for g in groups) == sorted(
        sorted(v) for v in expected.values() if len(v) > 1
    )


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
    import ikmeta.dupes as dupes_module

    rng = random.Random(11)
    items = [Item(f"img{k:04d}.jpg", f"{rng.getrandbits(64):016x}", 100, 100, k) for k in range(1000)]
    streamed = summary(group(items, 26, linkage))
    monkeypatch.setattr(dupes_module, "SMALL", 10**6)  # the plain pair loop, for comparison
    assert streamed == summary(group(items, 26, linkage)) and streamed
