"""Carrying out a plan, group by group: each group checked on disk, each action journaled.

    >>> for outcome in apply_plan(plan, journal):     # journal=None: a dry run, nothing changes
    ...     print(outcome.status, outcome.step.path)
    done photos/b.jpg

A group whose files are missing, changed since the report or not regular files is skipped
whole (one :class:`Skipped`); a file already gone, or already the kept file, is done already.
An action that fails (permission, a read-only folder, a full disk) fails alone, and the
other files and groups go on. A journal that cannot be written stops the run at once,
before the next action: nothing is ever done that the journal does not say.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ikmeta.errors import os_reason

from .checks import check_group, kept_files
from .fileops import move_file, replace_with_link
from .journal import Journal
from .plan import Plan, Step
from .trash import trash


@dataclass(frozen=True)
class Outcome:
    """What became of one step: ``planned`` (a dry run), ``done``, ``already done``, ``left
    alone`` or ``failed``, with the reason, and where its bytes went when trashed."""

    step: Step
    status: str
    reason: str | None = None
    trashed: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A group left untouched, with the file and the reason."""

    group: int
    path: str
    reason: str
    steps: tuple[Step, ...]


def apply_plan(
    plan: Plan, journal: Journal | None, absolute_links: bool = False
) -> Iterator[Outcome | Skipped]:
    """The outcome of every step of ``plan``, as each is done (``journal=None``: checked only).
    Symbolic links are relative to the link's folder unless ``absolute_links``."""
    by_group: dict[int, list[Step]] = {}
    for step in plan.steps:
        by_group.setdefault(step.group, []).append(step)
    number = 0
    kept = kept_files(plan.kept)  # no step may be another name of any group's kept file
    for group, steps in by_group.items():
        verdict = check_group(plan.kept[group], steps, kept)
        if verdict.problem is not None:
            yield Skipped(group, verdict.problem.path, verdict.problem.reason, tuple(steps))
            continue
        for step, why in verdict.done:
            yield Outcome(step, "already done", why)
        for step, why in verdict.left:
            yield Outcome(step, "left alone", why)
        for step in verdict.todo:
            if journal is None:
                yield Outcome(step, "planned")
                continue
            number += 1
            yield _carry_out(step, number, journal, absolute_links)


def _carry_out(step: Step, number: int, journal: Journal, absolute_links: bool) -> Outcome:
    journal.record(number, "begin", step)
    try:
        trashed = _act(step, number, journal, absolute_links)
    except OSError as exc:
        reason = _reason(exc)
        journal.record(number, "failed", reason=reason)
        return Outcome(step, "failed", reason)
    if trashed:
        journal.record(number, "done", trashed=trashed)
    else:
        journal.record(number, "done")
    return Outcome(step, "done", trashed=trashed)


def _act(step: Step, number: int, journal: Journal, absolute_links: bool) -> str | None:
    if step.action == "trash":
        return trash(step.path)
    if step.action == "move":
        assert step.to is not None  # make_plan gives every move a destination
        move_file(step.path, step.to)  # one that fails leaves nothing at step.to
        return None

    def trash_bytes(name: str, original: str) -> str | None:
        where = trash(name, recorded_as=original)
        journal.record(number, "trashed", trashed=where)
        return where

    return replace_with_link(step.path, step.kept, step.action, trash_bytes, absolute=absolute_links)


def _reason(exc: OSError) -> str:
    """An OSError as a short phrase: 'permission denied', 'already exists: /dest/b.jpg'."""
    if isinstance(exc, FileExistsError):
        return f"already exists: {exc.filename}" if exc.filename else "already exists"
    return os_reason(exc)
