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

Grouping needs no list of pairs, and a dense cluster (thousands of near-identical hashes) has
too many to list: :func:`indexed_reference_leaders` and :func:`indexed_component_leaders`
give the groups :func:`ikmeta.dupes.group` would build from the pairs, in memory O(n). Their
indexes are filled as a pass goes (only the references so far, which are more than the
radius apart, so a look-up finds few even in a cluster), on substrings of unequal widths
where that pays: the thresholds of a :func:`layout` need only sum, plus one each, past the
radius (pigeonhole), and :func:`layout` picks widths and thresholds from a cost model.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ikmeta.hashes import substring_bounds

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


REFERENCE_BLOCK = 256  # hashes per step of the indexed reference pass (brute force inside one)
CROSS_BLOCK = 1 << 15  # queries per step of the cross look-up (near() bounds its own memory)
LARGE_BLOCK = 1024  # ... for a million hashes and more (fewer, longer steps pay there)
PROBES_PER_STEP = 1 << 20  # (hash, bucket) look-ups held at once by the indexed passes
SPAN_LIMIT = 1 << 20  # candidates listed at once from the deepest bucket ranges
SHALLOW = 64  # bucket ranges read a depth at a time while more than this many are that deep
QUERY_CHUNK = 4096  # hashes per step of the indexed component pass
BIG_GROUPS_PER_STEP = 64  # big groups looked for at once by the indexed component pass
# Costs in ns (numpy 2, x86-64, measured on a busy 2-core machine) of the indexed passes: a
# look-up (the first hash of a bucket), more when the tables outgrow the cache, each further
# hash of a bucket, and a bucket of a table (set up once per substring).
LOOKUP_COST, MISS_COST, EXTRA_COST, BUCKET_COST = 18.0, 6.0, 17.5, 5.0
BUCKET_BYTES = 17  # a bucket's table entry, first hash and depth flag
CACHE_BYTES = 4 << 20


