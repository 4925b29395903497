"""The ``ikmeta`` command line: a thin Click layer over the core.

Data goes to stdout, messages to stderr as ``ikmeta: <source>: <reason>``.
Exit codes: 0 all done, 1 some source could not be read, 2 usage error, 130 interrupted.
Core modules are imported inside the commands, so ``--help`` and ``distance`` stay fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import math
import os
import re
import signal
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TextIO, TypeVar

import click

from ._version import __version__
from .errors import IkmetaError, IkmetaWarning, SourceError
from .sources.base import STDIN, FetchOptions, is_remote

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


# What must be undone before ikmeta exits at once: a live progress bar hides the cursor.
_TERMINAL_RESTORERS: list[Callable[[], None]] = []
SHOW_CURSOR = "\x1b[?25h"


def _interrupted(signum: int, frame: Any) -> None:
    """Ctrl-C: stop at once (decodes in flight are not waited for), with the shell's code for it.

    A progress bar is abandoned first (its refresh thread stops drawing, its line is
    cleared and the cursor shown again), so nothing is drawn after the message and the
    terminal is left as it was found.
    """
    for restore in reversed(_TERMINAL_RESTORERS):
        try:
            restore()
        except Exception:  # noqa: BLE001 - exiting anyway: a failing restorer must not stop the exit
            pass
    _write_stderr(("\n" if _stderr_is_terminal() else "") + "ikmeta: interrupted\n")
    os._exit(EXIT_INTERRUPTED)


def _write_stderr(text: str) -> None:
    """Straight to file descriptor 2: a live progress bar puts a proxy in sys.stderr that
    would draw the bar again below whatever is written through it."""
    try:
        os.write(2, text.encode("utf-8", "replace"))
    except OSError:  # stderr closed: nothing to say it on
        pass


def _stderr_is_terminal() -> bool:
    try:
        return os.isatty(2)
    except OSError:
        return False


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

    A SOURCE is a file, - for standard input, an http(s) URL, or an object or prefix
    in a store (s3://, gs://, az://; pip install 'ikmeta[s3]' and the like).
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
    from .parallel import default_jobs

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


def geometry_option(default: str, help_text: str) -> Callable[[F], F]:
    """--geometry any|exact (dupes and distance): whether turned, framed and cropped copies match."""
    return click.option(
        "--geometry",
        type=click.Choice(["any", "exact"]),
        default=default,
        show_default=True,
        help=help_text,
    )


class HeaderType(click.ParamType[Any]):
    """An HTTP header, 'Name: value', as curl -H takes it."""

    name = "header"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .sources.base import header_problem

        if isinstance(value, tuple):
            return value
        name, colon, text = str(value).partition(":")
        if not colon or not name.strip():
            self.fail(f"{value!r} is not 'Name: value' (example: 'Authorization: Bearer abc123')", param, ctx)
        problem = header_problem(name.strip(), text.strip())
        if problem:
            self.fail(problem, param, ctx)
        return (name.strip(), text.strip())


class StorageOptionType(click.ParamType[Any]):
    """KEY=VALUE for an object store's library (fsspec's storage_options)."""

    name = "option"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        key, equals, text = str(value).partition("=")
        if not equals or not key.strip().isidentifier():
            self.fail(f"{value!r} is not KEY=VALUE (example: endpoint_url=http://127.0.0.1:9000)", param, ctx)
        return (key.strip(), storage_value(text, lambda message: self.fail(message, param, ctx)))


def storage_value(text: str, fail: Callable[[str], Any]) -> Any:
    """A --storage-option value: true or false, a number (written plainly: no leading zero,
    at most 18 digits), a JSON object or a "quoted" JSON string, else the text itself.

    >>> storage_value("true", print), storage_value("3", print), storage_value("0123", print)
    (True, 3, '0123')
    """
    import json

    bare = text.strip()
    if bare.lower() in ("true", "false"):
        return bare.lower() == "true"
    if re.fullmatch(r"-?(0|[1-9]\d{0,17})", bare):
        return int(bare)
    if re.fullmatch(r"-?(0|[1-9]\d{0,17})\.\d{1,18}", bare):
        return float(bare)
    if bare.startswith(("{", '"')):
        try:
            parsed = json.loads(bare)
        except (ValueError, RecursionError) as exc:
            fail(f"{bare[:60]!r} is not a JSON {'object' if bare.startswith('{') else 'string'} ({exc})")
        if not isinstance(parsed, (dict, str)):
            fail(f"{bare[:60]!r} is not a JSON object or string")
        return parsed
    return text


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
            help="Seconds to wait for a URL's server, to connect and for each read.",
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


# A list of names or hashes: UTF-8 (a leading BOM skipped), and bytes that are not UTF-8 kept
# as the file names they stand for (surrogateescape), never a decoding error.
LIST_FILE = click.File("r", encoding="utf-8-sig", errors="surrogateescape", lazy=False)


class HashesType(click.File):
    """--hashes: a hash list (opened as LIST_FILE opens it), or a Parquet hash table's folder
    or prefix in a store (kept as its name, for --dask)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .sources.base import object_scheme

        if isinstance(value, str) and (object_scheme(value) or (value != STDIN and os.path.isdir(value))):
            return value
        return super().convert(value, param, ctx)


