"""ikmeta.dupes.columns: a plain hash list read as columns gives the same images, bad lines and
groups as the same list read as Items (scan.read_hash_list, dupes.group)."""

from __future__ import annotations

import io
import json
import os
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ikmeta.dupes import LINKAGES, Item, group
from ikmeta.dupes.columns import HashColumns, group_columns, read_hash_columns
from ikmeta.dupes.hashlist import read_hash_list
from ikmeta.errors import IkmetaError

from .test_neighbors import planted


def as_items(text: str) -> tuple[list[Item], list[str]]:
    """What the general reader makes of a list: its Items, and its errors as messages."""
    items, errors = [], []
    for event in read_hash_list(io.StringIO(text), "list"):
        if isinstance(event, IkmetaError):
            errors.append(str(event))
        else:
            items.append(event)
    return items, errors


def as_columns(text: str) -> tuple[HashColumns, list[str]]:
    errors: list[str] = []
    columns = read_hash_columns(io.StringIO(text), "list", lambda e: errors.append(str(e)))
    return columns, errors


def listed(columns: HashColumns) -> list[tuple[str, str]]:
    if columns.items is not None:
        return [(item.source, item.phash) for item in columns.items]
    return [(s, f"{v:016x}") for s, v in zip(columns.sources, columns.hashes.tolist(), strict=True)]


def shape(groups) -> list[tuple[str, list[tuple[str, str, int | None, str | None]]]]:
    """Everything `dupes --json` prints of a list of groups."""
    return [
        (g.reference.source, [(m.source, m.phash, d, g.match_of(k)) for k, (m, d) in enumerate(g.members)])
        for g in groups
    ]


MIXED = (
    "2d5ad3936d2e015b  a.jpg\n"
    "# a comment\n"
    "\n"
    "   \n"
    "2D5AD3936D2E015F  upper.jpg\n"  # upper case: read the general way
    "0x2d5ad3936d2e015f  prefixed.jpg\n"
    "2d5ad3936d2e0150\tTab name.jpg\n"
    "2d5ad3936d2e0151 *binary mode.jpg\n"
    "\\2d5ad3936d2e0152  new\\nline.jpg\n"  # sha256sum's escaped name
    "2d5ad3936d2e015b  ./a.jpg\n"  # a.jpg again, written another way
    "zzzz  bad.jpg\n"
    "2d5ad3936d2e01  short.jpg\n"
    "8000000000000000  flat.jpg\n"
    "2d5ad3936d2e0153  crlf.jpg\r\n"
    "2d5ad3936d2e0154  " + "x" * 70000 + "\n"
    "2d5ad3936d2e0155  after the long one.jpg\n"
    "not a line at all\n"
    "ffffffffffffffff  https://example.com/a.jpg\n"
    "ffffffffffffffff  https://example.com/a.jpg\n"
    "  2d5ad3936d2e0156  leading spaces.jpg\n"
    "2d5ad3936d2e0157  last line, no newline.jpg"
)


def test_plain_list_reads_as_the_general_reader_does():
    columns, errors = as_columns(MIXED)
    items, expected_errors = as_items(MIXED)
    assert columns.items is None  # no line said more than a hash
    assert listed(columns) == [(item.source, item.phash) for item in items]
    assert errors == expected_errors
    assert len(errors) == 4 and errors[0].startswith("list:11:")
    assert columns.flat_count() == 1 == sum(item.flat for item in items)


def test_a_json_line_makes_the_list_items():
    text = (
        "2d5ad3936d2e015b  a.jpg\n"
        '{"source": "b.jpg", "pHash": "2d5ad3936d2e015f", "width": 4000, "height": 3000}\n'
        "2d5ad3936d2e015b  ./a.jpg\n"
        "bad\n"
    )
    columns, errors = as_columns(text)
    items, expected_errors = as_items(text)
    assert columns.items == items and errors == expected_errors and len(columns) == 2
    # b.jpg has more pixels: it is the reference, as the general path says
    assert shape(group_columns(columns, 4)) == shape(group(items, 4))
    assert group_columns(columns, 4)[0].reference.source == "b.jpg"


def test_a_list_in_another_folder_compares_names_as_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = f"0000000000000001  a.jpg\n0000000000000003  {tmp_path / 'a.jpg'}\n0000000000000007  b//c.jpg\n"
    text += "000000000000000f  b/c.jpg\n"
    columns, _ = as_columns(text)
    assert columns.sources == ["a.jpg", "b//c.jpg"]


