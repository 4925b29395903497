"""How long a video shows a picture: the seconds of one colour at its start and at its end
(black added to pad a copy to a length, a black leader), found by decoding only its first
frames and its last ones.

    >>> blank_ends(read_source("examples/clip.mp4"))
    (0.0, 0.0)

Key frames alone cannot tell: an encoder places none where a copy's black padding starts
(FFmpeg's default puts one every ten seconds), so a padded copy's key frames look like its
original's. The start is decoded from the first frame until one shows a picture (for most
videos, the first); the end, from the key frame before its last :data:`TAIL` seconds to the
end, looking back twice as far while no frame there shows a picture. Only frames decoded as
blank count: a frame held on screen to the end, a sound track longer than the picture, a
file cut short or a stream that starts late add nothing. A frame is blank when its grey
values spread less than :data:`BLANK_SPREAD` (padding is one flat colour; a dark scene, and
even the fade the fingerprint leaves out, spreads more).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ikmeta.errors import ImageError
from ikmeta.image.limits import MAX_PIXELS

from .container import video_format
from .probe import (
    content_seconds,
    duration_of,
    ffmpeg_reason,
    open_video,
    picture_size,
    start_seconds,
    video_stream,
)

if TYPE_CHECKING:
    from ikmeta.sources.base import Blob

TAIL = 2.0  # seconds: the end's first look, doubled while no frame of it shows a picture
BLANK_SPREAD = 1.0  # grey levels: a frame whose values spread less is of one colour
SMALL = 64  # pixels: the height a frame without an 8-bit luma plane is made to first
# Pixel formats whose first plane is 8-bit luma, one byte a pixel (FFmpeg's names).
LUMA_FIRST = frozenset(
    {
        "yuv420p",
        "yuvj420p",
        "yuv422p",
        "yuvj422p",
        "yuv444p",
        "yuvj444p",
        "yuv440p",
        "yuv411p",
        "nv12",
        "nv21",
        "gray",
    }
)


def blank_ends(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> tuple[float, float]:
    """The seconds at the start and at the end of the video in ``blob`` whose frames are all
    of one colour (each to a frame; 0.0 when its first or last frame decoded shows a picture,
    and both 0.0 for a video no frame of which does). Raises
    :class:`~ikmeta.errors.ImageError` when it cannot be read (not a video, PyAV missing,
    frames of more than ``max_pixels``, a stream that cannot be read or sought in).

    >>> blank_ends(read_source("padded.mp4"))  # doctest: +SKIP
    (0.0, 5.0)
    """
    import av

    fmt = video_format(blob.data) or "video"
    with open_video(blob, fmt) as container:
        stream = video_stream(container, blob.source)
        picture_size(stream, blob.source, fmt, max_pixels)
        stream.thread_type = "AUTO"
        length = content_seconds(duration_of(container, stream), stream)
        try:
            head = _head(container, stream)
            if head.first is None:
                return 0.0, 0.0
            tail, look = Shown(), TAIL
            while tail.last is None and look < 2 * length:
                tail = _tail(container, stream, length - look)
                look *= 2
        except (av.FFmpegError, IndexError, ValueError, OverflowError) as exc:
            reason = ffmpeg_reason(exc) if isinstance(exc, av.FFmpegError) else str(exc)
            raise ImageError(blob.source, f"this {fmt} cannot be read to its end ({reason})") from None
    return head.blank(length)[0], tail.blank(length)[1]


@dataclass
class Shown:
    """What the frames of a video decoded in order say of its ends: when the first and the
    last that show a picture are shown (seconds from its start; None before one is seen),
    whether a blank frame (:func:`is_blank`) came before the first, and when the first blank
    frame after the last picture is shown (None when none came after it)."""

    first: float | None = None
    last: float | None = None
    blank_before: bool = False
    blank_after: float | None = None

    def saw(self, time: float, frame: Any) -> None:
        """Count a decoded frame shown at ``time``."""
        if not is_blank(frame):
            self.first = time if self.first is None else min(self.first, time)
            if self.last is None or time >= self.last:
                self.last, self.blank_after = time, None
        elif self.first is None:
            self.blank_before = True
        elif self.last is not None and time > self.last and self.blank_after is None:
            self.blank_after = time

    def blank(self, duration: float) -> tuple[float, float]:
        """The seconds of one colour at the start and at the end of a video of ``duration``
        seconds: up to its first picture when blank frames came before it, and from the
        first blank frame after its last picture (both 0.0 when no frame showed a picture).

        >>> Shown(first=3.0, last=8.0, blank_before=True, blank_after=8.04).blank(13.0)
        (3.0, 4.96)
        """
        if self.first is None:
            return 0.0, 0.0
        lead = min(self.first, duration) if self.blank_before else 0.0
        tail = duration - self.blank_after if self.blank_after is not None else 0.0
        return round(lead, 3), round(max(0.0, min(tail, duration - lead)), 3)


def _head(container: Any, stream: Any) -> Shown:
    """The start of a video just opened, decoded until a frame shows a picture."""
    head = Shown()
    for time, frame in _frames(container, stream):
        head.saw(time, frame)
        if head.first is not None:
            break
    return head


def _tail(container: Any, stream: Any, since: float) -> Shown:
    """The end of a video, decoded from the key frame at or before ``since`` seconds."""
    target = since + start_seconds(stream)
    if target > 0 and stream.time_base:
        container.seek(int(target / stream.time_base), stream=stream, backward=True)
    else:
        container.seek(0)
    tail = Shown()
    for time, frame in _frames(container, stream):
        tail.saw(time, frame)
    return tail


def _frames(container: Any, stream: Any) -> Iterator[tuple[float, Any]]:
    """Each decoded frame with its time (seconds from the stream's start), in the order shown,
    until the stream ends or is damaged; a packet that does not decode is passed over."""
    import av

    base = start_seconds(stream)
    try:
        for packet in container.demux(stream):
            try:
                frames = stream.decode(packet)
            except av.InvalidDataError:
                continue
            for frame in frames:
                if frame.time is not None and not math.isnan(frame.time):
                    yield max(0.0, float(frame.time) - base), frame
    except av.FFmpegError:
        return  # a damaged stream: the frames before the damage stand


def is_blank(frame: Any) -> bool:
    """Whether a decoded frame is of one colour (padding, a black leader): read from every
    eighth pixel of its luma plane where it is 8-bit (most videos: nothing converted), else
    from the frame made small and grey."""
    if frame.format.name in LUMA_FIRST:
        plane = frame.planes[0]
        luma = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return float(luma[: frame.height : 8, : frame.width : 8].std()) < BLANK_SPREAD
    width = max(1, round(frame.width * SMALL / max(1, frame.height)))
    grey = frame.reformat(width=width, height=SMALL, format="gray").to_ndarray()
    return float(grey.std()) < BLANK_SPREAD
