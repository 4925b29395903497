"""The duplicates report, both ways: written as ``ikmeta dupes`` prints it (JSON, NDJSON, CSV,
tables), and read back from what ``dupes --json`` or ``--ndjson`` printed, a report the review
page saved, or one a person edited (as fclones keeps its report's writer and reader together).

    >>> [g.reference for g in read_report(io.StringIO(text), "report.json")]
    ['photos/a.jpg', 'photos/b.png']

A report is a JSON array of groups, or one group per line; a group is
``{"root": FOLDER, "reference": PATH, "files": [{"source": PATH, "size": N, "mtimeNs": "N", ...}, ...]}``
with the reference among its files and at least two files (and ``"chosen": true`` when a
person chose the reference, on the review page). Anything else is a
:class:`ReportError` naming the place, and nothing is acted on.

Reports travel: ``root`` is the folder ``dupes`` ran in, which relative paths are read from
wherever the report is used (a report without one, as ikmeta wrote them before, is read from
the working folder); ``mtimeNs`` is written as a string of digits, which JSON tools keep as
it is, where a number past 2**53 would be rounded by those that read numbers as doubles
(jq 1.6, JavaScript). Numbers are still read, and a time such a tool rounded still matches
its file (:func:`same_mtime`).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ikmeta.errors import IkmetaError
from ikmeta.output import LINE_BREAKS, human_size, one_line
from ikmeta.sources.base import STDIN, is_remote

if TYPE_CHECKING:
    from rich.console import JustifyMethod

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
    "duration",
    "videoBitRate",
    "damage",
    "why",
    "alsoAt",
)
CSV_COLUMNS = ("group", "reference", "source", "distance", "match", "pHash", *FILE_FIELDS[4:])


def working_folder() -> str | None:
    """The folder a report written now reads its relative paths from (its ``root``): the
    working folder, or None when that is gone.

        >>> working_folder() == os.getcwd()
        True
    """
    try:
        return os.getcwd()
    except OSError:  # the working folder was removed
        return None


def group_json_lines(groups: Iterable[Any]) -> Iterator[str]:
    """The groups as one indented JSON array, each file's object on a line of its own (as
    readable as a fully indented document, and one line per file instead of thirteen)."""
    opened = False
    root = working_folder()
    for group in groups:
        yield ("  }," if opened else "[")
        opened = True
        yield "  {"
        if root is not None:
            yield f'    "root": {_json(root)},'
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


def group_object(group: Any, root: str | None = None) -> dict[str, Any]:
    """A :class:`~ikmeta.dupes.Group` as JSON: root (``root``, by default the working
    folder), reference, then files (reference first)."""
    root = root or working_folder()
    return {
        **({"root": root} if root is not None else {}),
        "reference": group.reference.source,
        "files": file_objects(group),
    }


def file_objects(group: Any) -> list[dict[str, Any]]:
    """The files of a group as JSON objects, reference first."""
    return [
        file_object(item, distance, group.match_of(k), group.why_of(k))
        for k, (item, distance) in enumerate(group.members)
    ]


def file_object(
    item: Any, distance: int | None, match: str | None = None, why: list[str] | None = None
) -> dict[str, Any]:
    """One file of a group, keyed as FILE_FIELDS (dimensions as displayed, None where unknown;
    ``duration`` (seconds) and ``videoBitRate`` (kbps): a video's, None for an image;
    ``match``: how it matched when not as it stands, "rotated 90", "mirrored"...; ``damage``:
    "truncated" for a damaged file; ``why``: the evidence that placed it
    (:mod:`ikmeta.dupes.evidence`); ``alsoAt``: its other names, hard links to it)."""
    values = (item.source, item.phash, distance, match, item.width, item.height, item.size, item.format)
    more = (item.quality, item.camera, item.captured, exact(item.mtime_ns), item.duration, item.bit_rate)
    found = (item.provenance.damage, list(why or []), list(item.also_at))
    return dict(zip(FILE_FIELDS, (*values, *more, *found), strict=True))


def exact(number: int | None) -> str | None:
    """A number past what a double holds exactly (a time in nanoseconds) as a string of its
    digits, which every JSON tool keeps as it is.

    >>> exact(1700000000123456789)
    '1700000000123456789'
    """
    return None if number is None else str(number)


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
            fields = file_object(item, distance, group.match_of(k), group.why_of(k))
            fields["why"] = "; ".join(fields["why"])  # a cell: the evidence, "; " between
            fields["alsoAt"] = _json(fields["alsoAt"]) if fields["alsoAt"] else None  # paths: a JSON array
            yield row(
                (number, "yes" if item is group.reference else "no", *(fields[k] for k in CSV_COLUMNS[2:]))
            )


def group_tables(groups: Iterable[Any], width: int) -> Iterator[tuple[Any, bool]]:
    """A rich renderable per group, and whether it must be printed unwrapped: a table (the
    reference marked ``ref``; path, dimensions as displayed, size, distance) when its rows fit
    in ``width`` columns, else each file as a path line and a details line, so that a path
    is never broken by the layout (a terminal narrower than the path wraps it as it is).
    """
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    for number, group in enumerate(groups, 1):
        noun = "videos" if group.reference.video else "images"
        title = f"group {number}: {len(group.members)} {noun}"
        rows = [
            _table_row(item, distance, item is group.reference, group.match_of(k), group.why_of(k))
            for k, (item, distance) in enumerate(group.members)
        ]
        with_why = any(row[-1] for row in rows)  # the "why" column, where a file has evidence
        headers: tuple[str, ...] = ("", "path", "dimensions", "size", "distance", "why")
        justify: tuple[JustifyMethod, ...] = ("left", "left", "right", "right", "right", "left")
        if not with_why:
            headers, justify, rows = headers[:-1], justify[:-1], [row[:-1] for row in rows]
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
                f"{row[0] or '   '}  {row[1]}\n     {row[2]}, {row[3]}, distance {row[4]}"
                + (f"; {row[5]}" if len(row) > 5 and row[5] else "")
                for row in rows
            ]
            yield Text("\n".join(lines)), True


def _table_row(
    item: Any, distance: int | None, reference: bool, match: str | None = None, why: list[str] | None = None
) -> tuple[str, ...]:
    dims = f"{item.width}x{item.height}" if item.width and item.height else "?"
    if item.duration is not None:
        dims += f", {item.duration:.1f} s"
    size = human_size(item.size) if item.size is not None else "?"
    shown = "flat" if distance is None else str(distance)
    if match:
        shown = f"{shown}, {match}"
    notes = list(why or [])
    if item.also_at:
        notes.append("also at " + ", ".join(one_line(p) for p in item.also_at))
    return ("ref" if reference else "", one_line(item.source), dims, size, shown, one_line("; ".join(notes)))


MAX_REPORT = 2_000_000_000  # characters: a larger "report" is not one (it is read whole)
DOUBLE_EXACT = 2**53  # integers past it may lose digits in a JSON tool that reads numbers as doubles
DIGITS = re.compile(r"[0-9]{1,19}")


class ReportError(IkmetaError):
    """The report is not one ikmeta can act on (not JSON, not the shape, a group of one)."""


@dataclass(frozen=True)
class Copy:
    """One file of a report group, with what the report recorded of it (None: not recorded).
    ``source`` is where the file is from here: a relative path of a report with a ``root``
    read from another folder is joined to that root (``recorded["source"]``: as written)."""

    source: str
    size: int | None = None
    mtime_ns: int | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    # The file's object as the report gives it (all its fields), for the review page.
    recorded: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    root: str | None = field(default=None, compare=False, repr=False)  # the report's root, if any

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


@dataclass(frozen=True)
class ReportGroup:
    """A group as the report gives it: its number (1, 2... in report order), the reference
    (the copy ``dupes`` suggests keeping) and its files in report order."""

    number: int
    reference: str
    files: tuple[Copy, ...]
    chosen: bool = False  # the reference was chosen by a person (on the review page)
    root: str | None = None  # the folder its relative paths are relative to, if the report says

    def as_object(self) -> dict[str, Any]:
        """The group as ``dupes --json`` writes it, the reference's object first, with each
        path as it is found from here (so without a root) and numbers as numbers."""
        first = [c for c in self.files if c.source == self.reference][:1]
        rest = [c for c in self.files if not (first and c is first[0])]
        return {"reference": self.reference, "files": [_here_object(c) for c in first + rest]}


def _here_object(copy: Copy) -> dict[str, Any]:
    """The file's recorded object with its paths as found from here and its recorded size and
    time as numbers (a value the report holds but not as a sound number is left as it is)."""
    obj = dict(copy.recorded)
    obj["source"] = copy.source
    if isinstance(obj.get("alsoAt"), list):
        obj["alsoAt"] = [resolved(p, copy.root) if isinstance(p, str) else p for p in obj["alsoAt"]]
    for key, value in (("size", copy.size), ("mtimeNs", copy.mtime_ns)):
        if value is not None:
            obj[key] = value
    return obj


def same_mtime(recorded: int, actual: int) -> bool:
    """A file's modification time is the one the report recorded: the same, or the same once
    both are rounded to a double, when the report's number is past 2**53 and is what a double
    prints: a JSON tool that reads numbers as doubles (jq 1.6, JavaScript) rounded it, keeping
    it to within a quarter of a microsecond, where any later write leaves a later time.

    >>> same_mtime(1700000000123456800, 1700000000123456789)   # as jq 1.6 rewrites it
    True
    >>> same_mtime(1700000000123456800, 1700000000123457000)
    False
    """
    if recorded == actual:
        return True
    return recorded > DOUBLE_EXACT and _as_double_prints(recorded) and float(recorded) == float(actual)


def _as_double_prints(number: int) -> bool:
    """``number`` is how a double is written: exactly, or by its shortest decimal digits."""
    double = float(number)
    return number == int(double) or number == _shortest(double)


def _shortest(double: float) -> int:
    """The integer whose digits are the double's shortest round-trip digits (``1.7e+18`` is
    1700000000000000000), as jq 1.6 and JavaScript print it."""
    from decimal import Decimal

    return int(Decimal(repr(double)))


def resolved(source: str, root: str | None) -> str:
    """Where a report's path is from here: joined to the report's ``root`` when relative and
    read from another folder; as written otherwise (a URL, ``-``, an absolute path, or a
    report read in the folder it was made in, or that has no root).

    >>> resolved("./2019/a.jpg", "/nowhere/photos")
    '/nowhere/photos/2019/a.jpg'
    """
    return _joined(source, _elsewhere(root))


def _elsewhere(root: str | None) -> str | None:
    """``root``, unless it is the working folder (whose paths need no joining)."""
    return None if root is None or os.path.normpath(root) == working_folder() else root


def _joined(source: str, base: str | None) -> str:
    if base is None or not source or source == STDIN or is_remote(source) or os.path.isabs(source):
        return source
    while source.startswith("./"):
        source = source[2:]
    return os.path.join(base, source)


def read_report(stream: TextIO, name: str) -> list[ReportGroup]:
    """The groups of a report; raises :class:`ReportError` (``name``: the report in messages)."""
    try:
        text = stream.read(MAX_REPORT + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(name, f"cannot read the report: {exc}") from None
    if len(text) > MAX_REPORT:
        raise ReportError(name, f"larger than {MAX_REPORT} characters: not a report")
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ReportError(name, "empty: not a report (make one with 'ikmeta dupes --json')")
    if text.lstrip().startswith("["):
        objects = [(f"{name}: group {n}", obj) for n, obj in enumerate(_load(text, name), 1)]
    else:
        objects = [
            (f"{name}:{line_number}", _load(line, f"{name}:{line_number}"))
            for line_number, line in enumerate(text.splitlines(), 1)
            if line.strip()
        ]
    return [_group(number, obj, where) for number, (where, obj) in enumerate(objects, 1)]


def _load(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ReportError(where, "JSON nested too deeply: not a report") from None
    except ValueError as exc:
        raise ReportError(where, f"not JSON ({exc}): not a report from 'ikmeta dupes --json'") from None


def report_group(obj: Any, number: int = 1, where: str = "group") -> ReportGroup:
    """One group's JSON object read as a report's group (as :func:`read_report` reads each).

    >>> report_group({"reference": "a.jpg", "files": [{"source": "a.jpg"}, {"source": "b.jpg"}]}).reference
    'a.jpg'
    """
    return _group(number, obj, where)


def _group(number: int, obj: Any, where: str) -> ReportGroup:
    if not isinstance(obj, dict) or not isinstance(obj.get("files"), list):
        raise ReportError(where, 'not a group: expected {"reference": ..., "files": [...]}')
    root = _root(obj.get("root"), where)
    base = _elsewhere(root)
    files = tuple(_copy(entry, f"{where}, file {k}", root, base) for k, entry in enumerate(obj["files"], 1))
    if len(files) < 2:
        raise ReportError(where, f"a group of {len(files)} file: nothing to act on")
    written = [f.recorded["source"] for f in files]
    reference = obj.get("reference", written[0])
    if not isinstance(reference, str) or reference not in written:
        raise ReportError(where, f"its reference {reference!r} is not one of its files")
    return ReportGroup(number, _joined(reference, base), files, chosen=obj.get("chosen") is True, root=root)


def _root(value: Any, where: str) -> str | None:
    """A group's root: absent, or the absolute path of a folder."""
    if value is None:
        return None
    if not isinstance(value, str) or not os.path.isabs(value) or "\x00" in value:
        raise ReportError(where, f"its root {value!r} is not the absolute path of a folder")
    return value


