"""What ``dupes`` decodes of a video beyond its key frames, for the questions key frames
cannot settle, cached so that a second run decodes nothing:

- dense fingerprints, for matches: a clip encoded with key frames ten seconds apart has one
  or two, and one frame may be all that two different clips share (the same opening shot).
  :func:`ikmeta.video.matching.group_videos` asks for these where a match rests on fewer
  than three frames; every frame of the video is decoded and one a second hashed (far
  slower than key frames alone, so only for those videos);
- blank ends, for the copy to keep: how long a video shows a picture, where a group's
  lengths differ (a copy padded with black is no longer than its original;
  :func:`ikmeta.video.blanks.blank_ends` decodes a video's first and last frames).

    >>> dense = DenseFingerprints(HashCache.open(None))
    >>> len(dense(item).frames or ())  # doctest: +SKIP
    8
    >>> [item.blank for item in BlankEnds(HashCache.open(None))([item])]  # doctest: +SKIP
    [(0.0, 5.0)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ikmeta.cache import CacheKey, HashCache, cache_key
from ikmeta.errors import IkmetaError
from ikmeta.image.limits import MAX_PIXELS
from ikmeta.parallel import ordered_map
from ikmeta.sources.base import STDIN, FetchOptions, is_remote

from .hashlist import video_item_of
from .model import Item


class DenseFingerprints:
    """``dense(item)``: the video item with its frames taken from every frame decoded (one a
    second), from the cache or decoded now and cached; None for a video that is not a local
    file as it was scanned (standard input, a URL, a file changed or gone since), or that
    cannot be read."""

    def __init__(
        self, cache: HashCache, fetch: FetchOptions | None = None, max_pixels: int | None = MAX_PIXELS
    ) -> None:
        self.cache = cache
        self.fetch = fetch or FetchOptions()
        self.max_pixels = max_pixels

    def __call__(self, item: Item) -> Item | None:
        key = scanned_key(item)
        if key is None:
            return None
        cached = self.cache.get_videos([key], dense=True).get(key)
        if cached is None:
            cached = self._fingerprinted(item.source)
            if cached is None:
                return None
            if key == cache_key(item.source):  # (not changed while it was read)
                self.cache.put_videos([(key, cached)], dense=True)
        dense = video_item_of(item.source, cached)
        return dataclasses.replace(item, frames=dense.frames)

    def _fingerprinted(self, source: str) -> dict[str, object] | None:
        """The dense hash record of a local video, or None when it cannot be read."""
        from ikmeta.media import video_record
        from ikmeta.sources.read import read_source

        try:
            return video_record(read_source(source, fetch=self.fetch), self.max_pixels, dense=True).metadata
        except (IkmetaError, OSError, ValueError, IndexError, MemoryError):
            return None


BLANKS_KIND = "blank-ends-luma8-spread1-v2"  # the measure's version, as the cache files it


class BlankEnds:
    """``blanks(items)``: the video items with their ``blank`` (the seconds of one colour at
    the start and at the end, :func:`ikmeta.video.blanks.blank_ends`), from the cache or
    decoded now, ``jobs`` at a time, and cached; an item that is not a local file as it was
    scanned, or that cannot be read, comes back as it was. A video fingerprinted densely
    already (:class:`DenseFingerprints`: every frame decoded) is not decoded again."""

    def __init__(
        self,
        cache: HashCache,
        fetch: FetchOptions | None = None,
        max_pixels: int | None = MAX_PIXELS,
        jobs: int = 1,
    ) -> None:
        self.cache = cache
        self.fetch = fetch or FetchOptions()
        self.max_pixels = max_pixels
        self.jobs = jobs

    def __call__(self, items: Sequence[Item]) -> list[Item]:
        keys = {k: key for k, item in enumerate(items) if (key := scanned_key(item)) is not None}
        found = self.cache.get_details(keys.values(), BLANKS_KIND)
        dense = self.cache.get_videos((key for key in keys.values() if key not in found), dense=True)
        found.update((key, tuple(record["blank"])) for key, record in dense.items() if record["blank"])
        missing = [k for k, key in keys.items() if len(found.get(key, ())) != 2]
        measured: list[tuple[CacheKey, tuple[float, ...]]] = []
        sources = [items[k].source for k in missing]
        for k, ends in zip(missing, ordered_map(self._measure, sources, self.jobs), strict=True):
            if ends is not None:
                found[keys[k]] = ends
                if keys[k] == cache_key(items[k].source):  # (not changed while it was read)
                    measured.append((keys[k], ends))
        self.cache.put_details(measured, BLANKS_KIND)
        ends_of = {k: found[key] for k, key in keys.items() if len(found.get(key, ())) == 2}
        return [
            dataclasses.replace(item, blank=(ends_of[k][0], ends_of[k][1])) if k in ends_of else item
            for k, item in enumerate(items)
        ]

    def _measure(self, source: str) -> tuple[float, float] | None:
        from ikmeta.sources.read import read_source
        from ikmeta.video.blanks import blank_ends

        try:
            return blank_ends(read_source(source, fetch=self.fetch), self.max_pixels)
        except (IkmetaError, OSError, ValueError, IndexError, MemoryError):
            return None  # (as long as its duration, then: what it was before this measure)


def scanned_key(item: Item) -> CacheKey | None:
    """The cache key of a video's file as it was scanned; None for standard input, a URL or a
    stored object, and for a file changed or gone since (what is decoded of it now would not
    be the item's)."""
    if item.source == STDIN or is_remote(item.source):
        return None
    key = cache_key(item.source)
    return key if key is not None and (key.size, key.mtime_ns) == (item.size, item.mtime_ns) else None
