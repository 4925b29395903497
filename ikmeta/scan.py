"""Scanning sources into :class:`~ikmeta.dupes.Item` values: cached where possible, hashed in
parallel where not.

    >>> for event in scan(["a.jpg", "b.png"], HashCache.open(None), jobs=2):
    ...     print(event)          # an Item, an IkmetaError, or a ScanWarning, as each source finishes

Also reads hash lists (``ikmeta phash`` output, or NDJSON with ``pHash`` and ``source``) into
items, for grouping hashes made elsewhere.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from .cache import (
    COLOUR,
    HASH_LISTS,
    CacheKey,
    HashCache,
    cache_key,
    valid_hashes,
    valid_inner,
    version_digest,
)
from .dupes import Item, pack
from .errors import IkmetaError, SourceError
from .hashes import HashFormatError, parse_hash
from .output import parse_checksum_line
from .parallel import ordered_map
from .rank import camera_from_exif, captured_from_exif, displayed_size, parse_captured
from .source import STDIN, FetchOptions, is_remote, is_url, list_lines, object_scheme

# The pHashes of perfectly flat images: only the DC bit (any colour), or none (black).
FLAT_HASHES = frozenset({"8000000000000000", "0000000000000000"})
# The ranking keys a hash-list object may carry (see ikmeta.rank): numbers and their sound range.
NUMBERS = {
    "width": (1, 2**31),
    "height": (1, 2**31),
    "size": (0, 2**63),
    "quality": (0, 100),
    "mtimeNs": (0, 2**63),
}
TEXTS = ("format", "camera", "captured")


@dataclass(frozen=True)
class ScanWarning:  # a scan event: a source read with a warning
    source: str
    message: str


def scan(
    sources: Iterable[str | IkmetaError],
    cache: HashCache,
    jobs: int,
    fetch: FetchOptions | None = None,
    on_total: Callable[[int], None] | None = None,
) -> Iterator[Item | IkmetaError | ScanWarning]:
    """An event per source: its :class:`Item` (from the cache or hashed now), or why it failed.

    The sources are listed first (a walk is quick); ``on_total`` then hears how many there are.
    """
    keys: dict[str, CacheKey | None] = {}
    misses: list[str] = []
    fetch = fetch or FetchOptions()
    pending = _distinct(sources)
    if on_total is not None:
        on_total(len(pending))
    remote = []
    for source in pending:
        if isinstance(source, IkmetaError):
            yield source
        elif is_remote(source):
            remote.append(source)
        elif source != STDIN:
            keys[source] = cache_key(source)
    looked_up = _remote_keys(remote, cache, fetch)
    keys.update((source, key) for source, (key, _) in looked_up.items())
    cached = cache.get(key for key in keys.values() if key is not None)
    for source in pending:
        if isinstance(source, IkmetaError):
            continue
        key = keys.get(source)
        if key is not None and key in cached:
            yield _item(source, {**cached[key], "size": key.size, "mtimeNs": key.modified_ns})
        else:  # (a stored object with what was looked up of it, so that it is not asked again)
            misses.append(looked_up[source][1] if source in looked_up else source)
    if not misses:  # all cached: Pillow and numpy need not even load
        return
    from .metadata import phash_blob
    from .source import Blob, on_bytes, read_ahead

    def work(source: str | Blob | IkmetaError) -> tuple[Any, CacheKey | None]:
        # A URL or stored object downloaded ahead is filed under what its download was.
        downloaded = isinstance(source, Blob) and cache.connection is not None
        return on_bytes(phash_blob, source, fetch), _fetched_key(source) if downloaded else None

    for outcome, fetched in ordered_map(work, read_ahead(misses, fetch), jobs):
        if isinstance(outcome, IkmetaError):
            yield outcome
            continue
        report = outcome
        for message in report.warnings:
            yield ScanWarning(report.source, message)
        # A remote source is filed under what its download was known to be (never under what
        # a listing or HEAD said before it: the bytes may be newer).
        key = fetched if is_remote(report.source) else keys.get(report.source)
        if key is not None and not report.warnings:  # a truncated file may still be being written
            cache.put([(key, report.metadata)])
        yield _item(report.source, report.metadata)
    cache.flush()


def scan_paths(
    paths: Iterable[str | IkmetaError],
    cache: HashCache,
    *,
    jobs: int,
    fetch: FetchOptions | None,
    hidden: bool,
    on_error: Callable[[IkmetaError], None],
    on_warning: Callable[[str, str], None],
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Item], Counter[str]]:
    """The items of every image among ``paths`` (folders walked), and the files the walk
    passed over by extension. Each failure goes to ``on_error``, each warning to
    ``on_warning(source, message)``; ``on_progress(done, total)`` hears (0, total) once the
    sources are listed, then each source done."""
    from .walk import image_paths

    skipped: Counter[str] = Counter()
    totals = {"done": 0, "total": 0}

    def listed(count: int) -> None:
        totals["total"] = count
        if on_progress is not None:
            on_progress(0, count)

    items = []
    for event in scan(
        image_paths(paths, hidden=hidden, skipped=skipped, fetch=fetch), cache, jobs, fetch, on_total=listed
    ):
        if isinstance(event, ScanWarning):
            on_warning(event.source, event.message)
            continue
        totals["done"] += 1
        if on_progress is not None:
            on_progress(totals["done"], totals["total"])
        if isinstance(event, IkmetaError):
            on_error(event)
        else:
            items.append(event)
    return items, skipped


def _remote_keys(
    sources: list[str], cache: HashCache, fetch: FetchOptions
) -> dict[str, tuple[CacheKey | None, str]]:
    """The cache keys of URLs and stored objects, looked up ``fetch.connections`` at a time,
    each with the source to read (a stored object with what was looked up of it): an
    object's from what its store lists (or says now); a URL's, when the cache holds a row
    for it, from a HEAD request (its ETag or Last-Modified). With no cache, none are asked for."""
    if not sources or cache.connection is None:
        return {}
    stored = cache.stored(s for s in sources if is_url(s))

    def key_of(source: str) -> tuple[CacheKey | None, str]:
        if object_scheme(source):
            return _object_key(source, fetch)
        if source not in stored:
            return None, source  # never hashed: its GET will give the key
        from .remote import probe_url

        version = probe_url(source, fetch)
        size, _ = stored[source]
        return (CacheKey(source, size, version_digest(version)) if version else None), source

    return dict(zip(sources, ordered_map(key_of, sources, fetch.connections), strict=True))


def _object_key(url: str, fetch: FetchOptions) -> tuple[CacheKey | None, str]:
    """The cache key of a stored object (its URL, size and version: ETag, version id or
    generation, as the store says), None when the store names no version (or the object
    cannot be looked up: reading it will say why); and the object's URL with what was said."""
    from .storage import ObjectURL, object_info

    try:
        info = object_info(url, fetch)
    except IkmetaError:
        return None, url
    if info.version is None:
        return None, ObjectURL(url, info)
    key = CacheKey(url, info.size, version_digest(info.version), modified_ns=info.modified_ns)
    return key, ObjectURL(url, info)