HASHES = HashesType("r", encoding="utf-8-sig", errors="surrogateescape", lazy=False)


def listed_name(line: str) -> str:
    """A --from line as a source: the name exactly as written (spaces may be part of it),
    unless no such file exists and the name without its outer spaces does (or is a URL)."""
    bare = line.strip()
    if bare != line and (is_remote(bare) or (not os.path.lexists(line) and os.path.lexists(bare))):
        return bare
    return line


def list_name(stream: TextIO | str) -> str:
    """The name of a --from or --hashes list for messages: its path, or <stdin>."""
    if isinstance(stream, str):  # a Parquet hash table's folder or prefix
        return stream
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else "<stdin>"


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


def is_one_image(source: str) -> bool:
    """A source that is one image (its object is printed alone), not a folder or a prefix."""
    from .sources.base import is_image_name, object_scheme

    if object_scheme(source):
        return not source.endswith("/") and is_image_name(source)
    return not os.path.isdir(source)


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
            from .sources.read import list_lines

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


def note_skipped(skipped: Counter[str]) -> None:
    """One line on stderr for the files a folder walk passed over, if any."""
    from .output import one_line
    from .sources.walk import skipped_summary

    line = skipped_summary(skipped)
    if line:
        click.echo(f"ikmeta: {one_line(line)}", err=True)


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


def emit_all(lines: Iterable[str], chunk: int = 2000) -> None:
    """Write lines that are all ready (nothing streams), many at a time: a report of 100,000
    files is written in a fraction of the time one write a line takes."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= chunk:
            click.echo("\n".join(batch), color=True)
            batch.clear()
    if batch:
        click.echo("\n".join(batch), color=True)


def reports(
    outcomes: Iterable[dict[str, Any] | IkmetaError], state: dict[str, int], records: bool = False
) -> Iterator[dict[str, Any]]:
    """The objects of an API call's outcomes in order; failures go to stderr as they come,
    and with ``records`` (--errors records) also in place as {"source": ..., "error": ...}."""
    for outcome in outcomes:
        if isinstance(outcome, IkmetaError):
            fail(outcome)
            state["failed"] += 1
            if records:
                yield {"source": outcome.source, "error": outcome.reason}
        else:
            yield outcome


@contextlib.contextmanager
def walked_reports(
    many: Callable[..., Iterator[dict[str, Any] | IkmetaError]],
    names: Sources,
    hidden: bool,
    jobs: int,
    fetch: FetchOptions,
    records: bool = False,
) -> Iterator[Iterator[dict[str, Any]]]:
    """``many`` (ikmeta.inspect_many or hash_records) of every source, folders walked; once
    they are written, the line on the files the walk skipped, and the exit status (1 when
    some source failed)."""
    from .sources.walk import image_paths

    state = {"failed": 0}
    skipped: Counter[str] = Counter()
    sources = image_paths(names, hidden=hidden, skipped=skipped, fetch=fetch)
    yield reports(many(sources, jobs=jobs, on_warning=warn, **limits(fetch)), state, records)
    note_skipped(skipped)
    finish(state)


def limits(fetch: FetchOptions) -> dict[str, Any]:
    """The download options as the Python API's keywords (ikmeta.Limits)."""
    return {
        "timeout": fetch.timeout,
        "max_bytes": fetch.max_bytes,
        "headers": dict(fetch.headers),
        "retries": fetch.retries,
        "connections": fetch.connections,
        "storage_options": dict(fetch.storage_options),
    }


