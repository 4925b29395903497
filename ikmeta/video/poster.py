"""A video's poster frame, for the review page: the key frame nearest before its middle (the
moment its fingerprint's middle frame stands for), as displayed.

    >>> poster_frame(read_source("examples/clip.mp4")).size  # doctest: +SKIP
    (320, 180)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from ikmeta.errors import ImageError
from ikmeta.image.limits import MAX_PIXELS
from ikmeta.sources.base import Blob

from .container import video_format
from .probe import displayed_rotation_of, duration_of, open_video, picture_size, start_seconds, video_stream

MOST_PACKETS = 600  # packets read after the seek for a frame that decodes and is not blank
FLAT = 4.0  # a frame whose grey values spread less than this is blank (a fade): the next is tried


def poster_frame(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> Image.Image:
    """The video's frame at (or the key frame just before) the middle of its length, turned
    as displayed, in RGB; a blank frame (a fade) gives way to the next that is not, and a
    file cut short before its middle shows its start. Raises
    :class:`~ikmeta.errors.ImageError` when none decodes (or PyAV is missing)."""
    fmt = video_format(blob.data) or "video"
    with open_video(blob, fmt) as container:
        stream = video_stream(container, blob.source)
        picture_size(stream, blob.source, fmt, max_pixels)
        middle = start_seconds(stream) + duration_of(container, stream) / 2
        if stream.time_base:
            _seek(container, stream, int(middle / stream.time_base))
        frame = _first_shown(container, stream)
        if frame is None:  # a file cut short before its middle: its start
            container.seek(0)
            frame = _first_shown(container, stream)
    if frame is None:
        raise ImageError(blob.source, f"no frame of this {fmt} decodes (corrupt or truncated)")
    return frame


def _seek(container: Any, stream: Any, offset: int) -> None:
    """To the key frame at or before ``offset`` (in the stream's time base); a file that
    cannot seek is read from its start."""
    import av

    try:
        container.seek(offset, stream=stream, backward=True)
    except (av.FFmpegError, ValueError, OverflowError):
        container.seek(0)


def _first_shown(container: Any, stream: Any) -> Image.Image | None:
    """The first frame after the seek that decodes and is not blank (else the last that
    decoded), as displayed."""
    import av

    shown = None
    try:
        for count, packet in enumerate(container.demux(stream)):
            if count >= MOST_PACKETS:
                break
            try:
                frames = stream.decode(packet)
            except av.InvalidDataError:
                continue
            for frame in frames:
                shown = _upright(frame)
                if np.asarray(shown.convert("L")).std() >= FLAT:
                    return shown
    except av.FFmpegError:
        pass
    return shown


def _upright(frame: Any) -> Image.Image:
    """A decoded frame as an RGB image turned as displayed."""
    image: Image.Image = frame.to_image()
    turn = displayed_rotation_of(frame)
    return image.rotate(-turn, expand=True) if turn else image
