"""The plan: which file each group keeps, and what is done to each of the others.

    >>> plan = make_plan(groups, "move", keep=[parse_keep_rule("path:*/originals/*")],
    ...                  protect=["/photos/archive"], move_to="/tmp/dupes")
    >>> [(s.action, s.path, s.kept) for s in plan.steps][:1]
    [('move', 'photos/b.jpg', 'photos/originals/b.jpg')]

A group keeps its report's reference (the best copy by the rule ``dupes`` documents), unless
keep rules are given: the first rule decides, the next breaks its ties, and the report's
order breaks the rest. Files under a protected path are never acted on (they stay, besides
the kept file). A file whose path goes through a link to a folder is acted on under its real
path, which the plan shows (with the name the report gave it): a link may lead outside the
folders scanned. A file the plan keeps in one group is never acted on in another, and a
file named twice (``a.jpg`` and ``./a.jpg``) is acted on once.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ikmeta.dupes.report import Copy, ReportGroup

from .fileops import entry_key

ACTIONS = ("trash", "move", "hardlink", "symlink")
KEEP_RULES = ("pixels", "size", "newest", "oldest", "shortest-path", "path:GLOB", "format:LIST")
UNKNOWN_LAST = 2**64  # a value a rule cannot know ranks after every known one


@dataclass(frozen=True)
class KeepRule:
    """A way to prefer one copy: ``key(copy)``, lower first (as written: ``text``)."""

    text: str
    key: Callable[[Copy], int]


@dataclass(frozen=True)
class Step:
    """One file to act on: its group, the action, the path as the report gives it, the kept
    file, what the report recorded of it, and for ``move`` where it goes."""

    group: int
    action: str
    path: str
    kept: str
    size: int | None
    mtime_ns: int | None
    to: str | None = None
    named: str | None = None  # the path as the report gives it, when it goes through a link to a folder
    linked: bool = False  # the file has other names (hard links): removing this one frees nothing


@dataclass
class Plan:
    """What :func:`ikmeta.actions.apply_plan` would do, group by group."""

    action: str
    steps: list[Step]
    kept: dict[int, Copy]  # group number -> the file it keeps
    protected: dict[int, list[str]] = field(default_factory=dict)  # left alone by --protect
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path, why it is not acted on)

    @property
    def groups(self) -> int:
        return len({step.group for step in self.steps})

    @property
    def size(self) -> int:
        """The bytes the plan frees (a file with other names, hard links, frees none)."""
        return sum(step.size or 0 for step in self.steps if not step.linked)


def parse_keep_rule(text: str) -> KeepRule:
    """A ``--keep`` rule: pixels, size, newest, oldest, shortest-path, path:GLOB, format:LIST.

    >>> parse_keep_rule("format:heic,jpg").key(Copy("a.JPG"))
    1
    """
    name, _, argument = text.partition(":")
    simple: dict[str, Callable[[Copy], int]] = {
        "pixels": lambda c: -c.pixels,
        "size": lambda c: -(c.size or 0),
        "newest": lambda c: -c.mtime_ns if c.mtime_ns is not None else UNKNOWN_LAST,
        "oldest": lambda c: c.mtime_ns if c.mtime_ns is not None else UNKNOWN_LAST,
        "shortest-path": lambda c: len(c.source),
    }
    if name in simple and not argument and ":" not in text:
        return KeepRule(text, simple[name])
    if name == "path" and argument:
        return KeepRule(text, lambda c: 0 if _matches(c.source, argument) else 1)
    if name == "format" and argument:
        order = [f.strip().lower().lstrip(".") for f in argument.split(",") if f.strip()]
        order = ["jpg" if f == "jpeg" else f for f in order]
        if order:
            return KeepRule(text, lambda c: order.index(f) if (f := _format(c)) in order else len(order))
    raise ValueError(f"{text!r} is not a keep rule (one of: {', '.join(KEEP_RULES)})")


def make_plan(
    groups: Iterable[ReportGroup],
    action: str,
    keep: Iterable[KeepRule] = (),
    protect: Iterable[str] = (),
    move_to: str | None = None,
) -> Plan:
    """The plan for ``action`` on every group: the kept file, the steps, what is protected."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    if (action == "move") != (move_to is not None):
        raise ValueError("move needs a folder to move to, and only move takes one")
    rules, shields = list(keep), [os.path.realpath(p) for p in protect]
    groups = list(groups)
    chosen = {group.number: _kept(group, rules) for group in groups}
    kept_anywhere = {entry_key(copy.source): group for group, copy in chosen.items()}
    plan = Plan(action, [], chosen)
    acted: set[str] = set()
    for group in groups:
        for copy in group.files:
            where = entry_key(copy.source)
            if copy is chosen[group.number] or where in acted:
                continue
            if where in kept_anywhere:
                if kept_anywhere[where] != group.number:
                    plan.notes.append((copy.source, f"kept in group {kept_anywhere[where]}: left alone"))
                continue
            if _under_any(copy.source, shields):
                plan.protected.setdefault(group.number, []).append(copy.source)
                continue
            acted.add(where)
            # A path through a link to a folder is acted on, and shown, as the file it reaches.
            path, named = (copy.source, None) if where == _absolute(copy.source) else (where, copy.source)
            to = os.path.join(move_to, _absolute(path).lstrip(os.sep)) if move_to is not None else None
            step = Step(
                group.number,
                action,
                path,
                chosen[group.number].source,
                copy.size,
                copy.mtime_ns,
                to,
                named,
                linked=bool(copy.recorded.get("alsoAt")),
            )
            plan.steps.append(step)
    return plan


def _kept(group: ReportGroup, rules: list[KeepRule]) -> Copy:
    """The report's reference, or with rules the first copy by them (report order breaks
    ties); a damaged copy (its ``damage`` recorded) only when every copy is."""
    if not rules:
        return next(copy for copy in group.files if copy.source == group.reference)
    ranked = sorted(
        enumerate(group.files),
        key=lambda pair: (
            bool(pair[1].recorded.get("damage")),
            [rule.key(pair[1]) for rule in rules],
            pair[0],
        ),
    )
    return ranked[0][1]


def _absolute(path: str) -> str:
    """The path made absolute and normal (``./a.jpg`` and ``a.jpg`` are one)."""
    return os.path.normpath(os.path.abspath(path))


def _under_any(path: str, folders: list[str]) -> bool:
    """``path`` is one of ``folders`` or inside one (links followed: a protected file is
    protected whatever name reaches it)."""
    if not folders:
        return False
    real = os.path.realpath(path)
    return any(real == top or real.startswith(top.rstrip(os.sep) + os.sep) for top in folders)


def _matches(path: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(_absolute(path), pattern)


def _format(copy: Copy) -> str:
    if copy.format:
        return copy.format.lower()
    extension = os.path.splitext(copy.source)[1].lower().lstrip(".")
    return {"jpeg": "jpg", "jpe": "jpg", "jfif": "jpg", "tif": "tiff", "heif": "heic"}.get(
        extension, extension
    )
