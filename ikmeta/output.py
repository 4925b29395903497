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
    pass

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


def human_size(size: float) -> str:
    """1234567 -> '1.2 MB'."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"
