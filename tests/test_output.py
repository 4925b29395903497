"""Output helpers: every line generator gives valid, streamable text."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ikmeta.dupes.report import csv_lines
from ikmeta.output import flatten, json_lines, ndjson_lines, table_lines

values = st.recursive(
    st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
objects = st.dictionaries(st.text(min_size=1, max_size=8), values, min_size=1, max_size=5)


@given(st.lists(objects, max_size=5))
def test_json_array_round_trips(items):
    assert json.loads("\n".join(json_lines(items, single=False))) == items


@given(objects)
def test_single_object_round_trips(item):
    assert json.loads("\n".join(json_lines([item], single=True))) == item


@given(st.lists(objects, max_size=5))
def test_ndjson_is_one_document_per_line_even_with_unicode_line_breaks(items):
    text = "\n".join(ndjson_lines(items))
    lines = text.splitlines() if items else []
    assert [json.loads(line) for line in lines] == items


def test_line_separators_are_escaped():
    (line,) = ndjson_lines([{"t": "a\u2028b\x85c"}])
    assert line == '{"t":"a\\u2028b\\u0085c"}'


def test_single_with_nothing_prints_nothing():
    assert list(json_lines([], single=True)) == []
    assert list(json_lines([], single=False)) == ["[]"]
    assert list(json_lines([1], single=False)) == ["[", "  1", "]"]


def test_flatten_and_table():
    obj = {"a": 1, "exif": {"image": {"Make": "X"}, "gps": {}}, "list": [1, 2]}
    assert list(flatten(obj)) == [("a", 1), ("exif.image.Make", "X"), ("exif.gps", {}), ("list", [1, 2])]
    assert list(table_lines([obj])) == [
        "a                1",
        "exif.image.Make  X",
        "exif.gps         {}",
        "list             [1,2]",
    ]


def test_csv_quotes_names_with_line_breaks_commas_and_quotes():
    import csv
    import io

    from ikmeta.dupes import Group, Item

    names = ["new\nline.jpg", "cr\rname.jpg", 'plain, "q".jpg']
    items = [Item(name, "81197f0e7ae66839", 1, 1, 1) for name in names]
    text = "\n".join(csv_lines([Group(items[0], [(item, 0) for item in items])])) + "\n"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [row[2] for row in rows[1:]] == names


def test_group_json_puts_each_file_on_a_line_whatever_the_names():
    from ikmeta.dupes import Item, group
    from ikmeta.dupes.report import group_json_lines

    names = ["a.jpg", 'b}, {"source": "x.jpg', "c\u2028d.jpg", 'e\n"f.jpg']
    items = [Item(name, "f06830ca9f1e3e90", 10, 10, 5) for name in names]
    lines = list(group_json_lines(group(items, 10)))
    document = json.loads("\n".join(lines))
    assert [f["source"] for f in document[0]["files"]] == names
    assert len(lines) == 7 + len(names)  # [, {, root, reference, files, ...one per file..., ], }]
    assert list(group_json_lines([])) == ["[]"]
