"""Telling an upscale from the copy it was made from, by the fine detail each holds: the judge
:func:`ikmeta.dupes.group` asks (:data:`ikmeta.dupes.rank.Judge`), measuring files on disk
(:func:`ikmeta.image.detail.detail_profile`) only when their rank depends on it, and keeping
the measures in the hash cache.

    >>> judge = DetailJudge(HashCache.open(None), jobs=2)
    >>> groups = group(items, 10, judge=judge)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

from ikmeta.cache import CacheKey, HashCache, cache_key
from ikmeta.errors import IkmetaError
from ikmeta.parallel import ordered_map
from ikmeta.sources.base import STDIN, FetchOptions, is_remote

from .model import Item

KIND = "detail-lanczos-tiles4x256-v1"  # the measure's version, as the cache files it

Profile = tuple[float, ...]


class DetailJudge:
    """Whether one copy is an upscale of another (True), is not (False) or cannot be told
    (None: the smaller copy is too soft to judge by). Local files only: for a URL, a stored
    object or standard input nothing is claimed (False)."""

    def __init__(self, cache: HashCache, fetch: FetchOptions | None = None, jobs: int = 1) -> None:
        self.cache = cache
        self.fetch = fetch or FetchOptions()
        self.jobs = jobs
        self.profiles: dict[str, Profile | None] = {}

    def prepare(self, items: Iterable[Item]) -> None:
        """Measure (or find in the cache) every local file among ``items``, ``jobs`` at a time."""
        wanted = {s for s in {item.source for item in items} - self.profiles.keys() if _measurable(s)}
        keys = {source: cache_key(source) for source in sorted(wanted)}
        cached = self.cache.get_details((k for k in keys.values() if k is not None), KIND)
        missing = []
        for source, key in keys.items():
            if key is not None and key in cached:
                self.profiles[source] = cached[key]
            else:
                missing.append(source)
        measured: list[tuple[CacheKey, Profile]] = []
        for source, profile in zip(missing, ordered_map(self._measure, missing, self.jobs), strict=True):
            self.profiles[source] = profile
            key = keys[source]
            if profile is not None and key is not None:
                measured.append((key, profile))
        self.cache.put_details(measured, KIND)

    def __call__(self, big: Item, small: Item) -> bool | None:
        from ikmeta.image.detail import upscaled_from

        self.prepare([big, small])
        big_profile, small_profile = self.profiles.get(big.source), self.profiles.get(small.source)
        if big_profile is None or small_profile is None or not big.pixels or not small.pixels:
            return False
        share = math.sqrt(small.pixels / big.pixels)
        return upscaled_from(big_profile, small_profile, share)

    def _measure(self, source: str) -> Profile | None:
        from ikmeta.image.detail import detail_profile
        from ikmeta.sources.read import read_source

        try:
            return detail_profile(read_source(source, fetch=self.fetch))
        except (IkmetaError, OSError, ValueError, MemoryError):
            return None


def _measurable(source: str) -> bool:
    return source != STDIN and not is_remote(source) and os.path.isfile(source)
