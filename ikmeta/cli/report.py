"""The duplicates report as ``ikmeta dupes`` writes it: its groups on stdout (JSON, NDJSON,
CSV or a table per group), and the summary line of what was scanned, grouped and failed.

    ikmeta dupes ~/Pictures --json > report.json
    ikmeta dupes ~/Pictures --csv > dupes.csv
"""

from __future__ import annotations

from typing import Any

from .terminal import emit_all


def show_groups(groups: list[Any], output: str) -> None:
    from ikmeta.dupes.report import csv_lines, group_json_lines, group_object, group_tables, working_folder
    from ikmeta.output import ndjson_lines

    if output == "json":
        emit_all(group_json_lines(groups))
    elif output == "ndjson":
        root = working_folder()  # each group's "root": where its relative paths lead from
        emit_all(ndjson_lines(group_object(g, root) for g in groups))
    elif output == "csv":
        emit_all(csv_lines(groups))
    else:
        from rich.console import Console

        console = Console(soft_wrap=False, highlight=False)
        for rendered, unwrapped in group_tables(groups, console.width):
            console.print(rendered, soft_wrap=unwrapped)
            console.print()


def dupes_summary(items: list[Any], groups: list[Any], failed: int, *, listed: bool = False) -> str:
    """One line: what was scanned (or ``listed`` in a hash list), groups, duplicates, the bytes
    removing the non-references would free (where the sizes are known), and what failed.

        >>> dupes_summary(items, groups, 1)
        '10 images scanned, 3 groups, 4 duplicates, 1.2 MB freed by removing the non-references, 1 unreadable'
    """
    from ikmeta.output import human_size

    def count(n: int, noun: str) -> str:
        return f"{n} {noun}" if n == 1 else f"{n} {noun}{'es' if noun.endswith('sh') else 's'}"

    copies = [item for g in groups for item, _ in g.members if item is not g.reference]
    # A file with other names (hard links) frees nothing when one name goes.
    sized = [0 if item.also_at else item.size for item in copies if item.size is not None]
    videos = sum(1 for item in items if item.video) if isinstance(items, list) else 0
    images = count(len(items) - videos, "image")
    scanned = (f"{images} and " if len(items) > videos else "") + count(videos, "video") if videos else images
    parts = [
        count(len(items), "hash") + " listed" if listed else scanned + " scanned",
        count(len(groups), "group"),
        count(len(copies), "duplicate"),
    ]
    if sized or not copies:
        known = (
            "" if len(sized) == len(copies) else f" (the {len(sized)} of {len(copies)} whose size is listed)"
        )
        parts.append(f"{human_size(sum(sized))} freed by removing the non-references{known}")
    parts.append(count(failed, "bad line") + " in the list" if listed else f"{failed} unreadable")
    flat = flat_count(items)
    if flat:
        parts.append(f"{flat} flat (grouped by colour)")
    return ", ".join(parts)


def flat_count(items: Any) -> int:
    """The flat images of a scan's Items or a hash list's columns."""
    counted = getattr(items, "flat_count", None)
    return int(counted()) if counted else sum(1 for item in items if item.flat)
