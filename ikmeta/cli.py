"""The ``ikmeta`` command line: a thin Click layer over the core.

Data goes to stdout, messages to stderr as ``ikmeta: <source>: <reason>``.
Exit codes: 0 all done, 1 some source could not be read, 2 usage error, 130 interrupted.
Core modules are imported inside the commands, so ``--help`` and ``distance`` stay fast.
"""

from __future__ import annotations

import errno
import functools
import math
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TextIO, TypeVar

import click

from . import __version__
from .errors import IkmetaError, SourceError, guarded
from .source import STDIN, FetchOptions, is_url

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
F = TypeVar("F", bound=Callable[..., Any])  # a command function, as option decorators take it
EXIT_INTERRUPTED = 128 + 2  # as the shell reports a program killed by SIGINT
# Errors writing stdout that mean the output cannot be written (a full disk, a closed descriptor).
OUTPUT_ERRORS = {errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT, errno.EFBIG}
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class IkmetaGroup(click.Group):
    """Click group that ends quietly on a closed pipe (``ikmeta ... | head``)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        warnings.simplefilter("ignore")  # library warnings are not for the user; ikmeta reports its own
        for stream in (sys.stdout, sys.stderr):
            # A file name's bytes that are not UTF-8 go out as they came in, never as an error.
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="surrogateescape")
        if sys.stdout is None:
            print("ikmeta: standard output is closed; nothing to write to", file=sys.stderr)
            sys.exit(EXIT_FAILED)
        previous = signal.signal(signal.SIGINT, _interrupted)
        try:
            return super().main(*args, **kwargs)
        except BrokenPipeError:
            _exit_now(EXIT_FAILED)
        except SystemExit as exc:  # also how Click ends a run on a closed pipe
            from .parallel import FEED_THREAD

            if any(t.name == FEED_THREAD and t.is_alive() for t in threading.enumerate()):
                # A thread is still reading a --from list on stdin: a normal interpreter exit
                # would abort on it ("could not acquire lock ... at interpreter shutdown").
                _exit_now(
                    exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else EXIT_FAILED
                )
            raise
        except OSError as exc:  # a full disk, a closed descriptor: the output cannot be written
            if exc.errno not in OUTPUT_ERRORS:
                raise
            print(f"ikmeta: cannot write the output: {os.strerror(exc.errno).lower()}", file=sys.stderr)
            _exit_now(EXIT_FAILED)  # not a normal exit, whose flush of stdout would fail again
        finally:
            signal.signal(signal.SIGINT, previous)


def _exit_now(code: int) -> None:
    """Exit at once, with what is written so far flushed where it still can be."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _interrupted(signum: int, frame: Any) -> None:
    """Ctrl-C: stop at once (decodes in flight are not waited for), with the shell's code for it."""
    try:
        print(("\n" if sys.stderr.isatty() else "") + "ikmeta: interrupted", file=sys.stderr, flush=True)
    except (AttributeError, OSError, ValueError):  # stderr closed: nothing to say it on
        pass
    os._exit(EXIT_INTERRUPTED)


@click.group(cls=IkmetaGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="ikmeta")
def cli() -> None:
    """Image metadata (ImageKit's Metadata API object, computed locally) and near-duplicates.

    \b
      ikmeta inspect photo.jpg               the metadata object as JSON
      ikmeta inspect *.jpg --ndjson | jq .exif.exif.ISO
      ikmeta phash photos/                   a pHash per image, like sha256sum
      ikmeta distance a.jpg b.jpg            how many pHash bits differ
      ikmeta dupes ~/Pictures --max 10       groups of near-duplicates

    A SOURCE is a file, - for standard input, or an http(s) URL.
    Exit status: 0 when every source was read, 1 when some could not be
    (each named on stderr), 2 for a usage error, 130 when interrupted.
    """


# --- shared options -------------------------------------------------------------------------

FORMAT_HELP = {
    "json": "One JSON document.",
    "ndjson": "One compact JSON object per line, streamed.",
    "table": "Text for reading.",
}


