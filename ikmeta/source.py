"""Sources: the bytes of an image named on the command line: a path, ``-`` for standard
input, or an http(s) URL (downloaded by :mod:`ikmeta.remote`).

    >>> blob = read_source("photo.jpg")
    >>> blob.source, len(blob.data)
    ('photo.jpg', 7958)
    >>> read_source("https://example.com/a.jpg", fetch=FetchOptions(timeout=10))
    Blob(source='https://example.com/a.jpg', data=b'...', content_type='image/jpeg')
"""
from __future__ import annotations

import errno
import os
import re
import sys
from dataclasses import dataclass
from typing import BinaryIO

from .errors import SourceError

STDIN = "-"
URL_PREFIXES = ("http://", "https://")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
FOREIGN_SCHEMES = {"file", "ftp", "ftps", "data", "sftp", "s3", "gs", "ws", "wss", "mailto", "javascript"}


@dataclass(frozen=True)
class Blob:
    """An image's bytes and the source they came from, exactly as the user gave it."""

    source: str
    data: bytes
    content_type: str | None = None  # what an HTTP server said the body was


@dataclass(frozen=True)
class FetchOptions:
    """Limits for downloading a URL."""

    timeout: float = 30.0  # seconds, for connecting and for each read
    max_bytes: int = 100_000_000  # body size cap, checked while streaming
    max_redirects: int = 5


def is_url(source: str) -> bool:
    return source[:8].lower().startswith(URL_PREFIXES)


def foreign_scheme(source: str) -> str | None:
    """The scheme of a URL ikmeta does not fetch (``ftp://x``, ``data:...``), else None."""
    match = SCHEME.match(source)
    if not match or is_url(source):
        return None
    scheme = match[1].lower()
    if "://" in source or scheme in FOREIGN_SCHEMES:
        return scheme
    return None


def read_source(source: str, stdin: BinaryIO | None = None, fetch: FetchOptions | None = None) -> Blob:
    """Read a path, standard input for ``-``, or a URL; raise :class:`SourceError` naming the reason."""
    if source == STDIN:
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read()
        if not data:
            raise SourceError(source, "standard input is empty")
        return Blob(source, data)
    if is_url(source):
        from .remote import fetch_url

        return fetch_url(source, fetch or FetchOptions())
    scheme = foreign_scheme(source)
    if scheme and not os.path.exists(source):
        raise SourceError(source, f"unsupported URL scheme '{scheme}' (ikmeta fetches http:// and https:// only)")
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
        raise SourceError(path, reason[:1].lower() + reason[1:]) from None
    if not data:
        raise SourceError(path, "empty file")
    return data


