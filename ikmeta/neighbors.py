"""Near pairs of 64-bit hashes: every pair within a Hamming radius, without an all-pairs loop.

    >>> i, j = near_pairs(np.array([0b1011, 0b1001, 0xFFFF], dtype=np.uint64), radius=1)
    >>> list(zip(i.tolist(), j.tolist()))
    [(0, 1)]

Multi-index hashing (Norouzi et al., 2012): split the 64 bits into ``m`` substrings. Two
hashes within distance ``r`` are within ``r // m`` of each other on at least one substring
(pigeonhole), so for each substring it suffices to look, for each hash, in the buckets whose
key differs from its own in at most ``r // m`` bits. Buckets are a counting sort per
substring (a direct table of bucket starts), so a probe is two array reads; every step is a
numpy operation over all hashes at once, and the substrings run on a thread pool (numpy
releases the GIL). ``m`` is chosen per run from a cost model; where the index would not pay
(few hashes, a large radius) a chunked brute force runs instead. Both give exactly the same
pairs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

BITS = 64
MAX_KEY_BITS = 22  # a direct table of 2**22 bucket starts is 32 MB
# Costs in ns, measured on numpy 2 (x86-64): one probe (per hash, per bucket key), one
# candidate pair checked, one pair of the brute force.
PROBE_COST, CANDIDATE_COST, BRUTE_COST = 15.0, 10.0, 2.5
BRUTE_CHUNK_CELLS = 1 << 22  # XOR-matrix cells per brute-force block (32 MB of uint64)
CANDIDATES_PER_BLOCK = 1 << 22  # bounds the temporary arrays of one probe step (~150 MB)


def near_pairs(hashes: np.ndarray, radius: int, jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i < j, of all hashes within Hamming ``radius``, sorted by (i, j)."""
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(hashes)
    empty = np.empty(0, dtype=np.int64)
    if n < 2 or radius < 0:
        return empty, empty
    substrings = choose_substrings(n, radius)
    if substrings is None:
        i, j = brute_pairs(hashes, radius, jobs)
    else:
        i, j = index_pairs(hashes, radius, substrings, jobs)
    order = np.lexsort((j, i))
    return i[order], j[order]


