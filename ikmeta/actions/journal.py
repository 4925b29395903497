"""The journal: a JSON-lines file that records every action before it is done and after.

    >>> journal = Journal.create(None, "trash", "report.json")   # $XDG_STATE_HOME/ikmeta/journal/...
    >>> journal.record(1, "begin", step)
    >>> journal.record(1, "done", trashed="/home/me/.local/share/Trash/files/b.jpg")

The first line says what ran; then one line per event of a numbered step: ``begin`` (what
is about to be done, with absolute paths), ``trashed`` (where a link's original bytes went),
``done``, ``failed``, and from ``ikmeta undo``, ``undone`` or ``undo-failed``. Each line is
written and flushed before the next thing happens, so a run killed at any point leaves a
journal that says, for every file, whether it was untouched, begun or done. Names that are
not UTF-8 are kept as ``\\udcXX`` escapes (JSON's ASCII form), which give the bytes back.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from ikmeta.errors import IkmetaError, os_reason

from .plan import Step

FORMAT = "ikmeta-journal"
VERSION = 1


class JournalError(IkmetaError):
    """A journal that cannot be written or read."""


def default_journal_folder() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "ikmeta", "journal")


class Journal:
    """An open journal, appended to line by line."""

    def __init__(self, path: str, stream: TextIO) -> None:
        self.path = path
        self.stream = stream

    @classmethod
    def create(cls, path: str | None, action: str, report: str, move_to: str | None = None) -> Journal:
        """A new journal at ``path``, or at a fresh name in the default folder (never over
        another file). Raises :class:`JournalError`."""
        try:
            if path is None:
                folder = default_journal_folder()
                os.makedirs(folder, exist_ok=True)
                stream, path = _fresh(folder)
            else:
                stream = open(path, "x", encoding="ascii")  # noqa: SIM115 - kept open for the run
        except FileExistsError:
            raise JournalError(str(path), "already exists; a journal is never overwritten") from None
        except OSError as exc:
            raise JournalError(str(path), f"cannot be written: {os_reason(exc)}") from None
        journal = cls(path, stream)
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        header = {
            "format": FORMAT,
            "version": VERSION,
            "action": action,
            "report": report,
            "started": started,
        }
        if move_to is not None:
            header["to"] = os.path.abspath(move_to)
        journal._write(header)
        return journal

    @classmethod
    def append_to(cls, path: str) -> Journal:
        """An existing journal, opened to add ``undo``'s lines."""
        try:
            return cls(path, open(path, "a", encoding="ascii"))
        except OSError as exc:
            raise JournalError(path, f"cannot be written: {os_reason(exc)}") from None

    def record(self, step: int, state: str, plan_step: Step | None = None, **details: Any) -> None:
        """One event of step ``step``, flushed before this returns."""
        line: dict[str, Any] = {"step": step, "state": state}
        if plan_step is not None:
            line.update(
                action=plan_step.action,
                path=os.path.abspath(plan_step.path),
                kept=os.path.abspath(plan_step.kept),
                group=plan_step.group,
            )
            if plan_step.to is not None:
                line["to"] = os.path.abspath(plan_step.to)
            line.update(size=plan_step.size, mtimeNs=plan_step.mtime_ns)  # to know the file again
        line.update(details)
        self._write(line)

    def close(self) -> None:
        try:
            self.stream.close()
        except OSError:
            pass

    def _write(self, line: dict[str, Any]) -> None:
        try:
            self.stream.write(json.dumps(line, ensure_ascii=True) + "\n")
            self.stream.flush()
        except OSError as exc:
            raise JournalError(self.path, f"cannot be written: {os_reason(exc)}") from None


@dataclass
class JournalStep:
    """What a journal says of one step: its ``begin`` line merged with the later ones."""

    number: int
    action: str
    path: str
    kept: str
    to: str | None
    size: int | None = None
    mtime_ns: int | None = None
    states: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return self.states[-1] if self.states else "begin"


def read_journal(path: str) -> tuple[dict[str, Any], list[JournalStep]]:
    """The header and the steps of a journal, in the order they were begun."""
    try:
        with open(path, encoding="ascii") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise JournalError(path, f"cannot be read: {reason.lower()}") from None
    entries = list(_parse(lines, path))
    if not entries or entries[0].get("format") != FORMAT:
        raise JournalError(path, "not an ikmeta journal")
    steps: dict[int, JournalStep] = {}
    for entry in entries[1:]:
        number, state = entry.get("step"), entry.get("state")
        if not isinstance(number, int) or not isinstance(state, str):
            continue
        if state == "begin" and _is_begin(entry):
            size, mtime_ns = (
                v if isinstance(v, int) else None for v in (entry.get("size"), entry.get("mtimeNs"))
            )
            steps[number] = JournalStep(
                number, entry["action"], entry["path"], entry["kept"], entry.get("to"), size, mtime_ns
            )
        elif number in steps:
            steps[number].states.append(state)
            steps[number].details.update({k: v for k, v in entry.items() if k not in ("step", "state")})
    return entries[0], list(steps.values())


def _parse(lines: list[str], path: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            if number == len(lines):  # a line cut short when the run was killed: the rest stands
                return
            raise JournalError(f"{path}:{number}", "not a journal line") from None
        if isinstance(entry, dict):
            yield entry


def _is_begin(entry: dict[str, Any]) -> bool:
    return all(isinstance(entry.get(k), str) for k in ("action", "path", "kept")) and (
        entry.get("to") is None or isinstance(entry.get("to"), str)
    )


def _fresh(folder: str) -> tuple[TextIO, str]:
    """A new file named for the time (``2026-12-01T10-22-33.jsonl``, then ``...-2.jsonl``)."""
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S")
    for attempt in range(1, 1000):
        path = os.path.join(folder, f"{stamp}{'' if attempt == 1 else f'-{attempt}'}.jsonl")
        try:
            return open(path, "x", encoding="ascii"), path
        except FileExistsError:
            continue
    raise FileExistsError(folder)
