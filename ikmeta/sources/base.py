"""What every source shares: the names of sources (standard input, URLs, stored objects), the
bytes read (:class:`Blob`), the limits of a fetch (:class:`FetchOptions`) and the names of image files.

    >>> is_url("https://example.com/a.jpg"), object_scheme("s3://bucket/a.jpg"), is_image_name("IMG_1.HEIC")
    (True, 's3', True)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .filebytes import FileBytes

STDIN = "-"


URL_PREFIXES = ("http://", "https://")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
FOREIGN_SCHEMES = {"file", "ftp", "ftps", "data", "sftp", "ws", "wss", "mailto", "javascript"}
# Object storage, read by ikmeta.sources.stores through fsspec: scheme -> (fsspec protocol, package, extra).
OBJECT_SCHEMES = {
    "s3": ("s3", "s3fs", "s3"),
    "s3a": ("s3", "s3fs", "s3"),
    "gs": ("gcs", "gcsfs", "gcs"),
    "gcs": ("gcs", "gcsfs", "gcs"),
    "az": ("abfs", "adlfs", "azure"),
    "abfs": ("abfs", "adlfs", "azure"),
    "abfss": ("abfs", "adlfs", "azure"),
}


@dataclass(frozen=True)
class Blob:
    """An image's bytes and the source they came from, exactly as the user gave it. A large
    local video is not read into memory: ``file`` is the whole of it, read where it lies
    (:class:`~ikmeta.sources.filebytes.FileBytes`), and ``data`` only its first bytes."""

    source: str
    data: bytes
    content_type: str | None = None  # what an HTTP server said the body was
    mtime_ns: int | None = None  # a file's modification time, as read
    version: str | None = None  # what an HTTP server said identifies the body (ETag, else Last-Modified)
    file: FileBytes | None = None

    @property
    def whole(self) -> bytes | FileBytes:
        """All of its bytes: ``file`` where it has one, else ``data``."""
        return self.file if self.file is not None else self.data

    @property
    def size(self) -> int:
        """How many bytes it has (its file's, for a video read where it lies)."""
        return len(self.whole)


@dataclass(frozen=True)
class FetchOptions:
    """Limits and manners for downloading a URL (see :mod:`ikmeta.sources.urls`)."""

    timeout: float = (
        30.0  # seconds, for the whole request to one URL: connects, reads, retries and their waits
    )
    max_bytes: int = 100_000_000  # body size cap, checked while streaming
    max_redirects: int = 5
    storage_options: tuple[
        tuple[str, Any], ...
    ] = ()  # for object stores (--storage-option), see ikmeta.sources.stores
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request (--header), over ikmeta's own
    retries: int = 3  # times a connection error, 429 or 5xx is tried again
    backoff: float = 0.5  # seconds: the waits between tries grow from this (doubling, with jitter)
    connections: int = 16  # downloads at once (--connections), and connections kept alive a host
    # Only public addresses, checked as each connection is made (ikmeta serve, for its clients'
    # URLs: see ikmeta.sources.addresses); a URL to 127.0.0.1 or 169.254.169.254 is refused.
    public_only: bool = False


HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token


def header_problem(name: str, value: str) -> str | None:
    """Why ``name: value`` cannot be sent as an HTTP header, else None.

    >>> header_problem("X-Tenant", "harbour"), header_problem("X", "a\r\nB: c")
    (None, "the value of 'X' holds a line break or NUL")
    """
    if not HEADER_NAME.fullmatch(name):
        return f"{name!r} is not a header name (letters, digits and !#$%&'*+.^_`|~-)"
    if any(c in value for c in "\r\n\x00"):
        return f"the value of {name!r} holds a line break or NUL"
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return f"the value of {name!r} holds characters HTTP cannot carry (percent-encode them)"
    return None


def is_url(source: str) -> bool:
    return source[:8].lower().startswith(URL_PREFIXES)


def object_scheme(source: str) -> str | None:
    """The object-storage scheme of ``source`` (``s3``, ``gs``...), else None.

    >>> object_scheme("s3://bucket/a.jpg"), object_scheme("https://x/a.jpg"), object_scheme("s3.jpg")
    ('s3', None, None)
    """
    head, sep, _ = source[:8].partition("://")
    scheme = head.lower()
    return scheme if sep and scheme in OBJECT_SCHEMES else None


def is_remote(source: str) -> bool:
    """An http(s) URL or an object in a store: not a path on this machine."""
    return is_url(source) or object_scheme(source) is not None


def foreign_scheme(source: str) -> str | None:
    """The scheme of a URL ikmeta does not fetch (``ftp://x``, ``data:...``), else None."""
    match = SCHEME.match(source)
    if not match or is_remote(source):
        return None
    scheme = match[1].lower()
    if "://" in source or scheme in FOREIGN_SCHEMES:
        return scheme
    return None


IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".jif", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp"}
    | {".heic", ".heif", ".avif"}
)
NO_EXTENSION = "(none)"  # how a skipped file without an extension is counted


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


# The containers ikmeta reads as videos (ikmeta.video), by their files' extensions.
# (Not .ts, which TypeScript shares: a transport stream named so is read when named, not walked.)
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mov", ".qt", ".m4v", ".3gp", ".3g2", ".webm", ".mkv", ".avi", ".mts", ".m2ts", ".m2t"}
)
VIDEO_SUFFIXES = tuple(VIDEO_EXTENSIONS)  # (none is longer than 5 characters)


def is_video_name(name: str) -> bool:
    """Whether a file name has a video's extension.

    >>> is_video_name("clip.MOV"), is_video_name("photo.jpg")
    (True, False)
    """
    # The suffix test first: the cheap answer for the many names that are not videos (a hash
    # list's million lines are each asked); splitext then keeps '.mp4' alone from counting.
    return (
        name[-5:].lower().endswith(VIDEO_SUFFIXES) and os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS
    )


def is_wanted_name(name: str, videos: bool = False) -> bool:
    """Whether a walk takes a file of this name: an image's, or with ``videos`` a video's too."""
    return is_image_name(name) or (videos and is_video_name(name))
