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
from .parallel import default_jobs, ordered_map

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


def jobs_option(f: Callable) -> Callable:
    return click.option(
        "-j", "--jobs", type=click.IntRange(min=1), default=default_jobs, show_default="CPU count",
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

def safely(work: Callable[[str], Any], source: str) -> Any:
    """``work(source)``, or the :class:`IkmetaError` that says why it failed (never a traceback)."""
    try:
        return work(source)
    except IkmetaError as exc:
        return exc
    except MemoryError:
        return IkmetaError(source, "not enough memory to read this image")
    except Exception as exc:  # a bug or a library's surprise: still one line, still the next source
        return IkmetaError(source, f"unexpected error: {type(exc).__name__}: {exc}")


def reports(work: Callable[[str], Any], sources: list[str], jobs: int, state: dict[str, int]) -> Iterator[dict]:
    """The metadata of each source in order; failures and warnings go to stderr as they come."""
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
