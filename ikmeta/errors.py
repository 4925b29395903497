"""Errors the core raises. Each names its input and says what is wrong in one line;
the command line prints it as ``ikmeta: <source>: <reason>`` and exits 1.

    >>> str(SourceError("photo.jpg", "no such file"))
    'photo.jpg: no such file'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class IkmetaError(Exception):
    """Base of every error ikmeta reports to the user."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class SourceError(IkmetaError):
    """The bytes could not be read: a missing file, a folder, no permission, an empty file."""


class ImageError(IkmetaError):
    """The bytes are not an image ikmeta can read: unknown format, corrupt, or too large."""


class HashError(IkmetaError, ValueError):
    """A pHash that is not one: not hexadecimal, empty, or of another length than its pair."""


class IkmetaWarning(UserWarning):
    """A source read with a caveat (truncated data: the pHash is of the part that decodes), or,
    from the Python API without an ``on_error``, a source that could not be read."""


def os_reason(exc: OSError) -> str:
    """An OSError as a short phrase for a message: 'permission denied', 'no space left on device'.

    >>> os_reason(PermissionError(13, "Permission denied"))
    'permission denied'
    """
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


def guarded(work: Callable[[Any], Any], source: Any, name: str | None = None) -> Any:
    """``work(source)``, or the :class:`IkmetaError` that says why it failed: never a traceback.

    A source that already failed (while listing sources) is passed through. ``name``: how a
    source that is not a string is named in the message (default: ``<source>``).
    """
    if isinstance(source, IkmetaError):
        return source
    try:
        return work(source)
    except IkmetaError as exc:
        return exc
    except MemoryError:
        return IkmetaError(_named(source, name), "not enough memory to read this image")
    except Exception as exc:  # noqa: BLE001 - a bug or a library's surprise: one line, then the next source
        return IkmetaError(_named(source, name), f"unexpected error: {type(exc).__name__}: {exc}")


def _named(source: Any, name: str | None) -> str:
    return source if isinstance(source, str) else name or "<source>"
