"""pHash values as text: parsing hex, and the Hamming distance ImageKit's SDKs compute.

Light on purpose (no numpy, no Pillow): ``ikmeta distance`` between two hashes starts as
fast as Click allows.

    >>> distance("2d5ad3936d2e015b", "2d6ed293db36a4fb")
    17
"""

from __future__ import annotations

import re
import string
from typing import Any

HEX_DIGITS = frozenset(string.hexdigits)
HASH_HEX = re.compile(r"[0-9a-f]{16}")  # a pHash as ikmeta writes it
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")  # a flat picture's mean colour (FLAT_HASHES below)
FLAT_TOLERANCE = 6  # largest difference of mean red, green or blue (0-255) between flat copies
FLAT_PHASH = "8000000000000000"  # the pHash ikmeta gives a picture of one colour (a video of one colour too)
# The seven other ways a picture can be turned or mirrored (the dihedral group of the square),
# named for how a copy looks beside the original: rotations clockwise, "mirrored" left to
# right; and for each, the way that turns it back (a quarter turn one way undoes the other;
# a half turn and the mirror images undo themselves).
TURNS = (
    "rotated 90",
    "rotated 180",
    "rotated 270",
    "mirrored",
    "mirrored, rotated 90",
    "mirrored, rotated 180",
    "mirrored, rotated 270",
)
INVERSE = (2, 1, 0, 3, 4, 5, 6)
# Windows of a picture whose pHashes find cropped and captioned copies: (left, top, right,
# bottom) as shares of the width and height. The middle with 5% and 10% trimmed all round,
# then each side trimmed by 10% and by 20%. A crop comes within pHash's reach of the window
# nearest its own (crops of 2% to 10% all round, 5% to 25% from one side are found often,
# 10% and 20% from a side always); a band over one edge (a caption, a watermark strip of up to
# 20%) is outside the window that trims that edge, in the copy and in the original alike.
WINDOWS = (
    (0.05, 0.05, 0.95, 0.95),
    (0.1, 0.1, 0.9, 0.9),
    *((0.0, 0.0, 1.0 - cut, 1.0) for cut in (0.1, 0.2)),  # the right side trimmed
    *((cut, 0.0, 1.0, 1.0) for cut in (0.1, 0.2)),  # the left side
    *((0.0, 0.0, 1.0, 1.0 - cut) for cut in (0.1, 0.2)),  # the bottom
    *((0.0, cut, 1.0, 1.0) for cut in (0.1, 0.2)),  # the top
)


def substring_bounds(m: int) -> list[tuple[int, int]]:
    """(low bit, width) of ``m`` substrings covering a 64-bit hash, as equal as possible: two
    hashes within distance ``m - 1`` agree exactly on one of them (pigeonhole).

    >>> substring_bounds(3)
    [(0, 22), (22, 21), (43, 21)]
    """
    widths = [64 // m + (1 if k < 64 % m else 0) for k in range(m)]
    starts = [sum(widths[:k]) for k in range(m)]
    return list(zip(starts, widths, strict=True))


class HashFormatError(ValueError):
    """Text that is not a hexadecimal hash; the message says why."""


def parse_hash(text: str) -> str:
    """``text`` as a pHash: hex digits in any case, an optional ``0x``; returned lowercase, no prefix.

    >>> parse_hash("0x2D5AD3936D2E015B")
    '2d5ad3936d2e015b'
    """
    digits = text.strip()
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    if not digits:
        raise HashFormatError("empty hash")
    if not HEX_DIGITS.issuperset(digits):
        raise HashFormatError("not hexadecimal")
    return digits.lower()


def is_hash(text: str) -> bool:
    try:
        parse_hash(text)
    except HashFormatError:
        return False
    return True


def distance(a: str, b: str) -> int:
    """Hamming distance of two hex hashes of equal length: the number of differing bits."""
    a, b = parse_hash(a), parse_hash(b)
    if len(a) != len(b):
        raise HashFormatError(f"pHashes differ in length: {len(a)} vs {len(b)} hex digits")
    return bin(int(a, 16) ^ int(b, 16)).count("1")


# The pHashes of perfectly flat images: only the DC bit (any colour), or none (black).
FLAT_HASHES = frozenset({"8000000000000000", "0000000000000000"})


def valid_hashes(value: Any, count: int) -> bool:
    """``count`` pHashes of 16 lowercase hex digits, as phash_blob gives the turned ones (7)
    and the windows' (10)."""
    return (
        isinstance(value, list)
        and len(value) == count
        and all(isinstance(h, str) and HASH_HEX.fullmatch(h) is not None for h in value)
    )


def colours_near(a: str, b: str) -> bool:
    """Whether two flat pictures' mean colours (``"#rrggbb"``) are one colour: within
    :data:`FLAT_TOLERANCE` on each of red, green and blue.

    >>> colours_near("#808080", "#858080"), colours_near("#000000", "#101010")
    (True, False)
    """
    return all(abs(int(a[k : k + 2], 16) - int(b[k : k + 2], 16)) <= FLAT_TOLERANCE for k in (1, 3, 5))