def _fetched_key(blob: Any) -> CacheKey | None:
    """The cache key of a URL's or stored object's bytes as downloaded (the version they are
    known to be: an ETag, Last-Modified, version id...), else None (not cached)."""
    if not is_remote(blob.source) or not blob.version:
        return None
    return CacheKey(blob.source, len(blob.data), version_digest(blob.version), modified_ns=blob.mtime_ns)


def _distinct(sources: Iterable[str | IkmetaError]) -> list[str | IkmetaError]:
    """The sources, each file once (a file named twice, or inside a folder also named, is not its own duplicate)."""
    seen: set[str] = set()
    distinct = []
    for source in sources:
        if isinstance(source, str) and source != STDIN and not is_remote(source):
            real = os.path.realpath(source)
            if real in seen:
                continue
            seen.add(real)
        distinct.append(source)
    return distinct


def _item(source: str, data: dict[str, Any]) -> Item:
    """An item from ``phash_blob``'s metadata, a cache row, or a checked hash-list object."""
    colour = data.get("flat")  # a flat image's mean colour, else None
    inner = data.get("inner")  # the picture inside a plain border
    return Item(
        source,
        data["pHash"],
        data.get("width"),
        data.get("height"),
        data.get("size"),
        flat=colour is not None,
        colour=colour,
        format=data.get("format"),
        quality=data.get("quality"),
        camera=data.get("camera"),
        captured=data.get("captured"),
        mtime_ns=data.get("mtimeNs"),
        views=pack(data["pHash"], data.get("turned"), inner["pHash"] if inner else None, data.get("windows")),
        inner_pixels=_inner_pixels(inner, data.get("width"), data.get("height")),
    )


