"""Chance pairs: the share of random 64-bit hashes within a distance, and the dupes warning."""

from __future__ import annotations

import doctest
import random

import pytest

import ikmeta
from ikmeta.dupes import chance

from .conftest import run


def test_docstrings():
    assert doctest.testmod(chance, optionflags=doctest.ELLIPSIS).failed == 0


def test_the_share_is_what_random_hashes_show():
    """Measured on random hashes: pairs within 20 bits (share 1.6e-3, enough to count)."""
    rng = random.Random(7)
    values = [rng.getrandbits(64) for _ in range(1500)]
    near = sum(1 for k, a in enumerate(values) for b in values[k + 1 :] if (a ^ b).bit_count() <= 20)
    expected = chance.chance_pairs(len(values), 20)
    assert abs(near - expected) < 4 * expected**0.5 + 5  # four standard deviations of a count


def test_the_figures_in_help_and_readme():
    assert f"{chance.chance_share(10):.1e}" == "1.0e-08"
    assert 4_900 < chance.chance_pairs(1_000_000, 10) < 5_100
    assert 49e6 < chance.chance_pairs(100_000_000, 10) < 51e6
    assert chance.chance_warning(100_000, 10) is None  # 50 chance pairs: no warning
    assert chance.safer_max(10, 0) is None and chance.chance_pairs(1, 64) == 0


def hash_list(count: int, seed: int = 3) -> str:
    rng = random.Random(seed)
    return "".join(f"{rng.getrandbits(64):016x}  img{k}.jpg\n" for k in range(count))


def test_dupes_warns_when_chance_pairs_pile_up():
    result = run("dupes", "--hashes", "-", "--max", "28", "--json", "-q", stdin=hash_list(2000))
    assert result.exit_code == 0
    (line,) = [line for line in result.stderr.splitlines() if "by chance" in line]
    assert line.startswith(
        "ikmeta: warning: 2,000 hashes at --max 28 hold about 381,542 pairs near by chance"
    )
    assert line.endswith("--max 16 holds about 77")
    quiet = run("dupes", "--hashes", "-", "--max", "10", "--json", "-q", stdin=hash_list(2000))
    assert "by chance" not in quiet.stderr


def test_the_api_warns_too():
    rng = random.Random(5)
    pairs = [(f"{k}.jpg", f"{rng.getrandbits(64):016x}") for k in range(2000)]
    with pytest.warns(ikmeta.IkmetaWarning, match="pairs near by chance"):
        ikmeta.group(pairs, max_distance=28, geometry="exact")