def finish(state: dict[str, int]) -> None:
    if state["failed"]:
        sys.exit(EXIT_FAILED)


# --- inspect --------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("sources", metavar="[SOURCE]...", nargs=-1, shell_complete=click.Path().shell_complete)
@from_option
@click.option("--hidden", is_flag=True, help="Also inspect hidden files and folders inside folders.")
@output_options(
    "json",
    {
        "json": "One JSON document: an object for one SOURCE, else an array.",
        "table": "Aligned 'field  value' lines, nested keys dotted.",
    },
)
@errors_option
@jobs_option
@fetch_options
def inspect(
    sources: tuple[str, ...],
    from_file: TextIO | None,
    hidden: bool,
    output: str,
    errors: str,
    jobs: int,
    fetch: FetchOptions,
) -> None:
    """The metadata object of each image, as ImageKit's Metadata API gives it.

    SOURCE is an image file, a folder (walked recursively for image files), - for
    standard input, an http(s) URL, or an object or prefix in a store (s3://bucket/key,
    gs://, az://; a prefix is walked like a folder). One file prints one JSON object;
    several, a folder or --from print an array, in argument order. Unreadable sources are named on stderr
    and the rest still printed (exit status 1).

    \b
    Examples:
      ikmeta inspect photo.jpg
      ikmeta inspect *.jpg --ndjson | jq .exif.exif.ISO
      cat photo.jpg | ikmeta inspect -
      ikmeta inspect https://example.com/photo.jpg
      ikmeta inspect s3://bucket/photos/ --ndjson        a prefix, walked like a folder
      ikmeta inspect --ndjson photos/ > photos.ndjson
      find . -name '*.jpg' | ikmeta inspect --from - --ndjson
    """
    from .api import inspect_many

    records = check_errors_option(errors, output)
    names = Sources.check(sources, from_file)
    single = names.single and is_one_image(names.args[0])
    with walked_reports(inspect_many, names, hidden, jobs, fetch, records) as objects:
        write_metadata(objects, output, single)


def write_metadata(objects: Iterator[dict[str, Any]], output: str, single: bool) -> None:
    if output == "ndjson":
        from .output import ndjson_lines

        emit(ndjson_lines(objects))
    elif output == "table":
        from .output import table_lines

        emit(table_lines(objects))
    else:
        from .output import json_lines

        emit(json_lines(objects, single=single), colour_json=True)


# --- phash ----------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("sources", metavar="[SOURCE]...", nargs=-1, shell_complete=click.Path().shell_complete)
@from_option
@click.option("--hidden", is_flag=True, help="Also hash hidden files and folders inside folders.")
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
@fetch_options
def phash(
    sources: tuple[str, ...],
    from_file: TextIO | None,
    hidden: bool,
    output: str,
    errors: str,
    dask_address: str | None,
    parquet: str | None,
    jobs: int,
    fetch: FetchOptions,
) -> None:
    """The 64-bit pHash of each image, as 16 hex digits: 'HASH  SOURCE' lines, like sha256sum.

    SOURCE is an image file, a folder (walked recursively for image files), - for
    standard input, an http(s) URL, or an object or prefix in a store (s3://, gs://,
    az://). The hash is the one 'ikmeta inspect' reports.
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
      ikmeta phash ~/Pictures | sort | uniq -w16 -D     exact-hash duplicates
      ikmeta phash --ndjson photos/ | jq -r .pHash
      find . -name '*.jpg' | ikmeta phash --from -
      ikmeta phash --dask local --parquet hashes/ photos/     hash on Dask, into Parquet
    """
    from .api import hash_records

    records = check_errors_option(errors, output)
    names = Sources.check(sources, from_file)
    if dask_address is not None or parquet is not None:
        if dask_address is None or parquet is None:
            raise click.UsageError("--dask and --parquet go together: phash --dask SCHEDULER --parquet DIR.")
        if STDIN in names.args:
            raise click.UsageError(
                "'-' (standard input) cannot be hashed on Dask: its workers read their own."
            )
        hash_on_dask(names, dask_address, parquet, hidden, jobs, fetch)
        return
    with walked_reports(hash_records, names, hidden, jobs, fetch, records) as objects:
        if output == "table":
            from .output import checksum_line

            emit(checksum_line(obj["pHash"], obj["source"]) for obj in objects)
        else:
            from .output import json_lines, ndjson_lines

            emit(ndjson_lines(objects) if output == "ndjson" else json_lines(objects, single=False))


