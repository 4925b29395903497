"""Where a file lives in a served library: ImageKit's folder paths and file names, made safe.

ImageKit names a file by its folder path and name (``/trips/2024/harbour.jpg``); ikmeta
serve keeps it at that path below the library folder. Names and folders from clients are
cleaned as ImageKit cleans them (a character other than ``A-Z a-z 0-9 . _ -`` becomes ``_``)
and never lead out of the library: ``..`` is refused, and a folder that is a link to
somewhere else is not written into. A file's id is made from its path, so it is the same
after a restart.

    >>> clean_name("My photo (1).jpg")
    'My_photo__1_.jpg'
    >>> folder_parts("/trips//2024.06/", "folder")
    ['trips', '2024.06']
    >>> file_id("trips/2024/harbour.jpg")
    'c1fa103e6b8e318183a66d76'
"""

from __future__ import annotations

import hashlib
import os
import re

from .errors import Forbidden, RequestError

NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
FOLDER_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
FOLDER_HELP = (
    "A folder is a path inside the library, such as /trips/2024 ('..' and '.' are not folder names)."
)


def file_id(relative: str) -> str:
    """The fileId of the file at ``relative`` (a POSIX path below the library): 24 hex digits,
    as ImageKit's ids have, from the path's SHA-256."""
    return hashlib.sha256(relative.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def clean_name(name: str) -> str:
    """``name`` as ImageKit stores it: characters other than ``A-Z a-z 0-9 . _ -`` as ``_``,
    and a leading dot as ``_`` (a hidden file would not be listed); may be empty."""
    cleaned = NAME_UNSAFE.sub("_", name)
    return "_" + cleaned[1:] if cleaned.startswith(".") else cleaned


def folder_parts(folder: str, what: str, clean: bool = False) -> list[str]:
    """The folders of ``folder`` (``/a/b/``, ``a/b``, ``/``), each cleaned when ``clean`` (an
    upload's folder, as ImageKit cleans it); raises :class:`RequestError` for ``..`` or ``.``
    (``what`` names the parameter) and for a hidden folder."""
    if "\x00" in folder:
        raise RequestError(what, f"{folder!r} holds a NUL character", FOLDER_HELP)
    parts = [part for part in folder.replace("\\", "/").split("/") if part]
    for part in parts:
        if part in (".", ".."):
            raise RequestError(
                what, f"{folder!r} holds {part!r}: a path never leaves the library", FOLDER_HELP
            )
        if part.startswith("."):
            raise RequestError(what, f"{folder!r} holds the hidden folder {part!r}", FOLDER_HELP)
    return [FOLDER_UNSAFE.sub("_", part) for part in parts] if clean else parts


def inside(root: str, parts: list[str], what: str) -> str:
    """The absolute path of the folder ``parts`` below ``root`` (a real path), once the part of
    it that exists is found to be a real folder inside ``root`` (a link that leads elsewhere
    is refused: :class:`Forbidden`)."""
    path = os.path.join(root, *parts)
    existing = path
    while not os.path.lexists(existing) and existing != root:
        existing = os.path.dirname(existing)
    real = os.path.realpath(existing)
    if real != root and not real.startswith(root + os.sep):
        raise Forbidden(what, f"/{'/'.join(parts)} leads out of the library (a link)", FOLDER_HELP)
    if os.path.lexists(existing) and not os.path.isdir(existing):
        raise RequestError(what, f"/{'/'.join(parts)} is a file, not a folder", FOLDER_HELP)
    return path


def within(root: str, path: str) -> bool:
    """Whether the real path of ``path`` is inside ``root`` (a real path)."""
    real = os.path.realpath(path)
    return real.startswith(root + os.sep)


def relative_of(root: str, path: str) -> str:
    """``path`` (below ``root``) as the POSIX path ImageKit's ``filePath`` holds, without its
    leading slash."""
    return os.path.relpath(path, root).replace(os.sep, "/")
