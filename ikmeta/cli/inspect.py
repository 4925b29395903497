"""``ikmeta inspect``: the metadata object of each image, as ImageKit's Metadata API gives it,
as JSON, NDJSON or a table; folders and store prefixes are walked.

    ikmeta inspect photo.jpg | jq .exif.exif.ISO
    ikmeta inspect --ndjson photos/ > photos.ndjson
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, TextIO

import click

from ikmeta.sources.base import FetchOptions

from .options import (
    CONTEXT,
    check_errors_option,
    errors_option,
    fetch_options,
    from_option,
    jobs_option,
    max_pixels_option,
    output_options,
)
from .sources import Sources, is_one_image, walked_reports
from .terminal import emit


@click.command(context_settings=CONTEXT)
@click.argument("sources", metavar="[SOURCE]...", nargs=-1, shell_complete=click.Path().shell_complete)
@from_option
@click.option("--hidden", is_flag=True, help="Also inspect hidden files and folders inside folders.")
@click.option("--follow-links", is_flag=True, help="Follow links to folders inside the folders given.")
@output_options(
    "json",
    {
        "json": "One JSON document: an object for one SOURCE, else an array.",
        "table": "Aligned 'field  value' lines, nested keys dotted.",
    },
)
@errors_option
@jobs_option
@max_pixels_option
@fetch_options
def inspect(
    sources: tuple[str, ...],
    from_file: TextIO | None,
    hidden: bool,
    follow_links: bool,
    output: str,
    errors: str,
    jobs: int,
    max_pixels: int,
    fetch: FetchOptions,
) -> None:
    """The metadata object of each image or video, as ImageKit's Metadata API gives it.

    SOURCE is an image or video file, a folder (walked recursively for image and video
    files; videos need PyAV: pip install 'ikmeta[video]'), - for
    standard input, an http(s) URL, or an object or prefix in a store (s3://bucket/key,
    gs://, az://; a prefix is walked like a folder). One file prints one JSON object;
    several, a folder or --from print an array, in argument order. Unreadable sources are named on stderr
    and the rest still printed (exit status 1).

    \b
    Examples:
      ikmeta inspect photo.jpg
      ikmeta inspect clip.mp4                             duration, codecs, bit rate
      ikmeta inspect *.jpg --ndjson | jq .exif.exif.ISO
      cat photo.jpg | ikmeta inspect -
      ikmeta inspect https://example.com/photo.jpg
      ikmeta inspect s3://bucket/photos/ --ndjson        a prefix, walked like a folder
      ikmeta inspect --ndjson photos/ > photos.ndjson
      find . -name '*.jpg' | ikmeta inspect --from - --ndjson
    """
    from ikmeta.api import inspect_many

    records = check_errors_option(errors, output)
    names = Sources.check(sources, from_file)
    single = names.single and is_one_image(names.args[0])
    many = functools.partial(inspect_many, max_pixels=max_pixels)
    with walked_reports(many, names, hidden, jobs, fetch, records, follow_links, videos=True) as objects:
        write_metadata(objects, output, single)


def write_metadata(objects: Iterator[dict[str, Any]], output: str, single: bool) -> None:
    if output == "ndjson":
        from ikmeta.output import ndjson_lines

        emit(ndjson_lines(objects))
    elif output == "table":
        from ikmeta.output import table_lines

        emit(table_lines(objects))
    else:
        from ikmeta.output import json_lines

        emit(json_lines(objects, single=single), colour_json=True)
