"""near_pairs: the multi-index search finds exactly the pairs the brute force finds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ikmeta.neighbors import (
    brute_pairs,
    choose_substrings,
    index_pairs,
    near_pairs,
    streamed_component_leaders,
    streamed_reference_leaders,
    substring_bounds,
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
    from ikmeta.dupes import _component_leaders, _reference_leaders
    from ikmeta.dupes import near_pairs as pair_list

    values = values + [v ^ (1 << (k % 64)) for k, v in enumerate(values[:near_copies])]
    hashes = np.array(values, dtype=np.uint64)
    pairs = pair_list(values, radius)
    assert streamed_reference_leaders(hashes, radius).tolist() == _reference_leaders(len(values), pairs)
    assert streamed_component_leaders(hashes, radius).tolist() == _component_leaders(len(values), pairs)
