"""The ``ikmeta`` command line: a thin Click layer over the core.

Data goes to stdout, messages to stderr as ``ikmeta: <source>: <reason>``.
Exit codes: 0 all done, 1 some source could not be read, 2 usage error, 130 interrupted.
Core modules are imported inside the commands, so ``--help`` and ``distance`` stay fast.

Each command is a module of this package (inspect, phash, distance, dupes, review, apply,
undo and serve), registered on the ``cli`` group here; they share :mod:`.terminal` (every write
to stdout and stderr), :mod:`.options` (the option families), :mod:`.types` (the
parameter types) and :mod:`.sources` (the sources a command is given).
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import warnings
from typing import Any

import click

from ikmeta._version import __version__

from . import apply, distance, dupes, inspect, phash, review, serve
from .options import CONTEXT
from .terminal import EXIT_FAILED, EXIT_OK, _exit_now, _interrupted

# Errors writing stdout that mean the output cannot be written (a full disk, a closed descriptor).
OUTPUT_ERRORS = {errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT, errno.EFBIG}


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
            from ikmeta.parallel import FEED_THREAD

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


# Each command's line in 'ikmeta --help', whole (Click would cut a first sentence longer
# than the line at "...", and undo's at its own "'ikmeta apply ..."): at most 66 characters,
# one line of an 80-column terminal.
SHORT_HELP = {
    inspect.inspect: "Each image's metadata object, as ImageKit's Metadata API has it.",
    phash.phash: "The 64-bit pHash of each image, in lines like sha256sum's.",
    distance.distance: "The Hamming distance of two pHashes (the bits that differ).",
    dupes.dupes: "Groups of near-duplicate images, by pHash distance.",
    review.review: "Write a report's review page: choose what to keep in a browser.",
    apply.apply: "Trash, move or link a report's duplicates (a plan until --yes).",
    apply.undo: "Reverse what 'ikmeta apply ... --yes' did, from its journal.",
    serve.serve: "ImageKit's API from a folder, for ImageKit's own SDKs.",
}
for _command, _short in SHORT_HELP.items():
    _command.short_help = _short

# In the order the commands were written in (Click lists them sorted by name).
cli.add_command(inspect.inspect)
cli.add_command(phash.phash)
cli.add_command(distance.distance)
cli.add_command(dupes.dupes)
cli.add_command(review.review)
cli.add_command(apply.apply)
cli.add_command(apply.undo)
cli.add_command(serve.serve)
