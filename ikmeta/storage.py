"""Object storage sources, ``s3://``, ``gs://`` and ``az://`` (and ``gcs://``, ``abfs://``,
``abfss://``), read through fsspec and the library of each store (s3fs, gcsfs, adlfs: the
extras ``ikmeta[s3]``, ``ikmeta[gcs]``, ``ikmeta[azure]``).

    >>> read_object("s3://photos/2024/a.jpg", FetchOptions(max_bytes=20_000_000))
    Blob(source='s3://photos/2024/a.jpg', data=b'...', ...)
    >>> list(walk_prefix("s3://photos/2024/", hidden=False, skipped=Counter(), fetch=FetchOptions()))
    ['s3://photos/2024/a.jpg', 's3://photos/2024/b.heic']

Credentials are found as each store's library finds them (environment, profiles, instance
roles); ``FetchOptions.storage_options`` (``--storage-option KEY=VALUE``) adds to them, as
an ``endpoint_url`` for MinIO and other S3-compatible stores. A prefix is walked like a
folder: every object below it whose name is an image's, in key order, hidden names (a part
starting with ``.``) skipped unless asked for. What a listing says of each object (size,
ETag or version, modification time) is kept, so that an object too big is refused before a
byte of it is read and the hash cache needs no request to know an object it has hashed.
"""

from __future__ import annotations

import datetime
import importlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import SourceError
from .source import OBJECT_SCHEMES, Blob, FetchOptions, object_scheme

# What each store's listing calls an object's version, most precise first.
VERSION_KEYS = ("VersionId", "version_id", "generation", "ETag", "etag", "md5Hash", "content_md5")
MODIFIED_KEYS = ("LastModified", "last_modified", "updated", "mtime", "modified")


@dataclass(frozen=True)
class ObjectInfo:
    """What the store says of an object: its size, version (ETag, version id or generation)
    and modification time (ns), the last two None when it does not say."""

    size: int
    version: str | None
    modified_ns: int | None


# By URL: what listings said, and when. A walk then reads and caches its objects without
# asking about each again; trusted for LISTED_FOR seconds (a notebook's next run lists again).
_KNOWN: dict[str, tuple[ObjectInfo, float]] = {}
_KNOWN_LOCK = threading.Lock()
LISTED_FOR = 600.0


def split(url: str) -> tuple[str, str]:
    """(scheme, ``bucket/key`` as fsspec names it); raises SourceError without a bucket."""
    scheme = object_scheme(url)
    if scheme is None:
        raise SourceError(url, "not an object URL")
    path = url.partition("://")[2]
    if not path.strip("/"):
        raise SourceError(url, "no bucket named (s3://BUCKET/KEY)")
    return scheme, path


def filesystem(url: str, fetch: FetchOptions) -> Any:
    """The fsspec filesystem for ``url``'s scheme with ``fetch``'s options (one per set of
    options: fsspec keeps them); raises SourceError when its library is not installed."""
    scheme, _ = split(url)
    protocol, package, extra = OBJECT_SCHEMES[scheme]
    try:
        # Imported by name: fsspec has no type information, and a user's type checker, which
        # follows ikmeta's imports (py.typed), would stop at it.
        fsspec = importlib.import_module("fsspec")
        fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError):
        raise SourceError(
            url, f"reading {scheme}:// needs {package}: pip install 'ikmeta[{extra}]'"
        ) from None
    options = _timeout_options(protocol, fetch.timeout)
    for key, value in fetch.storage_options:
        if isinstance(value, dict) and isinstance(options.get(key), dict):
            options[key] = {**options[key], **value}
        else:
            options[key] = value
    try:
        return fsspec.filesystem(protocol, **options)
    except Exception as exc:  # noqa: BLE001 - a library's own complaint about an option: one line
        raise SourceError(
            url, f"cannot open {scheme}:// with these storage options: {_one_line(exc)}"
        ) from None


def _timeout_options(protocol: str, timeout: float) -> dict[str, Any]:
    """--timeout as each store's library takes it."""
    if protocol == "s3":
        return {"config_kwargs": {"connect_timeout": timeout, "read_timeout": timeout}}
    if protocol == "gcs":
        return {"requests_timeout": timeout}
    return {"connection_timeout": max(1, round(timeout)), "read_timeout": max(1, round(timeout))}


