"""Hash lists for --hashes: phash lines and NDJSON objects, with clear errors per line."""

from __future__ import annotations

import io

from ikmeta.dupes import Item
from ikmeta.dupes.hashlist import read_hash_list
from ikmeta.errors import SourceError


def test_phash_lines_and_ndjson():
    text = (
        "# made elsewhere\n"
        "f06830ca9f1e3e90  photos/a b.jpg\n"
        "\n"
        '{"source": "s3://bucket/c.jpg", "pHash": "F06830CA9F1E3E91", "width": 40, "height": 30, "size": 9}\n'
        "8000000000000000  blank.png\n"
    )
    items = list(read_hash_list(io.StringIO(text), "list.txt"))
    assert items == [
        Item("photos/a b.jpg", "f06830ca9f1e3e90"),
        Item("s3://bucket/c.jpg", "f06830ca9f1e3e91", 40, 30, 9),
        Item("blank.png", "8000000000000000", flat=True),
    ]


def test_bad_lines_are_errors_naming_the_line():
    text = 'nothex  a.jpg\nf06830ca9f1e3e90 one-space.jpg\nabc  short.jpg\n{"pHash": 5}\n{broken\n'
    out = list(read_hash_list(io.StringIO(text), "list.txt"))
    assert all(isinstance(e, SourceError) for e in out)
    assert [e.source for e in out] == ["list.txt:1", "list.txt:2", "list.txt:3", "list.txt:4", "list.txt:5"]
    assert "not hexadecimal" in out[0].reason and "two spaces" in out[1].reason
    assert "3 hex digits, not 16" in out[2].reason
