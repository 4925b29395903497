"""A video's fingerprint: the pHashes of its key frames, at most one a :data:`STEP` of its
time, each with the time it is shown at.

Only key frames are decoded (a key frame decodes alone; the frames between them need the ones
before), so a fingerprint costs little more than reading the file: FFmpeg is asked to skip
every other frame. Each key frame is made small and grey in FFmpeg's scaler, turned upright
by the rotation the container stores, cut free of plain bars (a letterboxed copy), and
hashed as an image is (:mod:`ikmeta.image.perceptual`). Frames of one colour (a fade to black)
say nothing of the picture and are left out.

The times are those of the file's own key frames, which a re-encoded copy places elsewhere:
two fingerprints are compared by content (:mod:`ikmeta.video.matching`), each frame of the
shorter video against the frames of the longer one near the same moment.

    >>> fp = fingerprint(read_source("examples/clip.mp4"))  # doctest: +SKIP
    >>> fp.frames[0]
    Frame(time=0.0, phash='d1c2...')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from PIL import Image

from ikmeta.errors import ImageError
from ikmeta.hashes import colours_near
from ikmeta.image.borders import inner_box
from ikmeta.image.limits import MAX_PIXELS
from ikmeta.image.perceptual import low_frequencies, phash_of, turned_hashes
from ikmeta.sources.base import Blob

from .blanks import Shown
from .container import video_format
from .probe import (
    MAKE_TAGS,
    MODEL_TAGS,
    bit_rate_kbps,
    captured,
    codec_name,
    content_seconds,
    displayed_rotation_of,
    duration_of,
    first_tag,
    open_video,
    picture_size,
    start_seconds,
    tags_of,
    video_stream,
)

STEP = 1.0  # seconds: at most one key frame a second is hashed
MOST_FRAMES = 600  # a longer video takes one every duration/600 seconds
SMALL = 96  # pixels: the height key frames are scaled to before their borders are cut
DENSE_SPACING = 1.5  # frames at most this many steps apart on average count as every second
FLAT = 4.0  # a frame whose grey sample spreads less than this is of one colour


@dataclass(frozen=True)
class Frame:
    """A key frame: the time it is shown at (seconds from the start), its pHash, and the
    pHashes of the picture turned 90, 180 and 270 degrees clockwise (a copy whose container
    stores another rotation shows every frame turned)."""

    time: float
    phash: str
    turned: tuple[str, str, str]


@dataclass
class Fingerprint:
    """What :func:`fingerprint` reads of a video: its hashed key frames in time order, its
    duration (seconds), displayed size, and the device and capture time its tags name; the
    video stream's bit rate (kbps: its packets' bytes over its length), whether it has
    sound, the displayed size of the picture inside plain bars when every hashed frame has
    them (a letterboxed copy), else None, and the video codec (FFmpeg's name: h264, hevc...)."""

    source: str
    frames: list[Frame]
    duration: float
    width: int
    height: int
    format: str
    camera: str | None = None
    captured: str | None = None
    bit_rate: int | None = None
    sound: bool = False
    picture: tuple[int, int] | None = None
    codec: str | None = None
    dense: bool = False  # every frame decoded, one a step hashed (not key frames only)
    # Dense only: the seconds of one colour at its start and at its end (ikmeta.video.blanks).
    blank: tuple[float, float] | None = None
    colour: str | None = None  # a video of one colour throughout (no frame hashed): it, "#rrggbb"

    @property
    def phash(self) -> str | None:
        """One pHash that stands for the video: its middle frame's (None when no frame of it
        holds a picture)."""
        return self.frames[len(self.frames) // 2].phash if self.frames else None

    @property
    def every_second(self) -> bool:
        """Whether its frames are about a second apart or closer (dense, or key frames that
        often, as phones place them): then matched frames keep to their times more tightly."""
        return self.dense or len(self.frames) * STEP * DENSE_SPACING >= self.duration

    @cached_property
    def hashes(self) -> np.ndarray:
        """The frames' pHashes as uint64, one row per turn: row 0 as displayed, rows 1 to 3
        turned 90, 180 and 270 degrees clockwise (made once, for the comparisons of a group)."""
        rows = [[frame.phash, *frame.turned] for frame in self.frames]
        values = np.array([[int(value, 16) for value in row] for row in rows], dtype=np.uint64)
        by_turn: np.ndarray = values.reshape(-1, 4).T.copy()
        return by_turn

    @cached_property
    def times(self) -> np.ndarray:
        """The frames' times, seconds."""
        return np.array([frame.time for frame in self.frames], dtype=np.float64)


def fingerprint(
    blob: Blob, step: float = STEP, max_pixels: int | None = MAX_PIXELS, dense: bool = False
) -> Fingerprint:
    """The fingerprint of the video in ``blob``; raises :class:`~ikmeta.errors.ImageError`
    naming the reason (not a video, no frame that decodes, frames of more than ``max_pixels``
    pixels, PyAV missing).

    When no key frame holds a picture (a short clip that fades in from black, its one key
    frame black) or none is marked (some codecs mark none), the frames between are decoded
    too, one a ``step`` hashed: slower, but only for such files. With ``dense``, so for every
    video (as :func:`ikmeta.video.matching.group_videos` asks where key frames say too little)."""
    fmt = video_format(blob.data) or "video"
    with open_video(blob, fmt) as container:
        stream = video_stream(container, blob.source)
        width, height = picture_size(stream, blob.source, fmt, max_pixels)
        seconds = duration_of(container, stream)
        duration = content_seconds(seconds, stream)
        step = max(step, duration / MOST_FRAMES)
        tags = tags_of(container, stream)
        stream.thread_type = "AUTO"
        stream.codec_context.skip_frame = "NONKEY"
        sound = bool(container.streams.audio)
        codec = codec_name(stream)
        hashed: list[Frame] = []
        shares: list[tuple[float, float]] = []
        rotation, decoded, stored, shown, flat = 0, 0, 0, Shown(), list[str]()
        if not dense:
            hashed, rotation, decoded, shares, stored = key_frames(container, stream, step, keys_only=True)
        if not hashed:
            if not dense:  # (read once already)
                _rewind(container, blob.source, fmt)
            stream.codec_context.skip_frame = "DEFAULT"
            hashed, rotation, more, shares, stored = key_frames(container, stream, step, False, shown, flat)
            decoded += more
        bit_rate = bit_rate_kbps(None, stored, duration) if stored else None
        blank = shown.blank(duration) if dense else None
    if not decoded:
        raise ImageError(blob.source, f"no frame of this {fmt} decodes (corrupt or truncated)")
    if rotation in (90, 270):
        width, height = height, width
    camera = (
        " ".join(part for part in (first_tag(tags, MAKE_TAGS), first_tag(tags, MODEL_TAGS)) if part) or None
    )
    picture = _picture(width, height, shares)
    return Fingerprint(
        blob.source,
        hashed,
        duration,
        width,
        height,
        fmt,
        camera,
        captured(tags),
        bit_rate,
        sound,
        picture,
        codec,
        dense,
        blank,
        _one_colour(flat) if not hashed else None,
    )


def _rewind(container: Any, source: str, fmt: str) -> None:
    """Back to the start of a video read once, for its frames between key frames; an
    :class:`~ikmeta.errors.ImageError` when it cannot seek."""
    import av

    try:
        container.seek(0)
    except (av.FFmpegError, ValueError, OverflowError) as exc:
        raise ImageError(source, f"this {fmt} cannot be read again from its start ({exc})") from None


def _picture(width: int, height: int, shares: list[tuple[float, float]]) -> tuple[int, int] | None:
    """The displayed size of the picture inside bars, from each hashed frame's share of width
    and height inside its bars: the largest (a dark scene's edges are not bars), None when a
    frame has none."""
    if not shares:
        return None
    across, down = max(share[0] for share in shares), max(share[1] for share in shares)
    if across >= 1 and down >= 1:
        return None
    return round(width * across), round(height * down)


def key_frames(
    container: Any,
    stream: Any,
    step: float,
    keys_only: bool,
    shown: Shown | None = None,
    flat: list[str] | None = None,
) -> tuple[list[Frame], int, int, list[tuple[float, float]], int]:
    """The hashed frames (at most one a ``step``, in time order), the rotation, how many
    frames decoded, each hashed frame's share of width and height inside its bars, and the
    bytes of the stream's packets (every packet is read, most not decoded). With
    ``keys_only``, which key frames to decode is chosen from their packets' times, and each
    is drained from the decoder before the next is sent (see :func:`_decoded`); else every
    frame decodes and one a ``step`` is hashed, ``shown`` (if given) counts every frame, and
    ``flat`` (if given) is told the colour of each frame of one colour hashed, "#rrggbb"."""
    import av

    hashed: list[tuple[float, Frame | None]] = []  # None: a frame of one colour
    shares: list[tuple[float, float]] = []
    rotation, decoded, next_time, stored = 0, 0, 0.0, 0
    base = start_seconds(stream)
    try:
        for packet in container.demux(stream):
            stored += packet.size
            sent = None  # a key frame's time, from its packet
            if keys_only and packet.size:
                if not packet.is_keyframe:
                    continue
                if packet.pts is not None and packet.time_base:
                    sent = float(packet.pts * packet.time_base) - base
                    if sent < next_time:
                        continue  # a key frame too close to the last one chosen: not decoded at all
                    next_time = sent + step
            for frame in _decoded(stream, packet, av, drain=keys_only and bool(packet.size)):
                decoded += 1
                rotation = displayed_rotation_of(frame)
                known = frame.time is not None and not math.isnan(frame.time)
                time = max(0.0, (float(frame.time) - base if known else sent) or 0.0)
                if shown is not None:
                    shown.saw(time, frame)
                if not keys_only and time < next_time:
                    continue
                hashes = frame_phash(frame, rotation)
                if not keys_only and hashes:
                    next_time = time + step  # (a frame of one colour leaves the next one its place)
                hashed.append((time, Frame(round(time, 3), *hashes[:2]) if hashes else None))
                if hashes:
                    shares.append(hashes[2])
                elif flat is not None:
                    flat.append(_mean_colour(frame))
    except av.FFmpegError:
        pass  # a damaged stream: the frames before the damage stand
    frames = [frame for _, frame in sorted(hashed, key=lambda pair: pair[0]) if frame is not None]
    return frames, rotation, decoded, shares, stored


def letterbox_bars(
    box: tuple[int, int, int, int] | None, width: int, height: int
) -> tuple[int, int, int, int] | None:
    """The picture inside plain bars (``box``, :func:`~ikmeta.image.borders.inner_box` of a
    frame ``width`` x ``height``) as letterboxing or pillarboxing adds them: as wide on both sides (a picture
    is centred between its bars), so each pair is cut to the narrower of the two. A dark edge
    of the picture along one side only (a tree in shadow) is not a bar; beside a bar (a night
    sky under the top bar) it does not widen that bar.

    >>> letterbox_bars((0, 12, 128, 84), 128, 96), letterbox_bars((14, 12, 128, 84), 128, 96)
    ((0, 12, 128, 84), (0, 12, 128, 84))
    >>> letterbox_bars((0, 30, 128, 84), 128, 96), letterbox_bars((20, 0, 128, 96), 128, 96)
    ((0, 12, 128, 84), None)
    """
    if box is None:
        return None
    left, top, right, bottom = box
    across, down = min(left, width - right), min(top, height - bottom)
    if (across, down) == (0, 0):
        return None
    return across, down, width - across, height - down


def _one_colour(colours: list[str]) -> str | None:
    """The colour of a video none of whose frames holds a picture, when they are all one
    colour (each within :data:`~ikmeta.hashes.FLAT_TOLERANCE` of the first): its first; None
    when they are several (red, then blue) or none was seen."""
    return colours[0] if colours and all(colours_near(colours[0], c) for c in colours) else None


def _mean_colour(frame: Any) -> str:
    """A decoded frame's mean colour, "#rrggbb" (as a flat image's)."""
    rgb = frame.reformat(width=16, height=16, format="rgb24").to_ndarray().reshape(-1, 3).mean(axis=0)
    return "#" + "".join(f"{round(float(value)):02x}" for value in rgb)


def _decoded(stream: Any, packet: Any, av: Any, drain: bool) -> list[Any]:
    """The frames ``packet`` gives. With ``drain`` (a key frame sent alone), a frame the
    decoder holds back to reorder is drained at once and the decoder reset: fed key frames
    only, H.264 with open GOPs would otherwise never hand some of them back."""
    try:
        frames = list(stream.decode(packet))
        if drain and not frames:
            frames = list(stream.decode(None))
            stream.codec_context.flush_buffers()
        return frames
    except av.InvalidDataError:
        return []


def frame_phash(frame: Any, rotation: int) -> tuple[str, tuple[str, str, str], tuple[float, float]] | None:
    """The pHash of a decoded frame as displayed, its letterbox bars cut (:func:`letterbox_bars`),
    those of it turned (see :class:`Frame`), and the share of its width and height inside its
    plain borders (1.0, 1.0 without); None for a frame of one colour."""
    width = max(1, round(frame.width * SMALL / max(1, frame.height)))
    grey = frame.reformat(width=width, height=SMALL, format="gray").to_ndarray()
    if rotation:
        grey = np.rot90(grey, k=-(rotation // 90))  # clockwise
    plain = inner_box(grey)
    share = (1.0, 1.0)
    if plain is not None:  # the picture's share: inside every plain border (a dark sky under a bar too)
        left, top, right, bottom = plain
        share = ((right - left) / grey.shape[1], (bottom - top) / grey.shape[0])
    box = letterbox_bars(plain, grey.shape[1], grey.shape[0])
    if box is not None:  # what is hashed: inside the bars as letterboxing adds them
        left, top, right, bottom = box
        grey = grey[top:bottom, left:right]
    low, spread = low_frequencies(Image.fromarray(np.ascontiguousarray(grey)))
    if spread < FLAT:
        return None
    quarter, half, three_quarters = turned_hashes(low)[:3]
    return phash_of(low), (quarter, half, three_quarters), share
