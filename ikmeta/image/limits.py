"""The limits on decoding, whatever the number of jobs (Pillow is not imported here, so the
command line's options and the scan can name them cheaply).

- :data:`MAX_PIXELS`: the most pixels an image may have (``--max-pixels``, ``max_pixels=``);
  :func:`check_pixels` refuses one with more, from its header, before any pixel is decoded.
- :data:`DECODE_BUDGET`: the pixels the decodes in flight may hold together, shared through a
  :class:`MemoryGate` (:data:`ikmeta.image.decode.pixel_memory`, held by
  :func:`ikmeta.image.decode.decoding`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ikmeta.errors import ImageError

# Pillow's decompression-bomb limit (the default of its Image.MAX_IMAGE_PIXELS; it warns above
# it and refuses above twice it): the default of --max-pixels, the most an image may have.
MAX_PIXELS = 89_478_485


def check_pixels(source: str, size: tuple[int, int], max_pixels: int | None) -> None:
    """Raise :class:`ImageError` when an image of ``size`` has more than ``max_pixels`` pixels
    (None or 0: no limit).

    >>> check_pixels("photo.png", (13000, 13000), MAX_PIXELS)
    Traceback (most recent call last):
    ikmeta.errors.ImageError: photo.png: 169,000,000 pixels, more than --max-pixels 89,478,485
    """
    pixels = size[0] * size[1]
    if max_pixels and pixels > max_pixels:
        raise ImageError(source, f"{pixels:,} pixels, more than --max-pixels {max_pixels:,}")


# The pixels the decodes in flight may hold together: about two images at the default
# --max-pixels (and Pillow's own hard limit for one image), ~0.7 GB of RGB. Beyond it, a decode
# waits for others to finish; one that needs more than all of it runs alone. Fixed rather than
# a multiple of --max-pixels: raising the limit to let one huge scan through should not also
# let more of them decode together, and --max-pixels 0 would leave no budget.
DECODE_BUDGET = 2 * MAX_PIXELS


class MemoryGate:
    """Lets work that holds ``size`` (pixels) start only while the total in flight stays within
    ``budget``; work bigger than the budget runs when nothing else is in flight. First come,
    first served: work that does not fit yet holds back work that came after it, so a huge
    image is never starved by a stream of small ones. Holds are never nested (a thread that
    holds a share never asks for another), so every hold ends and none waits for ever.

    >>> gate = MemoryGate(100)
    >>> with gate.hold(60): pass
    >>> with gate.hold(250): gate.used     # alone, counted as the whole budget
    100
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._cond = threading.Condition()
        self._tickets = 0  # handed out, one per hold, in the order they came
        self._next = 0  # the ticket whose turn it is

    @contextmanager
    def hold(self, size: int) -> Iterator[None]:
        size = max(0, min(size, self.budget))
        with self._cond:
            ticket = self._tickets
            self._tickets += 1
            while ticket != self._next or (self.used and self.used + size > self.budget):
                self._cond.wait()
            self._next += 1
            self.used += size
            self._cond.notify_all()  # the next in line may fit too
        try:
            yield
        finally:
            with self._cond:
                self.used -= size
                self._cond.notify_all()
