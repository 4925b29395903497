"""The sources a command is given (arguments, then the lines of ``--from``), and the reports
of a run over them: each result in order, each failure on stderr, and the exit status."""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import click

from ikmeta.errors import IkmetaError, SourceError
from ikmeta.sources.base import STDIN, FetchOptions, is_remote

from .terminal import abort, fail, note_skipped, warn


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


def is_one_image(source: str) -> bool:
    """A source that is one image (its object is printed alone), not a folder or a prefix."""
    from ikmeta.sources.base import is_wanted_name, object_scheme

    if object_scheme(source):
        return not source.endswith("/") and is_wanted_name(source, videos=True)
    return not os.path.isdir(source)


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
            from ikmeta.sources.read import list_lines

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
    follow_links: bool = False,
    videos: bool = False,
) -> Iterator[Iterator[dict[str, Any]]]:
    """``many`` (ikmeta.inspect_many or hash_records) of every source, folders walked (with
    ``videos``, their videos too, when PyAV is there to read them); once they are written,
    the line on the files the walk skipped, and the exit status (1 when some source failed)."""
    from ikmeta import video
    from ikmeta.api import limits_of
    from ikmeta.sources.walk import image_paths

    state = {"failed": 0}
    skipped: Counter[str] = Counter()
    sources = image_paths(
        names,
        hidden=hidden,
        skipped=skipped,
        fetch=fetch,
        follow_links=follow_links,
        videos=videos and video.available(),
    )
    yield reports(many(sources, jobs=jobs, on_warning=warn, **limits_of(fetch)), state, records)
    note_skipped(skipped)
    finish(state)


def finish(state: dict[str, int]) -> None:
    if state["failed"]:
        abort()
