"""``ikmeta apply`` and ``ikmeta undo``: act on the groups of a duplicates report (trash, move,
or replace by links every file but the one each group keeps), journaled; and reverse it.

    ikmeta apply trash report.json                      the plan: changes nothing
    ikmeta apply trash report.json --yes                do it, journaled
    ikmeta undo ~/.local/state/ikmeta/journal/2026-12-01T10-22-33.jsonl
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, TextIO

import click

from ikmeta.errors import IkmetaError

from .options import CONTEXT, output_options
from .sources import finish, list_name
from .terminal import _write_stderr, abort, emit, fail, note, warn
from .types import LIST_FILE, KeepRuleType


@click.command(context_settings=CONTEXT)
@click.argument("action", type=click.Choice(["trash", "move", "hardlink", "symlink"]))
@click.argument("report", type=LIST_FILE, default="-", metavar="[REPORT]")
@click.option(
    "--to",
    "move_to",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="With move: the folder files go to, each under its absolute path (so names never collide).",
)
@click.option(
    "--keep",
    "keep_rules",
    type=KeepRuleType(),
    multiple=True,
    metavar="RULE",
    help="Which file a group keeps, instead of the report's reference: pixels, size, newest, oldest, "
    "shortest-path, path:GLOB (prefer matching paths), format:heic,jpg,... (in that order). "
    "Repeatable: the first rule decides, the next breaks its ties, the report's order the rest. "
    "A path: or format: rule that matches no file of the report is refused, and so is --keep "
    "for a selection saved from the review page (its choices stand).",
)
@click.option(
    "--protect",
    type=click.Path(),
    multiple=True,
    metavar="PATH",
    help="Never act on anything under PATH (repeatable); such files stay besides the kept one. "
    "A PATH under which no file of the report lies is refused.",
)
@click.option(
    "--absolute",
    is_flag=True,
    help="With symlink: links hold the kept file's absolute path [default: the relative way "
    "from the link's folder, which survives moving the tree whole].",
)
@click.option("--yes", is_flag=True, help="Do it (journaled). Without it, only the plan is printed.")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The journal to write [default: $XDG_STATE_HOME/ikmeta/journal/<time>.jsonl].",
)
@output_options(
    "table",
    {
        "json": "One JSON document: the plan (or the results) and a summary.",
        "ndjson": "One JSON object per file, as each is done.",
        "table": "One line per file: the action, the path, the kept file.",
    },
)
def apply(
    action: str,
    report: TextIO,
    move_to: str | None,
    keep_rules: tuple[Any, ...],
    protect: tuple[str, ...],
    absolute: bool,
    yes: bool,
    journal_path: str | None,
    output: str,
) -> None:
    """Act on the groups of a duplicates report: trash, move, or replace by links every file
    but the one each group keeps. Without --yes it only prints the plan.

    REPORT is what 'ikmeta dupes --json' or '--ndjson' wrote (- or nothing: standard input),
    used from any folder (its relative paths lead from the folder 'dupes' ran in, which it
    records). Each group keeps its reference (the best copy: originals before conversions)
    unless --keep says otherwise. Before a group is touched, every file in it must exist, be a
    regular file and have the size and modification time the report recorded; else the
    group is skipped with a message. The kept file is never acted on, nor a file that is
    the kept file under another name. With --yes every action is journaled before and
    after it is done; 'ikmeta undo JOURNAL' reverses them, and running the same report
    again finishes an interrupted run. Nothing is deleted outright: trash uses the system
    trash, and hardlink and symlink send each duplicate's bytes there first.
    Exit status: 0 when every group was done (or planned), 1 when some were skipped or
    failed or the report is not one, 2 for a usage error.

    \b
    Examples:
      ikmeta dupes ~/Pictures --json > report.json
      ikmeta apply trash report.json                      the plan: changes nothing
      ikmeta apply trash report.json --yes                do it, journaled
      ikmeta apply move report.json --to ~/dupes --keep oldest --yes
      ikmeta apply hardlink report.json --protect ~/Pictures/originals --yes
    """
    from ikmeta.actions import Journal, apply_plan, make_plan, read_report
    from ikmeta.actions.checks import check_present
    from ikmeta.actions.display import outcome_object, plan_line, summary
    from ikmeta.actions.run import Outcome, Skipped

    if (action == "move") != (move_to is not None):
        raise click.UsageError("move needs --to DIR, and only move takes it.")
    if absolute and action != "symlink":
        raise click.UsageError("--absolute is for symlink only.")
    name = list_name(report)
    if name == "<stdin>" and report.isatty():
        raise click.UsageError("Missing argument 'REPORT' (a file, or - with a report piped in).")
    try:
        groups = read_report(report, name)
        check_present(groups, name)
    except IkmetaError as error:
        abort(error)
    if keep_rules and any(g.chosen for g in groups):
        raise click.UsageError(
            f"{name} holds groups whose copy to keep was chosen on the review page; "
            "--keep would override that choice: drop --keep."
        )
    check_matches(groups, keep_rules, protect)
    plan = make_plan(groups, action, keep=keep_rules, protect=protect, move_to=move_to)
    for path, why in plan.notes:
        warn(path, why)
    journal = None
    if yes:
        try:
            report_name = os.path.abspath(name) if name != "<stdin>" else name
            journal = Journal.create(journal_path, action, report_name, move_to)
        except IkmetaError as error:
            abort(error)
    outcomes: list[Outcome | Skipped] = []
    state = {"failed": 0}

    def each() -> Iterator[Outcome | Skipped]:
        try:
            for outcome in apply_plan(plan, journal, absolute_links=absolute):
                if isinstance(outcome, Skipped):
                    fail(f"{outcome.path}: {outcome.reason}; group {outcome.group} skipped")
                    state["failed"] += 1
                elif outcome.status == "failed":
                    fail(f"{outcome.step.path}: cannot {outcome.step.action}: {outcome.reason}")
                    state["failed"] += 1
                outcomes.append(outcome)
                yield outcome
        except IkmetaError as error:  # the journal cannot be written: stop before the next action
            fail(error)
            state["failed"] += 1

    try:
        if output == "json":
            from ikmeta.output import json_lines

            for _ in each():
                pass
            document = {
                "action": action,
                "dryRun": not yes,
                "journal": journal.path if journal else None,
                "files": [obj for outcome in outcomes for obj in outcome_object(outcome)],
                "summary": summary(plan, outcomes, not yes, journal.path if journal else None),
            }
            emit(json_lines([document], single=True))
        elif output == "ndjson":
            from ikmeta.output import ndjson_lines

            emit(ndjson_lines(obj for outcome in each() for obj in outcome_object(outcome)))
        else:
            emit(plan_line(o) for o in each() if isinstance(o, Outcome) and o.status != "failed")
    except BrokenPipeError:  # | head: stop before the next file, and say where the journal is
        _write_stderr(
            f"ikmeta: output closed; stopped: {summary(plan, outcomes, not yes, journal.path if journal else None)}\n"
        )
        raise
    if journal is not None:
        journal.close()
    note(summary(plan, outcomes, not yes, journal.path if journal else None))
    finish(state)


def check_matches(groups: list[Any], keep_rules: tuple[Any, ...], protect: tuple[str, ...]) -> None:
    """A usage error for a --keep rule or --protect path that matches no file of the report:
    a typo, or a path from another folder, would otherwise quietly change nothing.

        ikmeta apply trash report.json --protect ~/Pictures/originl
        Error: Invalid value for '--protect': '~/Pictures/originl' holds no file of the report (no such folder)
    """
    from ikmeta.actions.plan import unmatched_protect, unmatched_rules
    from ikmeta.output import one_line

    for rule in unmatched_rules(groups, keep_rules):
        raise click.BadParameter(
            f"'{one_line(rule.text)}' matches no file of the report", param_hint="'--keep'"
        )
    for path in unmatched_protect(groups, protect):
        gone = "" if os.path.lexists(path) else " (no such file or folder)"
        raise click.BadParameter(
            f"'{one_line(path)}' holds no file of the report{gone}", param_hint="'--protect'"
        )


@click.command(context_settings=CONTEXT)
@click.argument("journal", type=click.Path(dir_okay=False))
@output_options(
    "table",
    {
        "json": "One JSON array of the steps undone.",
        "ndjson": "One JSON object per step, as each is undone.",
        "table": "One line per file.",
    },
)
def undo(journal: str, output: str) -> None:
    """Reverse what 'ikmeta apply ... --yes' did, from its journal: moved files are moved
    back, trashed files (and the originals that links replaced) come back out of the trash.

    A file now sitting at an old path is never overwritten (that file is named, and left
    where it is). Undoing twice does nothing the second time. Exit status: 0 when every
    step was undone, 1 when some could not be, 2 for a usage error.

    \b
    Examples:
      ikmeta undo ~/.local/state/ikmeta/journal/2026-12-01T10-22-33.jsonl
      ikmeta undo journal.jsonl --json
    """
    from ikmeta.actions import undo_journal
    from ikmeta.actions.display import undo_line, undo_object, undo_summary
    from ikmeta.actions.undo import UndoOutcome

    outcomes: list[UndoOutcome] = []
    state = {"failed": 0}

    def each() -> Iterator[UndoOutcome]:
        try:
            for outcome in undo_journal(journal):
                if outcome.status == "failed":
                    fail(f"{outcome.path}: cannot undo the {outcome.action}: {outcome.reason}")
                    state["failed"] += 1
                outcomes.append(outcome)
                yield outcome
        except IkmetaError as error:  # not a journal, or one that cannot be read or written
            fail(error)
            state["unusable"] = state["failed"] = state["failed"] + 1

    if output == "table":
        emit(undo_line(o) for o in each() if o.status != "failed")
    else:
        from ikmeta.output import json_lines, ndjson_lines

        objects = (undo_object(o) for o in each())
        emit(ndjson_lines(objects) if output == "ndjson" else json_lines(objects, single=False))
    if not state.get("unusable"):
        note(undo_summary(outcomes, journal))
    finish(state)
