"""Reading a duplicates report: what ``ikmeta dupes --json`` or ``--ndjson`` printed, a
report the review page saved, or one a person edited.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from ikmeta.errors import IkmetaError

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
