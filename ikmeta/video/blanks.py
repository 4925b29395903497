"""How long a video shows a picture: the seconds of one colour at its start and at its end
(black added to pad a copy to a length, a black leader), found by decoding only its first
frames and its last ones.

    >>> blank_ends(read_source("examples/clip.mp4"))
    (0.0, 0.0)

Key frames alone cannot tell: an encoder places none where a copy's black padding starts
(FFmpeg's default puts one every ten seconds), so a padded copy's key frames look like its
original's. The start is decoded from the first frame until one shows a picture (for most
videos, the first); the end, from the key frame before its last :data:`TAIL` seconds to the
end, looking back twice as far while every frame there is blank. A frame is blank when its
grey values, made small, spread less than :data:`FLAT` (as the fingerprint leaves such frames out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ikmeta.image.limits import MAX_PIXELS

from .container import video_format
from .poster import FLAT
from .probe import content_seconds, duration_of, open_video, picture_size, start_seconds, video_stream

if TYPE_CHECKING:
    from ikmeta.sources.base import Blob

TAIL = 2.0  # seconds: the end's first look, doubled while all of it is blank
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
    of one colour (each to a frame; 0.0 when its first or last frame shows a picture, and
    both 0.0 for a video no frame of which does). Raises :class:`~ikmeta.errors.ImageError`
    when it cannot be read (not a video, PyAV missing, frames of more than ``max_pixels``).

    >>> blank_ends(read_source("padded.mp4"))  # doctest: +SKIP
    (0.0, 5.0)
    """
    fmt = video_format(blob.data) or "video"
    with open_video(blob, fmt) as container:
        stream = video_stream(container, blob.source)
        picture_size(stream, blob.source, fmt, max_pixels)
        stream.thread_type = "AUTO"
        base = start_seconds(stream)
        length = content_seconds(duration_of(container, stream), stream)
        first = _first_picture(container, stream, base)
        if first is None:
            return 0.0, 0.0
        last, look = None, TAIL
        while last is None and look < 2 * length:
            last = _last_picture(container, stream, base, length - look)
            look *= 2
        return Shown(first, last if last is not None else length).blank(length, stream)


@dataclass
class Shown:
    """When a video decoded frame by frame first and last shows a picture (seconds from its
    start; None before a frame that is not blank, :func:`ikmeta.video.blanks.is_blank`)."""

    first: float | None = None
    last: float | None = None

    def saw(self, time: float, frame: Any) -> None:
        """Count a decoded frame shown at ``time``."""
        if not is_blank(frame):
            self.first = time if self.first is None else min(self.first, time)
            self.last = time if self.last is None else max(self.last, time)

    def blank(self, duration: float, stream: Any) -> tuple[float, float]:
        """The seconds of one colour at the start and at the end of a video of ``duration``
        seconds (each to a frame of ``stream``; both 0.0 when no frame showed a picture)."""
        if self.first is None or self.last is None:
            return 0.0, 0.0
        frame_time = 1 / float(stream.average_rate) if stream.average_rate else 0.0
        end = min(duration, self.last + frame_time)
        return round(self.first, 3), round(max(0.0, duration - end), 3)


def _first_picture(container: Any, stream: Any, base: float) -> float | None:
    """When the first frame that is not blank is shown (seconds from the start), decoding
    from the start; None when none is."""
    container.seek(0)
    for time, blank in _frames(container, stream, base):
        if not blank:
            return float(time)
    return None


def _last_picture(container: Any, stream: Any, base: float, since: float) -> float | None:
    """When the last frame that is not blank is shown, decoding from the key frame at or
    before ``since`` seconds to the end; None when every frame there is blank."""
    import av

    try:
        if since > 0 and stream.time_base:
            container.seek(int((since + base) / stream.time_base), stream=stream, backward=True)
        else:
            container.seek(0)
    except (av.FFmpegError, ValueError, OverflowError):
        container.seek(0)
    last = None
    for time, blank in _frames(container, stream, base):
        if not blank:
            last = time if last is None else max(last, time)
    return last


def _frames(container: Any, stream: Any, base: float) -> Any:
    """Each decoded frame's time (seconds from the start) and whether it is blank, in
    decoding order, until the stream ends or is damaged."""
    import av

    try:
        for packet in container.demux(stream):
            try:
                frames = stream.decode(packet)
            except av.InvalidDataError:
                continue
            for frame in frames:
                if frame.time is None or math.isnan(frame.time):
                    continue
                yield max(0.0, float(frame.time) - base), is_blank(frame)
    except av.FFmpegError:
        return


def is_blank(frame: Any) -> bool:
    """Whether a decoded frame is of one colour (a fade's black, padding): read from every
    eighth pixel of its luma plane where it is 8-bit (most videos: nothing converted), else
    from the frame made small and grey."""
    if frame.format.name in LUMA_FIRST:
        plane = frame.planes[0]
        luma = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return float(luma[: frame.height : 8, : frame.width : 8].std()) < FLAT
    width = max(1, round(frame.width * SMALL / max(1, frame.height)))
    grey = frame.reformat(width=width, height=SMALL, format="gray").to_ndarray()
    return float(grey.std()) < FLAT