def _copy(entry: Any, where: str, root: str | None = None, base: str | None = None) -> Copy:
    """One file of a group (``root``: the group's; ``base``: the folder its relative paths
    are joined to, None when they are found from here as written)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("source"), str) or not entry["source"]:
        raise ReportError(where, 'not a file: expected {"source": PATH, ...}')
    source = entry["source"]
    try:
        source.encode("utf-8", "surrogateescape")  # a name's bytes, as Python holds them
    except UnicodeEncodeError:
        raise ReportError(where, f"{source!r} is not a file name (a lone UTF-16 surrogate)") from None
    if "\x00" in source:
        raise ReportError(where, "a file name with a NUL byte")
    return Copy(
        _joined(source, base),
        size=_count(entry.get("size")),
        mtime_ns=_count(entry.get("mtimeNs")),
        width=_count(entry.get("width")),
        height=_count(entry.get("height")),
        format=entry["format"] if isinstance(entry.get("format"), str) else None,
        recorded=entry,
        root=root,
    )


def _count(value: Any) -> int | None:
    """A whole number of the sound range, else None (not recorded): a JSON integer, a string
    of its digits (as reports write times), or a whole number a tool wrote as a double.

    >>> _count("1700000000123456789"), _count(1.7e18), _count("-1"), _count(True)
    (1700000000123456789, 1700000000000000000, None, None)
    """
    digits = isinstance(value, str) and DIGITS.fullmatch(value)
    if digits or (isinstance(value, float) and math.isfinite(value) and value.is_integer()):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    return None
