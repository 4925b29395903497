"""How many pairs of hashes are near by chance: for random 64-bit hashes, the share of pairs
within ``max_distance`` bits, and what that makes at a library's size.

    >>> f"{chance_share(10):.1e}"
    '1.0e-08'
    >>> round(chance_pairs(1_000_000, 10)), round(chance_pairs(100_000_000, 10))
    (4991, 49912455)

Real pHashes are not uniform (photos share structure), so these are a floor on the pairs
that come together without being copies; they grow with the square of the library, which
is why a --max that is safe on 10,000 photos is not on 100 million.
"""

from __future__ import annotations

import math

BITS = 64
WARN_AT = 1000  # expected chance pairs from which `dupes` warns


def chance_share(max_distance: int, bits: int = BITS) -> float:
    """The share of pairs of random ``bits``-bit hashes within ``max_distance`` of each other."""
    near = sum(math.comb(bits, k) for k in range(max(0, max_distance) + 1))
    return near / float(2**bits)


def chance_pairs(count: int, max_distance: int) -> float:
    """The pairs among ``count`` random 64-bit hashes expected within ``max_distance``."""
    return count * (count - 1) / 2 * chance_share(max_distance)


def safer_max(count: int, max_distance: int, at_most: float = WARN_AT / 10) -> int | None:
    """The largest --max below ``max_distance`` at which ``count`` hashes hold at most
    ``at_most`` chance pairs, or None when even --max 0 holds more.

    >>> safer_max(1_000_000, 10)
    7
    """
    for candidate in range(max_distance - 1, -1, -1):
        if chance_pairs(count, candidate) <= at_most:
            return candidate
    return None


def chance_warning(count: int, max_distance: int) -> str | None:
    """A warning when ``count`` hashes at ``max_distance`` hold WARN_AT chance pairs or more, else None.

    >>> chance_warning(1_000_000, 10)
    '1,000,000 hashes at --max 10 hold about 4,991 pairs near by chance ...; --max 7 holds about 19'
    """
    expected = chance_pairs(count, max_distance)
    if expected < WARN_AT:
        return None
    safer = safer_max(count, max_distance)
    advice = (
        f"--max {safer} holds about {chance_pairs(count, safer):,.0f}"
        if safer is not None
        else "no --max keeps them apart at this size"
    )
    return (
        f"{count:,} hashes at --max {max_distance} hold about {expected:,.0f} pairs near by chance "
        f"(random 64-bit hashes; real ones come closer): groups may join unrelated pictures; {advice}"
    )
