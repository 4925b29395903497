"""Running one function over many sources on a pool of threads, results in input order.

Pillow and libjpeg release the GIL while they decode, so threads use every core for the
part that costs; the rest (EXIF, hashing 32x32 pixels) is small.

    >>> list(ordered_map(len, ["a", "bb", "ccc"], jobs=2))
    [1, 2, 3]
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
IN_FLIGHT_PER_JOB = 4
FEED_THREAD = "ikmeta-feed"  # the thread that draws the items: at exit, it may be blocked reading stdin


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], jobs: int, in_flight: int | None = None
) -> Iterator[R]:
    """``map(fn, items)`` on ``jobs`` threads, yielding each result as soon as it and all before it are done.

    The items are drawn on a thread of their own, so a slow source of items (a list piped in
    from ``find`` on a network drive) never holds back results that are ready. At most
    ``in_flight`` items (default ``jobs * 4``) are in flight, so a list of a million sources
    streams in constant memory. With one job everything runs in the calling thread.
    """
    if jobs <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ikmeta")
    slots = threading.Semaphore(in_flight or jobs * IN_FLIGHT_PER_JOB)
    submitted: queue.SimpleQueue[Future[R] | BaseException | None] = queue.SimpleQueue()
    stop = threading.Event()

    def feed() -> None:
        try:
            for item in items:
                while not slots.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                submitted.put(pool.submit(fn, item))
        except BaseException as exc:  # noqa: BLE001 - the items' failure, raised in its place in the order
            submitted.put(exc)
        finally:
            submitted.put(None)  # the end

    feeder = threading.Thread(target=feed, name=FEED_THREAD, daemon=True)  # may wait on stdin for ever
    feeder.start()
    try:
        while (next_up := submitted.get()) is not None:
            if isinstance(next_up, BaseException):
                raise next_up
            try:
                yield next_up.result()
            finally:
                slots.release()
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
