"""near_pairs: the multi-index search finds exactly the pairs the brute force finds; the
indexed and streamed groupings give exactly the groups the pairs give."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ikmeta.dupes.neighbors as neighbors_module
from ikmeta.dupes.neighbors import (
    ball,
    brute_pairs,
    choose_substrings,
    even_layout,
    index_pairs,
    indexed_component_leaders,
    indexed_reference_leaders,
    layout,
    near_pairs,
    streamed_component_leaders,
    streamed_reference_leaders,
    substring_bounds,
    thresholds,
)


def planted(n: int, seed: int, radius: int = 10, share: float = 0.1) -> np.ndarray:
    """Random 64-bit hashes plus near copies of some of them (0..radius+2 bits flipped)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    copies = base[rng.integers(0, n, size=int(n * share))].copy()
    for k in range(len(copies)):
        for bit in rng.choice(64, size=rng.integers(0, radius + 3), replace=False):
            copies[k] ^= np.uint64(1) << np.uint64(int(bit))
    return np.concatenate([base, copies, base[:5]])  # and a few exact duplicates


def as_set(pairs) -> set[tuple[int, int]]:
    return set(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))


def test_index_equals_brute_force_on_10k():
    hashes = planted(10_000, seed=1)
    expected = as_set(brute_pairs(hashes, 10))
    assert len(expected) > 500
    for m in (3, 4, 5, 6):
        assert as_set(index_pairs(hashes, 10, m)) == expected
    assert as_set(near_pairs(hashes, 10, jobs=2)) == expected


@pytest.mark.parametrize("radius", [0, 1, 3, 6, 12])
def test_every_radius(radius):
    hashes = planted(3000, seed=radius, radius=radius)
    expected = as_set(brute_pairs(hashes, radius))
    for m in (3, 4, 8):
        assert as_set(index_pairs(hashes, radius, m)) == expected
    with pytest.raises(ValueError, match="too wide"):
        index_pairs(hashes, radius, 2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=60), st.integers(0, 64))
def test_small_inputs_any_radius(values, radius):
    hashes = np.array(values, dtype=np.uint64)
    i, j = near_pairs(hashes, radius)
    expected = {
        (a, b)
        for a in range(len(values))
        for b in range(a + 1, len(values))
        if bin(values[a] ^ values[b]).count("1") <= radius
    }
    assert as_set((i, j)) == expected
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == sorted(expected)
    if len(values) > 8:
        assert as_set(index_pairs(hashes, radius, 4)) == expected


def test_cost_model_prefers_the_index_for_many_hashes_and_brute_force_for_few():
    assert choose_substrings(50, 10) is None
    assert choose_substrings(100_000, 10) in (3, 4, 5)
    assert choose_substrings(100_000, 40) is None  # too wide a radius for an index to pay


def test_substrings_cover_64_bits():
    for m in range(1, 9):
        bounds = substring_bounds(m)
        assert sum(width for _, width in bounds) == 64
        assert [low for low, _ in bounds] == [sum(w for _, w in bounds[:k]) for k in range(m)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=2, max_size=60), st.integers(0, 64), st.integers(0, 3))
def test_streamed_groups_equal_the_groups_from_pairs(values, radius, near_copies):
    """The bounded-memory grouping (used where brute force runs) gives the same leaders as the
    pair lists, for both linkages."""
    from ikmeta.dupes.pairs import component_leaders, reference_leaders
    from ikmeta.dupes.pairs import near_pairs as pair_list

    values = values + [v ^ (1 << (k % 64)) for k, v in enumerate(values[:near_copies])]
    hashes = np.array(values, dtype=np.uint64)
    pairs = pair_list(values, radius)
    assert streamed_reference_leaders(hashes, radius).tolist() == reference_leaders(len(values), pairs)
    assert streamed_component_leaders(hashes, radius).tolist() == component_leaders(len(values), pairs)


def pair_leaders(values: list[int], radius: int) -> tuple[list[int], list[int]]:
    """Reference and component leaders from all pairs (the brute force)."""
    from ikmeta.dupes.pairs import component_leaders, reference_leaders

    i, j = brute_pairs(np.array(values, dtype=np.uint64), radius)
    pairs = list(zip(i.tolist(), j.tolist(), strict=True))
    return reference_leaders(len(values), pairs), component_leaders(len(values), pairs)