def output_options(
    default: str, helps: dict[str, str] | None = None, *, tag_default: bool = True
) -> Callable[[F], F]:
    """``--json``, ``--ndjson``, ``--table`` as one ``output`` parameter, the same on every command.

    ``tag_default=False`` leaves "[default]" out of the help, for a command whose help says
    itself when each format is the default.
    """
    helps = {**FORMAT_HELP, **(helps or {})}

    def decorate(f: F) -> F:
        for name in reversed(list(helps)):
            label = helps[name] + (" [default]" if name == default and tag_default else "")
            f = click.option(f"--{name}", "output", flag_value=name, default=name == default, help=label)(f)
        return f

    return decorate


def cpu_count() -> int:
    from .parallel import default_jobs

    return default_jobs()


def jobs_option(f: F) -> F:
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=cpu_count,
        show_default="CPU count",
        help="Sources read, downloaded and decoded in parallel.",
    )(f)


class ByteSize(click.ParamType[int]):
    """A size in bytes: 1000000, 500k, 100MB, 2MiB, 1G."""

    name = "size"
    UNITS: ClassVar[dict[str, int]] = {
        "": 1,
        "b": 1,
        "k": 10**3,
        "kb": 10**3,
        "m": 10**6,
        "mb": 10**6,
        "g": 10**9,
        "gb": 10**9,
        "kib": 2**10,
        "mib": 2**20,
        "gib": 2**30,
    }

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(value))
        unit = match[2].lower() if match else None
        if not match or unit not in self.UNITS or float(match[1]) * self.UNITS[unit] < 1:
            self.fail(f"{value!r} is not a size (examples: 5000000, 500k, 100MB, 2MiB)", param, ctx)
        return int(float(match[1]) * self.UNITS[unit])


