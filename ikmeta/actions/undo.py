"""Undoing what a journal records: moved files moved back, trashed ones (and the originals
that links replaced) taken back out of the trash, never over a file now at the old path; a
file ``ikmeta serve`` wrote for an upload sent to the trash in its turn.

    >>> for outcome in undo_journal("~/.local/state/ikmeta/journal/2026-12-01T10-22-33.jsonl"):
    ...     print(outcome.status, outcome.path)
    undone /photos/b.jpg

Steps are undone newest first. Each is marked ``undoing`` in the journal before anything is
done and ``undone`` after, so undoing twice does nothing the second time, and an undo that
was itself killed is finished by the next: a file already back at its old path (its size and
modification time as journaled) is undone, and a restore stopped halfway is completed. A
step that was begun but not done (the run was killed) is undone if its action happened.
Files are known again by what the journal recorded: a trashed file is taken back only if
its trash entry names the journaled path and it has the journaled size and modification
time. Where the trash is not freedesktop.org's (macOS, Windows), the outcome names the file
to restore from the system's trash.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from ikmeta.errors import os_reason

from .fileops import move_file, second_name
from .journal import Journal, JournalStep, read_journal
from .trash import FREEDESKTOP, find_trashed, forget, forget_entry, restore, trash, trash_entry_path

FINISHED = ("undone", "failed")  # nothing to undo: reversed already, or never done
RETURNING = ".ikmeta-undo"  # an original on its way back over a link


@dataclass(frozen=True)
class UndoOutcome:
    """What became of one journaled step: ``undone``, ``nothing to undo``, or ``failed``."""

    step: int
    action: str
    path: str
    status: str
    reason: str | None = None


def undo_journal(path: str) -> Iterator[UndoOutcome]:
    """Undo every step of the journal at ``path`` that is not undone yet, newest first."""
    header, steps = read_journal(path)
    pending = [step for step in reversed(steps) if step.state not in FINISHED]
    if not pending:
        return
    move_root = header.get("to") if isinstance(header.get("to"), str) else None
    journal = Journal.append_to(path)
    try:
        for step in pending:
            journal.record(step.number, "undoing")
            outcome = _undo(step)
            if outcome.status == "failed":
                journal.record(step.number, "undo-failed", reason=outcome.reason)
            else:
                journal.record(step.number, "undone")
                if step.action == "move" and step.to and move_root:
                    _remove_empty_folders(os.path.dirname(step.to), move_root)
            yield outcome
    finally:
        journal.close()


def _undo(step: JournalStep) -> UndoOutcome:
    try:
        if step.action == "move":
            return _undo_move(step)
        if step.action == "trash":
            return _undo_trash(step)
        if step.action == "upload":
            return _undo_upload(step)
        if step.action in ("hardlink", "symlink"):
            return _undo_link(step)
        return _outcome(step, "failed", f"unknown action {step.action!r}")
    except OSError as exc:
        return _outcome(step, "failed", os_reason(exc))


def _undo_move(step: JournalStep) -> UndoOutcome:
    if step.to is None or not os.path.lexists(step.to):
        if _is_original(step):  # never moved, or moved back by an undo that was stopped
            return _outcome(step, "nothing to undo", "it is at its old path")
        return _outcome(step, "failed", f"no longer at {step.to}")
    if os.path.lexists(step.path):
        if _same(step.path, step.to):  # stopped between a move's two steps: the file has both names
            os.unlink(step.to)  # the new name only: the file stays at its old path
            return _outcome(step, "undone")
        return _outcome(step, "failed", f"a file now sits at the old path; left at {step.to}")
    move_file(step.to, step.path)
    return _outcome(step, "undone")


def _undo_trash(step: JournalStep) -> UndoOutcome:
    if os.path.lexists(step.path):
        if _is_original(step):  # never trashed, or already back (an undo was stopped)
            _drop_extra_name(_trashed(step), step.path, step.details.get("trashed"))
            return _outcome(step, "nothing to undo", "it is at its old path")
        trashed = _trashed(step)
        where = f"; left in the trash at {trashed}" if trashed else ""
        return _outcome(step, "failed", f"a file now sits at the old path{where}")
    trashed = _trashed(step)
    if trashed is None:
        return _not_found_in_trash(step)
    restore(trashed, step.path)
    return _outcome(step, "undone", _labels_back(step))


def _labels_back(step: JournalStep) -> str | None:
    """Give the file of a step ``ikmeta serve`` journaled the labels the journal kept (its
    tags, custom metadata and description; none for an upload sent back to the trash); why
    they could not be, or None."""
    from ikmeta.serve.labels import Labels, from_journal

    where, label = step.details.get("labelsAt"), from_journal(step.details.get("labels"))
    if not isinstance(where, str) or label is None:
        return None
    labels = Labels.open(where)
    try:
        if labels.connection is None:
            return f"its tags and custom metadata are not back: {labels.problem}"
        labels.put(step.path, label)
        return None
    finally:
        labels.close()


def _undo_upload(step: JournalStep) -> UndoOutcome:
    """A file ``ikmeta serve`` wrote for an upload goes to the trash, if it is still that file
    (its size and time as journaled); anything else at its path is left alone."""
    if not os.path.lexists(step.path):
        return _outcome(step, "nothing to undo", "it is gone already")
    if not _is_original(step):
        return _outcome(step, "failed", "another file now sits at its path; left as it is")
    trash(step.path)
    return _outcome(step, "undone", _labels_back(step))


def _undo_link(step: JournalStep) -> UndoOutcome:
    folder, name = os.path.split(step.path)
    returning = os.path.join(folder, f".{name}{RETURNING}")
    if os.path.lexists(returning) and _is_original(step, returning):  # an undo stopped before its rename
        os.replace(returning, step.path)
        _drop_extra_name(_trashed(step), step.path)  # stopped inside the restore: its trash name too
        return _outcome(step, "undone")
    if os.path.lexists(step.path) and not _is_our_link(step):
        if _is_original(step):  # never replaced, or already back
            _drop_extra_name(_trashed(step), step.path)
            return _outcome(step, "nothing to undo", "the original is at its old path")
        return _outcome(step, "failed", "a file now sits at the old path; its original stays in the trash")
    trashed = _trashed(step)
    if trashed is None:
        return _not_found_in_trash(step)
    if os.path.lexists(step.path):  # the original back over the link, in one rename: never without a file
        restore(trashed, returning)
        os.replace(returning, step.path)
    else:
        restore(trashed, step.path)
    return _outcome(step, "undone")


def _trashed(step: JournalStep) -> str | None:
    """Where the step's bytes are in the trash: as journaled, or found by their old path (or,
    for a link, their hidden second name), and only if it is the journaled file."""
    candidates = [step.details.get("trashed")]
    if FREEDESKTOP:
        candidates.append(find_trashed(step.path))
        if step.action in ("hardlink", "symlink"):  # stopped before its trash entry was renamed
            candidates.append(find_trashed(second_name(step.path)))
    names = {step.path, second_name(step.path)}
    for candidate in candidates:
        if (
            isinstance(candidate, str)
            and trash_entry_path(candidate) in names
            and _is_original(step, candidate)
        ):
            return candidate
    return None


def _is_original(step: JournalStep, path: str | None = None) -> bool:
    """``path`` (the step's old path) is a regular file with the journaled size and
    modification time: the file the step acted on."""
    try:
        status = os.lstat(path or step.path)
    except OSError:
        return False
    if not stat.S_ISREG(status.st_mode) or step.size is None or step.mtime_ns is None:
        return False
    return (status.st_size, status.st_mtime_ns) == (step.size, step.mtime_ns) and not (
        step.action in ("hardlink", "symlink") and path is None and _is_our_link(step)
    )


def _drop_extra_name(trashed: str | None, path: str, recorded: object = None) -> None:
    """A run or an undo stopped halfway can leave the trash holding another name of the file
    that is at ``path`` (that name, never a copy: the same file, is taken out), or the entry
    of a file already taken out (``recorded``: where the journal says it was)."""
    if trashed is not None and _same(trashed, path):
        forget(trashed)
    elif isinstance(recorded, str) and not os.path.lexists(recorded):
        forget_entry(recorded)


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _is_our_link(step: JournalStep) -> bool:
    """``step.path`` holds the link the step made to its kept file: for a symbolic link, one
    that leads to it (relative or absolute: it holds no bytes of its own to lose)."""
    try:
        status, kept = os.lstat(step.path), os.stat(step.kept)
        if step.action == "symlink":
            if not stat.S_ISLNK(status.st_mode):
                return False
            status = os.stat(step.path)
    except OSError:
        return False
    return (status.st_dev, status.st_ino) == (kept.st_dev, kept.st_ino)


def _remove_empty_folders(folder: str, root: str) -> None:
    """The folders a move made under ``root`` that are empty again (never ``root`` itself)."""
    root = os.path.abspath(root)
    while folder.startswith(root + os.sep):
        try:
            os.rmdir(folder)  # only ever removes an empty folder
        except OSError:
            return
        folder = os.path.dirname(folder)


def _not_found_in_trash(step: JournalStep) -> UndoOutcome:
    if not FREEDESKTOP:
        return _outcome(step, "failed", "in the system trash: restore it from there")
    return _outcome(step, "failed", "not in the trash any more (emptied?)")


def _outcome(step: JournalStep, status: str, reason: str | None = None) -> UndoOutcome:
    return UndoOutcome(step.number, step.action, step.path, status, reason)