LAYOUTS = [("even", m) for m in (3, 4, 5, 6, 8)] + [("cost model", n) for n in (1000, 10**5, 10**6)]
NARROW = [kind for kind in LAYOUTS if kind not in (("even", 3), ("cost model", 10**6))]  # 22-bit keys: slow


def chosen_layout(kind: tuple[str, int], radius: int) -> list[tuple[int, int, int]]:
    return even_layout(kind[1], radius) if kind[0] == "even" else layout(kind[1], radius)


def differing(substrings: list[tuple[int, int, int]], counts: list[int], rng: random.Random) -> int:
    """A mask with counts[k] bits set in substring k."""
    mask = 0
    for (low, width, _), count in zip(substrings, counts, strict=True):
        for bit in rng.sample(range(width), count):
            mask |= 1 << (low + bit)
    return mask


def tight(substrings: list[tuple[int, int, int]], at: int, total: int) -> list[int] | None:
    """Bits to differ on each substring, ``total`` in all, such that only substring ``at`` is
    within its threshold (exactly at it): the hardest pair for the pigeonhole to find."""
    counts = [t + 1 if k != at else t for k, (_, _, t) in enumerate(substrings)]
    for k in range(len(counts)):
        while sum(counts) > total and k != at and counts[k] > 0:
            counts[k] -= 1
    fits = all(c <= width for c, (_, width, _) in zip(counts, substrings, strict=True))
    return counts if sum(counts) == total and fits else None


@pytest.mark.parametrize("kind", LAYOUTS)
@pytest.mark.parametrize("radius", [1, 6, 10, 13])
def test_pairs_found_only_at_a_substring_threshold_are_found(kind, radius):
    """Pairs at the radius whose bits fall so that a single substring is within its threshold,
    for each substring in turn (and the same at radius + 1, not near): exact leaders."""
    rng = random.Random(radius)
    substrings = chosen_layout(kind, radius)
    values = []
    for at in range(len(substrings)):
        for total in (radius, radius + 1):
            counts = tight(substrings, at, total)
            if counts is not None:
                x = rng.getrandbits(64)
                values += [x, x ^ differing(substrings, counts, rng)]
    assert values
    values += [rng.getrandbits(64) for _ in range(50)]
    hashes = np.array(values, dtype=np.uint64)
    reference, components = pair_leaders(values, radius)
    assert indexed_reference_leaders(hashes, radius, substrings).tolist() == reference
    assert indexed_component_leaders(hashes, radius, substrings).tolist() == components


