"""A video's metadata object, as ImageKit's Metadata API gives it for videos (the object of
``metadata.video.schema.json``), read with PyAV (FFmpeg's libraries; the ``video`` extra).

ImageKit's fields: ``height`` and ``width`` as displayed (a rotation stored in the container
applied), ``size`` (bytes), ``format`` (the container, as a file extension), ``duration``
(seconds, rounded), ``bitRate`` (the whole file's, kbps, rounded), ``videoCodec`` and
``audioCodec`` (FFmpeg's short names: h264, hevc, vp9, av1; aac, opus; ``audioCodec`` null
without sound). Then ikmeta's own, each null when the file does not say: ``rotation``
(degrees clockwise the picture is turned for display: 0, 90, 180 or 270), ``frameRate``
(frames a second), ``captured`` (the capture time, ISO 8601: a phone's
``com.apple.quicktime.creationdate``, else the container's ``creation_time``), ``make`` and
``model`` (the device: Apple's and Android's tags) and ``location`` (``latitude``,
``longitude`` in degrees and ``altitude`` in metres or null, from ISO 6709 ``location`` tags).

    >>> meta = inspect_video(read_source("clip.mp4")).metadata  # doctest: +SKIP
    >>> meta["duration"], meta["videoCodec"], meta["audioCodec"]
    (8, 'h264', 'aac')
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ikmeta.errors import ImageError
from ikmeta.image.limits import MAX_PIXELS, check_pixels
from ikmeta.sources.base import Blob

from . import INSTALL
from .container import cut_short, video_format

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream

from ikmeta.image.metadata import Report

UNKNOWN_TIME = re.compile(r"^(1904|1970)-01-01")  # 0 in the QuickTime or Unix epoch: never set
ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")
MAKE_TAGS = ("com.apple.quicktime.make", "com.android.manufacturer", "make")
MODEL_TAGS = ("com.apple.quicktime.model", "com.android.model", "model")
CAPTURE_TAGS = ("com.apple.quicktime.creationdate", "creation_time", "date_recorded", "date")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")
START_OFFSET = 1.0  # seconds: a later first frame is an offset, not an encoder's priming
ROTATION_PACKETS = 300  # packets tried for a frame that decodes, for its rotation
LOCATION_TAGS = ("com.apple.quicktime.location.iso6709", "location", "location-eng")


def inspect_video(
    blob: Blob, container_format: str | None = None, max_pixels: int | None = MAX_PIXELS
) -> Report:
    """The metadata object of the video in ``blob``; raises :class:`~ikmeta.errors.ImageError`
    naming the reason (not a video PyAV reads, no video stream, PyAV missing, frames of more
    than ``max_pixels`` pixels: None or 0, no limit)."""
    fmt = container_format or video_format(blob.data) or "video"
    with open_video(blob, fmt) as container:
        stream = video_stream(container, blob.source)
        width, height = picture_size(stream, blob.source, fmt, max_pixels)
        rotation = displayed_rotation(container, stream)
        if rotation in (90, 270):
            width, height = height, width
        seconds = duration_of(container, stream)
        tags = tags_of(container, stream)
        audio = list(container.streams.audio)
        metadata: dict[str, Any] = {
            "source": blob.source,
            "height": height,
            "width": width,
            "size": blob.size,
            "format": fmt,
            "duration": int(seconds + 0.5),
            "bitRate": bit_rate_kbps(container.bit_rate, blob.size, seconds),
            "videoCodec": codec_name(stream),
            "audioCodec": codec_name(audio[0]) if audio else None,
            "rotation": rotation,
            "frameRate": _rate(stream),
            "captured": captured(tags),
            "make": first_tag(tags, MAKE_TAGS),
            "model": first_tag(tags, MODEL_TAGS),
            "location": location(first_tag(tags, LOCATION_TAGS)),
        }
    damage = cut_short(blob.whole)
    return Report(blob.source, metadata, [damage] if damage else [])


@contextlib.contextmanager
def open_video(blob: Blob, fmt: str) -> Iterator[InputContainer]:
    """``with open_video(blob, fmt) as container``: the blob opened with PyAV (a large video
    read from its file where it lies: :class:`~ikmeta.sources.filebytes.FileBytes`), closed after;
    :class:`~ikmeta.errors.ImageError` when PyAV is missing or cannot read it."""
    av = require_av(blob.source, fmt)
    stream = blob.file.reader() if blob.file is not None else io.BytesIO(blob.data)
    with stream:
        try:
            container: InputContainer = av.open(stream, mode="r", metadata_errors="replace")
        except av.FFmpegError as exc:
            raise ImageError(blob.source, f"corrupt or truncated {fmt} ({ffmpeg_reason(exc)})") from None
        try:
            yield container
        finally:
            container.close()


def require_av(source: str, fmt: str) -> Any:
    """The ``av`` module, or an :class:`~ikmeta.errors.ImageError` that says how to install it."""
    try:
        import av
    except ImportError:
        raise ImageError(source, f"a video ({fmt}); reading videos needs PyAV: {INSTALL}") from None
    return av


def ffmpeg_reason(exc: Exception) -> str:
    """FFmpeg's reason, without PyAV's errno and file name: 'Invalid data found when processing input'."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text[:1].lower() + text[1:]


def video_stream(container: InputContainer, source: str) -> VideoStream:
    """The container's first video stream that is a picture sequence (not cover art), whose
    codec FFmpeg decodes."""
    import av

    for stream in container.streams.video:
        if stream.disposition & av.stream.Disposition.attached_pic:
            continue
        if stream.codec_context is None:
            raise ImageError(source, "its video codec has no decoder in FFmpeg (PyAV's build)")
        return stream
    what = "sound only" if container.streams.audio else "no stream ikmeta reads"
    raise ImageError(source, f"no video stream ({what})")


