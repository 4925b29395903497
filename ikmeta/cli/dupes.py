"""``ikmeta dupes``: groups of near-duplicate images by pHash distance, each led by its best
copy, from a scan (cached), a hash list, or a Parquet hash table on Dask. It only reports.

    ikmeta dupes ~/Pictures --max 6 --json > groups.json
    ikmeta phash photos/ > hashes.txt && ikmeta dupes --hashes hashes.txt
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import click

from ikmeta.errors import IkmetaError
from ikmeta.image.limits import MAX_PIXELS
from ikmeta.sources.base import FetchOptions

from .on_dask import group_on_dask
from .options import (
    CONTEXT,
    cache_options,
    check_cache_path,
    dask_option,
    fetch_options,
    from_option,
    geometry_option,
    is_given,
    jobs_option,
    max_pixels_option,
    output_options,
)
from .report import dupes_summary, flat_count, show_groups
from .review import check_page_path, scan_origin, write_review_page
from .sources import Sources, finish, list_name
from .terminal import ProgressBar, abort, fail, note, note_skipped, say, warn
from .types import HASHES


@click.command(context_settings=CONTEXT)
@click.argument("paths", metavar="[PATH]...", nargs=-1, shell_complete=click.Path().shell_complete)
@from_option
@click.option(
    "--hashes",
    "hash_list",
    type=HASHES,
    metavar="FILE",
    help="Group a hash list instead of scanning: 'HASH  SOURCE' lines as 'ikmeta phash' prints, "
    "or NDJSON objects with pHash and source (- for standard input); with --dask, the folder "
    "or prefix of a Parquet hash table ('phash --dask --parquet DIR').",
)
@click.option(
    "--max",
    "max_distance",
    type=click.IntRange(0, 64),
    default=10,
    show_default=True,
    help="Largest Hamming distance between pHashes that counts as a duplicate. Random 64-bit "
    "hashes come within 10 of each other once in about 100 million pairs: 1 million hashes "
    "hold about 5,000 such pairs by chance, 100 million about 50 million (a warning says "
    "when a run holds 1,000 or more, and which --max would not).",
)
@click.option(
    "--linkage",
    type=click.Choice(["reference", "connected"]),
    default="reference",
    show_default=True,
    help="reference: every member within --max of its group's best copy; connected: transitive groups.",
)
@geometry_option(
    "any",
    "any: copies turned 90, 180 or 270 degrees or mirrored (their pixels, with no EXIF tag to "
    "undo it), in a plain frame, cropped or with a caption band match too, and say how ('match'); "
    "exact: only copies as they stand.",
)
@click.option("--hidden", is_flag=True, help="Also scan hidden files and folders.")
@click.option(
    "--follow-links",
    is_flag=True,
    help="Follow links to folders inside the folders scanned (not followed by default).",
)
@click.option(
    "--html",
    "html",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    callback=lambda ctx, param, value: check_page_path(value, param, ctx),
    help="Also write the review page to FILE (one self-contained HTML file: open it in a browser, "
    "choose, download the selection for 'ikmeta apply'). The groups are then printed only "
    "when an output format is given.",
)
@cache_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
@output_options(
    None,
    {
        "json": "A JSON array of groups [default when piped].",
        "ndjson": "One group per line.",
        "csv": "One CSV row per file, with its group number.",
        "table": "A table per group and a summary [default on a terminal].",
    },
)
@dask_option
@jobs_option
@max_pixels_option
@fetch_options
def dupes(
    paths: tuple[str, ...],
    from_file: TextIO | None,
    hash_list: TextIO | str | None,
    max_distance: int,
    linkage: str,
    geometry: str,
    hidden: bool,
    follow_links: bool,
    html: str | None,
    cache_path: str | None,
    no_cache: bool,
    quiet: bool,
    output: str | None,
    dask_address: str | None,
    jobs: int,
    max_pixels: int,
    fetch: FetchOptions,
) -> None:
    """Groups of near-duplicate images, by pHash distance, and of near-duplicate videos (with
    the video extra), by the pHashes of their key frames. It only reports: it never moves,
    deletes or rewrites a file.

    PATHs are folders (walked recursively for image and video files), files, URLs, or objects
    and prefixes in a store (s3://, gs://, az://). Each group's
    reference is its best copy, listed first; every other member is within --max of it
    (--linkage connected chains instead). The best copy is the original, not a conversion:
    most pixels as displayed (within 1%), then camera metadata present (EXIF Make, Model
    or DateTimeOriginal), then the earlier capture time (DateTimeOriginal, else the
    modification time), then the less lossy format (HEIC/AVIF, then JPEG by quality, then
    PNG, WebP, TIFF, GIF, BMP), then the larger file, then path order.
    Copies turned or mirrored (their pixels), in a plain frame, cropped, or with a caption
    band match too, through other views of the picture (turned, inside its frame, windows of
    it), within 40% of --max; each file's 'match' says how ("rotated 90", "framed",
    "cropped", "edge differs"...). --geometry exact: only copies as they stand, and
    grouping a million hashes about 1.7x faster.
    A video groups only with videos: copies re-encoded, scaled, in another codec or
    container, without sound, turned, letterboxed, or trimmed (the shorter lasting at least
    half the longer), each group around its longest video whatever --linkage (--geometry
    exact: not turned); the copy to keep is the longer, then the larger picture, then the
    higher bit rate in one codec, then sound, capture metadata, the older.
    Solid-colour and blank images carry no pHash information: they are grouped only with
    others of about the same colour, never by pHash. Hashes are cached, so a second scan
    is near-instant. Exit status: 0 when the scan ran (duplicates or not), 1 when some
    files could not be read, 2 for a usage error.

    \b
    Examples:
      ikmeta dupes ~/Pictures
      ikmeta dupes ~/Pictures --max 6 --json > groups.json
      ikmeta dupes ~/Pictures --html review.html          the review page, and the summary
      ikmeta phash photos/ > hashes.txt && ikmeta dupes --hashes hashes.txt
      ikmeta dupes --dask local --hashes hashes/ --max 6    a Parquet table, on Dask
    """
    from ikmeta.api import FileChecks, file_checks, group, open_cache
    from ikmeta.dupes.report import group_object

    shown = output is not None or html is None  # with --html, the groups only when asked for
    # NO_COLOR turns colour off, not the table
    output = output or ("table" if sys.stdout.isatty() else "json")
    if hash_list is not None and (paths or from_file is not None):
        raise click.UsageError("--hashes groups a hash list: give it without PATHs or --from.")
    if hash_list is None:
        Sources.check(paths, from_file, name="PATH")
    if dask_address is not None and geometry == "any" and is_given("geometry"):
        raise click.UsageError("--dask groups hashes as they stand (--geometry exact) for now.")
    if dask_address is not None:
        geometry = "exact"
    if dask_address is not None and not isinstance(hash_list, str):
        raise click.UsageError(
            "--dask groups a Parquet hash table: --hashes DIR, as 'phash --dask --parquet DIR' writes it."
        )
    if isinstance(hash_list, str) and dask_address is None:
        raise click.UsageError(
            f"--hashes {hash_list} names a folder or a store: a Parquet hash table, which needs --dask."
        )
    cache_choice = check_cache_path(cache_path, no_cache)
    state = {"failed": 0}
    with open_cache(cache_choice, on_warning=warn) as cache:
        items: Any
        if isinstance(hash_list, str):
            items, groups = group_on_dask(hash_list, dask_address or "", max_distance, linkage, jobs, fetch)
        else:
            if hash_list is not None:
                items = read_hashes(hash_list, state)
            else:
                listed = Sources(list(paths), from_file)
                items = scan_items(listed, hidden, cache, jobs, fetch, quiet, state, follow_links, max_pixels)
            from ikmeta.dupes.chance import chance_warning

            by_chance = chance_warning(len(items) - flat_count(items), max_distance)
            if by_chance:
                note(f"ikmeta: warning: {by_chance}")
            checks = FileChecks(judge=None, dense=None, blanks=None)  # a hash list: no files to look at
            if hash_list is None:
                checks = file_checks(cache, fetch, max_pixels, jobs)
            try:
                groups = group(items, max_distance, linkage=linkage, geometry=geometry, jobs=jobs, **checks)
            except MemoryError:
                abort(f"not enough memory to group {len(items)} images at --max {max_distance}")
        if html is not None:
            origin = scan_origin(paths, from_file, hash_list, max_distance, linkage, hidden)
            origin["scan"]["geometry"] = geometry
            videos = sum(1 for item in items if item.video) if isinstance(items, list) else 0
            origin["scan"].update(scanned=len(items), videos=videos, unreadable=state["failed"])
            write_review_page([group_object(g) for g in groups], html, origin, cache, jobs, fetch, quiet)
    if shown:
        show_groups(groups, output)
    if not quiet:
        summary = dupes_summary(items, groups, state["failed"], listed=hash_list is not None)
        if output == "table" and shown:
            say(summary)
        else:
            note(summary)
    finish(state)


def read_hashes(stream: TextIO, state: dict[str, int]) -> Any:
    """A hash list's images and videos (:func:`ikmeta.api.read_hash_list`); each bad line
    named on stderr, the plain lines of videos (one frame's pHash) counted in one line."""
    from ikmeta.api import read_hash_list
    from ikmeta.dupes.hashlist import NOT_GROUPED, VideoLine

    videos = 0

    def bad_line(error: IkmetaError) -> None:
        nonlocal videos
        if isinstance(error, VideoLine):
            videos += 1
            return
        fail(error)
        state["failed"] += 1

    items = read_hash_list(stream, on_error=bad_line, name=list_name(stream))
    if videos:
        note(f"ikmeta: left out {videos} video{'s' if videos != 1 else ''} of the hash list: {NOT_GROUPED}")
    return items


def scan_items(
    sources: Sources,
    hidden: bool,
    cache: Any,
    jobs: int,
    fetch: FetchOptions,
    quiet: bool,
    state: dict[str, int],
    follow_links: bool = False,
    max_pixels: int | None = MAX_PIXELS,
) -> list[Any]:
    """Hash every image and fingerprint every video (PyAV permitting; cached where possible),
    with a progress bar on a terminal."""
    from ikmeta import video
    from ikmeta.dupes.scan import scan_paths

    announced = cache.problem  # already said

    def failed(error: IkmetaError) -> None:
        fail(error)
        state["failed"] += 1

    with ProgressBar(quiet) as bar:
        items, skipped = scan_paths(
            sources,
            cache,
            jobs=jobs,
            fetch=fetch,
            hidden=hidden,
            follow_links=follow_links,
            on_error=failed,
            on_warning=warn,
            on_progress=bar.progress,
            max_pixels=max_pixels,
            videos=video.available(),
        )
    if not quiet:
        note_skipped(skipped)
    if cache.problem and cache.problem != announced:  # it broke during the scan
        from ikmeta.api import cache_name

        warn(cache_name(cache), cache.problem)
    return items
