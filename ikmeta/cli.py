"""The ``ikmeta`` command line: a thin Click layer over the core.

Data goes to stdout, messages to stderr as ``ikmeta: <source>: <reason>``.
Exit codes: 0 all done, 1 some source could not be read, 2 usage error.
Core modules are imported inside the commands, so ``--help`` stays fast.
"""
from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import click

from . import __version__
from .errors import IkmetaError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class IkmetaGroup(click.Group):
    """Click group that ends quietly on a closed pipe (``ikmeta ... | head``) and on Ctrl-C."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        warnings.simplefilter("ignore")  # library warnings are not for the user; ikmeta reports its own
        try:
            return super().main(*args, **kwargs)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_FAILED)


@click.group(cls=IkmetaGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="ikmeta")
def cli() -> None:
    """Image metadata (ImageKit's Metadata API object, computed locally) and near-duplicates.

    \b
      ikmeta inspect photo.jpg               the metadata object as JSON
      ikmeta inspect *.jpg --ndjson | jq .exif.exif.ISO
      cat photo.jpg | ikmeta inspect -       read standard input

    Exit status: 0 when every source was read, 1 when some could not be
    (each named on stderr), 2 for a usage error.
    """


# --- shared options -------------------------------------------------------------------------

def output_options(default: str, formats: tuple[str, ...] = ("json", "ndjson", "table")) -> Callable:
    """``--json``, ``--ndjson``, ``--table``... as one ``output`` parameter, the same on every command."""
    helps = {
        "json": "One JSON document (an object for one source, else an array).",
        "ndjson": "One compact JSON object per line, streamed.",
        "table": "Aligned 'field  value' text for reading.",
    }

    def decorate(f: Callable) -> Callable:
        for name in reversed(formats):
            label = helps[name] + (" [default]" if name == default else "")
            f = click.option(f"--{name}", "output", flag_value=name, default=name == default, help=label)(f)
        return f

    return decorate


def cpu_count() -> int:
    from .parallel import default_jobs

    return default_jobs()


def jobs_option(f: Callable) -> Callable:
    return click.option(
        "-j", "--jobs", type=click.IntRange(min=1), default=cpu_count, show_default="CPU count",
        help="Sources processed in parallel.",
    )(f)


def check_sources(sources: Iterable[str]) -> list[str]:
    sources = list(sources)
    if sources.count("-") > 1:
        raise click.BadParameter("'-' (standard input) can be given only once.", param_hint="SOURCE")
    return sources


def fail(error: IkmetaError | str) -> None:
    click.echo(f"ikmeta: {error}", err=True)


def warn(source: str, message: str) -> None:
    click.echo(f"ikmeta: {source}: warning: {message}", err=True)


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
        click.echo(line)


# --- inspect --------------------------------------------------------------------------------

def safely(work: Callable[[str], Any], source: str | IkmetaError) -> Any:
    """``work(source)``, or the :class:`IkmetaError` that says why it failed (never a traceback)."""
    if isinstance(source, IkmetaError):  # already failed while finding sources
        return source
    try:
        return work(source)
    except IkmetaError as exc:
        return exc
    except MemoryError:
        return IkmetaError(source, "not enough memory to read this image")
    except Exception as exc:  # a bug or a library's surprise: still one line, still the next source
        return IkmetaError(source, f"unexpected error: {type(exc).__name__}: {exc}")


def reports(work: Callable[[str], Any], sources: Iterable[str | IkmetaError], jobs: int,
            state: dict[str, int]) -> Iterator[dict]:
    """The metadata of each source in order; failures and warnings go to stderr as they come."""
    from .parallel import ordered_map

    for outcome in ordered_map(functools.partial(safely, work), sources, jobs):
        if isinstance(outcome, IkmetaError):
            fail(outcome)
            state["failed"] += 1
            continue
        for message in outcome.warnings:
            warn(outcome.source, message)
        yield outcome.metadata


def inspect_source(source: str) -> Any:
    from .metadata import inspect_blob
    from .source import read_source

    return inspect_blob(read_source(source))


def phash_source(source: str) -> Any:
    from .metadata import phash_blob
    from .source import read_source

    return phash_blob(read_source(source))


@cli.command(context_settings=CONTEXT)
@click.argument("sources", metavar="SOURCE...", nargs=-1, required=True)
@output_options(default="json")
@jobs_option
def inspect(sources: tuple[str, ...], output: str, jobs: int) -> None:
    """The metadata object of each image, as ImageKit's Metadata API gives it.

    SOURCE is an image file, or - for standard input. One source prints one JSON
    object; several print an array, in argument order. Unreadable sources are named
    on stderr and the rest still printed (exit status 1).

    \b
    Examples:
      ikmeta inspect photo.jpg
      ikmeta inspect *.jpg --ndjson | jq .exif.exif.ISO
      cat photo.jpg | ikmeta inspect -
    """
    names = check_sources(sources)
    state = {"failed": 0}
    objects = reports(inspect_source, names, jobs, state)
    if output == "ndjson":
        from .output import ndjson_lines

        emit(ndjson_lines(objects))
    elif output == "table":
        from .output import table_lines

        emit(table_lines(objects))
    else:
        from .output import json_lines

        emit(json_lines(objects, single=len(names) == 1), colour_json=True)
    if state["failed"]:
        sys.exit(EXIT_FAILED)


# --- phash ----------------------------------------------------------------------------------

@cli.command(context_settings=CONTEXT)
@click.argument("sources", metavar="SOURCE...", nargs=-1, required=True)
@click.option("--hidden", is_flag=True, help="Also hash hidden files and folders inside folders.")
@output_options(default="table")
@jobs_option
def phash(sources: tuple[str, ...], hidden: bool, output: str, jobs: int) -> None:
    """The 64-bit pHash of each image, as 16 hex digits: 'HASH  SOURCE' lines, like sha256sum.

    SOURCE is an image file, a folder (walked recursively for image files), or - for
    standard input. The hash is the one 'ikmeta inspect' reports as pHash.

    \b
    Examples:
      ikmeta phash photo.jpg
      ikmeta phash ~/Pictures | sort | uniq -w16 -D     exact-hash duplicates
      ikmeta phash --ndjson photos/ | jq -r .pHash
    """
    from .walk import image_paths

    check_sources(sources)
    state = {"failed": 0}
    objects = reports(phash_source, image_paths(sources, hidden=hidden), jobs, state)
    if output == "table":
        emit(f"{obj['pHash']}  {obj['source']}" for obj in objects)
    else:
        from .output import json_lines, ndjson_lines

        emit(ndjson_lines(objects) if output == "ndjson" else json_lines(objects, single=False))
    if state["failed"]:
        sys.exit(EXIT_FAILED)


# --- distance -------------------------------------------------------------------------------

class HashOrSource(click.ParamType):
    """A hex pHash, or an image to hash (a path, or -). An existing file wins over hex."""

    name = "hash-or-source"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .hashes import HashFormatError, parse_hash

        if value == "-" or os.path.exists(value):
            return ("source", value)
        try:
            return ("hash", parse_hash(value))
        except HashFormatError:
            self.fail(f"not a hexadecimal pHash and no such file: {value!r}", param, ctx)


@cli.command(context_settings=CONTEXT)
@click.argument("a", type=HashOrSource())
@click.argument("b", type=HashOrSource())
@output_options(default="table")
def distance(a: tuple[str, str], b: tuple[str, str], output: str) -> None:
    """The Hamming distance of two pHashes (the bits that differ), as ImageKit's SDKs compute it.

    A and B are each a hex pHash (any case, optional 0x, any length as long as both are
    equal) or an image (a path, or -) hashed on the fly. Prints the distance as a bare integer.

    \b
    Examples:
      ikmeta distance 2d5ad3936d2e015b 2d6ed293db36a4fb      prints 17
      ikmeta distance photo.jpg copy.jpg
      ikmeta distance --json photo.jpg 2d5ad3936d2e015b
    """
    from .hashes import distance as hamming

    check_sources(value for kind, value in (a, b) if kind == "source")
    hashes = resolve_hashes([a, b])
    if len(hashes[0]) != len(hashes[1]):
        raise click.UsageError(f"pHashes differ in length: {len(hashes[0])} vs {len(hashes[1])} hex digits")
    result = {"a": hashes[0], "b": hashes[1], "distance": hamming(*hashes)}
    if output == "table":
        click.echo(result["distance"])
    else:
        from .output import compact, pretty

        click.echo(compact(result) if output == "ndjson" else pretty(result))


def resolve_hashes(values: list[tuple[str, str]]) -> list[str]:
    """The hex hash of each (kind, value): given as is, or computed from the image; exit 1 on a bad image."""
    sources = [value for kind, value in values if kind == "source"]
    state = {"failed": 0}
    computed = {obj["source"]: obj["pHash"] for obj in reports(phash_source, sources, len(sources), state)}
    if state["failed"]:
        sys.exit(EXIT_FAILED)
    return [computed[value] if kind == "source" else value for kind, value in values]
