"""The option families the commands share, each a decorator, and their usage checks.

A family is the same on every command that takes it: its names, help, defaults and order
(``--json``/``--ndjson``/``--table``, ``--jobs``, ``--dask``, ``--geometry``, ``--errors``,
``--from``, ``--cache``/``--no-cache``, and the download options handed over as one
``fetch``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ikmeta.image.limits import DECODE_BUDGET, MAX_PIXELS
from ikmeta.sources.base import FetchOptions

from .types import LIST_FILE, ByteSize, HeaderType, Seconds, StorageOptionType

F = TypeVar("F", bound=Callable[..., Any])  # a command function, as option decorators take it
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

FORMAT_HELP = {
    "json": "One JSON document.",
    "ndjson": "One compact JSON object per line, streamed.",
    "table": "Text for reading.",
}


def output_options(
    default: str | None, helps: dict[str, str] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--json``, ``--ndjson``, ``--table`` (and others in ``helps``) as one ``output``
    parameter, the same on every command; they are one choice, so two of them is a usage
    error. ``default=None`` hands the command None when none is given (it decides).
    """
    helps = {**FORMAT_HELP, **(helps or {})}

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def with_output(*args: Any, **kwargs: Any) -> Any:
            chosen = [name for name in helps if kwargs.pop(f"format_{name}")]
            if len(chosen) > 1:
                given = " and ".join(f"--{name}" for name in chosen)
                raise click.UsageError(f"{given} are one choice of output format: give one of them.")
            return f(*args, output=chosen[0] if chosen else default, **kwargs)

        for name in reversed(list(helps)):
            label = helps[name] + (" [default]" if name == default else "")
            with_output = click.option(f"--{name}", f"format_{name}", is_flag=True, help=label)(with_output)
        return with_output

    return decorate


def cpu_count() -> int:
    from ikmeta.parallel import default_jobs

    return default_jobs()


def jobs_option(f: F) -> F:
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=cpu_count,
        show_default="CPU count",
        help="Images decoded and hashed in parallel (files are read there too; URLs are "
        "downloaded by --connections threads of their own).",
    )(f)


def max_pixels_option(f: F) -> F:
    """--max-pixels N (inspect, phash, dupes): the most pixels an image may have; 0: no limit."""
    return click.option(
        "--max-pixels",
        type=click.IntRange(min=0),
        default=MAX_PIXELS,
        show_default=f"{MAX_PIXELS:,}, Pillow's decompression-bomb limit",
        metavar="N",
        help="Refuse an image of more than N pixels (width x height, read from its header before "
        "any pixel is decoded), one message each; 0: no limit. Whatever the limit, the images "
        f"decoded at once share a budget of {DECODE_BUDGET:,} pixels (two images at the default "
        "limit); an image larger than that is decoded alone.",
    )(f)


def is_given(name: str) -> bool:
    """Whether the running command's option ``name`` was given (not its default)."""
    ctx = click.get_current_context()
    return ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)


def dask_address_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("give a scheduler's address (tcp://host:8786), or local", ctx, param)
    return value


def dask_option(f: F) -> F:
    return click.option(
        "--dask",
        "dask_address",
        metavar="SCHEDULER|local",
        callback=dask_address_value,
        help="Run on a Dask cluster: a scheduler's address (tcp://host:8786), or local for "
        "--jobs worker processes on this machine (pip install 'ikmeta[dask]'). dupes --dask "
        "groups hashes as they stand (--geometry exact).",
    )(f)


def geometry_option(default: str, help_text: str) -> Callable[[F], F]:
    """--geometry any|exact (dupes and distance): whether turned, framed and cropped copies match."""
    return click.option(
        "--geometry",
        type=click.Choice(["any", "exact"]),
        default=default,
        show_default=True,
        help=help_text,
    )


