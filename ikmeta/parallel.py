"""Running one function over many sources on a pool of threads, results in input order.

Pillow and libjpeg release the GIL while they decode, so threads use every core for the
part that costs; the rest (EXIF, hashing 32x32 pixels) is small.

    >>> list(ordered_map(len, ["a", "bb", "ccc"], jobs=2))
    [1, 2, 3]
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
IN_FLIGHT_PER_JOB = 4


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ordered_map(fn: Callable[[T], R], items: Iterable[T], jobs: int) -> Iterator[R]:
    """``map(fn, items)`` on ``jobs`` threads, yielding each result as soon as it and all before it are done.

    At most ``jobs * 4`` items are in flight, so a list of a million sources streams in
    constant memory. With one job everything runs in the calling thread.
    """
    if jobs <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ikmeta")
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= jobs * IN_FLIGHT_PER_JOB:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