def test_huge_line_with_no_end_is_skipped_in_bounded_reads():
    text = "2d5ad3936d2e015b  a.jpg\n" + "y" * (3 << 20) + "\n2d5ad3936d2e015f  b.jpg\n"
    columns, errors = as_columns(text)
    assert columns.sources == ["a.jpg", "b.jpg"]
    assert errors == ["list:2: line longer than 65536 characters: not a name or hash"] == as_items(text)[1]


def test_read_error_is_one_message():
    class Broken(io.StringIO):
        def read(self, *args):
            raise OSError(5, "Input/output error")

    errors: list[str] = []
    columns = read_hash_columns(Broken(), "list", lambda e: errors.append(str(e)))
    assert len(columns) == 0 and errors == ["list: cannot read the list: input/output error"]


def list_text(values: list[int], names: list[str]) -> str:
    return "".join(f"{v:016x}  {name}\n" for v, name in zip(values, names, strict=True))


@pytest.mark.parametrize("linkage", LINKAGES)
@pytest.mark.parametrize("radius", [0, 3, 10])
def test_groups_equal_the_items_path_past_small(linkage, radius):
    """2,500 hashes (the indexed passes), planted near copies, exact copies, flat hashes,
    names out of order: the same groups, references, distances and order."""
    values = planted(2000, seed=radius, radius=radius).tolist()
    values += [0x8000000000000000, 0, 0x8000000000000000]
    rng = random.Random(radius)
    names = [f"d{rng.randrange(50)}/img{k:05d}.jpg" for k in range(len(values))]
    text = list_text(values, names)
    columns, _ = as_columns(text)
    items, _ = as_items(text)
    ours = group_columns(columns, radius, linkage, jobs=2)
    assert len(ours) > 50 or radius == 0
    assert shape(ours) == shape(group(items, radius, linkage))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 2**64 - 1), st.integers(0, 3)), max_size=60),
    st.integers(0, 12),
    st.sampled_from(LINKAGES),
)
def test_groups_equal_the_items_path(rows, radius, linkage):
    """Small lists (the pair loop), names listed twice, hashes near each other by a few bits."""
    values, names = [], []
    for name, value, near in rows:
        values.append(values[-1] ^ ((1 << near) - 1) if values and near else value)
        names.append(f"n{name}.jpg")
    text = list_text(values, names)
    columns, _ = as_columns(text)
    items, _ = as_items(text)
    assert shape(group_columns(columns, radius, linkage)) == shape(group(items, radius, linkage))


def test_every_member_within_the_radius_of_its_reference():
    rng = np.random.default_rng(3)
    values = planted(3000, seed=3, radius=8)
    columns = HashColumns([f"{k:05d}.jpg" for k in rng.permutation(len(values))], values)
    groups = group_columns(columns, 8, jobs=2)
    assert groups
    for g in groups:
        reference = int(g.reference.phash, 16)
        assert all(d == (int(m.phash, 16) ^ reference).bit_count() <= 8 for m, d in g.members)
    grouped = [m.source for g in groups for m, _ in g.members]
    assert len(grouped) == len(set(grouped))


def test_bad_linkage():
    with pytest.raises(ValueError, match="linkage"):
        group_columns(HashColumns([], np.empty(0, dtype=np.uint64)), 3, "single")


def test_no_folder_is_read_for_names(tmp_path, monkeypatch):
    """Names are compared as text (no system call a line): a missing folder is no error."""
    monkeypatch.chdir(tmp_path)
    columns, errors = as_columns(f"0000000000000001  {os.sep}nowhere{os.sep}a.jpg\n")
    assert columns.sources == [f"{os.sep}nowhere{os.sep}a.jpg"] and not errors


def test_geometry_exact_reaches_a_list_of_items():
    """A JSON list groups through other views unless --geometry exact says not to."""
    turned = ["0f0f0f0f0f0f0f0f"] * 7
    text = (
        '{"source": "a.jpg", "pHash": "0f0f0f0f0f0f0f0f"}\n'
        f'{{"source": "b.jpg", "pHash": "f0f0f0f0f0f0f0f0", "turned": {json.dumps(turned)}}}\n'
    )
    columns, _ = as_columns(text)
    assert columns.items is not None
    assert len(group_columns(columns, 4)) == 1
    assert group_columns(columns, 4, geometry="exact") == []
