"""Dense fingerprints of videos, for the matches key frames cannot settle: a clip encoded with
key frames ten seconds apart has one or two, and one frame may be all that two different
clips share (the same opening shot). :func:`ikmeta.video.matching.group_videos` asks for
these where a match rests on fewer than three frames; every frame of the video is decoded
and one a second hashed (far slower than key frames alone, so only for those videos), and
the fingerprint is cached beside the key frames' so that a second run decodes nothing.

    >>> dense = DenseFingerprints(HashCache.open(None))
    >>> len(dense(item).frames or ())  # doctest: +SKIP
    8
"""

from __future__ import annotations

import dataclasses

from ikmeta.cache import HashCache, cache_key
from ikmeta.errors import IkmetaError
from ikmeta.image.limits import MAX_PIXELS
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
        if item.source == STDIN or is_remote(item.source):
            return None
        key = cache_key(item.source)
        if key is None or (key.size, key.mtime_ns) != (item.size, item.mtime_ns):
            return None  # changed since it was scanned: its frames would not be the item's
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
        except IkmetaError:
            return None
