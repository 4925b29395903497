"""Near pairs and leaders of plain hashes: which hashes lie within a radius of each other, and
who leads each group. Up to :data:`SMALL` hashes in plain Python (no numpy import), past it
through :mod:`ikmeta.dupes.neighbors`; :func:`_distinct_leaders` makes that choice for grouping.

    >>> near_pairs([0b0000, 0b0001, 0b1111], 1)
    [(0, 1)]
"""

from __future__ import annotations

from typing import Any

from ikmeta.hashes import substring_bounds

SMALL = 700  # up to this many items, a pure-Python pair loop beats importing numpy
PAIR_LOOP = 20_000  # up to this many pairs of look-ups, a pure-Python loop (~0.15 us a pair) beats numpy


def past_small(count: int) -> bool:
    """Whether ``count`` hashes are searched with numpy (past :data:`SMALL`) rather than in
    plain Python. Read at call time, so one patched ``SMALL`` switches every search.

    >>> past_small(SMALL), past_small(SMALL + 1)
    (False, True)
    """
    return count > SMALL


def group_leaders(values: list[int], radius: int, linkage: str, jobs: int) -> list[int]:
    """The leader (group reference) of each hash in rank order; a hash alone leads itself.

    Identical hashes collapse first: every copy of a value has the leader of the value's first
    copy (under both linkages), so only distinct values are grouped, in order of first copy.
    """
    if past_small(len(values)):
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
    """:func:`group_leaders` of a numpy array of hashes (uint64) in rank order, as a numpy array
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

    Up to SMALL hashes, a pair loop. Past it, the indexed passes of :mod:`ikmeta.dupes.neighbors`
    (reference groups a block at a time against the references so far; components from the
    pairs between reference groups only), or where brute force is the method anyway (a large
    radius, when nearly every pair may be near) the streamed brute force. Neither holds the
    pairs of a dense cluster, so memory stays bounded whatever the input and the radius.
    """
    if radius < 1:  # distinct hashes: none within 0 of another
        return list(range(len(values)))
    if not past_small(len(values)):
        pairs = near_pairs([int(v) for v in values], radius, jobs)
        return (
            reference_leaders(len(values), pairs)
            if linkage == "reference"
            else component_leaders(len(values), pairs)
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
    if not past_small(len(values)):
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


def reference_leaders(n: int, pairs: list[tuple[int, int]]) -> list[int]:
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


def component_leaders(n: int, pairs: list[tuple[int, int]]) -> list[int]:
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
