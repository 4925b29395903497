"""Sources: the bytes of an image named on the command line: a path, ``-`` for standard
input, or an http(s) URL (downloaded by :mod:`ikmeta.sources.urls`).

    >>> blob = read_source("photo.jpg")
    >>> blob.source, len(blob.data)
    ('photo.jpg', 7958)
    >>> read_source("https://example.com/a.jpg", fetch=FetchOptions(timeout=10))
    Blob(source='https://example.com/a.jpg', data=b'...', content_type='image/jpeg')
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, BinaryIO, NamedTuple, TextIO, TypeVar, cast

from ikmeta.errors import IkmetaError, SourceError, guarded, os_reason

from .base import STDIN, Blob, FetchOptions, foreign_scheme, is_remote, is_url, object_scheme
from .filebytes import FileBytes

BYTES_NAME, STREAM_NAME = "<bytes>", "<stream>"  # how messages name sources without a name


def read_source(source: str, stdin: BinaryIO | None = None, fetch: FetchOptions | None = None) -> Blob:
    """Read a path, standard input for ``-``, or a URL; raise :class:`SourceError` naming the reason."""
    limit = (fetch or FetchOptions()).max_bytes
    if source == STDIN:
        stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise SourceError(source, "standard input is closed")
        data = _read_capped(stream, limit, source)
        if not data:
            raise SourceError(source, "standard input is empty")
        return Blob(source, data)
    if is_url(source):
        from .urls import fetch_url

        return fetch_url(source, fetch or FetchOptions())
    if object_scheme(source):
        from .stores import read_object

        return read_object(source, fetch or FetchOptions())
    scheme = foreign_scheme(source)
    if scheme and not os.path.exists(source):
        raise SourceError(
            source,
            f"unsupported URL scheme '{scheme}' (ikmeta reads http://, https://, s3://, gs:// and az://)",
        )
    read = read_file(source, limit)
    return Blob(source, read.data, mtime_ns=read.mtime_ns, file=read.file)


def read_any(source: Any, fetch: FetchOptions) -> Blob:
    """The bytes of a source of any kind the Python API takes: a path or URL (as
    :func:`read_source`), an ``os.PathLike`` (a path, always), ``bytes``, or a binary file
    object; raises :class:`~ikmeta.errors.SourceError`."""
    if isinstance(source, str):
        return read_source(source, fetch=fetch)
    if isinstance(source, os.PathLike):
        path = os.fspath(source)
        if not isinstance(path, str):
            raise SourceError(repr(source), "a path of bytes; give it as str")
        read = read_file(path, fetch.max_bytes)
        return Blob(path, read.data, mtime_ns=read.mtime_ns, file=read.file)
    if isinstance(source, (bytes, bytearray, memoryview)):
        size = source.nbytes if isinstance(source, memoryview) else len(source)
        if not size:
            raise SourceError(BYTES_NAME, "no bytes")
        if size > fetch.max_bytes:  # before a copy is made
            raise SourceError(BYTES_NAME, f"more than {fetch.max_bytes} bytes (max_bytes); not read")
        return Blob(BYTES_NAME, bytes(source))
    if hasattr(source, "read"):
        return _stream_blob(source, fetch.max_bytes)
    raise SourceError(repr(source)[:200], f"not a source ikmeta reads ({type(source).__name__})")


def _stream_blob(stream: IO[bytes], limit: int) -> Blob:
    """All of a binary file object, named by its ``name`` (else ``<stream>``)."""
    name = getattr(stream, "name", None)
    name = name if isinstance(name, str) else STREAM_NAME
    text_stream = "a text stream; open the file in binary mode ('rb')"
    try:
        data: Any = _read_capped(cast(BinaryIO, stream), limit, name)
    except OSError as exc:
        raise SourceError(name, f"cannot read: {os_reason(exc)}") from None
    except (TypeError, UnicodeDecodeError):  # b"".join of text; a text file's decoding of image bytes
        raise SourceError(name, text_stream) from None
    except ValueError as exc:  # "read of closed file", "I/O operation on closed file"
        reason = "the file is closed" if "closed" in str(exc) else f"cannot read: {exc}"
        raise SourceError(name, reason) from None
    if not isinstance(data, bytes):
        raise SourceError(name, text_stream)
    if not data:
        raise SourceError(name, "empty stream")
    return Blob(name, data)


def source_name(source: Any) -> str:
    """How messages name a source: a path or URL as given, else ``<bytes>`` or the stream's name."""
    if isinstance(source, (str, os.PathLike)):
        return str(os.fspath(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return BYTES_NAME
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else STREAM_NAME


T = TypeVar("T")


R = TypeVar("R")


def on_bytes(work: Callable[[Blob], R], source: Any, fetch: FetchOptions) -> R | IkmetaError:
    """``work`` on a source's bytes (a Blob :func:`read_ahead` downloaded, or read now as
    :func:`read_any` reads it), or the IkmetaError that says why it failed: never a traceback."""
    name = source.source if isinstance(source, Blob) else source_name(source)
    outcome: R | IkmetaError = guarded(
        lambda s: work(s if isinstance(s, Blob) else read_any(s, fetch)), source, name
    )
    return outcome


def read_ahead(sources: Iterable[T], fetch: FetchOptions) -> Iterator[T | Blob | IkmetaError]:
    """The sources in order, each URL or stored object among them downloaded (as a Blob, or the error that says
    why not) on ``fetch.connections`` threads of its own, so downloads wait on the network
    side by side while fewer threads decode; other sources pass as they are, to be read where
    they are decoded (reading files ahead would only hold their bytes longer)."""
    from ikmeta.parallel import ordered_map

    def download(source: T) -> T | Blob | IkmetaError:
        if isinstance(source, str) and is_remote(source):
            return guarded(lambda url: read_source(url, fetch=fetch), source)  # type: ignore[no-any-return]
        return source

    # Each download thread holds at most one body that no decoder has taken yet: bodies wait
    # in memory, --connections of them (and the decoders' own few) at most.
    return ordered_map(download, sources, fetch.connections, in_flight=fetch.connections)


class FileRead(NamedTuple):
    """A file as :func:`read_file` read it: its bytes (a large video's first bytes only), its
    modification time (None for a pipe or device), and a large video's whole file, read where
    it lies (else None)."""

    data: bytes
    mtime_ns: int | None
    file: FileBytes | None = None


def read_file(path: str, limit: int | None = None) -> FileRead:
    """The bytes of a file and its modification time (None for a pipe or device, which may
    never end and is read up to ``limit`` bytes). A video of :data:`STREAM_AT` bytes or more
    is not read: its ``file`` is a :class:`~ikmeta.sources.filebytes.FileBytes`, read where
    it lies as the decoder asks for it, and ``data`` only its first :data:`VIDEO_HEAD` bytes."""
    if not path:
        raise SourceError("''", "empty file name")
    try:
        # Opened without blocking, so that a named pipe no program writes to reads as empty
        # rather than waiting for ever; reads then block as usual.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        os.set_blocking(descriptor, True)
        with os.fdopen(descriptor, "rb") as fh:
            status = os.fstat(fh.fileno())
            regular = stat.S_ISREG(status.st_mode)
            head = os.pread(fh.fileno(), VIDEO_HEAD, 0) if regular and status.st_size >= STREAM_AT else b""
            if head and _is_video(head):  # read where it lies, as the decoder asks
                whole = FileBytes(os.dup(fh.fileno()), status.st_size)
                return FileRead(head, status.st_mtime_ns, whole)
            data = fh.read() if regular or limit is None else _read_capped(fh, limit, path)
    except ValueError:  # open() refuses a NUL in the name
        raise SourceError(path.replace("\x00", "\\x00"), "file name holds a NUL byte") from None
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
    return FileRead(data, status.st_mtime_ns if regular else None)


def _read_capped(stream: BinaryIO, limit: int, name: str) -> bytes:
    """All of ``stream``, unless it holds more than ``limit`` bytes (then SourceError)."""
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise SourceError(name, f"more than {limit} bytes (--max-bytes); not read")
    return b"".join(chunks)


READ_CHUNK = 1 << 20
STREAM_AT = 32 << 20  # bytes: a video this large is read where it lies, not held in memory
VIDEO_HEAD = 1024  # bytes that tell a video's container (ikmeta.video.container.video_format)


def _is_video(head: bytes) -> bool:
    from ikmeta.video.container import video_format

    return video_format(head) is not None


MAX_LINE = 65536  # characters: a longer line in a list of names is not a name


def list_lines(stream: TextIO, name: str) -> Iterator[tuple[str, str | SourceError]]:
    """(``name:line``, text) for each line of a list of names or hashes, without its line
    ending (other spaces are kept: they may be part of a name); blank lines and ``#``
    comments are skipped, and a line too long to be a name is a SourceError."""
    number = 0
    while True:
        try:
            line = stream.readline(MAX_LINE)
        except OSError as exc:
            yield name, SourceError(name, f"cannot read the list: {os_reason(exc)}")
            return
        if not line:
            return
        number += 1
        where = f"{name}:{number}"
        if len(line) == MAX_LINE and not line.endswith("\n"):
            while line and not line.endswith("\n"):  # skip the rest of it
                line = stream.readline(MAX_LINE)
            yield where, SourceError(where, f"line longer than {MAX_LINE} characters: not a name or hash")
            continue
        text = line.rstrip("\r\n")
        if text.strip() and not text.lstrip().startswith("#"):
            yield where, text
