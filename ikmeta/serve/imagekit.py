"""ImageKit's objects for the library's files: the file details (``GET /v1/files/{id}/details``
and each item of ``GET /v1/files``), a folder of a listing, and the upload response, with
the fields ikmeta can fill; what it cannot know (AI tags, versions other than the one) is
left out or given as ImageKit gives it for a file without them.

    >>> file_object(entry, {"width": 800, "height": 533, "format": "jpg"}, None)["mime"]
    'image/jpeg'
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from .library import Entry, Folder
from .paths import file_id

MIME_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "heic": "image/heic",
    "avif": "image/avif",
    "ico": "image/x-icon",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "m4v": "video/x-m4v",
    "3gp": "video/3gpp",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
}
VIDEO_KEYS = ("duration", "bitRate", "videoCodec", "audioCodec")
# The EXIF groups of the metadata object that ImageKit's embeddedMetadata flattens (names as
# ExifTool gives them, which the metadata object's are).
EMBEDDED_GROUPS = ("image", "exif", "gps", "interoperability")
# The upload response's fields given only when ``responseFields`` asks for them.
ON_REQUEST = ("metadata", "embeddedMetadata", "customMetadata", "isPublished")


def timestamp(ns: int) -> str:
    """A time in nanoseconds since the epoch, as ImageKit writes times.

    >>> timestamp(1_717_267_212_345_000_000)
    '2024-06-01T18:40:12.345Z'
    """
    moment = datetime.datetime.fromtimestamp(ns / 1e9, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def url_of(entry: Entry, url_endpoint: str | None) -> str | None:
    """The file's URL under ``url_endpoint`` (``--url-endpoint``), else None."""
    return None if url_endpoint is None else f"{url_endpoint.rstrip('/')}/{entry.path}"


def file_object(entry: Entry, summary: dict[str, Any], url_endpoint: str | None) -> dict[str, Any]:
    """ImageKit's file details of ``entry`` (``summary``: :data:`~ikmeta.serve.library.SUMMARY_KEYS`
    of its metadata object)."""
    fmt = summary.get("format") or entry.name.rpartition(".")[2].lower()
    url = url_of(entry, url_endpoint)
    details: dict[str, Any] = {
        "type": "file",
        "fileId": entry.file_id,
        "name": entry.name,
        "filePath": "/" + entry.path,
        "fileType": _file_type(fmt),
        "mime": MIME_TYPES.get(fmt, "application/octet-stream"),
        "size": entry.size,
        "width": summary.get("width"),
        "height": summary.get("height"),
        "hasAlpha": summary.get("hasTransparency", False),
        "createdAt": timestamp(entry.mtime_ns),
        "updatedAt": timestamp(entry.mtime_ns),
        "tags": entry.label.tags,
        "customMetadata": entry.label.custom_metadata,
        "description": entry.label.description,
        "AITags": None,
        "customCoordinates": None,
        "isPrivateFile": False,
        "isPublished": True,
        "url": url,
        "thumbnail": url,
        "versionInfo": {"id": entry.file_id, "name": "Version 1"},
    }
    details.update({key: summary[key] for key in VIDEO_KEYS if summary.get(key) is not None})
    return details


def folder_object(folder: Folder) -> dict[str, Any]:
    """ImageKit's object for a folder of a listing."""
    return {
        "type": "folder",
        "folderId": file_id(folder.path + "/"),
        "name": folder.path.rpartition("/")[2],
        "folderPath": "/" + folder.path,
        "createdAt": timestamp(folder.mtime_ns),
        "updatedAt": timestamp(folder.mtime_ns),
        "customMetadata": {},
    }


def upload_response(
    entry: Entry,
    described: dict[str, Any],
    url_endpoint: str | None,
    fields: Iterable[str] = (),
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """ImageKit's answer to an upload of ``entry`` (``described``: its header metadata object;
    ``metadata``: its whole one, when ``fields`` asks for ``metadata`` or ``embeddedMetadata``)."""
    fields = set(fields)
    fmt = described.get("format", "")
    url = url_of(entry, url_endpoint)
    response: dict[str, Any] = {
        "fileId": entry.file_id,
        "name": entry.name,
        "filePath": "/" + entry.path,
        "size": entry.size,
        "width": described.get("width"),
        "height": described.get("height"),
        "fileType": _file_type(fmt),
        "url": url,
        "thumbnailUrl": url,
        "tags": entry.label.tags,
        "AITags": None,
        "isPrivateFile": False,
        "customCoordinates": None,
        "versionInfo": {"id": entry.file_id, "name": "Version 1"},
    }
    response.update({key: described[key] for key in VIDEO_KEYS if described.get(key) is not None})
    if "customMetadata" in fields:
        response["customMetadata"] = entry.label.custom_metadata
    if "isPublished" in fields:
        response["isPublished"] = True
    if metadata is not None and "metadata" in fields:
        response["metadata"] = metadata
    if metadata is not None and "embeddedMetadata" in fields:
        response["embeddedMetadata"] = embedded_metadata(metadata, entry.size)
    return response


def embedded_metadata(metadata: dict[str, Any], size: int) -> dict[str, Any]:
    """ImageKit's ``embeddedMetadata``: the file's tags in one flat object, named as ExifTool
    names them, with the file's size, type and dimensions.

    >>> embedded_metadata({"format": "jpg", "width": 8, "height": 6, "exif": {"exif": {"ISO": 200}}}, 9)
    {'FileSize': 9, 'FileType': 'JPEG', 'MIMEType': 'image/jpeg', 'ImageWidth': 8, 'ImageHeight': 6, 'ISO': 200}
    """
    fmt = metadata.get("format", "")
    flat: dict[str, Any] = {
        "FileSize": size,
        "FileType": "JPEG" if fmt == "jpg" else fmt.upper(),
        "MIMEType": MIME_TYPES.get(fmt, "application/octet-stream"),
        "ImageWidth": metadata.get("width"),
        "ImageHeight": metadata.get("height"),
    }
    groups = metadata.get("exif") or {}
    for group in EMBEDDED_GROUPS:
        values = groups.get(group)
        if isinstance(values, dict):
            flat.update(values)
    return flat


def _file_type(fmt: str) -> str:
    """ImageKit's ``fileType``: ``image``, or ``non-image`` (videos are)."""
    return "image" if MIME_TYPES.get(fmt, "").startswith("image/") else "non-image"
