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

A modification time that a JSON tool rounded (jq 1.6 and JavaScript read numbers as doubles,
which hold nanoseconds since 1970 only to 256 ns) still matches its file
(:func:`ikmeta.dupes.report.same_mtime`); the step then carries the file's exact time, which
the journal records for ``undo``. A report none of whose files exist here is refused whole
(:func:`check_present`): its paths were made relative to another folder, or are gone.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from ikmeta.dupes.report import Copy, ReportError, ReportGroup, same_mtime
from ikmeta.errors import os_reason
from ikmeta.output import one_line
from ikmeta.sources.base import STDIN, is_remote

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
            verdict.todo.append(_exact(step, status))
    except GroupProblem as problem:
        return Verdict(problem=problem)
    return verdict


def _exact(step: Step, status: os.stat_result) -> Step:
    """``step`` with the file's exact modification time, where the report's was rounded."""
    if step.mtime_ns == status.st_mtime_ns:
        return step
    return dataclasses.replace(step, mtime_ns=status.st_mtime_ns)


def check_present(groups: Iterable[ReportGroup], name: str) -> None:
    """Refuse a report none of whose files exist here (raises :class:`ReportError`, saying
    where its paths lead): it was made in another folder, or its files are gone. URLs and
    stored objects are not counted.

        >>> check_present(read_report(open("old.json"), "old.json"), "old.json")
        Traceback (most recent call last):
        ReportError: old.json: none of its 6 files exist here (its paths are relative to ...)
    """
    groups = list(groups)
    local = {c.source for g in groups for c in g.files if c.source != STDIN and not is_remote(c.source)}
    if not local or any(os.path.lexists(path) for path in local):
        return
    count = f"{len(local)} file{'s' * (len(local) != 1)}"
    roots = sorted({g.root for g in groups if g.root is not None})
    if roots:
        where = (
            f"(the report was made in {one_line(roots[0])}: moved or removed since, or another machine's?)"
        )
    elif any(not os.path.isabs(path) for path in local):
        where = (
            "here (its paths are relative to the folder 'ikmeta dupes' ran in: run this there, "
            "or make the report again, which now records that folder)"
        )
    else:
        where = "(moved or removed since the report?)"
    raise ReportError(name, f"none of its {count} exist {where}")


def settled(group: ReportGroup) -> ReportGroup:
    """The group with each file's exact modification time where the report's was rounded by a
    JSON tool and the file matches it (:func:`ikmeta.dupes.report.same_mtime`) and its size,
    for the review page, which compares times exactly and saves them into the selection."""
    files = tuple(_settled(copy) for copy in group.files)
    return group if files == group.files else dataclasses.replace(group, files=files)


def _settled(copy: Copy) -> Copy:
    if copy.mtime_ns is None or copy.size is None or is_remote(copy.source) or copy.source == STDIN:
        return copy
    try:
        status = os.stat(copy.source)
    except OSError:
        return copy
    if status.st_size != copy.size or status.st_mtime_ns == copy.mtime_ns:
        return copy
    if not same_mtime(copy.mtime_ns, status.st_mtime_ns):
        return copy
    return dataclasses.replace(copy, mtime_ns=status.st_mtime_ns)


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
    if step.size is None or step.mtime_ns is None:
        return False
    return (
        stat.S_ISREG(status.st_mode)
        and status.st_size == step.size
        and same_mtime(step.mtime_ns, status.st_mtime_ns)
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
    if status.st_size != size or not same_mtime(mtime_ns, status.st_mtime_ns):
        if status.st_size == size and _rounded(mtime_ns, status.st_mtime_ns):
            raise GroupProblem(
                path,
                f"the report's modification time ({mtime_ns}) has lost digits of the file's "
                f"({status.st_mtime_ns}): a tool rounded it; make the report again",
            )
        raise GroupProblem(path, "changed since the report")


def _rounded(recorded: int, actual: int) -> bool:
    """Whether ``recorded`` is ``actual`` with its last digits rounded away (a spreadsheet keeps
    15 digits): it ends in at least three zeros, and ``actual`` rounds to it at that place.

    >>> _rounded(1700000000123460000, 1700000000123456789), _rounded(1700000001000000000, 1700000000123456789)
    (True, False)
    """
    zeros = len(str(recorded)) - len(str(recorded).rstrip("0"))
    if recorded <= 0 or zeros < 3:
        return False
    unit = 10**zeros
    return abs(actual - recorded) * 2 <= unit and abs(actual - recorded) < 10**6 * 1000
