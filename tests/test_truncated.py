"""Truncated copies matched byte for byte with the file whose first bytes they are."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from ikmeta.dupes.model import Item, Provenance
from ikmeta.dupes.truncated import begins_with, find_truncated, rescue_truncated
from ikmeta.errors import ImageError
from ikmeta.image.provenance import head_digest


def item(path, data: bytes, damaged: bool = False) -> Item:
    path.write_bytes(data)
    provenance = Provenance(damage="truncated" if damaged else None, head=head_digest(data))
    return Item(str(path), "0" * 16, size=len(data), provenance=provenance)


def test_a_cut_copy_is_found_and_a_different_file_with_the_same_head_is_not(tmp_path):
    data = bytes(range(256)) * 64  # 16 kB
    whole = item(tmp_path / "a.jpg", data)
    other = item(tmp_path / "b.jpg", data[:8000] + b"different after the head" * 400)
    cut = item(tmp_path / "a_cut.jpg", data[:9000], damaged=True)
    found = find_truncated([whole, other, cut])
    assert found[2].provenance.prefix_of == whole.source
    assert found[:2] == [whole, other]


def test_a_damaged_file_that_begins_no_file_stays_as_it_is(tmp_path):
    data = bytes(range(256)) * 64
    whole = item(tmp_path / "a.jpg", data)
    lone = item(tmp_path / "b.jpg", data[:4096] + b"x" * 2000, damaged=True)
    assert find_truncated([whole, lone])[1].provenance.prefix_of is None


def test_an_undecodable_cut_copy_is_rescued_as_an_item_of_its_files_hash(tmp_path):
    data = bytes(range(256)) * 64
    whole = dataclasses.replace(item(tmp_path / "a.jpg", data), phash="0123456789abcdef")
    (tmp_path / "cut.jpg").write_bytes(data[:5000])
    (tmp_path / "junk.jpg").write_bytes(b"junk" * 2000)
    errors = [
        ImageError(str(tmp_path / "cut.jpg"), "corrupt"),
        ImageError(str(tmp_path / "junk.jpg"), "corrupt"),
    ]
    rescued, left = rescue_truncated(errors, [whole])
    assert [(i.source, i.phash, i.provenance.prefix_of, i.damaged) for i, _ in rescued] == [
        (str(tmp_path / "cut.jpg"), "0123456789abcdef", whole.source, True)
    ]
    assert left == [errors[1]]


@settings(max_examples=30)
@given(st.binary(min_size=1, max_size=3000), st.integers(0, 3000))
def test_begins_with_is_startswith(tmp_path_factory, data, cut):
    folder = tmp_path_factory.mktemp("b")
    (folder / "whole").write_bytes(data)
    (folder / "part").write_bytes(data[:cut])
    assert begins_with(str(folder / "whole"), str(folder / "part"), min(cut, len(data)))
    (folder / "other").write_bytes(data[:cut] + b"!")
    assert begins_with(
        str(folder / "whole"), str(folder / "other"), min(cut, len(data)) + 1
    ) == data.startswith(data[:cut] + b"!")