def thresholds(m: int, radius: int) -> list[int]:
    """Per substring, the largest key distance to look at. Two hashes within ``radius`` are, on
    some substring ``k``, within ``thresholds(m, radius)[k]`` bits: the thresholds plus one sum
    to more than ``radius`` (pigeonhole). -1 where a substring need not be looked at."""
    return [(radius + 1) // m - 1 + (1 if k < (radius + 1) % m else 0) for k in range(m)]


def even_layout(m: int, radius: int) -> list[tuple[int, int, int]]:
    """``m`` substrings of equal width, as (low bit, width, threshold), those looked at."""
    return [
        (low, width, t)
        for (low, width), t in zip(substring_bounds(m), thresholds(m, radius), strict=True)
        if t >= 0
    ]


def layout(n: int, radius: int, held: float | None = None) -> list[tuple[int, int, int]]:
    """The substrings (low bit, width, threshold) the indexed passes look at for ``n`` look-ups
    in tables of ``held`` hashes (by default n / 2: the references the reference pass holds,
    on average), with the least estimated cost. Substrings with the lower threshold may be
    narrower or wider than the others: wider keys mean fewer hashes a bucket, more buckets a
    look-up."""
    held = max(1.0, n / 2 if held is None else held)
    best: list[tuple[int, int, int]] = []
    best_cost = math.inf
    for m in range(3, 9):
        ts = thresholds(m, radius)
        high = ts.count(ts[0])
        for low_width in range(1, MAX_KEY_BITS + 1) if high < m else [0]:
            rest = BITS - (m - high) * low_width
            widths = [rest // high + (1 if k < rest % high else 0) for k in range(high)]
            widths += [low_width] * (m - high)
            if min(widths) < 1 or max(widths) > MAX_KEY_BITS:
                continue
            chosen = [
                (sum(widths[:k]), width, t)
                for k, (width, t) in enumerate(zip(widths, ts, strict=True))
                if t >= 0
            ]
            cost = sum(
                n * ball(width, t) * _lookup_cost(width, held) + BUCKET_COST * (1 << width)
                for _, width, t in chosen
            )
            if sum(1 << width for _, width, _ in chosen) * BUCKET_BYTES > max(64 << 20, 256 * n):
                continue
            if cost < best_cost:
                best, best_cost = chosen, cost
    return best or even_layout(4, radius)


def _lookup_cost(width: int, held: float) -> float:
    """Estimated ns of one look-up in a ``width``-bit table holding ``held`` hashes: the first
    hash of the bucket, and the hashes after it (Poisson)."""
    mean = held / (1 << width)
    missed = MISS_COST if (1 << width) * BUCKET_BYTES > CACHE_BYTES else 0.0
    return LOOKUP_COST + missed + EXTRA_COST * (mean - (1 - math.exp(-mean)))


def indexed_reference_leaders(
    hashes: np.ndarray, radius: int, substrings: list[tuple[int, int, int]] | None = None, jobs: int = 1
) -> np.ndarray:
    """Greedy reference groups (as :func:`ikmeta.dupes.group` builds them from pairs), without
    pairs: the hashes go in rank order, a block at a time, against substring indexes
    (``substrings``, else :func:`layout`'s) that hold only the references so far. References
    are more than ``radius`` apart, so a hash finds few of them even in a dense cluster; a hash
    that finds one joins the first, and the rest of the block (hashes no reference is near) is
    settled among itself, in order, by brute force. Memory O(n)."""
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(hashes)
    leaders = np.arange(n, dtype=np.int64)
    chosen = layout(n, radius) if substrings is None else substrings
    indexes = [_Buckets(_keys(hashes, low, width), low, width, t) for low, width, t in chosen]
    size = min(max(REFERENCE_BLOCK, n >> 10), max(REFERENCE_BLOCK, LARGE_BLOCK))
    pool = ThreadPoolExecutor(min(jobs, len(indexes))) if jobs > 1 and len(indexes) > 1 else None
    try:
        for first in range(0, n, size):
            stop = min(n, first + size)
            block = hashes[first:stop]
            keys = [index.keys(block) for index in indexes]

            def near(at: int, block: np.ndarray = block, keys: list[np.ndarray] = keys) -> np.ndarray:
                """Each of the block's first reference near on substring ``at`` (n: none)."""
                best = np.full(len(block), n, dtype=np.int64)
                for q, ref in indexes[at].near(block, keys[at], radius):
                    np.minimum.at(best, q, ref)
                return best

            if pool:  # the block's own near pairs, and each substring's look-ups, side by side
                inside = pool.submit(_block_pairs, block, radius)
                found = list(pool.map(near, range(len(indexes))))
                earlier, later = inside.result()
            else:
                found = [near(k) for k in range(len(indexes))]
                earlier, later = _block_pairs(block, radius)
            best = np.minimum.reduce(found)  # the first reference near on any substring
            unclaimed = best == n
            free = np.flatnonzero(unclaimed)
            both = unclaimed[earlier] & unclaimed[later]  # pairs of hashes no reference is near
            position = np.cumsum(unclaimed) - 1  # a free hash's place among the free ones
            local = free[_block_leaders(len(free), position[earlier[both]], position[later[both]])]
            leaders[first:stop] = best
            leaders[first + free] = first + local
            new = free[local == free]
            for index, key in zip(indexes, keys, strict=True):
                index.add(new + first, block[new], key[new])
    finally:
        if pool:
            pool.shutdown()
    return leaders


def _block_pairs(values: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (earlier, later) of a block of hashes within ``radius``, by brute force over
    the upper triangle, sorted by earlier then later."""
    parts = []
    for start in range(0, len(values), BLOCK_ROWS):
        rows = values[start : start + BLOCK_ROWS]
        earlier, later = np.nonzero(np.bitwise_count(rows[:, None] ^ values[None, start:]) <= radius)
        keep = later > earlier  # row r is hash start + r; column c is hash start + c
        parts.append((earlier[keep] + start, later[keep] + start))
    return _concat(parts)


BLOCK_ROWS = 256  # rows of a block's brute force at a time: the upper triangle, in strips


def _block_leaders(count: int, earlier: np.ndarray, later: np.ndarray) -> np.ndarray:
    """The greedy over ``count`` hashes of a block no earlier reference is near, given their
    near pairs (earlier, later; by earlier, then later): leaders (positions). In order, a hash
    joins the first reference of the block near it, else leads itself."""
    leaders = np.arange(count, dtype=np.int64)
    free = np.ones(count, dtype=bool)
    cuts = np.flatnonzero(np.diff(earlier)) + 1
    for start, stop in zip([0, *cuts.tolist()], [*cuts.tolist(), len(earlier)], strict=True):
        reference = int(earlier[start]) if stop > start else -1
        if reference < 0 or leaders[reference] != reference:  # taken: not a reference
            continue
        took = later[start:stop]
        took = took[free[took]]
        leaders[took] = reference
        free[took] = False
    return leaders


def _keys(hashes: np.ndarray, low: int, width: int) -> np.ndarray:
    """The substring of ``width`` bits at bit ``low`` of each hash, as int64."""
    keys: np.ndarray = ((hashes >> np.uint64(low)) & np.uint64((1 << width) - 1)).astype(np.int64)
    return keys


class _Buckets:
    """One substring's buckets over a fixed list of hashes, filled as a pass goes. Bucket ``k``'s
    slots start at ``table[k] >> bits``, as many as the hashes with key ``k``; it holds the
    ``table[k] & (2**bits - 1)`` hashes (ids and values) added so far. Adding a hash is O(1), and
    the index never has to be rebuilt. Each bucket's first hash is also kept in a table by key,
    so a look-up (most buckets hold none or one) is one array read, with no list of candidates."""

    def __init__(self, keys: np.ndarray, low: int, width: int, t: int) -> None:
        """Room for hashes with ``keys`` (on the substring at bit ``low``, ``width`` bits wide),
        to be found from keys up to ``t`` bits away."""
        self.shift, self.key_mask = np.uint64(low), np.uint64((1 << width) - 1)
        self.width, self.t, self.masks = width, t, _masks(width, t)
        self.bits = max(1, len(keys).bit_length())
        counts = np.bincount(keys, minlength=1 << width)
        self.table = np.zeros(1 << width, dtype=np.int64)
        np.cumsum(counts[:-1], out=self.table[1:])
        self.table <<= self.bits
        self.ids = np.zeros(len(keys), dtype=np.int64)
        self.values = np.zeros(len(keys), dtype=np.uint64)
        # An empty bucket's first hash is a stand-in whose key is the complement of the bucket's:
        # at least width - t bits from any hash that looks there.
        self.firsts = (~np.arange(1 << width, dtype=np.uint64) & self.key_mask) << self.shift
        self.deep = np.zeros(1 << width, dtype=bool)  # holds two hashes or more

    def keys(self, hashes: np.ndarray) -> np.ndarray:
        return _keys(hashes, int(self.shift), self.width)

    def add(self, ids: np.ndarray, hashes: np.ndarray, keys: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        ids, hashes, keys = ids[order], hashes[order], keys[order]
        entry = self.table[keys]
        depth = (entry & ((1 << self.bits) - 1)) + np.arange(len(keys)) - np.searchsorted(keys, keys)
        slots = (entry >> self.bits) + depth
        self.ids[slots] = ids
        self.values[slots] = hashes
        np.add.at(self.table, keys, 1)
        self.firsts[keys[depth == 0]] = hashes[depth == 0]
        self.deep[keys[depth > 0]] = True

    def near(
        self, block: np.ndarray, keys: np.ndarray, radius: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(position in ``block``, id) of the hashes held within ``radius`` of each of ``block``
        whose key is within ``t`` bits of its own, in chunks of bounded size."""
        if len(keys) == 0:
            return
        low = (1 << self.bits) - 1
        step = max(1, PROBES_PER_STEP // len(keys))
        for start in range(0, len(self.masks), step):
            targets = self.masks[start : start + step, None] ^ keys[None, :]  # (mask, query)
            near = np.bitwise_count(self.firsts[targets] ^ block[None, :]) <= radius
            targets = targets.ravel()  # probe p: mask start + p // size, query p % size
            probes = np.flatnonzero(near)
            entry = self.table[targets[probes]]
            if self.width - self.t <= radius:  # a stand-in may look near: keep the buckets held
                probes, entry = probes[(entry & low) > 0], entry[(entry & low) > 0]
            yield probes % len(keys), self.ids[entry >> self.bits]
            probes = np.flatnonzero(self.deep[targets])  # and the second hash on, where there are
            entry = self.table[targets[probes]]
            query = probes % len(keys)
            wanted, where, left = block[query], (entry >> self.bits) + 1, (entry & low) - 1
            while len(where) > SHALLOW:  # a depth at a time, while many buckets are that deep
                close = np.flatnonzero(np.bitwise_count(wanted ^ self.values[where]) <= radius)
                yield query[close], self.ids[where[close]]
                more = np.flatnonzero(left > 1)
                query, wanted, where, left = query[more], wanted[more], where[more] + 1, left[more] - 1
            for probe, slots in _spans(where, left):  # then the few deepest, listed
                close = np.flatnonzero(np.bitwise_count(wanted[probe] ^ self.values[slots]) <= radius)
                yield query[probe[close]], self.ids[slots[close]]


def indexed_component_leaders(
    hashes: np.ndarray,
    radius: int,
    substrings: list[tuple[int, int, int]] | None = None,
    references: np.ndarray | None = None,
    jobs: int = 1,
) -> np.ndarray:
    """Connected components (each led by its lowest index) without a list of pairs. The
    reference groups (:func:`indexed_reference_leaders`, or ``references``) are parts of
    components already; what remains are the near pairs between groups, and since references
    are more than ``radius`` apart, each such pair has a hash of a group of two or more. Those
    of a small group look, on each substring, in buckets sorted by group: at the runs of other
    groups only, skipping a run whose whole group is too far (its reference further than
    ``radius`` plus the group's spread) or joined already, and checking the members of the
    rest. A big group is looked for from its reference alone (see :func:`_join_big_groups`), so
    no pass ever looks at the pairs inside a group, however dense. Memory O(n)."""
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(hashes)
    chosen = layout(n, radius) if substrings is None else substrings
    refs = (
        indexed_reference_leaders(hashes, radius, chosen, jobs)
        if references is None
        else np.asarray(references, dtype=np.int64)
    )
    spread = np.zeros(n, dtype=np.int64)  # a reference's largest distance to a member of its group
    np.maximum.at(spread, refs, np.bitwise_count(hashes ^ hashes[refs]).astype(np.int64))
    parent = refs.copy()  # a union-find whose roots are always their component's lowest index
    # Look-ups a hash makes, and a reference looking out to radius + spread: a big group is one
    # whose members would make more.
    narrow = sum(ball(width, t) for _, width, t in chosen)
    wide = np.array([sum(ball(width, t) for _, width, t in _widen(chosen, extra)) for extra in range(65)])
    big = (spread > 0) & (np.bincount(refs, minlength=n) * narrow > wide[spread])
    queries = np.flatnonzero((spread[refs] > 0) & ~big[refs])  # the hashes of small groups of two or more
    if len(queries):
        for low, width, t in chosen:
            _join_groups(hashes, radius, low, width, t, queries, refs, spread, big, parent)
    if big.any():
        _join_big_groups(hashes, radius, chosen, np.flatnonzero(big), refs, spread, parent)
    leaders: np.ndarray = _flatten(parent).copy()
    return leaders


def _widen(substrings: list[tuple[int, int, int]], extra: int) -> list[tuple[int, int, int]]:
    """The substrings with thresholds raised to find hashes within ``extra`` more bits."""
    m = len(substrings)
    return [
        (low, width, t + extra // m + (1 if k < extra % m else 0))
        for k, (low, width, t) in enumerate(substrings)
    ]


def _join_groups(
    hashes: np.ndarray,
    radius: int,
    low: int,
    width: int,
    t: int,
    queries: np.ndarray,
    refs: np.ndarray,
    spread: np.ndarray,
    big: np.ndarray,
    parent: np.ndarray,
) -> None:
    """Union (in ``parent``) each of ``queries`` with every hash of another group, not a big
    one, within ``radius`` of it whose key on this substring is within ``t`` bits of its own."""
    n = len(hashes)
    keys = _keys(hashes, low, width)
    order = np.lexsort((refs, keys))  # by key, then by group: a bucket is runs of one group each
    by_key, by_ref = keys[order], refs[order]
    run_first = np.flatnonzero(np.r_[True, (by_key[1:] != by_key[:-1]) | (by_ref[1:] != by_ref[:-1])])
    run_size = np.diff(np.r_[run_first, n])
    run_ref = by_ref[run_first]
    runs = _Buckets(by_key[run_first], low, width, t)  # a run is found by its group's reference
    runs.add(np.arange(len(run_first)), hashes[run_ref], by_key[run_first])
    reach = radius + int(spread[~big].max())
    joined = True
    for first in range(0, len(queries), QUERY_CHUNK):
        comp = _flatten(parent) if joined else parent
        chunk = queries[first : first + QUERY_CHUNK]
        edges = []
        for at, found in runs.near(hashes[chunk], keys[chunk], reach):
            q, ref = chunk[at], run_ref[found]
            keep = (np.bitwise_count(hashes[q] ^ hashes[ref]) <= radius + spread[ref]) & ~big[ref]
            keep &= comp[q] != comp[ref]
            q, run = q[keep], found[keep]
            for which, where in _spans(run_first[run], run_size[run]):
                a, b = q[which], order[where]
                close = np.bitwise_count(hashes[a] ^ hashes[b]) <= radius
                edges.append(_codes(comp[a[close]], comp[b[close]], n))
        joined = _union(parent, np.unique(np.concatenate(edges)) if edges else np.empty(0, np.int64), n)


def _join_big_groups(
    hashes: np.ndarray,
    radius: int,
    substrings: list[tuple[int, int, int]],
    bigs: np.ndarray,
    refs: np.ndarray,
    spread: np.ndarray,
    parent: np.ndarray,
) -> None:
    """Union each group led by one of ``bigs`` with every hash of another group within
    ``radius`` of one of its members. Such a hash is within ``radius`` plus the group's spread
    of its reference: the reference looks that far, on every substring (a look-up lists a
    bucket, so at most each member of the group once), and only the hashes it finds are checked
    against the members, a block at a time, skipping those joined already. Groups go a few at
    a time, so what they find is held for a few only."""
    n = len(hashes)
    buckets = []  # per substring: each hash's key, hashes by key, where each key's start
    for low, width, _ in substrings:
        keys = _keys(hashes, low, width)
        starts = np.zeros((1 << width) + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys, minlength=1 << width), out=starts[1:])
        buckets.append((keys, np.argsort(keys, kind="stable"), starts))
    by_group = np.argsort(refs, kind="stable")  # members of each group, contiguous
    group_of = refs[by_group]
    joined = True
    for first in range(0, len(bigs), BIG_GROUPS_PER_STEP):
        chunk = bigs[first : first + BIG_GROUPS_PER_STEP]
        comp = _flatten(parent) if joined else parent
        found = []
        for k, (keys, order, starts) in enumerate(buckets):
            for extra in np.unique(spread[chunk]).tolist():
                masks = _masks(substrings[k][1], _widen(substrings, extra)[k][2])
                group = chunk[spread[chunk] == extra]
                step = max(1, PROBES_PER_STEP // len(masks))
                for at in range(0, len(group), step):
                    some = group[at : at + step]
                    targets = (keys[some, None] ^ masks[None, :]).ravel()
                    lo = starts[targets]
                    for probe, where in _spans(lo, starts[targets + 1] - lo):
                        g, b = some[probe // len(masks)], order[where]
                        keep = (comp[b] != comp[g]) & (
                            np.bitwise_count(hashes[g] ^ hashes[b]) <= radius + extra
                        )
                        found.append(np.unique(g[keep] * n + b[keep]))
        codes = np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)  # (group, hash)
        groups, near = codes // n, codes % n
        cuts = np.flatnonzero(np.diff(groups)) + 1
        for start, stop in zip([0, *cuts.tolist()], [*cuts.tolist(), len(codes)], strict=True):
            if start == stop:
                continue
            g = int(groups[start])
            lo, hi = np.searchsorted(group_of, g), np.searchsorted(group_of, g, side="right")
            members = hashes[by_group[lo:hi]]
            step = max(1, BRUTE_CHUNK_CELLS // len(members))
            for at in range(start, stop, step):
                comp = _flatten(parent) if joined else parent
                some = near[at : min(stop, at + step)]
                some = some[comp[some] != comp[g]]
                close = (np.bitwise_count(hashes[some, None] ^ members[None, :]) <= radius).any(axis=1)
                joined = _union(parent, _codes(comp[some[close]], np.full(int(close.sum()), comp[g]), n), n)


def _codes(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Pairs (a, b) as distinct codes min * n + max."""
    return np.unique(np.minimum(a, b) * n + np.maximum(a, b))


def _union(parent: np.ndarray, codes: np.ndarray, n: int) -> bool:
    """Join the pairs ``codes`` (a * n + b) in the union-find ``parent``, under the lower root."""
    joined = False
    for a, b in zip((codes // n).tolist(), (codes % n).tolist(), strict=True):
        ra, rb = _root(parent, a), _root(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
            joined = True
    return joined


def _root(parent: np.ndarray, k: int) -> int:
    while (up := int(parent[k])) != k:
        k = up
    return k


def _flatten(parent: np.ndarray) -> np.ndarray:
    """Point every entry of the union-find ``parent`` at its root, in place; returns it."""
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            return parent
        parent[:] = up


def _masks(width: int, t: int) -> np.ndarray:
    """Every key mask of at most ``t`` bits in ``width`` bits, 0 first."""
    return np.array(
        [sum(1 << b for b in bits) for d in range(t + 1) for bits in itertools.combinations(range(width), d)],
        dtype=np.int64,
    )


def _spans(lo: np.ndarray, counts: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(range number, position) for every position of every range [lo[p], lo[p] + counts[p]),
    in chunks of at most SPAN_LIMIT positions (a larger range is a chunk alone), so memory
    stays bounded."""
    limit = SPAN_LIMIT
    busy = np.flatnonzero(counts)
    lo, counts = lo[busy], counts[busy]
    ends = np.cumsum(counts)
    first = 0
    while first < len(busy):
        before = int(ends[first] - counts[first])
        stop = max(first + 1, int(np.searchsorted(ends, before + limit, side="right")))
        probe = np.repeat(np.arange(first, stop, dtype=np.int64), counts[first:stop])
        offset = np.arange(int(ends[stop - 1]) - before, dtype=np.int64)
        offset -= (ends[first:stop] - counts[first:stop] - before)[probe - first]
        yield busy[probe], lo[probe] + offset
        first = stop


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


def cross_pairs(
    targets: np.ndarray, queries: np.ndarray, radius: int, jobs: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) for every ``targets[i]`` within Hamming ``radius`` of ``queries[j]``, sorted: the
    near pairs across two sets, never comparing a query with another query (so a dense cluster
    among the queries costs nothing).

        >>> i, j = cross_pairs(np.array([0, 0xFF], dtype=np.uint64), np.array([1, 2, 0xFE], dtype=np.uint64), 1)
        >>> list(zip(i.tolist(), j.tolist()))
        [(0, 0), (0, 1), (1, 2)]

    The targets are indexed by substrings (as :func:`index_pairs` indexes one set) and each
    query probes their buckets; where the index would not pay, a blocked brute force runs.
    """
    targets = np.ascontiguousarray(targets, dtype=np.uint64)
    queries = np.ascontiguousarray(queries, dtype=np.uint64)
    empty = np.empty(0, dtype=np.int64)
    if len(targets) == 0 or len(queries) == 0 or radius < 0:
        return empty, empty.copy()
    m = choose_substrings(max(len(targets), len(queries)), radius)
    if m is None:
        parts = []
        for start, stop in _query_blocks(len(queries), len(targets)):
            qj, ti = np.nonzero(np.bitwise_count(queries[start:stop, None] ^ targets[None, :]) <= radius)
            parts.append((ti.astype(np.int64), (qj + start).astype(np.int64)))
        i, j = _concat(parts)
    else:
        i, j = _indexed_cross(targets, queries, radius)
    order = np.lexsort((j, i))
    return i[order], j[order]


def _query_blocks(queries: int, targets: int) -> list[tuple[int, int]]:
    """(start, stop) blocks of queries whose distances to all targets fit BRUTE_CHUNK_CELLS."""
    rows = max(1, BRUTE_CHUNK_CELLS // max(targets, 1))
    return [(start, min(queries, start + rows)) for start in range(0, queries, rows)]


def _indexed_cross(targets: np.ndarray, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cross_pairs` through substring indexes of the targets (the indexed passes' buckets
    and :func:`layout`), a block of queries at a time."""
    chosen = layout(len(queries), radius, held=len(targets))
    indexes = [_Buckets(_keys(targets, low, width), low, width, t) for low, width, t in chosen]
    everyone = np.arange(len(targets), dtype=np.int64)
    for index in indexes:
        index.add(everyone, targets, index.keys(targets))
    parts = []
    for first in range(0, len(queries), CROSS_BLOCK):
        block = queries[first : first + CROSS_BLOCK]
        for index in indexes:
            for q, target in index.near(block, index.keys(block), radius):
                parts.append((target, q + first))
    i, j = _concat(parts)
    code = np.unique(i * len(queries) + j)  # a pair close on several substrings, once
    return code // len(queries), code % len(queries)