def picture_size(stream: VideoStream, source: str, fmt: str, max_pixels: int | None) -> tuple[int, int]:
    """The stream's stored width and height, checked against ``max_pixels`` before any frame
    is decoded (as an image's are)."""
    width, height = stream.codec_context.width, stream.codec_context.height
    if not width or not height:
        raise ImageError(source, f"{fmt} video stream without a picture size (corrupt header)")
    check_pixels(source, (width, height), max_pixels)
    return width, height


def displayed_rotation(container: InputContainer, stream: VideoStream) -> int:
    """Degrees clockwise (0, 90, 180, 270) the stored picture is turned for display, from the
    display matrix FFmpeg attaches to the first frame that decodes (0 when none of the first
    :data:`ROTATION_PACKETS` packets does)."""
    import av

    for tried, packet in enumerate(container.demux(stream)):
        if tried >= ROTATION_PACKETS:
            break
        try:
            for frame in stream.decode(packet):
                return displayed_rotation_of(frame)
        except (av.FFmpegError, ValueError):
            continue  # a damaged packet: the next may decode
    return 0


def displayed_rotation_of(frame: Any) -> int:
    """Degrees clockwise (0, 90, 180, 270) a decoded frame is turned for display (FFmpeg's
    display matrix turns counter-clockwise)."""
    turn: int = (-round(float(frame.rotation) / 90) * 90) % 360
    return turn


def duration_of(container: InputContainer, stream: VideoStream) -> float:
    """Seconds: the container's duration, else the video stream's, else (a recording written
    as it streamed, with no duration: a browser's WebM) the end of its last packet, read
    without decoding."""
    if container.duration:
        return max(0.0, container.duration / 1_000_000)  # AV_TIME_BASE
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return _last_packet_end(container, stream)


def start_seconds(stream: Any) -> float:
    """When the stream's first frame is shown, in seconds (0 when the file does not say)."""
    return float(stream.start_time * stream.time_base) if stream.start_time and stream.time_base else 0.0


def content_seconds(seconds: float, stream: Any) -> float:
    """How long the video stream plays: its own duration where the file gives one (MP4, MOV,
    MPEG-TS: from its first frame to its last, whatever the sound or the start), else the
    file's (``seconds``, as :func:`duration_of` reads it) less a start offset of more than a
    second (a Matroska stream copied with its timestamps moved on: its duration then runs
    from 0 to its end, and the frames' times, counted from the start, would not fit in it).

    A transport stream's first frame comes 1.4 s in (its muxer's delay), and FFmpeg's
    duration of it already leaves that out; a video track shorter than its sound plays for
    the video's length.
    """
    if stream.duration and stream.time_base and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    start = start_seconds(stream)
    return seconds - start if START_OFFSET < start < seconds else seconds


def _last_packet_end(container: InputContainer, stream: VideoStream) -> float:
    import av

    start = start_seconds(stream)
    end = 0.0
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base:
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        container.seek(0)
    except (av.FFmpegError, ValueError):
        pass
    return max(0.0, end - start)


def codec_name(stream: Any) -> str:
    """FFmpeg's short name of the stream's codec (h264, hevc, vp9, av1, aac, opus, mp3), as
    ffprobe's ``codec_name`` says it: the codec's, not its decoder's (libdav1d, mp3float);
    "unknown" for a codec FFmpeg has no decoder for (as ffprobe says it)."""
    if stream.codec_context is None:
        return "unknown"
    return str(stream.codec_context.codec.canonical_name)


def captured(tags: dict[str, str]) -> str | None:
    """The capture time as ISO 8601 (a ``Z`` for UTC), or None when unknown or never set.

    >>> captured({"creation_time": "2024-06-01T10:22:33.000000Z"})
    '2024-06-01T10:22:33Z'
    """
    for name in CAPTURE_TAGS:
        text = (tags.get(name) or "").strip()
        if not ISO_TIME.match(text) or UNKNOWN_TIME.match(text):
            continue  # not set, 0 in an epoch, or not ISO 8601: the next tag may say
        text = re.sub(r"\.0+(?=Z|[+-]\d|$)", "", text)
        return re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    return None


def location(text: str | None) -> dict[str, float | None] | None:
    """An ISO 6709 point in decimal degrees ('+37.7749-122.4194+012.3/') as latitude,
    longitude and altitude (None when absent), or None.

    >>> location("+37.7749-122.4194/")
    {'latitude': 37.7749, 'longitude': -122.4194, 'altitude': None}
    """
    match = ISO6709.match(text or "")
    if not match:
        return None
    latitude, longitude = float(match[1]), float(match[2])
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None
    return {"latitude": latitude, "longitude": longitude, "altitude": float(match[3]) if match[3] else None}


def tags_of(container: InputContainer, stream: VideoStream) -> dict[str, str]:
    """The container's tags and then the video stream's, keys in lower case (Matroska writes
    them in capitals), the container's first."""
    tags = {key.lower(): value for key, value in stream.metadata.items()}
    tags.update({key.lower(): value for key, value in container.metadata.items()})
    return tags


def first_tag(tags: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = (tags.get(name) or "").strip()
        if value:
            return value
    return None


def bit_rate_kbps(bit_rate: int | None, size: int, seconds: float) -> int:
    """The whole file's bit rate in kbps (FFmpeg's, else the size over the duration)."""
    if not bit_rate and seconds > 0:
        bit_rate = int(size * 8 / seconds)
    return int((bit_rate or 0) / 1000 + 0.5)


def _rate(stream: VideoStream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate
    return round(float(rate), 3) if rate else None
