"""Every write of the command line to stdout and stderr, and how it ends.

Data goes to stdout (:func:`emit`, :func:`emit_all`, :func:`say`), messages to stderr as
``ikmeta: <source>: <reason>`` (:func:`fail`, :func:`warn`, :func:`note_skipped`, :func:`note`),
a progress bar to stderr on a terminal (:class:`ProgressBar`); a message while the bar is on
screen is printed above it, never onto its line. A command that gives up calls
:func:`abort`, the one way out with a failure; Ctrl-C ends a run at once
(:func:`_interrupted`), with the terminal restored as it was found.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ikmeta.errors import IkmetaError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 128 + 2  # as the shell reports a program killed by SIGINT


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


# The console of the progress bar on screen, if one is: messages go through it.
_BAR_CONSOLES: list[Console] = []


def _message(line: str) -> None:
    """One line on stderr. With a progress bar on screen it goes through the bar's console,
    which clears the bar's line first and draws the bar again below the message (written
    past it, the line would be glued to the bar)."""
    if _BAR_CONSOLES:
        _BAR_CONSOLES[-1].print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)
    else:
        click.echo(line, err=True)


def fail(error: IkmetaError | str) -> None:
    from ikmeta.output import one_line

    _message(f"ikmeta: {one_line(str(error))}")


def abort(error: IkmetaError | str | None = None) -> NoReturn:
    """Give up: the error's line on stderr (none when the failures were already named), exit 1."""
    if error is not None:
        fail(error)
    sys.exit(EXIT_FAILED)


def note(text: str) -> None:
    """A line for the person on stderr: a summary, a warning that names no source."""
    _message(text)


def say(text: str) -> None:
    """A line of data on stdout, written as it is."""
    click.echo(text)


def note_skipped(skipped: Counter[str]) -> None:
    """One line on stderr for the files a folder walk passed over, if any (the videos among
    them were passed over for want of PyAV: the line says how to install it)."""
    from ikmeta import video
    from ikmeta.output import one_line
    from ikmeta.sources.walk import skipped_summary

    why = None if video.available() else f"reading videos needs PyAV: {video.INSTALL}"
    line = skipped_summary(skipped, why)
    if line:
        _message(f"ikmeta: {one_line(line)}")


def warn(source: str, message: str) -> None:
    from ikmeta.output import one_line

    _message(f"ikmeta: {one_line(f'{source}: warning: {message}')}")


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
            _BAR_CONSOLES.append(self.bar[0].console)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            _BAR_CONSOLES.remove(self.bar[0].console)
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
