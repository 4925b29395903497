"""Scanning sources into :class:`~ikmeta.dupes.Item` values: cached where possible, hashed in
parallel where not.

    >>> for event in scan(["a.jpg", "b.png"], HashCache.open(None), jobs=2):
    ...     print(event)          # an Item, an IkmetaError, or a ScanWarning, as each source finishes

Also reads hash lists (``ikmeta phash`` output, or NDJSON with ``pHash`` and ``source``) into
items, for grouping hashes made elsewhere.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ikmeta.cache import CacheKey, HashCache, cache_key, version_digest
from ikmeta.errors import IkmetaError, ImageError
from ikmeta.image.limits import MAX_PIXELS, check_pixels
from ikmeta.parallel import ordered_map
from ikmeta.sources.base import STDIN, FetchOptions, is_remote, is_url, object_scheme

from .hashlist import item_of
from .model import Item
from .truncated import find_truncated, rescue_truncated


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
    max_pixels: int | None = MAX_PIXELS,
) -> Iterator[Item | IkmetaError | ScanWarning]:
    """An event per source: its :class:`Item` (from the cache or hashed now), or why it failed.

    The sources are listed first (a walk is quick); ``on_total`` then hears how many there are.
    An image of more than ``max_pixels`` pixels (None or 0: no limit) is an ImageError, whether
    it is hashed now or was cached by a run with a higher limit.
    """
    keys: dict[str, CacheKey | None] = {}
    misses: list[str] = []
    fetch = fetch or FetchOptions()
    pending, aliases = _distinct(sources)
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
    cached.update(cache.get_videos(key for key in keys.values() if key is not None and key not in cached))
    for source in pending:
        if isinstance(source, IkmetaError):
            continue
        key = keys.get(source)
        if key is not None and key in cached:
            row = {**cached[key], "size": key.size, "mtimeNs": key.modified_ns}
            yield _too_large(source, row, max_pixels) or _named(item_of(source, row), aliases)
        else:  # (a stored object with what was looked up of it, so that it is not asked again)
            misses.append(looked_up[source][1] if source in looked_up else source)
    if not misses:  # all cached: Pillow and numpy need not even load
        return
    from ikmeta.media import phash_media
    from ikmeta.sources.base import Blob
    from ikmeta.sources.read import on_bytes, read_ahead

    def hashed(blob: Blob) -> Any:
        return phash_media(blob, max_pixels)

    def work(source: str | Blob | IkmetaError) -> tuple[Any, CacheKey | None]:
        # A URL or stored object downloaded ahead is filed under what its download was.
        downloaded = isinstance(source, Blob) and cache.connection is not None
        return on_bytes(hashed, source, fetch), _fetched_key(source) if downloaded else None

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
            if report.metadata.get("frames") is not None:
                cache.put_videos([(key, report.metadata)])
            else:
                cache.put([(key, report.metadata)])
        yield _named(item_of(report.source, report.metadata), aliases)
    cache.flush()


def _too_large(source: str, row: dict[str, Any], max_pixels: int | None) -> ImageError | None:
    """The refusal a cached image of more than ``max_pixels`` pixels (its row's width and height)
    gets, as it would if it were hashed now; else None."""
    width, height = row.get("width"), row.get("height")
    if not isinstance(width, int) or not isinstance(height, int):
        return None
    try:
        check_pixels(source, (width, height), max_pixels)
    except ImageError as exc:
        return exc
    return None


def _named(item: Item, aliases: dict[str, list[str]]) -> Item:
    """The item with its other names (hard links to it), if it has any."""
    others = aliases.get(item.source)
    return dataclasses.replace(item, also_at=tuple(others)) if others else item


def scan_paths(
    paths: Iterable[str | IkmetaError],
    cache: HashCache,
    *,
    jobs: int,
    fetch: FetchOptions | None,
    hidden: bool,
    follow_links: bool = False,
    on_error: Callable[[IkmetaError], None] = lambda error: None,
    on_warning: Callable[[str, str], None] = lambda source, message: None,
    on_progress: Callable[[int, int], None] | None = None,
    max_pixels: int | None = MAX_PIXELS,
    videos: bool = False,
) -> tuple[list[Item], Counter[str]]:
    """The items of every image among ``paths`` (folders walked; links to folders inside them
    followed only with ``follow_links``; with ``videos``, the videos in them too), and the
    files the walk passed over by extension.
    A file reached twice is one item (a hard link's other names are its ``also_at``), and a
    truncated file whose bytes begin another file is marked as its truncated copy
    (:func:`ikmeta.dupes.truncated.find_truncated`). Each failure goes to ``on_error``, each warning to
    ``on_warning(source, message)``; ``on_progress(done, total)`` hears (0, total) once the
    sources are listed, then each source done. An image of more than ``max_pixels`` pixels
    (None or 0: no limit) is a failure, refused before it is decoded."""
    from ikmeta.sources.walk import image_paths

    skipped: Counter[str] = Counter()
    totals = {"done": 0, "total": 0}

    def listed(count: int) -> None:
        totals["total"] = count
        if on_progress is not None:
            on_progress(0, count)

    items = []
    undecoded: list[IkmetaError] = []
    for event in scan(
        image_paths(
            paths, hidden=hidden, skipped=skipped, fetch=fetch, follow_links=follow_links, videos=videos
        ),
        cache,
        jobs,
        fetch,
        on_total=listed,
        max_pixels=max_pixels,
    ):
        if isinstance(event, ScanWarning):
            on_warning(event.source, event.message)
            continue
        totals["done"] += 1
        if on_progress is not None:
            on_progress(totals["done"], totals["total"])
        if isinstance(event, ImageError) and _local_file(event.source):
            undecoded.append(event)  # said below, unless it is a truncated copy of another file
        elif isinstance(event, IkmetaError):
            on_error(event)
        else:
            items.append(event)
    rescued, left = rescue_truncated(undecoded, items)
    for error in left:
        on_error(error)
    for item, error in rescued:
        on_warning(item.source, f"{error.reason}: a truncated copy of {item.provenance.prefix_of}")
        items.append(item)
    return find_truncated(items), skipped


def _local_file(source: str) -> bool:
    return source != STDIN and not is_remote(source)


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
        from ikmeta.sources.urls import probe_url

        version = probe_url(source, fetch)
        size, _ = stored[source]
        return (CacheKey(source, size, version_digest(version)) if version else None), source

    return dict(zip(sources, ordered_map(key_of, sources, fetch.connections), strict=True))


def _object_key(url: str, fetch: FetchOptions) -> tuple[CacheKey | None, str]:
    """The cache key of a stored object (its URL, size and version: ETag, version id or
    generation, as the store says), None when the store names no version (or the object
    cannot be looked up: reading it will say why); and the object's URL with what was said."""
    from ikmeta.sources.stores import ObjectURL, object_info

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


def _distinct(sources: Iterable[str | IkmetaError]) -> tuple[list[str | IkmetaError], dict[str, list[str]]]:
    """The sources, each file once, and each kept name's other names.

    A file named twice, or inside a folder also named, or reached through a link to a folder,
    is not its own duplicate: it is listed once, and under its folder's real path when the name
    given goes through a link to a folder (so that what is acted on is what is shown). A link
    to a file keeps its own name (``apply`` never acts on a link), but yields to the file's own
    name when both are listed. Hard links (one device and inode, several names) are one file
    too: listed under the least name, the others its aliases, whatever the order they came in.
    """
    seen: dict[str, int] = {}  # real path -> index in distinct
    inodes: dict[tuple[int, int], int] = {}  # (device, inode) -> index in distinct
    others: dict[int, list[str]] = {}  # index in distinct -> the file's other names
    distinct: list[str | IkmetaError] = []
    for source in sources:
        if not isinstance(source, str) or source == STDIN or is_remote(source):
            distinct.append(source)
            continue
        real = os.path.realpath(source)
        try:
            status = os.stat(source)
        except OSError:
            status = None  # reading it will say why
        shown = _shown(source, status)
        if real in seen:
            index = seen[real]
            listed = distinct[index]
            if isinstance(listed, str) and os.path.islink(listed) and not os.path.islink(shown):
                distinct[index] = shown  # the file's own name, rather than a link's
            continue
        inode = (status.st_dev, status.st_ino) if status is not None and status.st_nlink > 1 else None
        if inode is not None and inode in inodes:
            index = inodes[inode]
            listed = distinct[index]
            assert isinstance(listed, str)
            if shown < listed:
                distinct[index], shown = shown, listed
            others.setdefault(index, []).append(shown)
            seen[real] = index
            continue
        seen[real] = len(distinct)
        if inode is not None:
            inodes[inode] = len(distinct)
        distinct.append(shown)
    aliases = {str(distinct[index]): sorted(names) for index, names in others.items()}
    return distinct, aliases


def _shown(source: str, status: os.stat_result | None) -> str:
    """The name a regular file is listed under: its folder's real path when the name goes
    through a link to a folder (relative when the name given was), else the name as given."""
    if status is None or not stat.S_ISREG(status.st_mode):
        return source  # a pipe (<(cmd), /dev/stdin) or what reading it will name
    folder, name = os.path.split(source)
    real_folder = os.path.realpath(folder or ".")
    if os.path.normpath(os.path.abspath(folder or ".")) == real_folder:
        return source
    return _like(os.path.join(real_folder, name), source)


def _like(real: str, given: str) -> str:
    """The real path, relative when the name given was (so reports read the same way)."""
    if os.path.isabs(given):
        return real
    relative = os.path.relpath(real)
    return real if relative.startswith(os.pardir + os.sep) and not given.startswith(os.pardir) else relative
