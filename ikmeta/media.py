"""One source's bytes to its metadata object, image or video: the first bytes say which
(:func:`ikmeta.video.container.video_format`), so a file's name never decides.

    >>> inspect_media(read_source("examples/harbour.jpg")).metadata["format"]  # doctest: +SKIP
    'jpg'
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ikmeta.errors import ImageError
from ikmeta.hashes import FLAT_PHASH
from ikmeta.image.limits import MAX_PIXELS
from ikmeta.image.metadata import Report, describe_blob, inspect_blob, phash_blob
from ikmeta.sources.base import Blob, is_video_name
from ikmeta.video.container import CONTAINERS, video_format


def phash_media(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> Report:
    """The hash record of the video or image in ``blob``: a video's fingerprint (see
    :func:`video_record`), else an image's (:func:`ikmeta.image.metadata.phash_blob`)."""
    if video_format(blob.data):
        return video_record(blob, max_pixels)
    with _named_as_video(blob):
        return phash_blob(blob, max_pixels)


def video_record(blob: Blob, max_pixels: int | None = MAX_PIXELS, dense: bool = False) -> Report:
    """A video's hash record: its fingerprint's ``frames`` (each key frame's ``time``,
    ``pHash`` and ``turned``: the pHashes of it turned 90, 180 and 270 degrees clockwise; see
    :mod:`ikmeta.video.fingerprint`), ``pHash`` the middle one's (the one the plain line shows),
    and the keys an image's record has (``flat``, ``turned``, ``inner``, ``windows``,
    ``quality``, ``provenance`` null), with ``duration`` (seconds, as read), ``videoBitRate`` (the
    video stream's, kbps), ``videoCodec``, ``sound`` (whether it has an audio stream) and ``picture`` (the
    ``[width, height]`` of the picture inside letterbox bars, null without bars): what
    ``dupes`` groups and ranks videos by. With ``dense``, the frames are taken from every
    frame decoded, one a second (see :func:`ikmeta.video.fingerprint.fingerprint`), and
    ``blank`` is the seconds of one colour at its start and end (see
    :mod:`ikmeta.video.blanks`).
    A video of one colour throughout (no frame holds a picture) has a flat image's
    ``pHash``, its colour as ``flat`` (``"#rrggbb"``) and no frames: ``dupes`` groups such
    videos by colour and length, as it groups flat images by colour."""
    from ikmeta.video.container import cut_short
    from ikmeta.video.fingerprint import fingerprint

    fp = fingerprint(blob, max_pixels=max_pixels, dense=dense)
    damage = cut_short(blob.whole)
    if fp.phash is None and (fp.colour is None or damage):
        what = "several plain colours" if fp.colour is None else "one colour as far as it is not cut short"
        raise ImageError(blob.source, f"no frame of it holds a picture ({what}): nothing to fingerprint")
    metadata: dict[str, Any] = {
        "source": blob.source,
        "pHash": fp.phash or FLAT_PHASH,  # (a video of one colour: a flat image's)
        "flat": fp.colour,
        "width": fp.width,
        "height": fp.height,
        "size": blob.size,
        "format": fp.format,
        "quality": None,
        "camera": fp.camera,
        "captured": fp.captured,
        "mtimeNs": blob.mtime_ns,
        "turned": None,
        "inner": None,
        "windows": None,
        "provenance": None,
        "damage": "truncated" if damage else None,
        "duration": round(fp.duration, 3),
        "videoBitRate": fp.bit_rate,
        "videoCodec": fp.codec,
        "sound": fp.sound,
        "picture": list(fp.picture) if fp.picture else None,
        "frames": [
            {"time": frame.time, "pHash": frame.phash, "turned": list(frame.turned)} for frame in fp.frames
        ],
    }
    if fp.blank is not None:
        metadata["blank"] = [*fp.blank]
    return Report(blob.source, metadata, [damage] if damage else [])


def inspect_media(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> Report:
    """The metadata object of the video or image in ``blob``: a video's (see
    :mod:`ikmeta.video.probe`), else an image's (:func:`ikmeta.image.metadata.inspect_blob`,
    held to ``max_pixels``). Raises :class:`~ikmeta.errors.ImageError` naming the reason."""
    fmt = video_format(blob.data)
    if fmt:
        from ikmeta.video.probe import inspect_video

        return inspect_video(blob, fmt, max_pixels)
    with _named_as_video(blob):
        return inspect_blob(blob, max_pixels)


def describe_media(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> dict[str, Any]:
    """What the header of the image or video in ``blob`` says: for an image, its metadata
    object without ``pHash`` and ``exif`` (:func:`ikmeta.image.metadata.describe_blob`, no
    pixel decoded); for a video, its metadata object. Raises as :func:`inspect_media` does."""
    fmt = video_format(blob.data)
    if fmt:
        from ikmeta.video.probe import inspect_video

        return inspect_video(blob, fmt, max_pixels).metadata
    with _named_as_video(blob):
        return describe_blob(blob, max_pixels)


@contextlib.contextmanager
def _named_as_video(blob: Blob) -> Iterator[None]:
    """A file named as a video (``clip.mp4``) that is no image either is said to be no video
    ikmeta reads, rather than no image."""
    try:
        yield
    except ImageError as exc:
        if is_video_name(blob.source) and exc.reason.startswith("not an image"):
            raise ImageError(
                blob.source, f"not a video ikmeta can read (containers: {', '.join(CONTAINERS)})"
            ) from None
        raise
