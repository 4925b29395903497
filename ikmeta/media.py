"""One source's bytes to its metadata object, image or video: the first bytes say which
(:func:`ikmeta.video.container.video_format`), so a file's name never decides.

    >>> inspect_media(read_source("examples/harbour.jpg")).metadata["format"]  # doctest: +SKIP
    'jpg'
"""

from __future__ import annotations

from ikmeta.errors import ImageError
from ikmeta.image.limits import MAX_PIXELS
from ikmeta.image.metadata import Report, inspect_blob
from ikmeta.sources.base import Blob, is_video_name
from ikmeta.video.container import CONTAINERS, video_format


def inspect_media(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> Report:
    """The metadata object of the video or image in ``blob``: a video's (see
    :mod:`ikmeta.video.probe`), else an image's (:func:`ikmeta.image.metadata.inspect_blob`,
    held to ``max_pixels``). Raises :class:`~ikmeta.errors.ImageError` naming the reason."""
    fmt = video_format(blob.data)
    if fmt:
        from ikmeta.video.probe import inspect_video

        return inspect_video(blob, fmt)
    try:
        return inspect_blob(blob, max_pixels)
    except ImageError as exc:
        if is_video_name(blob.source) and exc.reason.startswith("not an image"):
            raise ImageError(
                blob.source, f"not a video ikmeta can read (containers: {', '.join(CONTAINERS)})"
            ) from None
        raise
