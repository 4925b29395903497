"""``ikmeta review``: the review page of a duplicates report, one self-contained HTML file in
which to choose what to keep, for 'ikmeta apply'. Also the page as 'dupes --html' writes it.

    ikmeta dupes ~/Pictures --json > report.json
    ikmeta review report.json -o review.html
"""

from __future__ import annotations

import os
from typing import Any, TextIO

import click

from ikmeta.errors import IkmetaError
from ikmeta.sources.base import FetchOptions

from .options import CONTEXT, cache_options, check_cache_path, fetch_options, jobs_option
from .sources import list_name
from .terminal import ProgressBar, abort, note, warn
from .types import LIST_FILE


def check_page_path(value: str | None, param: click.Parameter, ctx: click.Context) -> str | None:
    """A usage error, before any work, for a page that cannot be written there, or whose
    name holds a file that is not a page ikmeta made (never overwritten)."""
    if value is None:
        return None
    from ikmeta.output import one_line
    from ikmeta.review import is_review_page

    if value in ("", "-"):
        raise click.BadParameter("give the page a file name", ctx=ctx, param=param)
    folder = os.path.dirname(os.path.abspath(value))
    if not os.path.isdir(folder):
        raise click.BadParameter(f"no such folder: {one_line(folder)}", ctx=ctx, param=param)
    if os.path.isdir(value):
        raise click.BadParameter(f"{one_line(value)} is a folder", ctx=ctx, param=param)
    if os.path.lexists(value) and not is_review_page(value):
        raise click.BadParameter(
            f"{one_line(value)} exists and is not a review page ikmeta made: not overwriting it "
            "(remove it, or choose another name)",
            ctx=ctx,
            param=param,
        )
    return value


@click.command(context_settings=CONTEXT)
@click.argument("report", type=LIST_FILE, default="-", metavar="[REPORT]")
@click.option(
    "-o",
    "--output",
    "page",
    type=click.Path(dir_okay=False),
    default="review.html",
    show_default=True,
    metavar="FILE",
    callback=lambda ctx, param, value: check_page_path(value, param, ctx),
    help="The page to write (a page ikmeta made is replaced; any other file is left alone).",
)
@cache_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no closing line.")
@jobs_option
@fetch_options
def review(
    report: TextIO,
    page: str,
    cache_path: str | None,
    no_cache: bool,
    quiet: bool,
    jobs: int,
    fetch: FetchOptions,
) -> None:
    """Write the review page of a duplicates report: the groups side by side in the
    browser, to choose what to keep and download the choice for 'ikmeta apply'.

    REPORT is what 'ikmeta dupes --json' or '--ndjson' wrote (- or nothing: standard
    input), used from any folder; nothing is scanned again. The page is one
    self-contained HTML file (styles, program and thumbnails inside; it makes no request
    anywhere): open it in a browser, look, compare (click a thumbnail), unmark what must
    stay or choose another copy to keep, then "Download selection" saves a report that
    'ikmeta apply' reads with its usual checks. Thumbnails are cached with the hashes. A file that is gone or changed
    since the report is shown as such. Exit status: 0 when the page was written, 1 when
    it could not be, the report is not one or none of its files exist, 2 for a usage error.

    \b
    Examples:
      ikmeta dupes ~/Pictures --json > report.json
      ikmeta review report.json -o review.html
      ikmeta apply trash ~/Downloads/selection-2026-11-30-142501.json --yes
    """
    from ikmeta.actions import read_report
    from ikmeta.actions.checks import check_present, settled

    name = list_name(report)
    if name == "<stdin>" and report.isatty():
        raise click.UsageError("Missing argument 'REPORT' (a file, or - with a report piped in).")
    cache_choice = check_cache_path(cache_path, no_cache)
    try:
        read = [settled(g) for g in read_report(report, name)]
        check_present(read, name)
    except IkmetaError as error:
        abort(error)
    groups = [g.as_object() for g in read]
    from ikmeta.api import open_cache

    with open_cache(cache_choice, on_warning=warn) as cache:
        write_review_page(groups, page, {"report": name}, cache, jobs, fetch, quiet)


def write_review_page(
    groups: list[dict[str, Any]],
    path: str,
    origin: dict[str, Any],
    cache: Any,
    jobs: int,
    fetch: FetchOptions,
    quiet: bool,
) -> None:
    """Write the review page (thumbnails with a progress bar); exit 1 when it cannot be written.
    ``groups``: as a report holds them (times as strings of digits, paths from its root) or
    as :meth:`ReportGroup.as_object` gives them: the page is given numbers and paths from here."""
    from ikmeta.dupes.report import report_group
    from ikmeta.errors import os_reason
    from ikmeta.output import human_size, one_line
    from ikmeta.review import NotAPage, write_review

    with ProgressBar(quiet, "thumbnails") as bar:
        try:
            groups = [report_group(g, k, f"group {k}").as_object() for k, g in enumerate(groups, 1)]
            made = write_review(
                groups,
                path,
                origin=origin,
                cache=cache,
                jobs=jobs,
                fetch=fetch,
                on_total=bar.total,
                on_thumbnail=bar.advance,
            )
        except IkmetaError as error:
            abort(error)
        except NotAPage:  # made while the page was
            abort(f"{one_line(path)}: exists and is not a review page ikmeta made: not overwriting it")
        except OSError as exc:
            abort(f"{one_line(path)}: cannot write the review page: {os_reason(exc)}")
    for source, reason in made.without_preview:
        warn(source, f"shown without a thumbnail: {reason}")
    if not quiet:
        count = f"{len(groups)} group{'s' * (len(groups) != 1)}"
        note(f"ikmeta: wrote {one_line(path)} ({count}, {human_size(made.size)}): open it in a browser")


def scan_origin(
    paths: tuple[str, ...],
    from_file: TextIO | None,
    hash_list: TextIO | str | None,
    max_distance: int,
    linkage: str,
    hidden: bool,
) -> dict[str, Any]:
    """What the review page says the groups come from: the scan's paths (or lists) and options."""
    scan: dict[str, Any] = {"paths": list(paths), "max": max_distance, "linkage": linkage, "hidden": hidden}
    if from_file is not None:
        scan["from"] = list_name(from_file)
    if hash_list is not None:
        scan["hashes"] = list_name(hash_list)
    return {"scan": scan}