@pytest.mark.parametrize("kind", NARROW)
@pytest.mark.parametrize("spread", [1, 3, 6])
def test_a_big_group_finds_hashes_near_its_furthest_members(kind, spread, monkeypatch):
    """A dense group (looked for from its reference) and, near one of its members only, hashes
    radius + spread from the reference, their bits falling so that one substring alone is within
    the widened threshold: the components are exact."""
    radius = 10
    rng = random.Random(spread)
    substrings = chosen_layout(kind, radius)
    wide = neighbors_module._widen(substrings, spread)
    calls = []
    real = neighbors_module._join_big_groups
    monkeypatch.setattr(
        neighbors_module, "_join_big_groups", lambda *args: calls.append(len(args[3])) or real(*args)
    )
    for at in range(len(wide)):
        counts = tight(wide, at, radius + spread)
        if counts is None:
            continue
        g = rng.getrandbits(64)
        far = differing(wide, counts, rng)  # radius + spread bits
        spread_bits = [b for b in range(64) if far >> b & 1][:spread]
        member = g ^ sum(1 << b for b in spread_bits)  # spread from g
        values = [g, member] + [g ^ (1 << b) for b in rng.sample(range(64), 60)]  # a dense group
        values += [g ^ far, rng.getrandbits(64), g ^ far ^ (1 << 63 >> at)]  # radius from member
        reference, components = pair_leaders(values, radius)
        hashes = np.array(values, dtype=np.uint64)
        assert indexed_reference_leaders(hashes, radius, substrings).tolist() == reference
        assert indexed_component_leaders(hashes, radius, substrings).tolist() == components
        assert components[len(values) - 3] == 0  # joined through the member
    assert calls  # the group was looked for from its reference


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 2**64 - 1),
            st.integers(0, 2**12),  # few bits set: near the stand-ins of empty buckets
            st.integers(2**64 - 2**12, 2**64 - 1),
        ),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.integers(0, 63), max_size=5),
    st.integers(0, 8),
    st.integers(0, 16),
    st.sampled_from(NARROW),
)
def test_indexed_groups_equal_the_groups_from_pairs(seeds, bits, copies, radius, kind):
    """Seeds, exact copies and near copies of them, any layout, small steps: exact leaders."""
    values = list(seeds)
    for k in range(copies * len(seeds)):
        values.append(seeds[k % len(seeds)] ^ sum(1 << b for b in bits[: k % (len(bits) + 1)]))
    values = values[:120]
    hashes = np.array(values, dtype=np.uint64)
    reference, components = pair_leaders(values, radius)
    substrings = chosen_layout(kind, radius)
    with pytest.MonkeyPatch.context() as patch:
        small_steps = (
            ("REFERENCE_BLOCK", 8),
            ("SHALLOW", 1),
            ("QUERY_CHUNK", 5),
            ("SPAN_LIMIT", 20),
            ("BIG_GROUPS_PER_STEP", 1),
        )
        for name, value in small_steps:
            patch.setattr(neighbors_module, name, value)
        assert indexed_reference_leaders(hashes, radius, substrings).tolist() == reference
        assert indexed_component_leaders(hashes, radius, substrings).tolist() == components


def test_layouts_cover_every_near_pair_by_pigeonhole():
    for n in (10, 1000, 10**5, 10**6, 10**7):
        for radius in range(25):
            for substrings in (layout(n, radius), even_layout(4, radius)):
                assert sum(t + 1 for _, _, t in substrings) > radius
                lows = [low for low, _, _ in substrings]
                assert lows == sorted(lows) and all(width <= 22 for _, width, _ in substrings)
                ends = [low + width for low, width, _ in substrings]
                assert max(ends) <= 64 and all(a <= b for a, b in zip(ends, lows[1:], strict=False))
    assert [ball(16, t) for t in (0, 1, 2)] == [1, 17, 137]
    assert thresholds(4, 10) == [2, 2, 2, 1] and thresholds(4, 0) == [0, -1, -1, -1]


@pytest.mark.parametrize(("n", "q", "radius"), [(50, 70, 3), (3000, 5000, 6), (3000, 2000, 12), (1, 1, 0)])
def test_cross_pairs_equal_the_brute_force(n, q, radius):
    from ikmeta.dupes.neighbors import cross_pairs

    rng = np.random.default_rng(n + q + radius)
    targets = rng.integers(0, 2**64, n, dtype=np.uint64)
    # Queries near some targets (a few bits off), and some at random.
    picks = targets[rng.integers(0, n, q)]
    flips = np.zeros(q, dtype=np.uint64)
    for _ in range(radius + 1):
        flips ^= np.uint64(1) << rng.integers(0, 64, q, dtype=np.uint64)
    queries = np.where(rng.random(q) < 0.7, picks ^ flips, rng.integers(0, 2**64, q, dtype=np.uint64))
    i, j = cross_pairs(targets, queries, radius)
    ti, qj = np.nonzero(np.bitwise_count(targets[:, None] ^ queries[None, :]) <= radius)
    expected = sorted(zip(ti.tolist(), qj.tolist(), strict=True))
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == expected
    assert len(expected) > 0 or n == 1


def test_cross_pairs_never_compare_queries_with_each_other():
    """50,000 identical queries near one target: one pair each, no quadratic blow-up."""
    from ikmeta.dupes.neighbors import cross_pairs

    targets = np.array([0, 2**64 - 2**8], dtype=np.uint64)
    i, _j = cross_pairs(targets, np.full(50_000, 3, dtype=np.uint64), 4)
    assert len(i) == 50_000 and set(i.tolist()) == {0}
