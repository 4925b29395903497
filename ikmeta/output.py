"""Output: each format is a generator of lines, so long runs stream.

>>> list(ndjson_lines([{"a": 1}, {"a": 2}]))
['{"a":1}', '{"a":2}']
>>> list(json_lines([{"a": 1}, {"a": 2}], single=False))
['[', '  {', '    "a": 1', '  },', '  {', '    "a": 2', '  }', ']']
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import JustifyMethod

# Characters JSON allows raw in strings but many line readers (Python's splitlines,
# JavaScript) take for line breaks: escaped, so one document is always one line.
# Also lone surrogates, above all those that stand for a file name's bytes that are not
# UTF-8 (Python's surrogateescape): escaped too, so that stdout is always valid UTF-8 and
# json.loads gives the name back (os.fsencode turns it into the original bytes).
LINE_BREAKS = str.maketrans(
    {
        "\x85": "\\u0085",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
        **{chr(c): f"\\u{c:04x}" for c in range(0xD800, 0xE000)},
    }
)
# Characters that would break a message or a text line in two, or drive the terminal.
CONTROLS = str.maketrans(
    {
        **{chr(c): f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))},
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
    }
)


def one_line(text: str) -> str:
    """``text`` with control characters escaped (a newline as \\n), for messages on stderr."""
    return text.translate(CONTROLS)


def checksum_line(digest: str, name: str) -> str:
    """``DIGEST  NAME`` as sha256sum prints it: a name holding a backslash, newline or CR has
    them escaped, and the line then starts with a backslash.

    >>> checksum_line("81197f0e7ae66839", "a\\nb.jpg")
    '\\\\81197f0e7ae66839  a\\\\nb.jpg'
    """
    if "\\" in name or "\n" in name or "\r" in name:
        return "\\" + digest + "  " + name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return f"{digest}  {name}"


CHECKSUM_LINE = re.compile(r"([^ \t]+)(?:  | \*|\t)(.+)", re.S)  # sha256sum's text and binary modes, or a tab


def parse_checksum_line(line: str) -> tuple[str, str] | None:
    """(digest, name) of a :func:`checksum_line` (or of ``DIGEST<tab>NAME``), else None.

    >>> parse_checksum_line("81197f0e7ae66839\tmy photo.jpg")
    ('81197f0e7ae66839', 'my photo.jpg')
    """
    escaped = line.startswith("\\")
    match = CHECKSUM_LINE.fullmatch(line[escaped:])
    if match is None:
        return None
    digest, name = match[1], match[2]
    if escaped:
        name = re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), name)
    return digest, name


def compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(LINE_BREAKS)


def pretty(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False).translate(LINE_BREAKS)


def ndjson_lines(objects: Iterable[Any]) -> Iterator[str]:
    """One compact JSON document per line."""
    for obj in objects:
        yield compact(obj)


def json_lines(objects: Iterable[Any], single: bool) -> Iterator[str]:
    """An indented JSON document: the one object when ``single``, else an array of them all.

    A single run with no object (its source failed) yields nothing; an array is always closed.
    """
    if single:
        for obj in objects:
            yield from pretty(obj).splitlines()
        return
    previous: str | None = None
    for obj in objects:
        lines = ["  " + line for line in pretty(obj).splitlines()]
        yield "[" if previous is None else previous + ","
        yield from lines[:-1]
        previous = lines[-1]
    if previous is None:
        yield "[]"  # empty
    else:
        yield previous
        yield "]"


def flatten(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted.key, value) for every leaf of nested objects; lists stay whole."""
    if isinstance(obj, dict) and obj:
        for key, value in obj.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, obj


