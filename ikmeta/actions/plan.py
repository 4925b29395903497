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

A ``path:`` rule's glob is tried on each path as the report writes it, without a leading
``./``, made absolute, and relative to the report's root (else the working folder), so
``path:2019/*`` matches ``./2019/a.jpg``, ``2019/a.jpg`` and ``/photos/2019/a.jpg`` of a
report made in ``/photos``. A ``path:`` or ``format:`` rule, or a protected path, that
matches no file of the report is a mistake (a typo, a path from another folder) that would
change nothing: :func:`unmatched_rules` and :func:`unmatched_protect` name them.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ikmeta.dupes.report import Copy, ReportGroup, working_folder
from ikmeta.sources.base import STDIN, is_remote

from .fileops import entry_key

ACTIONS = ("trash", "move", "hardlink", "symlink")
KEEP_RULES = ("pixels", "size", "newest", "oldest", "shortest-path", "path:GLOB", "format:LIST")
UNKNOWN_LAST = 2**64  # a value a rule cannot know ranks after every known one


@dataclass(frozen=True)
class KeepRule:
    """A way to prefer one copy: ``key(copy)``, lower first (as written: ``text``); for a rule
    that prefers the copies it matches (``path:``, ``format:``), ``matches(copy)``."""

    text: str
    key: Callable[[Copy], int]
    matches: Callable[[Copy], bool] | None = None


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
        return KeepRule(text, lambda c: 0 if _matches(c, argument) else 1, lambda c: _matches(c, argument))
    if name == "format" and argument:
        order = [
            _FORMAT_NAMES.get(f, f) for f in (f.strip().lower().lstrip(".") for f in argument.split(","))
        ]
        order = [f for f in order if f]
        if order:
            return KeepRule(
                text,
                lambda c: order.index(f) if (f := _format(c)) in order else len(order),
                lambda c: _format(c) in order,
            )
    raise ValueError(f"{text!r} is not a keep rule (one of: {', '.join(KEEP_RULES)})")


def unmatched_rules(groups: Iterable[ReportGroup], rules: Iterable[KeepRule]) -> list[KeepRule]:
    """The ``path:`` and ``format:`` rules that match no file of the report (none when the
    report has no group: there is nothing to match).

    >>> [r.text for r in unmatched_rules(groups, [parse_keep_rule("path:2091/*")])]
    ['path:2091/*']
    """
    copies = [copy for group in groups for copy in group.files]
    return [rule for rule in rules if copies and rule.matches and not any(rule.matches(c) for c in copies)]


def unmatched_protect(groups: Iterable[ReportGroup], paths: Iterable[str]) -> list[str]:
    """The protected paths under which no file of the report lies (none when the report has
    no group), as given.

    >>> unmatched_protect(groups, ["/photos/archive", "/no/such/folder"])
    ['/no/such/folder']
    """
    copies = [copy.source for group in groups for copy in group.files]
    return [
        path for path in paths if copies and not any(_under_any(c, [os.path.realpath(path)]) for c in copies)
    ]


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


def _matches(copy: Copy, pattern: str) -> bool:
    """``pattern`` matches one of the copy's names (:func:`_names`); a leading ``./`` in it
    is dropped too."""
    pattern = _without_dot(pattern)
    return any(fnmatch.fnmatchcase(name, pattern) for name in _names(copy))


def _names(copy: Copy) -> set[str]:
    """The copy's path as found and as the report writes it, each without a leading ``./``,
    and for a local file its absolute path and its path relative to the report's root (else
    the working folder) when it lies inside."""
    written = copy.recorded.get("source")
    names = {copy.source, *([written] if isinstance(written, str) else [])}
    names |= {_without_dot(name) for name in names}
    if is_remote(copy.source) or copy.source == STDIN:
        return names
    absolute = _absolute(copy.source)
    names.add(absolute)
    base = copy.root or working_folder()
    if base is not None:
        inside = os.path.relpath(absolute, base)
        if inside != os.pardir and not inside.startswith(os.pardir + os.sep):
            names.add(inside)
    return names


def _without_dot(path: str) -> str:
    while path.startswith("./") and len(path) > 2:
        path = path[2:]
    return path


_FORMAT_NAMES = {"jpeg": "jpg", "jpe": "jpg", "jfif": "jpg", "tif": "tiff", "heif": "heic"}


def _format(copy: Copy) -> str:
    if copy.format:
        return copy.format.lower()
    extension = os.path.splitext(copy.source)[1].lower().lstrip(".")
    return _FORMAT_NAMES.get(extension, extension)