def _inner_pixels(inner: dict[str, Any] | None, width: int | None, height: int | None) -> int | None:
    """The pixels of the picture inside a centred plain border, when they fit inside the image
    (else a hand-made list's claim is not taken for ranking). Uneven margins do not count: they
    may be the picture's own (a diagram on white)."""
    if not inner or not inner.get("centred", True) or not width or not height:
        return None
    if inner["width"] > width or inner["height"] > height:
        return None
    pixels: int = inner["width"] * inner["height"]
    return pixels


def read_hash_list(stream: TextIO, name: str) -> Iterator[Item | IkmetaError]:
    """Items from ``HASH  SOURCE`` lines or NDJSON objects with ``pHash`` and ``source``.

    NDJSON objects may also carry what ranks the copies (see :mod:`ikmeta.rank`): ``width``,
    ``height``, ``size``, ``format``, ``quality``, ``camera``, ``captured``, ``mtimeNs`` as
    ``ikmeta phash --ndjson`` prints them, or the ``exif`` groups of ``ikmeta inspect
    --ndjson``; what is missing is unknown (without any of it, path order ranks them).
    The flat-image hashes (8000000000000000, and 0000000000000000 for black) are marked flat.
    Blank lines and # comments are skipped; a source listed again is skipped too.
    """
    seen: set[str] = set()  # a source listed twice is one image, not its own duplicate
    folder = os.getcwd() + os.sep
    for where, text in list_lines(stream, name):
        item = text if isinstance(text, SourceError) else parse_list_line(where, text)
        if isinstance(item, SourceError):
            yield item
            continue
        same = same_source(item.source, folder)
        if same not in seen:
            seen.add(same)
            yield item


def parse_list_line(where: str, text: str) -> Item | SourceError:
    """The item of a hash list's line (``where``: ``name:line``), or the SourceError saying
    why it is not one."""
    try:
        return _parse_hash_line(text)
    except RecursionError:
        return SourceError(where, "JSON nested too deeply")
    except (ValueError, HashFormatError) as exc:
        return SourceError(where, str(exc))


def same_source(source: str, folder: str) -> str:
    """How a hash list's sources are compared: a path made absolute against ``folder`` (the
    current one, ending in a separator), a URL or stored object as written."""
    return source if "://" in source and is_remote(source) else _absolute(source, folder)


def _absolute(path: str, folder: str) -> str:
    """``os.path.abspath(path)`` with the current ``folder`` given (no system call a line):
    ./a.jpg is a.jpg."""
    joined = path if path.startswith(os.sep) else folder + path
    needs_normalizing = "/." in joined or "//" in joined or joined.endswith(os.sep)
    return os.path.normpath(joined) if needs_normalizing else joined


