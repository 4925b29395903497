"""Acting on a duplicates report, safely: a plan first, then journaled actions, and an undo.

    >>> groups = read_report(open("report.json"), "report.json")
    >>> plan = make_plan(groups, "trash", keep=[parse_keep_rule("newest")])
    >>> for outcome in apply_plan(plan, Journal.create(None, plan)):   # changes files
    ...     print(outcome)
    >>> list(undo_journal("journal.jsonl"))                          # puts them back

The report is read by :mod:`ikmeta.dupes.report` (what ``ikmeta dupes --json``, the review page
or a person wrote); the modules here: :mod:`.plan` picks the file each group keeps and what is done to the others;
:mod:`.checks` verifies a group on disk right before it is touched; :mod:`.fileops` moves,
links and trashes without ever overwriting; :mod:`.trash` finds and restores files in the
freedesktop.org trash; :mod:`.journal` records every action before and after it is done;
:mod:`.run` carries out a plan and :mod:`.undo` reverses a journal.
"""

from __future__ import annotations

from ikmeta.dupes.report import ReportGroup, read_report

from .journal import Journal
from .plan import Plan, Step, make_plan, parse_keep_rule
from .run import apply_plan
from .undo import undo_journal

__all__ = [
    "Journal",
    "Plan",
    "ReportGroup",
    "Step",
    "apply_plan",
    "make_plan",
    "parse_keep_rule",
    "read_report",
    "undo_journal",
]