def object_info(url: str, fetch: FetchOptions) -> ObjectInfo:
    """What the store says of the object at ``url`` (from the run's listings, else asked);
    raises SourceError for a missing object, a prefix, or one that cannot be read."""
    with _KNOWN_LOCK:
        known = _KNOWN.get(url)
    if known is not None and time.monotonic() - known[1] < LISTED_FOR:
        return known[0]
    fs, (_, path) = filesystem(url, fetch), split(url)
    try:
        fs.invalidate_cache(path)  # the library's own listing cache may be from an earlier run
        details = fs.info(path)
    except Exception as exc:  # noqa: BLE001 - each store's library raises its own kinds
        raise SourceError(url, object_error(exc)) from None
    if details.get("type") != "file":
        raise SourceError(url, "is a prefix (a folder), not an object: end it with / to walk it")
    return _remember(url, details)


def _remember(url: str, details: dict[str, Any]) -> ObjectInfo:
    info = ObjectInfo(int(details.get("size") or 0), _version(details), _modified_ns(details))
    with _KNOWN_LOCK:
        _KNOWN[url] = (info, time.monotonic())
    return info


def _version(details: dict[str, Any]) -> str | None:
    for key in VERSION_KEYS:
        value = details.get(key)
        if value not in (None, "", "null"):
            return str(value)
    return None


def _modified_ns(details: dict[str, Any]) -> int | None:
    for key in MODIFIED_KEYS:
        value = details.get(key)
        if isinstance(value, datetime.datetime):
            return round(value.timestamp() * 1e9)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return round(value * 1e9)
        if isinstance(value, str):
            try:
                return round(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1e9)
            except ValueError:
                continue
    return None


def read_object(url: str, fetch: FetchOptions) -> Blob:
    """The bytes of the object at ``url``; refused before reading when the store says it is
    over ``fetch.max_bytes``."""
    info = object_info(url, fetch)
    if info.size > fetch.max_bytes:
        raise SourceError(
            url, f"object of {info.size} bytes is over the --max-bytes limit of {fetch.max_bytes}"
        )
    fs, (_, path) = filesystem(url, fetch), split(url)
    try:
        data = fs.cat_file(path)
    except Exception as exc:  # noqa: BLE001 - each store's library raises its own kinds
        raise SourceError(url, object_error(exc)) from None
    if len(data) > fetch.max_bytes:  # it grew since it was listed
        raise SourceError(url, f"object is over the --max-bytes limit of {fetch.max_bytes} bytes")
    if not data:
        raise SourceError(url, "empty object")
    return Blob(url, bytes(data), mtime_ns=info.modified_ns)


def walk_prefix(
    url: str, hidden: bool, skipped: Counter[str], fetch: FetchOptions
) -> Iterator[str | SourceError]:
    """``url`` itself when it names an object, else every image object below it as a prefix
    (in key order; hidden names skipped unless ``hidden``; others counted in ``skipped`` by
    extension), or the SourceError that says why it cannot be listed."""
    from .walk import NO_EXTENSION, is_image_name

    try:
        scheme, path = split(url)
        fs = filesystem(url, fetch)
    except SourceError as error:
        yield error
        return
    base = path.strip("/")
    try:
        fs.invalidate_cache(base)  # list afresh: the library's listing cache may be from an earlier run
        if not url.endswith("/") and "/" in base:
            try:
                details = fs.info(base)
            except FileNotFoundError:
                details = {}
            if details.get("type") == "file":
                _remember(url, details)
                yield url
                return
        found = fs.find(base, detail=True)
    except Exception as exc:  # noqa: BLE001 - each store's library raises its own kinds
        yield SourceError(url, object_error(exc))
        return
    objects = sorted(  # names as bucket/key (some filesystems put a / before them)
        (name.lstrip("/"), details) for name, details in found.items() if details.get("type") == "file"
    )
    if not objects:
        yield SourceError(url, "no such object or prefix")
        return
    for name, details in objects:
        below = name[len(base) :].lstrip("/")
        if not hidden and any(part.startswith(".") for part in below.split("/")):
            continue
        if is_image_name(name):
            object_url = f"{scheme}://{name}"
            _remember(object_url, details)
            yield object_url
        else:
            skipped[os.path.splitext(name.rsplit("/", 1)[-1])[1].lower() or NO_EXTENSION] += 1


def object_error(exc: BaseException) -> str:
    """A store library's exception as one phrase: 'no such object', 'access denied'..."""
    if isinstance(exc, FileNotFoundError):
        text = str(exc)
        return "no such bucket" if "bucket does not exist" in text.lower() else "no such object"
    if isinstance(exc, PermissionError):
        return f"access denied ({_one_line(exc)})"
    name = type(exc).__name__
    if name == "NoCredentialsError":
        return "no credentials found (environment, profile or instance role; or --storage-option anon=true)"
    if isinstance(exc, (TimeoutError, ConnectionError)) or "Timeout" in name:
        return f"cannot reach the store ({name}: {_one_line(exc)})"
    return f"{name}: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
