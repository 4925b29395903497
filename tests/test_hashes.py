"""Hash parsing and the Hamming distance: ImageKit's examples and the metric's invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ikmeta.hashes import HashFormatError, distance, is_hash, parse_hash


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("f06830ca9f1e3e90", "f06830ca9f1e3e90", 0),
        ("2d5ad3936d2e015b", "2d6ed293db36a4fb", 17),
        ("a4a65595ac94518b", "7838873e791f8400", 37),
    ],
)
def test_imagekit_sdk_examples(a, b, expected):
    assert distance(a, b) == expected


def test_case_prefix_and_length():
    assert parse_hash("0X2D5AD3936D2E015B") == "2d5ad3936d2e015b"
    assert distance("0x" + "F" * 64, "f" * 63 + "0") == 4  # 256-bit hashes work too
    with pytest.raises(HashFormatError, match="differ in length: 16 vs 15"):
        distance("2d5ad3936d2e015b", "2d5ad3936d2e015")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("0x", "empty"),
        ("xyz", "not hexadecimal"),
        ("12 34", "not hexadecimal"),
        ("-1", "not hexadecimal"),
    ],
)
def test_bad_hashes(text, reason):
    with pytest.raises(HashFormatError, match=reason):
        parse_hash(text)
    assert not is_hash(text)


hashes = st.integers(0, 2**64 - 1).map(lambda v: f"{v:016x}")


@given(hashes, hashes, hashes)
def test_metric_invariants(a, b, c):
    assert distance(a, a) == 0
    assert distance(a, b) == distance(b, a)
    assert 0 <= distance(a, b) <= 64
    assert distance(a, c) <= distance(a, b) + distance(b, c)
    assert (distance(a, b) == 0) == (a == b)


@given(hashes, st.integers(0, 63))
def test_one_flipped_bit_is_distance_one(a, bit):
    flipped = f"{int(a, 16) ^ (1 << bit):016x}"
    assert distance(a, flipped) == 1
    assert distance(a.upper(), "0x" + flipped) == 1