def table_lines(objects: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A two-column ``field  value`` listing per object, a blank line between objects."""
    for n, obj in enumerate(objects):
        if n:
            yield ""
        rows = [
            (key, one_line(value) if isinstance(value, str) else compact(value))
            for key, value in flatten(obj)
        ]
        width = max(len(key) for key, _ in rows)
        for key, value in rows:
            yield f"{key:<{width}}  {value}"


# --- duplicate groups -------------------------------------------------------------------------

# A group's files, as JSON keys and CSV columns (after "group" and "reference").
FILE_FIELDS = (
    "source",
    "pHash",
    "distance",
    "match",
    "width",
    "height",
    "size",
    "format",
    "quality",
    "camera",
    "captured",
    "mtimeNs",
)
CSV_COLUMNS = ("group", "reference", "source", "distance", "match", "pHash", *FILE_FIELDS[4:])


def group_json_lines(groups: Iterable[Any]) -> Iterator[str]:
    """The groups as one indented JSON array, each file's object on a line of its own (as
    readable as a fully indented document, and one line per file instead of thirteen)."""
    opened = False
    for group in groups:
        yield ("  }," if opened else "[")
        opened = True
        yield "  {"
        yield f'    "reference": {_json(group.reference.source)},'
        yield '    "files": ['
        yield from _file_lines(file_objects(group))
        yield "    ]"
    yield "  }\n]" if opened else "[]"


FILE_BOUNDARY = '}, {"source": '  # never inside a JSON string, whose quotes are escaped


def _file_lines(files: list[dict[str, Any]]) -> Iterator[str]:
    """Each file's object on its own indented line: the list encoded in one call of the
    C encoder, then split between its objects (each starts with its "source" key)."""
    text = _json(files, ", ")[2:-2]  # without the outer '[{' and '}]'
    pieces = text.split(FILE_BOUNDARY)
    for k, piece in enumerate(pieces):
        head = "{" if k == 0 else '{"source": '
        yield f"      {head}{piece}}}" + ("," if k < len(pieces) - 1 else "")


def _json(obj: Any, separator: str = ",") -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(separator, ": "), allow_nan=False).translate(
        LINE_BREAKS
    )


def group_object(group: Any) -> dict[str, Any]:
    """A :class:`~ikmeta.dupes.Group` as JSON: reference, then files (reference first)."""
    return {
        "reference": group.reference.source,
        "files": file_objects(group),
    }


def file_objects(group: Any) -> list[dict[str, Any]]:
    """The files of a group as JSON objects, reference first."""
    return [
        file_object(item, distance, group.match_of(k)) for k, (item, distance) in enumerate(group.members)
    ]


def file_object(item: Any, distance: int | None, match: str | None = None) -> dict[str, Any]:
    """One file of a group, keyed as FILE_FIELDS (dimensions as displayed, None where unknown;
    ``match``: how it matched when not as it stands, "rotated 90", "mirrored"...)."""
    values = (item.source, item.phash, distance, match, item.width, item.height, item.size, item.format)
    more = (item.quality, item.camera, item.captured, item.mtime_ns)
    return dict(zip(FILE_FIELDS, (*values, *more), strict=True))


def csv_lines(groups: Iterable[Any]) -> Iterator[str]:
    """One CSV row per file, with its group's number (1, 2, ...) and whether it is the reference."""
    import csv
    import io

    buffer = io.StringIO()
    # "\r\n" as the terminator (RFC 4180), so that the writer quotes a name holding either;
    # each row is then yielded without it, and printed with a newline.
    writer = csv.writer(buffer, lineterminator="\r\n")

    def row(values: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if v is None else v for v in values])
        return buffer.getvalue()[:-2]

    yield row(CSV_COLUMNS)
    for number, group in enumerate(groups, 1):
        for k, (item, distance) in enumerate(group.members):
            fields = file_object(item, distance, group.match_of(k))
            yield row(
                (number, "yes" if item is group.reference else "no", *(fields[k] for k in CSV_COLUMNS[2:]))
            )


def human_size(size: float) -> str:
    """1234567 -> '1.2 MB'."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def group_tables(groups: Iterable[Any], width: int) -> Iterator[tuple[Any, bool]]:
    """A rich renderable per group, and whether it must be printed unwrapped: a table (the
    reference marked ``ref``; path, dimensions as displayed, size, distance) when its rows fit
    in ``width`` columns, else each file as a path line and a details line, so that a path
    is never broken by the layout (a terminal narrower than the path wraps it as it is).
    """
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    headers = ("", "path", "dimensions", "size", "distance")
    justify: tuple[JustifyMethod, ...] = ("left", "left", "right", "right", "right")
    for number, group in enumerate(groups, 1):
        title = f"group {number}: {len(group.members)} images"
        rows = [
            _table_row(item, distance, item is group.reference, group.match_of(k))
            for k, (item, distance) in enumerate(group.members)
        ]
        widths = [max(cell_len(row[k]) for row in [headers, *rows]) for k in range(len(headers))]
        if sum(widths) + 3 * (len(headers) - 1) <= width:
            table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
            for header, side in zip(headers, justify, strict=True):
                table.add_column(header, justify=side, no_wrap=True)
            for row in rows:  # Text: '[bold]' in a name is not markup
                table.add_row(*(Text(cell) for cell in row))
            yield table, False
        else:
            lines = [title] + [
                f"{mark or '   '}  {path}\n     {dims}, {size}, distance {distance}"
                for mark, path, dims, size, distance in rows
            ]
            yield Text("\n".join(lines)), True


def _table_row(
    item: Any, distance: int | None, reference: bool, match: str | None = None
) -> tuple[str, str, str, str, str]:
    dims = f"{item.width}x{item.height}" if item.width and item.height else "?"
    size = human_size(item.size) if item.size is not None else "?"
    shown = "flat" if distance is None else str(distance)
    if match:
        shown = f"{shown}, {match}"
    return ("ref" if reference else "", one_line(item.source), dims, size, shown)