def _parse_hash_line(text: str) -> Item:
    text = text.lstrip()  # before a hash or an object, spaces are not part of anything
    if text.startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError('a JSON line needs "pHash" and "source" strings')
        return item_from_record(data)
    parsed = parse_checksum_line(text)
    if parsed is None:
        raise ValueError("not a 'HASH  SOURCE' line (hash, two spaces or a tab, source) nor a JSON object")
    value, source = parsed
    phash = _checked_hash(value, source)
    return Item(source, phash, flat=phash in FLAT_HASHES)  # nothing but the hash is known


def item_from_record(data: dict[str, Any]) -> Item:
    """An item from a record with ``pHash`` and ``source`` strings (as ``phash --ndjson``
    prints; what else it holds ranks the copy, see :func:`read_hash_list`); raises
    ValueError saying what is wrong.

    >>> item_from_record({"source": "a.jpg", "pHash": "2D5AD3936D2E015B", "width": 800}).phash
    '2d5ad3936d2e015b'
    """
    value, source = data.get("pHash"), data.get("source")
    if not isinstance(value, str) or not isinstance(source, str):
        raise ValueError('a record needs "pHash" and "source" strings')
    phash = _checked_hash(value, source)
    colour = data.get("flat")
    if colour is not None and not (isinstance(colour, str) and COLOUR.fullmatch(colour)):
        raise ValueError(f'"flat" is {colour!r}, not null nor a colour like "#f0f0f0"')
    known = _known(data)
    traits = {**known, **_traits_from_inspect(data, known)}
    item = _item(source, {**traits, "pHash": phash, "flat": colour})
    return dataclasses.replace(item, flat=True) if phash in FLAT_HASHES else item


def _checked_hash(value: str, source: str) -> str:
    """The pHash of a list line or record, once it and its source are sound."""
    try:
        source.encode("utf-8", "surrogateescape")  # a name's bytes, as Python holds them
    except UnicodeEncodeError:
        raise ValueError(f"source {source!r} is not a file name (it holds a lone UTF-16 surrogate)") from None
    phash = parse_hash(value)
    if len(phash) != 16:
        raise ValueError(f"pHash {value!r} has {len(phash)} hex digits, not 16")
    return phash


def _known(data: dict[str, Any]) -> dict[str, Any]:
    """The ranking keys of a hash-list object that hold sound values (others are unknown)."""
    known = {
        k: data[k]
        for k, (low, high) in NUMBERS.items()
        if isinstance(data.get(k), int) and not isinstance(data.get(k), bool) and low <= data[k] <= high
    }
    known.update((k, data[k]) for k in TEXTS if isinstance(data.get(k), str))
    for name, count in HASH_LISTS.items():  # the turned pHashes, the windows'
        hashes = data.get(name)
        if isinstance(hashes, list) and valid_hashes(
            [h.lower() if isinstance(h, str) else h for h in hashes], count
        ):
            known[name] = [h.lower() for h in hashes]
    inner = data.get("inner")
    if isinstance(inner, dict) and isinstance(inner.get("pHash"), str):
        inner = {**inner, "pHash": inner["pHash"].lower()}
        if valid_inner(inner):
            known["inner"] = inner
    if "captured" in known and parse_captured(known["captured"]) is None:
        del known["captured"]
    return known


def _traits_from_inspect(data: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """What an ``ikmeta inspect`` object says of the ranking keys: its size as displayed
    (its sound ``width`` and ``height``, in ``known``, after the EXIF orientation), camera
    and capture time from its ``exif`` groups."""
    exif = data.get("exif")
    if not isinstance(exif, dict):
        return {}
    image, sub_ifd = (
        group if isinstance(group := exif.get(name), dict) else {} for name in ("image", "exif")
    )
    width, height = displayed_size(known.get("width"), known.get("height"), image.get("Orientation"))
    found = {"camera": camera_from_exif(image), "captured": captured_from_exif(sub_ifd)}
    # The size as displayed even where a side is unknown: a sound side stays with its own axis.
    return {"width": width, "height": height, **{k: v for k, v in found.items() if v is not None}}
