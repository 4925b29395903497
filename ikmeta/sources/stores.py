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
import hashlib
import importlib
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ikmeta.errors import SourceError

from .base import OBJECT_SCHEMES, Blob, FetchOptions, object_scheme

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


class ObjectURL(str):
    """An object's URL that carries what its listing said of it (``info``), so that the
    object is not asked about again: a str everywhere else (printed, compared, hashed)."""

    info: ObjectInfo | None = None

    def __new__(cls, url: str, info: ObjectInfo | None = None) -> ObjectURL:
        made = super().__new__(cls, url)
        made.info = info
        return made


def split(url: str) -> tuple[str, str]:
    """(scheme, ``bucket/key`` as fsspec names it); raises SourceError without a bucket."""
    scheme = object_scheme(url)
    if scheme is None:
        raise SourceError(url, "not an object URL")
    path = url.partition("://")[2]
    if not path.strip("/"):
        raise SourceError(url, "no bucket named (s3://BUCKET/KEY)")
    return scheme, path


def filesystem(url: str, fetch: FetchOptions) -> tuple[Any, str]:
    """The fsspec filesystem for ``url`` with ``fetch``'s options (and what the URL itself
    says, as an Azure account in ``abfss://container@account.dfs.core.windows.net/``), and
    the object's path in it; raises SourceError when its library is not installed."""
    scheme, _ = split(url)
    protocol, package, extra = OBJECT_SCHEMES[scheme]
    try:
        # Imported by name: fsspec has no type information, and a user's type checker, which
        # follows ikmeta's imports (py.typed), would stop at it.
        fsspec = importlib.import_module("fsspec")
        cls = fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError):
        raise SourceError(
            url, f"reading {scheme}:// needs {package}: pip install 'ikmeta[{extra}]'"
        ) from None
    options = _library_options(protocol, fetch)
    try:
        options.update(cls._get_kwargs_from_urls(url))
        path = cls._strip_protocol(url).strip("/")
        fs = fsspec.filesystem(protocol, **options)
    except Exception as exc:  # noqa: BLE001 - a library's own complaint about an option: one line
        raise SourceError(
            url, f"cannot open {scheme}:// with these storage options: {_one_line(exc)}"
        ) from None
    if protocol == "s3":
        fs.retries = 1  # botocore tries again itself, as config_kwargs says: --retries in all
    return fs, path


def _library_options(protocol: str, fetch: FetchOptions) -> dict[str, Any]:
    """--timeout and --retries as each store's library takes them, under --storage-option."""
    timeout = fetch.timeout
    options: dict[str, Any]
    if protocol == "s3":
        options = {
            "config_kwargs": {
                "connect_timeout": timeout,
                "read_timeout": timeout,
                "retries": {"total_max_attempts": fetch.retries + 1, "mode": "standard"},
            }
        }
    elif protocol == "gcs":
        options = {"requests_timeout": timeout}
    else:
        options = {"connection_timeout": max(1, round(timeout)), "read_timeout": max(1, round(timeout))}
    for key, value in fetch.storage_options:
        if isinstance(value, dict) and isinstance(options.get(key), dict):
            options[key] = {**options[key], **value}
        else:
            options[key] = value
    return options


def object_info(url: str, fetch: FetchOptions) -> ObjectInfo:
    """What the store says of the object at ``url``: as its listing said (an
    :class:`ObjectURL`), else asked now; raises SourceError for a missing object, a prefix,
    or one that cannot be looked up."""
    if isinstance(url, ObjectURL) and url.info is not None:
        return url.info
    fs, path = filesystem(url, fetch)
    try:
        fs.invalidate_cache(path)  # the library's own listing cache may be from an earlier call
        details = fs.info(path)
    except Exception as exc:  # noqa: BLE001 - each store's library raises its own kinds
        raise SourceError(url, object_error(exc)) from None
    if details.get("type") != "file":
        walk = "" if url.endswith("/") else ": end it with / to walk it"
        raise SourceError(url, f"is a prefix (a folder), not an object{walk}")
    return _info(details)


