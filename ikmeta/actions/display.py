"""How the outcomes of ``apply`` and ``undo`` read: a line per file, JSON objects, a summary.

>>> plan_line(Outcome(step, "planned"))
'trash  photos/b.jpg  (keeping photos/a.jpg)'
"""

from __future__ import annotations

from typing import Any

from ikmeta.output import human_size, one_line

from .plan import Plan
from .run import Outcome, Skipped
from .undo import UndoOutcome

DONE = {"trash": "trashed", "move": "moved", "hardlink": "hardlinked", "symlink": "symlinked"}


def plan_line(outcome: Outcome) -> str:
    """One file of the plan or of the run: what is (or was) done to it, and the kept file."""
    step = outcome.step
    verb = {"planned": step.action, "done": DONE[step.action]}.get(outcome.status, outcome.status)
    where = f"  to {one_line(step.to)}" if step.to else ""
    if outcome.status in ("already done", "left alone"):
        label = "done already" if outcome.status == "already done" else "left alone"
        return f"{label}  {one_line(step.path)}  ({outcome.reason})"
    named = f"named {one_line(step.named)}, " if step.named else ""
    return f"{verb}  {one_line(step.path)}{where}  ({named}keeping {one_line(step.kept)})"


def outcome_object(outcome: Outcome | Skipped) -> list[dict[str, Any]]:
    """The JSON objects of an outcome: one per file (a skipped group gives one per file)."""
    if isinstance(outcome, Skipped):
        return [
            _step_object(step, "skipped", f"{outcome.path}: {outcome.reason}", None) for step in outcome.steps
        ]
    return [_step_object(outcome.step, outcome.status, outcome.reason, outcome.trashed)]


def _step_object(step: Any, status: str, reason: str | None, trashed: str | None) -> dict[str, Any]:
    return {
        "group": step.group,
        "action": step.action,
        "path": step.path,
        "named": getattr(step, "named", None),
        "kept": step.kept,
        "to": step.to,
        "size": step.size,
        "status": status,
        "reason": reason,
        "trashed": trashed,
    }


def summary(plan: Plan, outcomes: list[Outcome | Skipped], dry_run: bool, journal: str | None) -> str:
    """One line: files and groups acted on (or to act on), bytes freed, what was skipped."""
    acted = [o for o in outcomes if isinstance(o, Outcome) and o.status in ("planned", "done")]
    skipped = [o for o in outcomes if isinstance(o, Skipped)]
    failed = [o for o in outcomes if isinstance(o, Outcome) and o.status == "failed"]
    already = [o for o in outcomes if isinstance(o, Outcome) and o.status == "already done"]
    groups = len({o.step.group for o in acted})
    freed = human_size(sum(o.step.size or 0 for o in acted if not o.step.linked))  # hard links free nothing
    verb = plan.action if dry_run else DONE[plan.action]
    head = f"{'would ' if dry_run else ''}{verb} {_count(len(acted), 'file')} in {_count(groups, 'group')}"
    parts = [head + (f", freeing {freed}" if plan.action != "move" else f" ({freed})")]
    if already:
        parts.append(f"{len(already)} done already")
    if skipped:
        parts.append(f"{_count(len(skipped), 'group')} skipped")
    if failed:
        parts.append(f"{len(failed)} failed")
    protected = sum(len(paths) for paths in plan.protected.values())
    if protected:
        parts.append(f"{protected} protected")
    line = ", ".join(parts)
    if dry_run:
        return line + "; nothing changed (add --yes to do it)"
    return line + (
        f"; journal: {one_line(journal)} (undo: ikmeta undo {one_line(journal)})" if journal else ""
    )


def undo_line(outcome: UndoOutcome) -> str:
    undone = "trashed the upload" if outcome.action == "upload" else "restored"
    verb = {"undone": undone, "nothing to undo": "nothing to undo"}.get(outcome.status, outcome.status)
    reason = f"  ({outcome.reason})" if outcome.reason and outcome.status != "failed" else ""
    return f"{verb}  {one_line(outcome.path)}{reason}"


def undo_object(outcome: UndoOutcome) -> dict[str, Any]:
    return {
        "step": outcome.step,
        "action": outcome.action,
        "path": outcome.path,
        "status": outcome.status,
        "reason": outcome.reason,
    }


def undo_summary(outcomes: list[UndoOutcome], journal: str) -> str:
    counts = {status: sum(1 for o in outcomes if o.status == status) for status in ("undone", "failed")}
    if not outcomes:
        return f"nothing left to undo in {one_line(journal)}"
    uploads = sum(1 for o in outcomes if o.status == "undone" and o.action == "upload")
    line = f"restored {_count(counts['undone'] - uploads, 'file')}"
    line += f", {_count(uploads, 'upload')} sent to the trash" if uploads else ""
    return line + (f", {counts['failed']} could not be" if counts["failed"] else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