def fetch_options(f: Callable[..., Any]) -> Callable[..., Any]:  # takes fetch, gives the options below
    """``--timeout``, ``--max-bytes``, ``--header``, ``--retries`` and ``--connections``,
    handed to the command as one ``fetch`` (FetchOptions)."""

    @functools.wraps(f)
    def with_fetch(
        *args: Any,
        timeout: float,
        max_bytes: int,
        headers: tuple[tuple[str, str], ...],
        retries: int,
        connections: int,
        storage_options: tuple[tuple[str, Any], ...],
        **kwargs: Any,
    ) -> Any:
        fetch = FetchOptions(
            timeout=timeout,
            max_bytes=max_bytes,
            headers=headers,
            retries=retries,
            connections=connections,
            storage_options=storage_options,
        )
        return f(*args, fetch=fetch, **kwargs)

    options = [
        click.option(
            "--timeout",
            type=Seconds(),
            default=30.0,
            show_default=True,
            help="Seconds a URL may take in all: connecting, reading the answer, redirects, "
            "and the tries and waits between them.",
        ),
        click.option(
            "--max-bytes",
            type=ByteSize(),
            default="100MB",
            show_default=True,
            help="Largest body to download from a URL (checked while streaming), or to "
            "read from standard input or a pipe.",
        ),
        click.option(
            "--header",
            "headers",
            type=HeaderType(),
            multiple=True,
            metavar="'NAME: VALUE'",
            help="Send this HTTP header with every request (repeatable), for signed or private "
            "endpoints; Authorization and Cookie go only to the host named, not where it redirects.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(0, 10),
            default=3,
            show_default=True,
            help="Times a download is tried again after a connection error, 429 or 5xx, waiting "
            "longer each time (with jitter, and as Retry-After asks, up to 30 s).",
        ),
        click.option(
            "--connections",
            type=click.IntRange(1, 256),
            default=16,
            show_default=True,
            help="Downloads at once (connections are kept alive and reused per host); "
            "--jobs threads decode what they bring.",
        ),
        click.option(
            "--storage-option",
            "storage_options",
            type=StorageOptionType(),
            multiple=True,
            metavar="KEY=VALUE",
            help="An option for s3://, gs:// and az:// sources' library (repeatable), as "
            "endpoint_url=http://127.0.0.1:9000 for MinIO, anon=true, profile=NAME; true, false, "
            "numbers and JSON objects are taken as such. Credentials are otherwise found as each "
            "store's tools find them.",
        ),
    ]
    for option in reversed(options):
        with_fetch = option(with_fetch)
    return with_fetch


def errors_option(f: F) -> F:
    return click.option(
        "--errors",
        "errors",
        type=click.Choice(["stderr", "records"]),
        default="stderr",
        show_default=True,
        help="records: with --ndjson or --json, each source that fails is also an object "
        '{"source": ..., "error": ...} in its place on stdout (to rerun exactly the failures: '
        "jq -r 'select(.error) | .source'); stderr: only the message on stderr.",
    )(f)


def check_errors_option(errors: str, output: str) -> bool:
    """Whether failures are records too; a usage error where the output has no room for them."""
    if errors == "records" and output not in ("json", "ndjson"):
        raise click.UsageError("--errors records writes JSON objects: give it with --ndjson or --json.")
    return errors == "records"


def from_option(f: F) -> F:
    return click.option(
        "--from",
        "from_file",
        type=LIST_FILE,
        metavar="FILE",
        help="Read sources from FILE, one per line (- for standard input; blank lines "
        "and # comments are skipped).",
    )(f)


def cache_options(f: F) -> F:
    """--cache PATH and --no-cache."""
    f = click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")(f)
    return click.option(
        "--cache",
        "cache_path",
        type=click.Path(dir_okay=False),
        metavar="PATH",
        help="The cache of hashes and thumbnails [default: $XDG_CACHE_HOME/ikmeta/hashes.sqlite3].",
    )(f)


def check_cache_path(cache_path: str | None, no_cache: bool) -> bool | str:
    """The cache :func:`ikmeta.api.open_cache` is to open for --cache and --no-cache (False:
    none; a path; True: ikmeta's own); a usage error for a --cache that cannot be one (empty,
    or in a folder that does not exist)."""
    if cache_path == "":
        raise click.BadParameter("an empty path; give a file name, or --no-cache", param_hint="'--cache'")
    folder = os.path.dirname(os.path.abspath(cache_path or "."))
    if cache_path and not no_cache and not os.path.isdir(folder):
        from ikmeta.output import one_line

        raise click.BadParameter(f"no such folder: {one_line(folder)}", param_hint="'--cache'")
    return False if no_cache else cache_path or True
