"""A persistent cache of pHashes, so the second scan of a library is near-instant.

    >>> cache = HashCache.open(default_cache_path())
    >>> key = cache_key("/photos/a.jpg")            # absolute path, size, mtime in ns
    >>> cache.get([key])                             # {} the first time
    >>> cache.put([(key, {"pHash": "...", "width": 4000, "height": 3000, "flat": None, "format": "jpg",
    ...                   "quality": 92, "camera": "Canon EOS 40D", "captured": "2008-05-30T15:56:01"})])

The review page's thumbnails are kept beside the hashes, in a table of their own, under the
same key (and the kind of thumbnail: size, format, quality), so a second page is made without
decoding the images again.

An SQLite file in ``$XDG_CACHE_HOME/ikmeta/`` (``~/.cache/ikmeta/``). Entries are keyed by
the file's absolute path, size, modification time (ns) and the hash algorithm's version, so
an edited file or a new algorithm misses. Two runs may share it (WAL journal, waits on a
busy database). A corrupt cache is replaced, and so is a foreign file at the default path
(ikmeta's own folder); a file the user names with --cache that is not ikmeta's cache is
never touched. When the cache cannot be used, the run goes on without it. Nothing here raises.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._version import __version__
from .errors import os_reason
from .hashes import COLOUR, HASH_HEX, TURNS, WINDOWS, valid_hashes
from .video.record import VIDEO_KEYS, valid_video

APPLICATION_ID = 0x696B6D74  # 'ikmt', in the SQLite header: marks the file as ikmeta's
# 2: the best-copy columns (format, quality, camera, captured); 3: thumbnails; 4: turned, inner;
# 5: windows; 6: provenance, and the details table
SCHEMA_VERSION = 6
# The pHash algorithm and its inputs (draft scale, flatness rule), and what a row holds
# (v4: dimensions as displayed, and the best-copy traits): bump when they change.
# v5: the turned pHashes; v6: inner; v7: windows; v8: windows averaged by area, inner centred;
# v9: provenance
ALGORITHM = "phash-dct8-draft128-shrink128-flat1.5-v9"
# What a row holds besides its key: (key of the phash_blob metadata, column, SQL type).
VALUES = (
    ("pHash", "phash", "TEXT NOT NULL"),
    ("width", "width", "INTEGER"),
    ("height", "height", "INTEGER"),
    ("flat", "flat", "TEXT"),
    ("format", "format", "TEXT"),
    ("quality", "quality", "INTEGER"),
    ("camera", "camera", "TEXT"),
    ("captured", "captured", "TEXT"),
    ("turned", "turned", "TEXT"),  # the seven turned pHashes, one string of 7 x 16 hex digits
    ("inner", "inner", "TEXT"),  # the picture inside a plain border: "PHASH WIDTH HEIGHT CENTRED"
    ("windows", "windows", "TEXT"),  # the windows' pHashes, one string of 10 x 16 hex digits
    ("provenance", "provenance", "TEXT"),  # what the file says of where it came from, as JSON
)
# How many pHashes a list-valued column holds.
HASH_LISTS = {"turned": len(TURNS), "windows": len(WINDOWS)}
_COLUMNS = ", ".join(column for _, column, _ in VALUES)
THUMBNAILS_TABLE = (
    "CREATE TABLE IF NOT EXISTS thumbnails (path TEXT NOT NULL, size INTEGER NOT NULL, "
    "mtime_ns INTEGER NOT NULL, kind TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, "
    "data BLOB NOT NULL, PRIMARY KEY (path, kind))"
)
# How much fine detail a picture holds (ikmeta.image.detail.detail_profile), measured only for
# copies whose rank it decides; ``kind`` names the measure's version.
DETAILS_TABLE = (
    "CREATE TABLE IF NOT EXISTS details (path TEXT NOT NULL, size INTEGER NOT NULL, "
    "mtime_ns INTEGER NOT NULL, kind TEXT NOT NULL, profile TEXT NOT NULL, PRIMARY KEY (path, kind))"
)
# A video's hash record (ikmeta.media.video_record, without its source, size and time), as
# JSON; ``kind`` names the fingerprint's version (VIDEO_ALGORITHM): another version misses.
VIDEOS_TABLE = (
    "CREATE TABLE IF NOT EXISTS videos (path TEXT NOT NULL, size INTEGER NOT NULL, "
    "mtime_ns INTEGER NOT NULL, kind TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (path, kind))"
)
# A file's metadata object (ikmeta.inspect, for ikmeta serve's library), as JSON; ``kind`` names
# the ikmeta release that made it (METADATA_KIND): another release's objects miss.
METADATA_TABLE = (
    "CREATE TABLE IF NOT EXISTS metadata (path TEXT NOT NULL, size INTEGER NOT NULL, "
    "mtime_ns INTEGER NOT NULL, kind TEXT NOT NULL, object TEXT NOT NULL, PRIMARY KEY (path, kind))"
)
METADATA_KIND = f"inspect-{__version__}"
# The video fingerprint (ikmeta.video.fingerprint) and what its record holds (ikmeta.video.record's
# VIDEO_KEYS): bump when they change.
VIDEO_ALGORITHM = "keyframes-step1-grey96-evenbars-flat4-v5"
FILE_NAME = "hashes.sqlite3"
BATCH = 500


@dataclass(frozen=True)
class CacheKey:
    """A file's absolute path, size and modification time; for a stored object, its URL, size
    and version (:func:`ikmeta.sources.stores.version_digest` of its ETag or version id stands where
    the mtime does). ``modified_ns``, the modification time reported for ranking, is not
    part of the key."""

    path: str
    size: int
    mtime_ns: int
    modified_ns: int | None = field(default=None, compare=False)


def version_digest(version: str) -> int:
    """A remote source's version (an object's ETag or version id, a URL's ETag or
    Last-Modified) as the integer that stands in its key where a file's mtime does: 63 bits of
    its BLAKE2b, so an overwritten object or changed page misses."""
    return int.from_bytes(hashlib.blake2b(version.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def default_cache_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ikmeta", FILE_NAME)


def cache_key(path: str) -> CacheKey | None:
    """The key of a local file, or None when it cannot be stat'ed (the reader will say why)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return CacheKey(os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_mtime_ns)


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _serialized(method: _Method) -> _Method:
    """``method`` holding the cache's lock: threads share a run's cache (dense video prints
    are made on two); sqlite3's connection must not be used by two at once (it crashes)."""

    @functools.wraps(method)
    def holding_the_lock(self: HashCache, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    return holding_the_lock  # type: ignore[return-value]


class HashCache:
    """pHashes by :class:`CacheKey`. Use :meth:`open`; a disabled cache (``None`` path) stores nothing."""

    def __init__(
        self,
        connection: sqlite3.Connection | None,
        problem: str | None = None,
        read_only: bool = False,
        path: str | None = None,
    ) -> None:
        self.connection = connection
        self.path = path
        self.problem = problem  # why the cache is off (or only read), for one warning
        self.read_only = read_only
        self.pending: list[tuple[Any, ...]] = []  # rows for the next INSERT
        self.lock = threading.RLock()  # one thread at a time on the connection (see _serialized)

    @classmethod
    def open(cls, path: str | None, *, replace_foreign: bool = True) -> HashCache:
        """The cache at ``path`` (None: no cache), made there when there is none.

        A corrupt cache is replaced. A file that is not ikmeta's cache is replaced only when
        ``replace_foreign`` (the default location, which is ikmeta's own folder); a path the
        user named is never overwritten unless it holds an ikmeta cache: the run goes on
        without one instead.
        """
        if path is None:
            return cls(None)
        folder = os.path.dirname(os.path.abspath(path))
        if not replace_foreign and not os.path.isdir(folder):  # only ikmeta's own folder is made
            return cls(None, path=path, problem="its folder does not exist; running without a cache")
        if os.path.exists(path) and not os.path.isfile(path):
            return cls(None, path=path, problem="not a regular file; running without it")
        try:
            return cls(_connect_patiently(path), path=path)
        except sqlite3.OperationalError as exc:  # locked for too long, read-only...: not the file's fault
            reader = _open_read_only(path) if "locked" not in str(exc) and _is_ours(path) else None
            if reader is not None and not _current(reader):
                reader.close()
                return cls(None, path=path, problem=f"made by an older ikmeta and cannot be upgraded ({exc})")
            if reader is not None:  # on read-only media, say: the hashes in it still serve
                return cls(reader, f"cannot be written ({exc}); reading it only", read_only=True, path=path)
            return cls(None, path=path, problem=f"{exc}; running without it")
        except (sqlite3.DatabaseError, _Foreign):
            if not (replace_foreign or _is_ours(path)):
                return cls(
                    None, path=path, problem="not an ikmeta cache, left as it is; running without a cache"
                )
        except OSError as exc:
            reason = (
                "a part of the path is not a folder"
                if exc.errno in (errno.EEXIST, errno.ENOTDIR)
                else os_reason(exc)
            )
            return cls(None, path=path, problem=f"{reason}; running without it")
        try:
            for suffix in ("", "-wal", "-shm"):
                if os.path.isfile(path + suffix):
                    os.remove(path + suffix)
            return cls(_connect_patiently(path), path=path)
        except (OSError, sqlite3.Error, _Foreign) as exc:
            return cls(None, path=path, problem=f"cannot be used ({exc}); running without it")

    @_serialized
    def get(self, keys: Iterable[CacheKey]) -> dict[CacheKey, dict[str, Any]]:
        if self.connection is None:
            return {}
        found = {}
        query = f"SELECT path, size, mtime_ns, {_COLUMNS} FROM hashes WHERE algorithm = ? AND path IN "
        try:
            for key, values in self._rows(query, ALGORITHM, keys):
                row = {name: value for (name, _, _), value in zip(VALUES, values, strict=True)}
                for name, count in HASH_LISTS.items():
                    row[name] = _split_hashes(row[name], count)
                row["inner"] = _split_inner(row["inner"])
                row["provenance"] = _json_object(row["provenance"])
                if _valid_row(row):  # else hashed afresh
                    found[key] = row
        except sqlite3.Error as exc:
            self._disable(exc)
        return found

    def _rows(self, query: str, first: Any, keys: Iterable[CacheKey]) -> Iterator[tuple[CacheKey, list[Any]]]:
        """(key, the row's values after path, size and mtime_ns) of each of ``keys`` that
        ``query`` (ending "... = ? AND path IN ", ``first`` its parameter) finds, a batch at a time."""
        assert self.connection is not None
        keys = list(keys)
        for start in range(0, len(keys), BATCH):
            chunk = keys[start : start + BATCH]
            by_stored = {_stored_path(k.path): k.path for k in chunk}
            wanted = set(chunk)
            marks = ",".join("?" * len(chunk))
            for stored, size, mtime_ns, *values in self.connection.execute(
                f"{query}({marks})", [first, *by_stored]
            ):
                key = CacheKey(by_stored.get(stored, ""), size, mtime_ns)
                if key in wanted:
                    yield key, values

    @_serialized
    def stored(self, paths: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(size, mtime_ns) of the row each of ``paths`` has, whatever its version: a URL with
        one is worth asking its server whether it changed."""
        if self.connection is None:
            return {}
        found = {}
        paths = list(paths)
        try:
            for start in range(0, len(paths), BATCH):
                chunk = {_stored_path(p): p for p in paths[start : start + BATCH]}
                marks = ",".join("?" * len(chunk))
                query = f"SELECT path, size, mtime_ns FROM hashes WHERE algorithm = ? AND path IN ({marks})"
                for stored, size, mtime_ns in self.connection.execute(query, [ALGORITHM, *chunk]):
                    found[chunk[stored]] = (size, mtime_ns)
        except sqlite3.Error as exc:
            self._disable(exc)
        return found

    @_serialized
    def put(self, entries: Iterable[tuple[CacheKey, dict[str, Any]]]) -> None:
        """Queue entries; they are written every few hundred and at :meth:`close`."""
        if self.read_only:
            return
        for key, value in entries:
            self.pending.append(
                (
                    _stored_path(key.path),
                    key.size,
                    key.mtime_ns,
                    ALGORITHM,
                    *(_column(name, value.get(name)) for name, _, _ in VALUES),
                )
            )
        if len(self.pending) >= BATCH:
            self.flush()

    @_serialized
    def flush(self) -> None:
        if self.connection is None or not self.pending:
            self.pending.clear()
            return
        marks = ", ".join("?" * (4 + len(VALUES)))
        self._write(
            f"INSERT OR REPLACE INTO hashes (path, size, mtime_ns, algorithm, {_COLUMNS}) VALUES ({marks})",
            self.pending,
        )
        self.pending.clear()

    def _write(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        """``statement`` for every row, in one transaction (the cache turns off if it fails)."""
        assert self.connection is not None
        try:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                self.connection.executemany(statement, rows)
                self.connection.execute("COMMIT")
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._disable(exc)

    @_serialized
    def close(self) -> None:
        self.flush()
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    @_serialized
    def get_thumbnails(self, keys: Iterable[CacheKey], kind: str) -> dict[CacheKey, tuple[int, int, bytes]]:
        """(width, height, encoded image) of each key's cached thumbnail of ``kind``, where there is one."""
        if self.connection is None:
            return {}
        found = {}
        query = "SELECT path, size, mtime_ns, width, height, data FROM thumbnails WHERE kind = ? AND path IN "
        try:
            for key, (width, height, data) in self._rows(query, kind, keys):
                if _valid_thumbnail(width, height, data):
                    found[key] = (width, height, data)
        except sqlite3.Error:
            return found  # a cache read only, made before thumbnails: they are made afresh
        return found

    @_serialized
    def put_thumbnails(self, entries: Iterable[tuple[CacheKey, tuple[int, int, bytes]]], kind: str) -> None:
        """Store thumbnails of ``kind`` (written at once, in one transaction)."""
        if self.connection is None or self.read_only:
            return
        rows = [(_stored_path(k.path), k.size, k.mtime_ns, kind, *value) for k, value in entries]
        if not rows:
            return
        self._write(
            "INSERT OR REPLACE INTO thumbnails (path, size, mtime_ns, kind, width, height, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    @_serialized
    def get_videos(self, keys: Iterable[CacheKey], dense: bool = False) -> dict[CacheKey, dict[str, Any]]:
        """The cached hash record of each key that is a video fingerprinted by this ikmeta's
        fingerprint (:data:`VIDEO_ALGORITHM`; with ``dense``, its dense fingerprint's); a
        damaged record is a miss."""
        if self.connection is None:
            return {}
        found = {}
        query = "SELECT path, size, mtime_ns, record FROM videos WHERE kind = ? AND path IN "
        try:
            for key, (text,) in self._rows(query, _video_kind(dense), keys):
                record = _json_object(text)
                if isinstance(record, dict) and set(record) == set(VIDEO_KEYS) and valid_video(record):
                    found[key] = record
        except sqlite3.Error:
            return found  # a cache read only, made before videos: they are fingerprinted afresh
        return found

    @_serialized
    def put_videos(self, entries: Iterable[tuple[CacheKey, dict[str, Any]]], dense: bool = False) -> None:
        """Store videos' hash records (written at once, in one transaction: a video takes far
        longer to fingerprint than a row to write)."""
        if self.connection is None or self.read_only:
            return
        rows = [
            (
                _stored_path(key.path),
                key.size,
                key.mtime_ns,
                _video_kind(dense),
                json.dumps({name: record.get(name) for name in VIDEO_KEYS}, separators=(",", ":")),
            )
            for key, record in entries
        ]
        if rows:
            self._write(
                "INSERT OR REPLACE INTO videos (path, size, mtime_ns, kind, record) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    @_serialized
    def get_metadata(self, keys: Iterable[CacheKey]) -> dict[CacheKey, str]:
        """The cached metadata object (JSON text) of each key that this release made."""
        found: dict[CacheKey, str] = {}
        query = "SELECT path, size, mtime_ns, object FROM metadata WHERE kind = ? AND path IN "
        with contextlib.suppress(sqlite3.Error):  # a cache read only, made before this table
            for key, (text,) in self._rows(query, METADATA_KIND, keys) if self.connection else ():
                if isinstance(_json_object(text), dict):
                    found[key] = text
        return found

    @_serialized
    def put_metadata(self, entries: Iterable[tuple[CacheKey, str]]) -> None:
        """Store metadata objects, each as its JSON text (written at once, in one transaction)."""
        if self.connection is None or self.read_only:
            return
        rows = [(_stored_path(k.path), k.size, k.mtime_ns, METADATA_KIND, text) for k, text in entries]
        if rows:
            self._write(
                "INSERT OR REPLACE INTO metadata (path, size, mtime_ns, kind, object) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    @_serialized
    def get_details(self, keys: Iterable[CacheKey], kind: str) -> dict[CacheKey, tuple[float, ...]]:
        """The cached detail profile of ``kind`` of each key that has one."""
        if self.connection is None:
            return {}
        found = {}
        query = "SELECT path, size, mtime_ns, profile FROM details WHERE kind = ? AND path IN "
        try:
            for key, (profile,) in self._rows(query, kind, keys):
                values = _floats(profile)
                if values is not None:
                    found[key] = values
        except sqlite3.Error:
            return found
        return found

    @_serialized
    def put_details(self, entries: Iterable[tuple[CacheKey, tuple[float, ...]]], kind: str) -> None:
        """Store detail profiles of ``kind`` (written at once, in one transaction)."""
        if self.connection is None or self.read_only:
            return
        rows = [(_stored_path(k.path), k.size, k.mtime_ns, kind, " ".join(map(str, v))) for k, v in entries]
        if rows:
            self._write(
                "INSERT OR REPLACE INTO details (path, size, mtime_ns, kind, profile) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def _disable(self, exc: Exception) -> None:
        self.problem = f"{exc}; going on without it"
        try:
            if self.connection is not None:
                self.connection.close()
        except sqlite3.Error:
            pass
        self.connection = None


def _video_kind(dense: bool) -> str:
    """The kind a video's record is filed under: its fingerprint's version, and whether dense."""
    return VIDEO_ALGORITHM + ("-dense" if dense else "")


def _stored_path(path: str) -> str:
    """A path as the cache stores it: itself, or for a name whose bytes are not UTF-8 (which
    SQLite's text cannot hold) ``bytes:`` and the bytes in hex (never an absolute path)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return "bytes:" + os.fsencode(path).hex()


def _column(name: str, value: Any) -> Any:
    """A value as its column holds it: the turned pHashes as one string, the inner picture as
    "PHASH WIDTH HEIGHT CENTRED" (1 or 0), the provenance as JSON."""
    if name == "provenance":
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, dict):
        return f"{value['pHash']} {value['width']} {value['height']} {int(value.get('centred', True))}"
    return "".join(value) if isinstance(value, (list, tuple)) else value


def _json_object(value: Any) -> Any:
    """A JSON column as its object (anything else is not valid)."""
    if not isinstance(value, str):
        return value
    try:
        found = json.loads(value)
    except (ValueError, RecursionError):
        return value
    return found if isinstance(found, dict) else value


def _split_inner(value: Any) -> Any:
    """The inner picture's column as its object (anything else is not valid)."""
    parts = value.split(" ") if isinstance(value, str) else []
    if (
        len(parts) == 4
        and all(re.fullmatch("[0-9]{1,10}", part) for part in parts[1:3])
        and parts[3] in ("0", "1")
    ):
        return {
            "pHash": parts[0],
            "width": int(parts[1]),
            "height": int(parts[2]),
            "centred": parts[3] == "1",
        }
    return value


def _floats(value: Any) -> tuple[float, ...] | None:
    """A detail profile's column ("5.1 4.2 ...") as its numbers, or None when it is not one."""
    try:
        numbers = tuple(float(part) for part in value.split(" "))
    except (AttributeError, ValueError):
        return None
    return numbers if numbers and all(0 <= n < 1e6 for n in numbers) else None


def _split_hashes(value: Any, count: int) -> Any:
    """A column of ``count`` pHashes (the turned ones, the windows') as their list (anything
    else is not valid)."""
    if isinstance(value, str) and len(value) == count * 16:
        return [value[k : k + 16] for k in range(0, len(value), 16)]
    return value


def _valid_row(row: dict[str, Any]) -> bool:
    """A row as ikmeta writes them (a damaged or hand-edited one is a miss, never a crash)."""
    phash, flat, quality = row["pHash"], row["flat"], row["quality"]
    return (
        isinstance(phash, str)
        and HASH_HEX.fullmatch(phash) is not None
        and all(row[k] is None or (isinstance(row[k], int) and row[k] > 0) for k in ("width", "height"))
        and (flat is None or (isinstance(flat, str) and COLOUR.fullmatch(flat) is not None))
        and (quality is None or (isinstance(quality, int) and 0 <= quality <= 100))
        and all(row[k] is None or isinstance(row[k], str) for k in ("format", "camera", "captured"))
        and all(row[name] is None or valid_hashes(row[name], count) for name, count in HASH_LISTS.items())
        and (row["inner"] is None or valid_inner(row["inner"]))
        and isinstance(row["provenance"], dict)
    )


def valid_inner(value: Any) -> bool:
    """An inner picture as phash_blob gives it: {"pHash": 16 hex digits, "width": N, "height": N,
    "centred": true or false} ("centred" is missing from lists made before it was added: taken as true)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("centred", True), bool)
        and isinstance(value.get("pHash"), str)
        and HASH_HEX.fullmatch(value["pHash"]) is not None
        and all(
            isinstance(value.get(k), int) and not isinstance(value.get(k), bool) and 0 < value[k] < 2**31
            for k in ("width", "height")
        )
    )


def _valid_thumbnail(width: Any, height: Any, data: Any) -> bool:
    return (
        isinstance(width, int)
        and isinstance(height, int)
        and width > 0
        and height > 0
        and (isinstance(data, bytes) and len(data) > 0)
    )


class _Foreign(Exception):
    """The file is an SQLite database, but not ikmeta's cache."""


def _connect_patiently(path: str, attempts: int = 50) -> sqlite3.Connection:
    """:func:`_connect`, trying again while another run holds the file (switching a new file to WAL
    can fail at once with "database is locked", whatever the busy timeout)."""
    for attempt in range(attempts - 1):
        try:
            return _connect(path)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(0.02 * (attempt + 1))
    return _connect(path)


def _open_read_only(path: str) -> sqlite3.Connection | None:
    """An ikmeta cache opened for reading only (read-only media), or None when even that fails."""
    uri = "file:" + urllib.parse.quote(os.path.abspath(path))
    for mode in ("?mode=ro", "?immutable=1"):  # immutable: a WAL file with no -shm beside it
        try:
            connection = sqlite3.connect(uri + mode, uri=True, check_same_thread=False)
            _check_ours(connection, path)
            connection.execute("SELECT 1 FROM hashes LIMIT 1").fetchone()
            return connection
        except (sqlite3.Error, _Foreign):
            continue
    return None


def _current(connection: sqlite3.Connection) -> bool:
    """The cache's table has every column this ikmeta reads (an older one's lacks some)."""
    try:
        return not _missing_columns(connection)
    except sqlite3.Error:
        return False


def _missing_columns(connection: sqlite3.Connection) -> list[tuple[str, str]]:
    """(column, SQL type) of each column of VALUES the hashes table lacks."""
    have = {row[1] for row in connection.execute("PRAGMA table_info(hashes)")}
    return [(column, kind) for _, column, kind in VALUES if column not in have]


def _is_ours(path: str) -> bool:
    """An empty file, or an SQLite file whose header carries ikmeta's application id."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(72)
    except OSError:
        return False
    return not header or (
        header[:16] == b"SQLite format 3\x00"
        and len(header) == 72
        and int.from_bytes(header[68:72], "big") == APPLICATION_ID
    )


def _check_ours(connection: sqlite3.Connection, path: str, *, in_transaction: bool = False) -> None:
    """Raise :class:`_Foreign` unless the database is empty or ikmeta's cache (reads only).

    Both reads are made in one transaction, so that a cache another run is creating is seen
    whole or not at all.
    """
    if not in_transaction:
        connection.execute("BEGIN")
    try:
        (app,) = connection.execute("PRAGMA application_id").fetchone()
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        objects = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    finally:
        if not in_transaction:
            connection.execute("COMMIT")
    if app == APPLICATION_ID and (not objects or "hashes" in objects):
        return
    if app or version or objects:  # another program's mark, version or schema: not ours to touch
        raise _Foreign(f"{path} is not an ikmeta cache")


def _connect(path: str) -> sqlite3.Connection:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA busy_timeout = 30000")
        _check_ours(connection, path)  # before anything writes to it (the WAL switch does)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        # Inspect, and if new set up, the file under the write lock, so that two runs starting
        # together see either nothing or a finished cache, never one half made.
        connection.execute("BEGIN IMMEDIATE")
        try:
            _check_ours(connection, path, in_transaction=True)
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if not tables:
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                columns = ", ".join(f"{column} {kind}" for _, column, kind in VALUES)
                connection.execute(
                    "CREATE TABLE hashes (path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, "
                    f"algorithm TEXT NOT NULL, {columns}, PRIMARY KEY (path, algorithm)) WITHOUT ROWID"
                )
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            else:  # a cache of an earlier ikmeta: add the columns it lacks (its rows then miss)
                missing = _missing_columns(connection)
                for column, kind in missing:
                    connection.execute(
                        f"ALTER TABLE hashes ADD COLUMN {column} {kind.replace(' NOT NULL', '')}"
                    )
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute(THUMBNAILS_TABLE)
            connection.execute(DETAILS_TABLE)
            connection.execute(VIDEOS_TABLE)
            connection.execute(METADATA_TABLE)
            connection.execute("SELECT 1 FROM hashes LIMIT 1").fetchone()  # reads a page: fails if corrupt
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    except BaseException:
        connection.close()
        raise
    return connection
