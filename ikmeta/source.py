"""Sources: the bytes of an image named on the command line (a path, or ``-`` for stdin).

    >>> blob = read_source("photo.jpg")
    >>> blob.source, len(blob.data)
    ('photo.jpg', 7958)
"""
from __future__ import annotations

import errno
import os
import sys
from dataclasses import dataclass
from typing import BinaryIO

from .errors import SourceError

STDIN = "-"


@dataclass(frozen=True)
class Blob:
    """An image's bytes and the source they came from, exactly as the user gave it."""

    source: str
    data: bytes


def read_source(source: str, stdin: BinaryIO | None = None) -> Blob:
    """Read a path, or standard input for ``-``; raise :class:`SourceError` naming the reason."""
    if source == STDIN:
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read()
        if not data:
            raise SourceError(source, "standard input is empty")
        return Blob(source, data)
    return Blob(source, read_file(source))


def read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise SourceError(path, "no such file") from None
    except IsADirectoryError:
        raise SourceError(path, "is a directory, not an image file") from None
    except PermissionError:
        raise SourceError(path, "permission denied") from None
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno == errno.ENOTDIR:
            reason = "no such file (a part of the path is not a folder)"
        raise SourceError(path, reason.lower() if reason[:1].isupper() else reason) from None
    if not data:
        raise SourceError(path, "empty file")
    return data
