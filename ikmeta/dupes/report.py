"""The duplicates report, both ways: written as ``ikmeta dupes`` prints it (JSON, NDJSON, CSV,
tables), and read back from what ``dupes --json`` or ``--ndjson`` printed, a report the review
page saved, or one a person edited (as fclones keeps its report's writer and reader together).

    >>> [g.reference for g in read_report(io.StringIO(text), "report.json")]
    ['photos/a.jpg', 'photos/b.png']

A report is a JSON array of groups, or one group per line; a group is
``{"reference": PATH, "files": [{"source": PATH, "size": N, "mtimeNs": N, ...}, ...]}``
with the reference among its files and at least two files (and ``"chosen": true`` when a
person chose the reference, on the review page). Anything else is a
:class:`ReportError` naming the place, and nothing is acted on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ikmeta.errors import IkmetaError
from ikmeta.output import LINE_BREAKS, human_size, one_line

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
    "damage",
    "why",
    "alsoAt",
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
        file_object(item, distance, group.match_of(k), group.why_of(k))
        for k, (item, distance) in enumerate(group.members)
    ]


def file_object(
    item: Any, distance: int | None, match: str | None = None, why: list[str] | None = None
) -> dict[str, Any]:
    """One file of a group, keyed as FILE_FIELDS (dimensions as displayed, None where unknown;
    ``match``: how it matched when not as it stands, "rotated 90", "mirrored"...; ``damage``:
    "truncated" for a damaged file; ``why``: the evidence that placed it
    (:mod:`ikmeta.dupes.evidence`); ``alsoAt``: its other names, hard links to it)."""
    values = (item.source, item.phash, distance, match, item.width, item.height, item.size, item.format)
    more = (item.quality, item.camera, item.captured, item.mtime_ns)
    found = (item.provenance.damage, list(why or []), list(item.also_at))
    return dict(zip(FILE_FIELDS, (*values, *more, *found), strict=True))


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
        title = f"group {number}: {len(group.members)} images"
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
    size = human_size(item.size) if item.size is not None else "?"
    shown = "flat" if distance is None else str(distance)
    if match:
        shown = f"{shown}, {match}"
    notes = list(why or [])
    if item.also_at:
        notes.append("also at " + ", ".join(one_line(p) for p in item.also_at))
    return ("ref" if reference else "", one_line(item.source), dims, size, shown, one_line("; ".join(notes)))


MAX_REPORT = 2_000_000_000  # characters: a larger "report" is not one (it is read whole)


class ReportError(IkmetaError):
    """The report is not one ikmeta can act on (not JSON, not the shape, a group of one)."""


@dataclass(frozen=True)
class Copy:
    """One file of a report group, with what the report recorded of it (None: not recorded)."""

    source: str
    size: int | None = None
    mtime_ns: int | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    # The file's object as the report gives it (all its fields), for the review page.
    recorded: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

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

    def as_object(self) -> dict[str, Any]:
        """The group as ``dupes --json`` writes it: the reference's object first."""
        first = [c for c in self.files if c.source == self.reference][:1]
        rest = [c for c in self.files if not (first and c is first[0])]
        return {"reference": self.reference, "files": [dict(c.recorded) for c in first + rest]}


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


def _group(number: int, obj: Any, where: str) -> ReportGroup:
    if not isinstance(obj, dict) or not isinstance(obj.get("files"), list):
        raise ReportError(where, 'not a group: expected {"reference": ..., "files": [...]}')
    files = tuple(_copy(entry, f"{where}, file {k}") for k, entry in enumerate(obj["files"], 1))
    if len(files) < 2:
        raise ReportError(where, f"a group of {len(files)} file: nothing to act on")
    reference = obj.get("reference", files[0].source)
    if not isinstance(reference, str) or reference not in {f.source for f in files}:
        raise ReportError(where, f"its reference {reference!r} is not one of its files")
    return ReportGroup(number, reference, files, chosen=obj.get("chosen") is True)


def _copy(entry: Any, where: str) -> Copy:
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
        source,
        size=_count(entry.get("size")),
        mtime_ns=_count(entry.get("mtimeNs")),
        width=_count(entry.get("width")),
        height=_count(entry.get("height")),
        format=entry["format"] if isinstance(entry.get("format"), str) else None,
        recorded=entry,
    )


def _count(value: Any) -> int | None:
    """A whole number of the sound range, else None (not recorded)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    return None
