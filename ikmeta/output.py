"""Output: each format is a generator of lines, so long runs stream.

    >>> list(ndjson_lines([{"a": 1}, {"a": 2}]))
    ['{"a":1}', '{"a":2}']
    >>> list(json_lines([{"a": 1}, {"a": 2}], single=False))
    ['[', '  {', '    "a": 1', '  },', '  {', '    "a": 2', '  }', ']']
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


# Characters JSON allows raw in strings but many line readers (Python's splitlines,
# JavaScript) take for line breaks: escaped, so one document is always one line.
LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


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
    yield "["
    previous: str | None = None
    for obj in objects:
        if previous is not None:
            yield previous + ","
        lines = ["  " + line for line in pretty(obj).splitlines()]
        yield from lines[:-1]
        previous = lines[-1]
    if previous is not None:
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
        rows = [(key, value if isinstance(value, str) else compact(value)) for key, value in flatten(obj)]
        width = max(len(key) for key, _ in rows)
        for key, value in rows:
            yield f"{key:<{width}}  {value}"