def substring_bounds(m: int) -> list[tuple[int, int]]:
    """(low bit, width) of ``m`` substrings covering 64 bits, as equal as possible."""
    widths = [BITS // m + (1 if k < BITS % m else 0) for k in range(m)]
    starts = [sum(widths[:k]) for k in range(m)]
    return list(zip(starts, widths, strict=True))


def ball(width: int, t: int) -> int:
    """Number of keys within Hamming distance ``t`` of a ``width``-bit key."""
    return sum(math.comb(width, d) for d in range(t + 1))


def choose_substrings(n: int, radius: int) -> int | None:
    """The number of substrings with the least estimated cost, or None when brute force is cheaper."""
    brute = BRUTE_COST * n * n / 2
    best, best_cost = None, brute
    for m in range(2, 9):
        width = BITS // m + (1 if BITS % m else 0)
        if width > MAX_KEY_BITS:
            continue
        t = radius // m
        probes = m * ball(width, t)
        candidates = probes * n / 2**width / 2  # each pair is looked for from one side
        cost = n * (PROBE_COST * probes + CANDIDATE_COST * candidates) + 4 * m * 2**width
        if cost < best_cost:
            best, best_cost = m, cost
    return best


def row_blocks(n: int) -> list[tuple[int, int]]:
    """(start, stop) blocks of rows whose distances to all ``n`` hashes fit BRUTE_CHUNK_CELLS."""
    rows = max(1, BRUTE_CHUNK_CELLS // max(n, 1))
    return [(start, min(n, start + rows)) for start in range(0, n, rows)]


def brute_pairs(hashes: np.ndarray, radius: int, jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """All pairs within ``radius`` by XOR and popcount over blocks of rows (the reference method)."""

    def block(rows: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        start, stop = rows
        dist = np.bitwise_count(hashes[start:stop, None] ^ hashes[None, start:])
        bi, bj = np.nonzero(dist <= radius)
        keep = bj > bi  # block row r is hash start + r; column c is hash start + c
        return (bi[keep] + start).astype(np.int64), (bj[keep] + start).astype(np.int64)

    blocks = row_blocks(len(hashes))
    if jobs > 1:
        with ThreadPoolExecutor(jobs) as pool:
            parts = list(pool.map(block, blocks))
    else:
        parts = [block(b) for b in blocks]
    return _concat(parts)


def _near_rows(hashes: np.ndarray, radius: int) -> Iterator[tuple[int, np.ndarray]]:
    """(i, boolean row: which hashes are within ``radius`` of hash i), for every i in order,
    computed a block of rows at a time (bounded memory)."""
    for start, stop in row_blocks(len(hashes)):
        near = np.bitwise_count(hashes[start:stop, None] ^ hashes[None, :]) <= radius
        for offset in range(stop - start):
            yield start + offset, near[offset]


def streamed_reference_leaders(hashes: np.ndarray, radius: int) -> np.ndarray:
    """Greedy reference groups (as :func:`ikmeta.dupes.group` builds them from pairs), by brute
    force in blocks: in rank order, a hash no earlier reference took becomes a reference and
    takes every later hash still free within ``radius``. Memory O(n), whatever the radius."""
    leaders = np.full(len(hashes), -1, dtype=np.int64)
    free = np.ones(len(hashes), dtype=bool)
    for i, near in _near_rows(hashes, radius):
        if not free[i]:
            continue
        later = np.flatnonzero(near[i + 1 :]) + (i + 1)  # one pass over the row; the rest is small
        later = later[free[later]]
        leaders[i] = i
        leaders[later] = i
        free[i] = False
        free[later] = False
    return leaders


def streamed_component_leaders(hashes: np.ndarray, radius: int) -> np.ndarray:
    """Connected components (each led by its lowest index), by brute force in blocks and a
    union-find whose roots are always their component's lowest index. Memory O(n)."""
    parent = np.arange(len(hashes), dtype=np.int64)

    def roots(members: np.ndarray) -> np.ndarray:
        found = parent[members]
        while True:
            up: np.ndarray = parent[found]
            if np.array_equal(up, found):
                return up
            found = up

    for _, near in _near_rows(hashes, radius):
        members = np.nonzero(near)[0]
        if len(members) < 2:
            continue
        tops = np.unique(roots(members))
        lowest = tops[0]
        parent[tops] = lowest  # merge, under the lowest index
        parent[members] = lowest  # and keep the trees flat
    return roots(np.arange(len(hashes)))


def index_pairs(hashes: np.ndarray, radius: int, m: int, jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """All pairs within ``radius``, found through ``m`` substring indexes (see module docstring)."""
    if BITS // m + (1 if BITS % m else 0) > MAX_KEY_BITS:
        raise ValueError(f"{m} substrings are too wide for a direct table (at most {MAX_KEY_BITS} bits)")
    t = radius // m
    tasks = []
    for low, width in substring_bounds(m):
        masks = [
            sum(1 << b for b in bits)
            for d in range(t + 1)
            for bits in itertools.combinations(range(width), d)
        ]
        tasks.append((low, width, masks))
    if jobs > 1:
        with ThreadPoolExecutor(jobs) as pool:
            parts = list(pool.map(lambda task: _substring_pairs(hashes, radius, *task), tasks))
    else:
        parts = [_substring_pairs(hashes, radius, *task) for task in tasks]
    i, j = _concat(parts)
    if len(i) == 0:
        return i, j
    # A pair close on several substrings is found several times.
    code = np.unique(i * len(hashes) + j)
    return code // len(hashes), code % len(hashes)


def _substring_pairs(
    hashes: np.ndarray, radius: int, low: int, width: int, masks: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    n = len(hashes)
    keys = ((hashes >> np.uint64(low)) & np.uint64((1 << width) - 1)).astype(np.int64)
    order = np.argsort(keys, kind="stable")
    by_key = hashes[order]  # hashes in bucket order: a bucket's members are contiguous
    starts = np.zeros((1 << width) + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=1 << width), out=starts[1:])
    block = max(1 << 16, int(CANDIDATES_PER_BLOCK * 2**width / n))
    parts = []
    for first in range(0, n, block):
        everyone = np.arange(first, min(n, first + block), dtype=np.int64)
        parts.append(_probe(hashes, keys, order, by_key, starts, everyone, radius, masks))
    return _concat(parts)


def _probe(
    hashes: np.ndarray,
    keys: np.ndarray,
    order: np.ndarray,
    by_key: np.ndarray,
    starts: np.ndarray,
    everyone: np.ndarray,
    radius: int,
    masks: list[int],
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs within ``radius`` of the hashes ``everyone`` (indices) and any hash in a bucket ``mask`` away."""
    # Each unordered pair whose keys differ by a mask is looked for from one side only: from the
    # hash whose key has the mask's top bit clear. Those hashes (index, key, hash), per bit:
    subsets: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    parts = []
    for mask in masks:
        top = mask.bit_length() - 1
        if top not in subsets:
            chosen = everyone if mask == 0 else everyone[(keys[everyone] & (1 << top)) == 0]
            subsets[top] = (chosen, keys[chosen], hashes[chosen])
        queries, query_keys, query_hashes = subsets[top]
        targets = query_keys ^ mask
        lo = starts[targets]
        counts = starts[targets + 1] - lo
        total = int(counts.sum())
        if total == 0:
            continue
        # Candidate c pairs query qpos[c] with the hash at bucket position where[c].
        qpos = np.repeat(np.arange(len(queries), dtype=np.int64), counts)
        where = (lo - (np.cumsum(counts) - counts))[qpos] + np.arange(total, dtype=np.int64)
        close = np.flatnonzero(np.bitwise_count(query_hashes[qpos] ^ by_key[where]) <= radius)
        qi, pj = queries[qpos[close]], order[where[close]]
        if mask == 0:
            keep = qi < pj
            qi, pj = qi[keep], pj[keep]
        parts.append((np.minimum(qi, pj), np.maximum(qi, pj)))
    return _concat(parts)


def _concat(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy()
    return (
        np.concatenate([p[0] for p in parts]).astype(np.int64),
        np.concatenate([p[1] for p in parts]).astype(np.int64),
    )