def _info(details: dict[str, Any]) -> ObjectInfo:
    return ObjectInfo(int(details.get("size") or 0), _version(details), _modified_ns(details))


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
    """The bytes of the object at ``url``, read up to ``fetch.max_bytes`` (refused before any
    read when the store lists it bigger). The Blob's ``version`` is the listed version only
    when the bytes are known to be that version's (see :func:`_read_version`), so that the
    hash cache never files one version's hash under another's."""
    info = object_info(url, fetch)
    if info.size > fetch.max_bytes:
        raise SourceError(
            url, f"object of {info.size} bytes is over the --max-bytes limit of {fetch.max_bytes}"
        )
    fs, path = filesystem(url, fetch)
    try:
        data = fs.cat_file(path, start=0, end=fetch.max_bytes + 1)  # never more than the limit and a byte
    except Exception as exc:  # noqa: BLE001 - each store's library raises its own kinds
        raise SourceError(url, object_error(exc)) from None
    if len(data) > fetch.max_bytes:  # it grew since it was listed
        raise SourceError(url, f"object is over the --max-bytes limit of {fetch.max_bytes} bytes")
    if not data:
        raise SourceError(url, "empty object")
    version = _read_version(fs, path, info, data)
    return Blob(url, bytes(data), mtime_ns=info.modified_ns, version=version)


def _read_version(fs: Any, path: str, info: ObjectInfo, data: bytes) -> str | None:
    """The listed version, if the bytes read are that version's, else None (not cached).

    An object may change between its listing and its read. Its size must match; an S3
    ETag of a single-part upload is the MD5 of the bytes, so it is checked; any other
    version (a multipart ETag, a version id, a generation) is asked for again after the
    read, and must be unchanged."""
    if info.version is None or len(data) != info.size:
        return None
    etag = info.version.strip('"')
    if len(etag) == 32 and all(c in "0123456789abcdef" for c in etag.lower()):
        return info.version if hashlib.md5(data, usedforsecurity=False).hexdigest() == etag.lower() else None
    try:
        fs.invalidate_cache(path)
        again = _info(fs.info(path))
    except Exception:  # noqa: BLE001 - not known to be the same: not cached
        return None
    return info.version if again.version == info.version and again.size == info.size else None


def walk_prefix(
    url: str, hidden: bool, skipped: Counter[str], fetch: FetchOptions, videos: bool = False
) -> Iterator[str | SourceError]:
    """``url`` itself when it names an object (a name with an image's extension is taken to,
    unasked), else every image object below it as a prefix (in key order; hidden names
    skipped unless ``hidden``; others counted in ``skipped`` by extension), as
    :class:`ObjectURL` values that carry what the listing said; or the SourceError that
    says why it cannot be listed."""
    from .base import NO_EXTENSION, is_wanted_name

    if not url.endswith("/") and is_wanted_name(url, videos):
        yield url  # an object, looked up where it is read (side by side), not here one by one
        return
    try:
        fs, base = filesystem(url, fetch)
        fs.invalidate_cache(base)  # list afresh: the library's listing cache may be from an earlier call
        if not url.endswith("/") and "/" in base:
            try:
                details = fs.info(base)
            except FileNotFoundError:
                details = {}
            if details.get("type") == "file":
                yield ObjectURL(url, _info(details))
                return
        found = fs.find(base, detail=True)
    except SourceError as error:
        yield error
        return
    except Exception as exc:  # noqa: BLE001 - each store's library raises its own kinds
        yield SourceError(url, object_error(exc))
        return
    objects = sorted(  # names as bucket/key (some filesystems put a / before them)
        (name.strip("/"), details)
        for name, details in found.items()
        if details.get("type") == "file" and not name.endswith("/")  # (a "folder" marker is not an object)
    )
    if not objects:
        yield SourceError(url, "no such object or prefix")
        return
    prefix = url.rstrip("/")
    for name, details in objects:
        below = name[len(base) :].lstrip("/")
        if not hidden and any(part.startswith(".") for part in below.split("/")):
            continue
        if is_wanted_name(name, videos):
            yield ObjectURL(f"{prefix}/{below}" if below else prefix, _info(details))
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
    if isinstance(exc, (TimeoutError, ConnectionError)) or "Timeout" in name or "Connection" in name:
        return f"cannot reach the store ({name}: {_one_line(exc)})"
    return f"{name}: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