def dask_client(address: str, jobs: int) -> Any:
    """A Dask client (ikmeta.dask.client_for); exit 1 with a message when Dask is not
    installed or the scheduler cannot be reached."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        fail(f"--dask needs Dask: pip install 'ikmeta[dask]' ({exc.name} is not installed)")
        sys.exit(EXIT_FAILED)
    from . import dask as on_dask

    try:
        return on_dask.client_for(address, jobs)
    except IkmetaError as error:
        fail(error)
        sys.exit(EXIT_FAILED)


@contextlib.contextmanager
def dask_failures(name: str, doing: str) -> Iterator[None]:
    """Exit 1 with one line when Dask, pyarrow or a store fails at ``doing`` (``name``: the
    table's folder or prefix): an IkmetaError as it is, anything else named by its kind."""
    from .output import one_line

    try:
        yield
    except IkmetaError as error:
        fail(error)
        sys.exit(EXIT_FAILED)
    except Exception as exc:  # noqa: BLE001 - Dask, pyarrow and the stores raise their own kinds: one line
        fail(f"{one_line(name)}: cannot {doing}: {dask_reason(exc)}")
        sys.exit(EXIT_FAILED)


def dask_reason(exc: BaseException) -> str:
    """An exception from Dask or a library under it as one line: its first line, named."""
    from .output import one_line

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return one_line(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def hash_on_dask(
    names: Sources, address: str, parquet: str, hidden: bool, jobs: int, fetch: FetchOptions
) -> None:
    """phash --dask: the hash table of the sources, written as Parquet to ``parquet``; each
    source that failed named on stderr (exit 1), and a summary line."""
    from .api import limits_of
    from .output import one_line

    client = dask_client(address, jobs)
    from . import dask as on_dask

    try:
        with dask_failures(parquet, "write the hash table"):
            table = on_dask.hash_table(names, hidden=hidden, **limits_of(fetch))
            rows = on_dask.write_table(table, parquet, storage_options=dict(fetch.storage_options))
    finally:
        on_dask.close_client(client)
    failed = rows[rows["error"].notna()]
    for source, reason in zip(failed["source"], failed["error"], strict=True):
        fail(SourceError(source, reason))
    click.echo(
        f"ikmeta: wrote {len(rows) - len(failed)} hashes to {one_line(parquet)}"
        + (f", {len(failed)} unreadable" if len(failed) else ""),
        err=True,
    )
    if len(failed):
        sys.exit(EXIT_FAILED)


# --- distance -------------------------------------------------------------------------------


class HashOrSource(click.ParamType[Any]):
    """A hex pHash, or an image to hash (a path, -, a URL or a stored object). An existing file wins over hex."""

    name = "hash-or-source"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .hashes import HashFormatError, is_hash, parse_hash
        from .sources.base import foreign_scheme

        if value == STDIN or is_remote(value) or (os.path.exists(value) and not os.path.isdir(value)):
            return ("source", value)
        if os.path.isdir(value) and not is_hash(value):
            self.fail(f"{value!r} is a folder; distance compares two images or hashes", param, ctx)
        if foreign_scheme(value):
            self.fail(
                f"unsupported URL scheme in {value!r} (ikmeta reads http://, https://, s3://, gs:// and az://)",
                param,
                ctx,
            )
        try:
            return ("hash", parse_hash(value))
        except HashFormatError:
            self.fail(f"not a hexadecimal pHash and no such file: {value!r}", param, ctx)


@cli.command(context_settings=CONTEXT)
@click.argument("a", type=HashOrSource(), shell_complete=click.Path().shell_complete)
@click.argument("b", type=HashOrSource(), shell_complete=click.Path().shell_complete)
@output_options(
    "table",
    {
        "json": 'One object: {"a": HASH, "b": HASH, "distance": N}.',
        "ndjson": "The same object, compact, on one line.",
        "table": "The distance alone, a bare integer.",
    },
)
@geometry_option(
    "exact",
    "exact: the distance of the two pHashes as they stand (ImageKit's); any: the smallest over "
    "the ways to turn or mirror one image onto the other, and which (needs an image, not a hash).",
)
@fetch_options
def distance(a: tuple[str, str], b: tuple[str, str], output: str, geometry: str, fetch: FetchOptions) -> None:
    """The Hamming distance of two pHashes (the bits that differ), as ImageKit's SDKs compute it.

    A and B are each a hex pHash (any case, optional 0x, any length as long as both are
    equal) or an image (a path, -, an http(s) URL or a stored object) hashed on the fly; an existing file
    named like hex is the file, a folder so named is the hash. Prints the distance as a
    bare integer.

    \b
    Examples:
      ikmeta distance 2d5ad3936d2e015b 2d6ed293db36a4fb      prints 17
      ikmeta distance photo.jpg copy.jpg
      ikmeta distance --json https://example.com/a.jpg 2d5ad3936d2e015b
      ikmeta distance --geometry any photo.jpg mirrored.jpg --json     and "match": "mirrored"
    """
    from .api import distance as hamming

    Sources.check((value for kind, value in (a, b) if kind == "source"), required=False)
    if geometry == "any" and a[0] == b[0] == "hash":
        raise click.UsageError("--geometry any turns images: give at least one image, not two hashes.")
    (hash_a, views_a), (hash_b, views_b) = resolve_hashes([a, b], fetch)
    if len(hash_a) != len(hash_b):  # (the API's HashError says the same)
        raise click.UsageError(f"pHashes differ in length: {len(hash_a)} vs {len(hash_b)} hex digits")
    result: dict[str, Any] = {"a": hash_a, "b": hash_b, "distance": hamming(hash_a, hash_b)}
    if geometry == "any":
        from .dupes.views import closest_view

        if len(hash_a) != 16:
            raise click.UsageError("--geometry any needs 64-bit pHashes (16 hex digits)")
        closest, how = closest_view(int(hash_b, 16), views_b, int(hash_a, 16), views_a)
        result.update(distance=closest, match=how)
    if output == "table":
        click.echo(result["distance"])
    else:
        from .output import compact, pretty

        click.echo(compact(result) if output == "ndjson" else pretty(result))


def resolve_hashes(
    values: list[tuple[str, str]], fetch: FetchOptions
) -> list[tuple[str, tuple[int, ...] | None]]:
    """(hex hash, its other views or None) of each (kind, value): a hash as given (no other
    view known), or computed from the image; exit 1 on a bad image."""
    sources = [value for kind, value in values if kind == "source"]
    if not sources:
        return [(value, None) for _, value in values]
    from .api import hash_records

    state = {"failed": 0}
    records = hash_records(sources, jobs=len(sources), on_warning=warn, **limits(fetch))
    computed = {obj["source"]: (obj["pHash"], _views(obj)) for obj in reports(records, state)}
    finish(state)
    return [computed[value] if kind == "source" else (value, None) for kind, value in values]


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


def check_cache_path(cache_path: str | None, no_cache: bool) -> None:
    """A usage error for a --cache that cannot be one (empty, or in a folder that does not exist)."""
    if cache_path == "":
        raise click.BadParameter("an empty path; give a file name, or --no-cache", param_hint="'--cache'")
    folder = os.path.dirname(os.path.abspath(cache_path or "."))
    if cache_path and not no_cache and not os.path.isdir(folder):
        from .output import one_line

        raise click.BadParameter(f"no such folder: {one_line(folder)}", param_hint="'--cache'")


def open_cache(cache_path: str | None, no_cache: bool) -> contextlib.AbstractContextManager[Any]:
    """The hash cache (a warning when it cannot be used), closed at the end."""
    from .api import open_cache as open_hash_cache

    return open_hash_cache(False if no_cache else cache_path or True, on_warning=warn)


def check_page_path(value: str | None, param: click.Parameter, ctx: click.Context) -> str | None:
    """A usage error, before any work, for a page that cannot be written there, or whose
    name holds a file that is not a page ikmeta made (never overwritten)."""
    if value is None:
        return None
    from .output import one_line
    from .review import is_review_page

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


def _views(obj: dict[str, Any]) -> tuple[int, ...] | None:
    """An image's other views (ikmeta.dupes.Item.views) from its phash_blob metadata."""
    from .dupes.views import pack, unpack

    inner = obj["inner"]["pHash"] if obj["inner"] else None
    return unpack(pack(obj["pHash"], obj["turned"], inner, obj["windows"]))


# --- dupes ----------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
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
@fetch_options
def dupes(
    paths: tuple[str, ...],
    from_file: TextIO | None,
    hash_list: TextIO | str | None,
    max_distance: int,
    linkage: str,
    geometry: str,
    hidden: bool,
    html: str | None,
    cache_path: str | None,
    no_cache: bool,
    quiet: bool,
    output: str | None,
    dask_address: str | None,
    jobs: int,
    fetch: FetchOptions,
) -> None:
    """Groups of near-duplicate images, by pHash distance. It only reports: it never moves,
    deletes or rewrites a file.

    PATHs are folders (walked recursively for image files), files, URLs, or objects and
    prefixes in a store (s3://, gs://, az://). Each group's
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
    from .api import group
    from .dupes.report import group_object

    shown = output is not None or html is None  # with --html, the groups only when asked for
    output = output or (
        "table" if sys.stdout.isatty() else "json"
    )  # NO_COLOR turns colour off, not the table
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
    check_cache_path(cache_path, no_cache)
    state = {"failed": 0}
    with open_cache(cache_path, no_cache) as cache:
        items: Any
        if isinstance(hash_list, str):
            items, groups = group_on_dask(hash_list, dask_address or "", max_distance, linkage, jobs, fetch)
        else:
            if hash_list is not None:
                items = read_hashes(hash_list, state)
            else:
                items = scan_items(Sources(list(paths), from_file), hidden, cache, jobs, fetch, quiet, state)
            from .dupes.chance import chance_warning

            by_chance = chance_warning(len(items) - flat_count(items), max_distance)
            if by_chance:
                click.echo(f"ikmeta: warning: {by_chance}", err=True)
            try:
                groups = group(items, max_distance, linkage=linkage, geometry=geometry, jobs=jobs)
            except MemoryError:
                fail(f"not enough memory to group {len(items)} images at --max {max_distance}")
                sys.exit(EXIT_FAILED)
        if html is not None:
            origin = scan_origin(paths, from_file, hash_list, max_distance, linkage, hidden)
            origin["scan"]["geometry"] = geometry
            origin["scan"].update(scanned=len(items), unreadable=state["failed"])
            write_review_page([group_object(g) for g in groups], html, origin, cache, jobs, fetch, quiet)
    if shown:
        show_groups(groups, output)
    if not quiet:
        summary = dupes_summary(items, groups, state["failed"], listed=hash_list is not None)
        if output == "table" and shown:
            click.echo(summary)
        else:
            click.echo(summary, err=True)
    finish(state)


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


def write_review_page(
    groups: list[dict[str, Any]],
    path: str,
    origin: dict[str, Any],
    cache: Any,
    jobs: int,
    fetch: FetchOptions,
    quiet: bool,
) -> None:
    """Write the review page (thumbnails with a progress bar); exit 1 when it cannot be written."""
    from .errors import os_reason
    from .output import human_size, one_line
    from .review import NotAPage, write_review

    with ProgressBar(quiet, "thumbnails") as bar:
        try:
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
            fail(error)
            sys.exit(EXIT_FAILED)
        except NotAPage:  # made while the page was
            fail(f"{one_line(path)}: exists and is not a review page ikmeta made: not overwriting it")
            sys.exit(EXIT_FAILED)
        except OSError as exc:
            fail(f"{one_line(path)}: cannot write the review page: {os_reason(exc)}")
            sys.exit(EXIT_FAILED)
    for source, reason in made.without_preview:
        warn(source, f"shown without a thumbnail: {reason}")
    if not quiet:
        count = f"{len(groups)} group{'s' * (len(groups) != 1)}"
        click.echo(
            f"ikmeta: wrote {one_line(path)} ({count}, {human_size(made.size)}): open it in a browser",
            err=True,
        )


@dataclasses.dataclass
class Counted:
    """What a summary says of images grouped elsewhere (on Dask): how many, how many flat."""

    images: int
    flat: int

    def __len__(self) -> int:
        return self.images

    def flat_count(self) -> int:
        return self.flat


def group_on_dask(
    table: str, address: str, max_distance: int, linkage: str, jobs: int, fetch: FetchOptions
) -> tuple[Counted, list[Any]]:
    """dupes --dask: the groups of a Parquet hash table (ikmeta.dask.find_groups); exit 1
    with a message when it cannot be read."""

    client = dask_client(address, jobs)
    from . import dask as on_dask

    counts: dict[str, int] = {}
    try:
        import dask.dataframe as dd

        storage = dict(fetch.storage_options)
        with dask_failures(table, "read the hash table"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IkmetaWarning)
            hashes = dd.read_parquet(table, storage_options=storage or None)
            groups = on_dask.find_groups(hashes, max_distance, linkage=linkage, on_counts=counts.update)
    finally:
        on_dask.close_client(client)
    for warning in caught:
        if issubclass(warning.category, IkmetaWarning):
            click.echo(f"ikmeta: warning: {warning.message}", err=True)
    return Counted(counts.get("images", 0), counts.get("flat", 0)), groups


def read_hashes(stream: TextIO, state: dict[str, int]) -> Any:
    """A hash list's images (:func:`ikmeta.api.read_hash_list`); each bad line named on stderr."""
    from .api import read_hash_list

    def bad_line(error: IkmetaError) -> None:
        fail(error)
        state["failed"] += 1

    return read_hash_list(stream, on_error=bad_line, name=list_name(stream))


def flat_count(items: Any) -> int:
    """The flat images of a scan's Items or a hash list's columns."""
    counted = getattr(items, "flat_count", None)
    return int(counted()) if counted else sum(1 for item in items if item.flat)


def scan_items(
    sources: Sources,
    hidden: bool,
    cache: Any,
    jobs: int,
    fetch: FetchOptions,
    quiet: bool,
    state: dict[str, int],
) -> list[Any]:
    """Hash every image (cached where possible), with a progress bar on a terminal."""
    from .dupes.scan import scan_paths

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
            on_error=failed,
            on_warning=warn,
            on_progress=bar.progress,
        )
    if not quiet:
        note_skipped(skipped)
    if cache.problem and cache.problem != announced:  # it broke during the scan
        warn(cache_name(cache), cache.problem)
    return items


def cache_name(cache: Any) -> str:
    from .api import cache_name as name

    return name(cache)


class ProgressBar:
    """A rich progress bar on stderr (files done, rate, time left), only when stderr is a terminal."""

    def __init__(self, quiet: bool, label: str = "hashing") -> None:
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
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar = progress, progress.add_task(label, total=None, rate="")

    def __enter__(self) -> ProgressBar:
        if self.bar is not None:
            _TERMINAL_RESTORERS.append(self.abandon)  # Ctrl-C clears it before exiting
            self.bar[0].start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar[0].stop()
            _TERMINAL_RESTORERS.remove(self.abandon)

    def abandon(self) -> None:
        """Stop drawing for good, from a signal handler: rich's own stop() waits for locks
        that the interrupted code or the refresh thread may hold (it could hang), so the
        refresh thread is told to stop, a refresh under way is given a moment to finish,
        and the bar's line is cleared and the cursor shown by hand."""
        if self.bar is None:
            return
        live = self.bar[0].live
        refresher = getattr(live, "_refresh_thread", None)  # rich's own; absent in other versions
        if refresher is not None:
            refresher.done.set()  # it checks this under the lock before each refresh
        lock = getattr(live, "_lock", None)
        if lock is not None:
            lock.acquire(timeout=0.5)  # never released: ikmeta exits right after
        _write_stderr("\r\x1b[2K" + SHOW_CURSOR)

    def total(self, count: int) -> None:
        if self.bar is not None:
            progress, task = self.bar
            progress.update(task, total=count)

    def progress(self, done: int, total: int) -> None:
        """``on_progress`` of the Python API: (0, total) once the sources are listed, then each one done."""
        if done == 0:
            self.total(total)
        else:
            self.advance()

    def advance(self) -> None:
        if self.bar is not None:
            progress, task = self.bar
            progress.advance(task)
            speed = progress.tasks[0].speed
            progress.update(task, rate=f"{speed:,.0f} files/s" if speed else "")


def show_groups(groups: list[Any], output: str) -> None:
    from .dupes.report import csv_lines, group_json_lines, group_object, group_tables
    from .output import ndjson_lines

    if output == "json":
        emit_all(group_json_lines(groups))
    elif output == "ndjson":
        emit_all(ndjson_lines(group_object(g) for g in groups))
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
    from .output import human_size

    def count(n: int, noun: str) -> str:
        return f"{n} {noun}" if n == 1 else f"{n} {noun}{'es' if noun.endswith('sh') else 's'}"

    copies = [item for g in groups for item, _ in g.members if item is not g.reference]
    sized = [item.size for item in copies if item.size is not None]
    parts = [
        count(len(items), "hash") + " listed" if listed else count(len(items), "image") + " scanned",
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
        parts.append(f"{flat} flat (grouped by colour alone)")
    return ", ".join(parts)


# --- review ---------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
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
    input); nothing is scanned again. The page is one self-contained HTML file (styles,
    program and thumbnails inside; it makes no request anywhere): open it in a browser,
    look, compare (click a thumbnail), unmark what must stay or choose another copy to
    keep, then "Download selection" saves a report that 'ikmeta apply' reads with its
    usual checks. Thumbnails are cached with the hashes. A file that is gone or changed
    since the report is shown as such. Exit status: 0 when the page was written, 1 when
    it could not be or the report is not one, 2 for a usage error.

    \b
    Examples:
      ikmeta dupes ~/Pictures --json > report.json
      ikmeta review report.json -o review.html
      ikmeta apply trash ~/Downloads/selection-2026-11-30-142501.json --yes
    """
    from .actions import read_report

    name = list_name(report)
    if name == "<stdin>" and report.isatty():
        raise click.UsageError("Missing argument 'REPORT' (a file, or - with a report piped in).")
    check_cache_path(cache_path, no_cache)
    try:
        groups = [g.as_object() for g in read_report(report, name)]
    except IkmetaError as error:
        fail(error)
        sys.exit(EXIT_FAILED)
    with open_cache(cache_path, no_cache) as cache:
        write_review_page(groups, page, {"report": name}, cache, jobs, fetch, quiet)


# --- apply and undo -------------------------------------------------------------------------


class KeepRuleType(click.ParamType[Any]):
    name = "rule"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .actions import parse_keep_rule

        if not isinstance(value, str):
            return value
        try:
            return parse_keep_rule(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@cli.command(context_settings=CONTEXT)
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
    "Refused for a selection saved from the review page (its choices stand).",
)
@click.option(
    "--protect",
    type=click.Path(),
    multiple=True,
    metavar="PATH",
    help="Never act on anything under PATH (repeatable); such files stay besides the kept one.",
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
    yes: bool,
    journal_path: str | None,
    output: str,
) -> None:
    """Act on the groups of a duplicates report: trash, move, or replace by links every file
    but the one each group keeps. Without --yes it only prints the plan.

    REPORT is what 'ikmeta dupes --json' or '--ndjson' wrote (- or nothing: standard input).
    Each group keeps its reference (the best copy: originals before conversions) unless
    --keep says otherwise. Before a group is touched, every file in it must exist, be a
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
    from .actions import Journal, apply_plan, make_plan, read_report
    from .actions.display import outcome_object, plan_line, summary
    from .actions.run import Outcome, Skipped

    if (action == "move") != (move_to is not None):
        raise click.UsageError("move needs --to DIR, and only move takes it.")
    name = list_name(report)
    if name == "<stdin>" and report.isatty():
        raise click.UsageError("Missing argument 'REPORT' (a file, or - with a report piped in).")
    try:
        groups = read_report(report, name)
    except IkmetaError as error:
        fail(error)
        sys.exit(EXIT_FAILED)
    if keep_rules and any(g.chosen for g in groups):
        raise click.UsageError(
            f"{name} holds groups whose copy to keep was chosen on the review page; "
            "--keep would override that choice: drop --keep."
        )
    plan = make_plan(groups, action, keep=keep_rules, protect=protect, move_to=move_to)
    for path, why in plan.notes:
        warn(path, why)
    journal = None
    if yes:
        try:
            report_name = os.path.abspath(name) if name != "<stdin>" else name
            journal = Journal.create(journal_path, action, report_name, move_to)
        except IkmetaError as error:
            fail(error)
            sys.exit(EXIT_FAILED)
    outcomes: list[Outcome | Skipped] = []
    state = {"failed": 0}

    def each() -> Iterator[Outcome | Skipped]:
        try:
            for outcome in apply_plan(plan, journal):
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
            from .output import json_lines

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
            from .output import ndjson_lines

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
    click.echo(summary(plan, outcomes, not yes, journal.path if journal else None), err=True)
    finish(state)


@cli.command(context_settings=CONTEXT)
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
    from .actions import undo_journal
    from .actions.display import undo_line, undo_object, undo_summary
    from .actions.undo import UndoOutcome

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
        from .output import json_lines, ndjson_lines

        objects = (undo_object(o) for o in each())
        emit(ndjson_lines(objects) if output == "ndjson" else json_lines(objects, single=False))
    if not state.get("unusable"):
        click.echo(undo_summary(outcomes, journal), err=True)
    finish(state)