class Seconds(click.FloatRange):
    """A positive, finite number of seconds, at most a day."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=0, max=86400, min_open=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if math.isnan(number):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return super().convert(value, param, ctx)


def fetch_options(f: Callable[..., Any]) -> Callable[..., Any]:  # takes fetch, gives timeout, max_bytes
    """``--timeout`` and ``--max-bytes``, handed to the command as one ``fetch`` (FetchOptions)."""

    @functools.wraps(f)
    def with_fetch(*args: Any, timeout: float, max_bytes: int, **kwargs: Any) -> Any:
        return f(*args, fetch=FetchOptions(timeout=timeout, max_bytes=max_bytes), **kwargs)

    with_fetch = click.option(
        "--max-bytes",
        type=ByteSize(),
        default="100MB",
        show_default=True,
        help="Largest body to download from a URL (checked while streaming), or to "
        "read from standard input or a pipe.",
    )(with_fetch)
    return click.option(
        "--timeout",
        type=Seconds(),
        default=30.0,
        show_default=True,
        help="Seconds to wait for a URL's server, to connect and for each read.",
    )(with_fetch)


# A list of names or hashes: UTF-8 (a leading BOM skipped), and bytes that are not UTF-8 kept
# as the file names they stand for (surrogateescape), never a decoding error.
LIST_FILE = click.File("r", encoding="utf-8-sig", errors="surrogateescape", lazy=False)


def listed_name(line: str) -> str:
    """A --from line as a source: the name exactly as written (spaces may be part of it),
    unless no such file exists and the name without its outer spaces does (or is a URL)."""
    bare = line.strip()
    if bare != line and (is_url(bare) or (not os.path.lexists(line) and os.path.lexists(bare))):
        return bare
    return line


def list_name(stream: TextIO) -> str:
    """The name of a --from or --hashes list for messages: its path, or <stdin>."""
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else "<stdin>"


def from_option(f: F) -> F:
    return click.option(
        "--from",
        "from_file",
        type=LIST_FILE,
        metavar="FILE",
        help="Read sources from FILE, one per line (- for standard input; blank lines "
        "and # comments are skipped).",
    )(f)


@dataclass
class Sources:
    """The sources a command was given: arguments first, then the lines of ``--from``."""

    args: list[str]
    from_file: TextIO | None = None

    @classmethod
    def check(
        cls, args: Iterable[str], from_file: TextIO | None = None, required: bool = True, name: str = "SOURCE"
    ) -> Sources:
        """The sources, once the usage rules hold (``name``: the arguments' name in messages)."""
        args = list(args)
        if required and not args and from_file is None:
            raise click.UsageError(f"Missing argument '{name}...' (or --from FILE).")
        if args.count(STDIN) > 1:
            raise click.BadParameter("'-' (standard input) can be given only once.", param_hint=name)
        if STDIN in args and from_file is not None and list_name(from_file) == "<stdin>":
            raise click.BadParameter(
                "'-' cannot be a source when --from - reads the list from standard input.", param_hint=name
            )
        return cls(args, from_file)

    @property
    def single(self) -> bool:
        return len(self.args) == 1 and self.from_file is None

    def __iter__(self) -> Iterator[str | IkmetaError]:
        yield from self.args
        if self.from_file is not None:
            from .source import list_lines

            for where, name in list_lines(self.from_file, list_name(self.from_file)):
                if isinstance(name, SourceError):
                    yield name
                elif "\x00" in name:
                    yield SourceError(
                        where, "not a file name (it holds a NUL byte: is the list a binary file?)"
                    )
                elif name.strip() == STDIN:
                    yield SourceError(where, "'-' cannot be named in a --from list")
                else:
                    yield listed_name(name)


def fail(error: IkmetaError | str) -> None:
    from .output import one_line

    click.echo(f"ikmeta: {one_line(str(error))}", err=True)


def warn(source: str, message: str) -> None:
    from .output import one_line

    click.echo(f"ikmeta: {one_line(f'{source}: warning: {message}')}", err=True)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def emit(lines: Iterable[str], colour_json: bool = False) -> None:
    """Write lines to stdout as they come; JSON is coloured only on a terminal."""
    if colour_json and stdout_is_terminal():
        from rich.console import Console
        from rich.highlighter import JSONHighlighter

        console, highlight = Console(soft_wrap=True), JSONHighlighter()
        for line in lines:
            console.print(highlight(line))
        return
    for line in lines:
        click.echo(line, color=True)  # as it is: a file name's escape codes are not ikmeta's styling


def reports(
    work: Callable[[str], Any], sources: Iterable[str | IkmetaError], jobs: int, state: dict[str, int]
) -> Iterator[dict[str, Any]]:
    """The metadata of each source in order; failures and warnings go to stderr as they come."""
    from .parallel import ordered_map

    for outcome in ordered_map(functools.partial(guarded, work), sources, jobs):
        if isinstance(outcome, IkmetaError):
            fail(outcome)
            state["failed"] += 1
            continue
        for message in outcome.warnings:
            warn(outcome.source, message)
        yield outcome.metadata


def finish(state: dict[str, int]) -> None:
    if state["failed"]:
        sys.exit(EXIT_FAILED)


# --- inspect --------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("sources", metavar="[SOURCE]...", nargs=-1)
@from_option
@output_options(
    "json",
    {
        "json": "One JSON document: an object for one SOURCE, else an array.",
        "table": "Aligned 'field  value' lines, nested keys dotted.",
    },
)
@jobs_option
@fetch_options
def inspect(
    sources: tuple[str, ...], from_file: TextIO | None, output: str, jobs: int, fetch: FetchOptions
) -> None:
    """The metadata object of each image, as ImageKit's Metadata API gives it.

    SOURCE is an image file, - for standard input, or an http(s) URL. One source prints
    one JSON object; several (or --from) print an array, in argument order. Unreadable
    sources are named on stderr and the rest still printed (exit status 1).

    \b
    Examples:
      ikmeta inspect photo.jpg
      ikmeta inspect *.jpg --ndjson | jq .exif.exif.ISO
      cat photo.jpg | ikmeta inspect -
      ikmeta inspect https://example.com/photo.jpg
      find . -name '*.jpg' | ikmeta inspect --from - --ndjson
    """
    from .metadata import inspect_source

    names = Sources.check(sources, from_file)
    state = {"failed": 0}
    work = functools.partial(inspect_source, fetch=fetch)
    objects = reports(work, names, jobs, state)
    if output == "ndjson":
        from .output import ndjson_lines

        emit(ndjson_lines(objects))
    elif output == "table":
        from .output import table_lines

        emit(table_lines(objects))
    else:
        from .output import json_lines

        emit(json_lines(objects, single=names.single), colour_json=True)
    finish(state)


# --- phash ----------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("sources", metavar="[SOURCE]...", nargs=-1)
@from_option
@click.option("--hidden", is_flag=True, help="Also hash hidden files and folders inside folders.")
@output_options(
    "table",
    {
        "json": "One JSON array of {source, pHash}.",
        "ndjson": "One {source, pHash} object per line, streamed.",
        "table": "'HASH  SOURCE' lines, like sha256sum.",
    },
)
@jobs_option
@fetch_options
def phash(
    sources: tuple[str, ...],
    from_file: TextIO | None,
    hidden: bool,
    output: str,
    jobs: int,
    fetch: FetchOptions,
) -> None:
    """The 64-bit pHash of each image, as 16 hex digits: 'HASH  SOURCE' lines, like sha256sum.

    SOURCE is an image file, a folder (walked recursively for image files), - for
    standard input, or an http(s) URL. The hash is the one 'ikmeta inspect' reports.
    As in sha256sum, a name with a backslash or line break is escaped and its line
    starts with a backslash. --ndjson objects also give a flat image's mean colour.

    \b
    Examples:
      ikmeta phash photo.jpg
      ikmeta phash ~/Pictures | sort | uniq -w16 -D     exact-hash duplicates
      ikmeta phash --ndjson photos/ | jq -r .pHash
      find . -name '*.jpg' | ikmeta phash --from -
    """
    from .metadata import phash_source
    from .walk import image_paths

    names = Sources.check(sources, from_file)
    state = {"failed": 0}
    work = functools.partial(phash_source, fetch=fetch)
    objects = reports(work, image_paths(names, hidden=hidden), jobs, state)
    hashes = ({"source": obj["source"], "pHash": obj["pHash"], "flat": obj["flat"]} for obj in objects)
    if output == "table":
        from .output import checksum_line

        emit(checksum_line(obj["pHash"], obj["source"]) for obj in hashes)
    else:
        from .output import json_lines, ndjson_lines

        emit(ndjson_lines(hashes) if output == "ndjson" else json_lines(hashes, single=False))
    finish(state)


# --- distance -------------------------------------------------------------------------------


class HashOrSource(click.ParamType[Any]):
    """A hex pHash, or an image to hash (a path, -, or a URL). An existing file wins over hex."""

    name = "hash-or-source"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .hashes import HashFormatError, is_hash, parse_hash
        from .source import foreign_scheme, is_url

        if value == STDIN or is_url(value) or (os.path.exists(value) and not os.path.isdir(value)):
            return ("source", value)
        if os.path.isdir(value) and not is_hash(value):
            self.fail(f"{value!r} is a folder; distance compares two images or hashes", param, ctx)
        if foreign_scheme(value):
            self.fail(
                f"unsupported URL scheme in {value!r} (ikmeta fetches http:// and https:// only)", param, ctx
            )
        try:
            return ("hash", parse_hash(value))
        except HashFormatError:
            self.fail(f"not a hexadecimal pHash and no such file: {value!r}", param, ctx)


@cli.command(context_settings=CONTEXT)
@click.argument("a", type=HashOrSource())
@click.argument("b", type=HashOrSource())
@output_options(
    "table",
    {
        "json": 'One object: {"a": HASH, "b": HASH, "distance": N}.',
        "ndjson": "The same object, compact, on one line.",
        "table": "The distance alone, a bare integer.",
    },
)
@fetch_options
def distance(a: tuple[str, str], b: tuple[str, str], output: str, fetch: FetchOptions) -> None:
    """The Hamming distance of two pHashes (the bits that differ), as ImageKit's SDKs compute it.

    A and B are each a hex pHash (any case, optional 0x, any length as long as both are
    equal) or an image (a path, -, or an http(s) URL) hashed on the fly; an existing file
    named like hex is the file, a folder so named is the hash. Prints the distance as a
    bare integer.

    \b
    Examples:
      ikmeta distance 2d5ad3936d2e015b 2d6ed293db36a4fb      prints 17
      ikmeta distance photo.jpg copy.jpg
      ikmeta distance --json https://example.com/a.jpg 2d5ad3936d2e015b
    """
    from .hashes import distance as hamming

    Sources.check((value for kind, value in (a, b) if kind == "source"), required=False)
    hashes = resolve_hashes([a, b], fetch)
    if len(hashes[0]) != len(hashes[1]):
        raise click.UsageError(f"pHashes differ in length: {len(hashes[0])} vs {len(hashes[1])} hex digits")
    result = {"a": hashes[0], "b": hashes[1], "distance": hamming(*hashes)}
    if output == "table":
        click.echo(result["distance"])
    else:
        from .output import compact, pretty

        click.echo(compact(result) if output == "ndjson" else pretty(result))


def resolve_hashes(values: list[tuple[str, str]], fetch: FetchOptions) -> list[str]:
    """The hex hash of each (kind, value): given as is, or computed from the image; exit 1 on a bad image."""
    sources = [value for kind, value in values if kind == "source"]
    if not sources:
        return [value for _, value in values]
    from .metadata import phash_source

    state = {"failed": 0}
    work = functools.partial(phash_source, fetch=fetch)
    computed = {obj["source"]: obj["pHash"] for obj in reports(work, sources, len(sources), state)}
    finish(state)
    return [computed[value] if kind == "source" else value for kind, value in values]


# --- dupes ----------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("paths", metavar="[PATH]...", nargs=-1)
@from_option
@click.option(
    "--hashes",
    "hash_list",
    type=LIST_FILE,
    metavar="FILE",
    help="Group a hash list instead of scanning: 'HASH  SOURCE' lines as 'ikmeta phash' prints, "
    "or NDJSON objects with pHash and source (- for standard input).",
)
@click.option(
    "--max",
    "max_distance",
    type=click.IntRange(0, 64),
    default=10,
    show_default=True,
    help="Largest Hamming distance between pHashes that counts as a duplicate.",
)
@click.option(
    "--linkage",
    type=click.Choice(["reference", "connected"]),
    default="reference",
    show_default=True,
    help="reference: every member within --max of its group's best copy; connected: transitive groups.",
)
@click.option("--hidden", is_flag=True, help="Also scan hidden files and folders.")
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="The hash cache file [default: $XDG_CACHE_HOME/ikmeta/hashes.sqlite3].",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the hash cache.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
@output_options(
    "table",
    {
        "json": "A JSON array of groups [default when piped].",
        "ndjson": "One group per line.",
        "csv": "One CSV row per file, with its group number.",
        "table": "A table per group and a summary [default on a terminal].",
    },
    tag_default=False,
)
@jobs_option
@fetch_options
@click.pass_context
def dupes(
    ctx: click.Context,
    paths: tuple[str, ...],
    from_file: TextIO | None,
    hash_list: TextIO | None,
    max_distance: int,
    linkage: str,
    hidden: bool,
    cache_path: str | None,
    no_cache: bool,
    quiet: bool,
    output: str,
    jobs: int,
    fetch: FetchOptions,
) -> None:
    """Groups of near-duplicate images, by pHash distance. It only reports: it never moves,
    deletes or rewrites a file.

    PATHs are folders (walked recursively for image files), files or URLs. Each group's
    reference is its best copy (most pixels, then largest file, then path order), listed
    first; every other member is within --max of it (--linkage connected chains instead).
    Solid-colour and blank images carry no pHash information: they are grouped only with
    others of about the same colour, never by pHash. Hashes are cached, so a second scan
    is near-instant. Exit status: 0 when the scan ran (duplicates or not), 1 when some
    files could not be read, 2 for a usage error.

    \b
    Examples:
      ikmeta dupes ~/Pictures
      ikmeta dupes ~/Pictures --max 6 --json > groups.json
      ikmeta phash photos/ > hashes.txt && ikmeta dupes --hashes hashes.txt
    """
    from .dupes import group

    output = (
        output
        if ctx.get_parameter_source("output") != click.core.ParameterSource.DEFAULT
        else ("table" if sys.stdout.isatty() else "json")
    )  # NO_COLOR turns colour off, not the table
    if hash_list is not None and (paths or from_file is not None):
        raise click.UsageError("--hashes groups a hash list: give it without PATHs or --from.")
    if hash_list is None:
        Sources.check(paths, from_file, name="PATH")
    if cache_path == "":
        raise click.BadParameter("an empty path; give a file name, or --no-cache", param_hint="'--cache'")
    state = {"failed": 0}
    if hash_list is not None:
        items = collect_items(read_hash_events(hash_list), state, quiet)
    else:
        items = scan_items(
            Sources(list(paths), from_file), hidden, cache_path, no_cache, jobs, fetch, quiet, state
        )
    try:
        groups = group(items, max_distance, linkage, jobs)
    except MemoryError:
        fail(f"not enough memory to group {len(items)} images at --max {max_distance}")
        sys.exit(EXIT_FAILED)
    show_groups(groups, output)
    if not quiet:
        summary = dupes_summary(items, groups, state["failed"])
        if output == "table":
            click.echo(summary)
        else:
            click.echo(summary, err=True)
    finish(state)


def read_hash_events(stream: TextIO) -> Iterator[Any]:
    from .scan import read_hash_list

    yield from read_hash_list(stream, list_name(stream))


def scan_items(
    sources: Sources,
    hidden: bool,
    cache_path: str | None,
    no_cache: bool,
    jobs: int,
    fetch: FetchOptions,
    quiet: bool,
    state: dict[str, int],
) -> list[Any]:
    """Hash every image (cached where possible), with a progress bar on a terminal."""
    from .cache import HashCache, default_cache_path
    from .scan import scan
    from .walk import image_paths

    cache = HashCache.open(
        None if no_cache else cache_path or default_cache_path(), replace_foreign=cache_path is None
    )
    announced = cache.problem
    if announced:
        warn(cache_name(cache), announced)
    with ProgressBar(quiet) as bar:
        events = scan(image_paths(sources, hidden=hidden), cache, jobs, fetch, on_total=bar.total)
        items = collect_items(events, state, quiet, bar.advance)
    if cache.problem and cache.problem != announced:  # it broke during the scan
        warn(cache_name(cache), cache.problem)
    cache.close()
    return items


def cache_name(cache: Any) -> str:
    """How messages name the cache: 'cache PATH'."""
    return f"cache {cache.path}" if cache.path else "cache"


def collect_items(
    events: Iterable[Any], state: dict[str, int], quiet: bool, advance: Callable[[], None] = lambda: None
) -> list[Any]:
    from .dupes import Item
    from .scan import ScanWarning

    items = []
    for event in events:
        if isinstance(event, ScanWarning):
            warn(event.source, event.message)
            continue
        advance()
        if isinstance(event, IkmetaError):
            fail(event)
            state["failed"] += 1
        elif isinstance(event, Item):
            items.append(event)
    return items


class ProgressBar:
    """A rich progress bar on stderr (files done, rate, time left), only when stderr is a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.bar: tuple[Progress, TaskID] | None = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            progress = Progress(
                TextColumn("hashing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar = progress, progress.add_task("hashing", total=None, rate="")

    def __enter__(self) -> ProgressBar:
        if self.bar is not None:
            self.bar[0].start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar[0].stop()

    def total(self, count: int) -> None:
        if self.bar is not None:
            progress, task = self.bar
            progress.update(task, total=count)

    def advance(self) -> None:
        if self.bar is not None:
            progress, task = self.bar
            progress.advance(task)
            speed = progress.tasks[0].speed
            progress.update(task, rate=f"{speed:,.0f} files/s" if speed else "")


def show_groups(groups: list[Any], output: str) -> None:
    from .output import csv_lines, group_object, group_tables, json_lines, ndjson_lines

    if output == "json":
        emit(json_lines((group_object(g) for g in groups), single=False))
    elif output == "ndjson":
        emit(ndjson_lines(group_object(g) for g in groups))
    elif output == "csv":
        emit(csv_lines(groups))
    else:
        from rich.console import Console

        console = Console(soft_wrap=False, highlight=False)
        for table in group_tables(groups):
            console.print(table)
            console.print()


def dupes_summary(items: list[Any], groups: list[Any], unreadable: int) -> str:
    from .output import human_size

    def count(n: int, noun: str) -> str:
        return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

    copies = [item for g in groups for item, _ in g.members if item is not g.reference]
    if all(item.size is None for item in copies) and copies:
        freed = "size unknown"  # a hash list without sizes
    else:
        freed = human_size(sum(item.size or 0 for item in copies))
    flat = sum(1 for item in items if item.flat)
    parts = [
        f"{count(len(items), 'image')} scanned",
        count(len(groups), "group"),
        count(len(copies), "duplicate"),
        f"{freed} freed by removing the non-references",
        f"{unreadable} unreadable",
    ]
    if flat:
        parts.append(f"{flat} flat (grouped by colour alone)")
    return ", ".join(parts)
