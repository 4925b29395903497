"""A group checked on disk right before it is touched.

    >>> verdict = check_group(plan.kept[1], kept_copy, steps)
    >>> verdict.problem or verdict.todo
    [Step(group=1, action='trash', path='photos/b.jpg', ...)]

The kept file and every file to act on must exist, be regular files (not links, folders or
devices) and have the size and modification time the report recorded; otherwise the whole
group is skipped with the first problem found. A file to act on that is the kept file itself
under another name (a hard link, or for ``symlink`` a link to it already), or that is gone
to where the action sends it (in the trash, or at its move destination, with the recorded
size and modification time), is done already: that is how running a report again finishes
an interrupted run. A file that is gone anywhere else is missing, and skips its group. A
file that is another name of the file another group keeps is left alone.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from ikmeta.dupes.report import Copy
from ikmeta.errors import os_reason
from ikmeta.sources.base import is_remote

from .fileops import already_moved, entry_key
from .plan import Step
from .trash import find_trashed


class GroupProblem(Exception):
    """Why a group is skipped: the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class Verdict:
    """What to do in a group: the steps still to do, those already done (and why), or the
    problem that skips the whole group."""

    todo: list[Step] = field(default_factory=list)
    done: list[tuple[Step, str]] = field(default_factory=list)
    left: list[tuple[Step, str]] = field(default_factory=list)  # names of files other groups keep
    problem: GroupProblem | None = None


def kept_files(kept: dict[int, Copy]) -> dict[tuple[int, int], int]:
    """(device, inode) of each group's kept file that exists, and its group."""
    found = {}
    for group, copy in kept.items():
        try:
            status = os.stat(copy.source)
        except OSError:
            continue
        found[(status.st_dev, status.st_ino)] = group
    return found


def check_group(
    kept: Copy, steps: list[Step], kept_elsewhere: dict[tuple[int, int], int] | None = None
) -> Verdict:
    """The verdict on one group (``kept``: the kept file as the report recorded it;
    ``kept_elsewhere``: :func:`kept_files` of the whole plan)."""
    verdict = Verdict()
    try:
        kept_status = _regular(kept.source, "the file to keep")
        _unchanged(kept.source, kept_status, kept.size, kept.mtime_ns, required=False)
        for step in steps:
            why = _already_done(step, kept_status)
            if why:
                verdict.done.append((step, why))
                continue
            status = _regular(step.path, "")
            other = (kept_elsewhere or {}).get((status.st_dev, status.st_ino))
            if other is not None:
                verdict.left.append((step, f"another name of the file group {other} keeps; left alone"))
                continue
            _unchanged(step.path, status, step.size, step.mtime_ns, required=True)
            if step.to is not None:
                _check_destination(step)
            verdict.todo.append(step)
    except GroupProblem as problem:
        return Verdict(problem=problem)
    return verdict


def _check_destination(step: Step) -> None:
    assert step.to is not None
    if entry_key(step.path) == entry_key(step.to):
        raise GroupProblem(step.path, "its destination is the file itself (--to leads back to it)")
    if os.path.lexists(step.to) and not already_moved(step.path, step.to):
        raise GroupProblem(step.path, f"its destination {step.to} already exists")


def same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _already_done(step: Step, kept: os.stat_result) -> str | None:
    """Why nothing is left to do for ``step``, or None."""
    try:
        status = os.lstat(step.path)
    except FileNotFoundError:
        return _gone_where_sent(step)  # else None: _regular says it is missing
    except OSError:
        return None  # _regular says why
    if same_file(status, kept):
        return "already the kept file (a hard link)" if step.action == "hardlink" else "the kept file itself"
    if step.action == "symlink" and stat.S_ISLNK(status.st_mode):
        try:
            if same_file(os.stat(step.path), kept):
                return "already a link to the kept file"
        except OSError:
            return None
    return None


def _gone_where_sent(step: Step) -> str | None:
    """Why a file no longer at its path was sent where ``step`` sends it (an interrupted run
    did it), or None: it is missing."""
    if step.action == "move" and step.to is not None and _recorded(step.to, step):
        return "already moved"
    if step.action == "trash":
        trashed = find_trashed(os.path.abspath(step.path))
        if trashed is not None and _recorded(trashed, step):
            return "already in the trash"
    return None


def _recorded(path: str, step: Step) -> bool:
    """``path`` is a regular file with the size and modification time the report recorded."""
    try:
        status = os.lstat(path)
    except OSError:
        return False
    recorded = (step.size, step.mtime_ns)
    return (
        stat.S_ISREG(status.st_mode)
        and None not in recorded
        and (status.st_size, status.st_mtime_ns) == recorded
    )


def _regular(path: str, what: str) -> os.stat_result:
    label = f"{what} " if what else ""
    if is_remote(path):
        raise GroupProblem(
            path, f"{label}is a URL or stored object: ikmeta acts only on files on this machine".strip()
        )
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        raise GroupProblem(path, f"{label}is missing".strip()) from None
    except OSError as exc:
        raise GroupProblem(path, f"cannot be checked: {os_reason(exc)}") from None
    if stat.S_ISLNK(status.st_mode):
        raise GroupProblem(path, f"{label}is a symbolic link, not a regular file".strip())
    if not stat.S_ISREG(status.st_mode):
        raise GroupProblem(path, f"{label}is not a regular file".strip())
    return status


def _unchanged(
    path: str, status: os.stat_result, size: int | None, mtime_ns: int | None, *, required: bool
) -> None:
    if size is None or mtime_ns is None:
        if required:
            raise GroupProblem(path, "the report does not record its size and modification time")
        return
    if status.st_size != size or status.st_mtime_ns != mtime_ns:
        raise GroupProblem(path, "changed since the report")
