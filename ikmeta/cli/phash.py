"""``ikmeta phash``: the 64-bit pHash of each image, as 'HASH  SOURCE' lines like sha256sum
(or records for 'dupes --hashes'; or, with --dask, a Parquet hash table).

    ikmeta phash ~/Pictures | sort | uniq -w16 -D
    ikmeta phash --ndjson photos/ | ikmeta dupes --hashes -
"""

from __future__ import annotations

import functools
from typing import TextIO

import click

from ikmeta.image.limits import MAX_PIXELS
from ikmeta.sources.base import STDIN, FetchOptions

from .on_dask import hash_on_dask
from .options import (
    CONTEXT,
    check_errors_option,
    dask_option,
    errors_option,
    fetch_options,
    from_option,
    is_given,
    jobs_option,
    max_pixels_option,
    output_options,
)
from .sources import Sources, walked_reports
from .terminal import emit


@click.command(context_settings=CONTEXT)
@click.argument("sources", metavar="[SOURCE]...", nargs=-1, shell_complete=click.Path().shell_complete)
@from_option
@click.option("--hidden", is_flag=True, help="Also hash hidden files and folders inside folders.")
@click.option("--follow-links", is_flag=True, help="Follow links to folders inside the folders given.")
@output_options(
    "table",
    {
        "json": "One JSON array of objects (see --ndjson).",
        "ndjson": "One object per line, streamed: source, pHash, flat (a flat image's mean colour, "
        "else null), width and height (as displayed), size, format, quality, camera, captured, "
        "mtimeNs: what 'dupes --hashes' needs to rank copies as 'dupes' does.",
        "table": "'HASH  SOURCE' lines, like sha256sum.",
    },
)
@errors_option
@dask_option
@click.option(
    "--parquet",
    metavar="DIR",
    help="With --dask: write the hashes as a Parquet table (a folder, or a prefix in a store: "
    "s3://bucket/hashes/) for 'dupes --dask --hashes DIR', instead of printing them.",
)
@jobs_option
@max_pixels_option
@fetch_options
def phash(
    sources: tuple[str, ...],
    from_file: TextIO | None,
    hidden: bool,
    follow_links: bool,
    output: str,
    errors: str,
    dask_address: str | None,
    parquet: str | None,
    jobs: int,
    max_pixels: int,
    fetch: FetchOptions,
) -> None:
    """The 64-bit pHash of each image, as 16 hex digits: 'HASH  SOURCE' lines, like sha256sum.

    A video's line shows the pHash of its middle key frame; --ndjson gives its fingerprint,
    the pHashes of its key frames (at most one a second) with their times ('frames').

    SOURCE is an image or video file, a folder (walked recursively for image and video files), - for
    standard input, an http(s) URL, or an object or prefix in a store (s3://, gs://,
    az://). An image's hash is the one 'ikmeta inspect' reports.
    As in sha256sum, a name with a backslash or line break is escaped and its line
    starts with a backslash. --ndjson and --json objects also carry 'flat' (the mean colour
    of a flat image: a solid colour or a blank page, whose hash carries no information),
    'turned' (the pHashes of the picture turned and mirrored seven ways), 'inner' (the
    picture inside a plain border), 'windows' (the pHashes of ten windows of the picture:
    what finds cropped and captioned copies) and what ranks copies, so
    'phash --ndjson | dupes --hashes -' groups as 'dupes' does.

    \b
    Examples:
      ikmeta phash photo.jpg
      ikmeta phash --ndjson clip.mp4 | jq -c .frames          a video's key frames
      ikmeta phash ~/Pictures | sort | uniq -w16 -D     exact-hash duplicates
      ikmeta phash --ndjson photos/ | jq -r .pHash
      find . -name '*.jpg' | ikmeta phash --from -
      ikmeta phash --dask local --parquet hashes/ photos/     hash on Dask, into Parquet
    """
    from ikmeta.api import hash_records

    records = check_errors_option(errors, output)
    names = Sources.check(sources, from_file)
    if dask_address is not None or parquet is not None:
        if dask_address is None or parquet is None:
            raise click.UsageError("--dask and --parquet go together: phash --dask SCHEDULER --parquet DIR.")
        if STDIN in names.args:
            raise click.UsageError(
                "'-' (standard input) cannot be hashed on Dask: its workers read their own."
            )
        if is_given("max_pixels"):
            raise click.UsageError(
                f"--max-pixels is not handed to Dask workers yet: they refuse images of more "
                f"than {MAX_PIXELS:,} pixels."
            )
        hash_on_dask(names, dask_address, parquet, hidden, jobs, fetch)
        return
    many = functools.partial(hash_records, max_pixels=max_pixels)
    with walked_reports(many, names, hidden, jobs, fetch, records, follow_links, videos=True) as objects:
        if output == "table":
            from ikmeta.output import checksum_line

            emit(checksum_line(obj["pHash"], obj["source"]) for obj in objects)
        else:
            from ikmeta.output import json_lines, ndjson_lines

            emit(ndjson_lines(objects) if output == "ndjson" else json_lines(objects, single=False))
