"""Finding image files: paths as given, folders walked recursively, in a stable order.

    >>> list(image_paths(["photos"]))
    ['photos/2023/a.jpg', 'photos/2023/b.HEIC', 'photos/c.png']

Files and URLs named on the command line are taken whatever their name; inside folders,
files are picked by extension (any case; .jfif, .jpe and .jif are JPEG too), and the others
are counted by extension in ``skipped``. Hidden files and folders (a name starting with
'.') are skipped unless ``hidden``. Symbolic links to folders inside a folder walked are
passed over (counted as :data:`FOLDER_LINK` in ``skipped``) unless ``follow_links``: a link
may lead outside what was named. Followed, each real folder is walked once, so a link loop
ends. A folder named itself is walked even when it is a link. Problems (a missing path, a
folder that cannot be read, a path in a folder that cannot be entered) are yielded as
:class:`~ikmeta.errors.SourceError` values in place, so the walk goes on.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator

from ikmeta.errors import IkmetaError, SourceError, os_reason

from .base import (
    NO_EXTENSION,
    STDIN,
    VIDEO_EXTENSIONS,
    FetchOptions,
    foreign_scheme,
    is_url,
    is_wanted_name,
    object_scheme,
)

FOLDER_LINK = "link to a folder"  # how ``skipped`` counts the folder links not followed


def image_paths(
    paths: Iterable[str | IkmetaError],
    hidden: bool = False,
    skipped: Counter[str] | None = None,
    fetch: FetchOptions | None = None,
    follow_links: bool = False,
    videos: bool = False,
) -> Iterator[str | IkmetaError]:
    """Each path, or for a folder each image file below it (sorted by name, files first),
    and for an object-store prefix each image object below it (``fetch``: its storage
    options); with ``videos``, video files too. ``skipped`` counts, by lower-case extension,
    the files in folders that are not taken."""
    skipped = Counter() if skipped is None else skipped
    seen: set[str] = set()
    for path in paths:
        if isinstance(path, IkmetaError):
            yield path
        elif not path:
            yield SourceError("''", "empty file name")
        elif object_scheme(path):
            from .stores import walk_prefix

            yield from walk_prefix(path, hidden, skipped, fetch or FetchOptions(), videos)
        elif path == STDIN or is_url(path) or foreign_scheme(path):
            yield path  # read_source fetches it, or says why it will not
        elif os.path.isdir(path):
            yield from _walk(path, hidden, seen, skipped, follow_links, videos)
        else:
            problem = _not_there(path)
            yield path if problem is None else SourceError(path, problem)


def _walk(
    folder: str, hidden: bool, seen: set[str], skipped: Counter[str], follow_links: bool, videos: bool
) -> Iterator[str | SourceError]:
    real = os.path.realpath(folder)
    if real in seen:
        return
    seen.add(real)
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        yield SourceError(folder, f"cannot read folder: {os_reason(exc)}")
        return
    folders = []
    for entry in entries:
        if not hidden and entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()  # follows symbolic links
        except OSError:
            is_dir = False
        if is_dir and not follow_links and entry.is_symlink():
            skipped[FOLDER_LINK] += 1
        elif is_dir:
            folders.append(entry.path)
        elif is_wanted_name(entry.name, videos):
            yield (
                entry.path
                if _is_file(entry)
                else SourceError(entry.path, "not a regular file (a pipe or device?), skipped")
            )
        else:
            skipped[os.path.splitext(entry.name)[1].lower() or NO_EXTENSION] += 1
    for sub in folders:
        yield from _walk(sub, hidden, seen, skipped, follow_links, videos)


def _not_there(path: str) -> str | None:
    """Why ``path`` cannot be found, or None when it is there: a file in a folder that cannot
    be looked into (no x permission) is 'permission denied', not missing."""
    try:
        os.lstat(path)
    except PermissionError:
        return "permission denied"
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return "no such file or folder"
    return None


def skipped_summary(skipped: Counter[str], videos_note: str | None = None) -> str | None:
    """One line on the files a walk passed over, most common extension first, or None;
    ``videos_note`` says why the videos among them were passed over.

    >>> skipped_summary(Counter({".mov": 5}), "they need PyAV")
    'skipped 5 files in folders that are not images or videos ikmeta reads (5 .mov); the 5 videos: they need PyAV'
    >>> skipped_summary(Counter({FOLDER_LINK: 1}))
    'skipped 1 link to a folder (--follow-links follows them)'
    """
    links = skipped.get(FOLDER_LINK, 0)
    said = f"skipped {links} link{'s' if links != 1 else ''} to a folder (--follow-links follows them)"
    skipped = Counter({k: v for k, v in skipped.items() if k != FOLDER_LINK})
    total = sum(skipped.values())
    if not total:
        return said if links else None
    kinds = sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{n} {ext}" for ext, n in kinds[:8]) + (", ..." if len(kinds) > 8 else "")
    noun = "file" if total == 1 else "files"
    files = f"skipped {total} {noun} in folders that are not images or videos ikmeta reads ({shown})"
    videos = sum(n for ext, n in skipped.items() if ext in VIDEO_EXTENSIONS)
    if videos and videos_note:
        files += f"; the {videos} video{'s' if videos != 1 else ''}: {videos_note}"
    return f"{files}; {said[0].lower()}{said[1:].replace('skipped ', '', 1)}" if links else files


def _is_file(entry: os.DirEntry[str]) -> bool:
    """A regular file, or a link to one (a dangling link too: reading it will say so)."""
    try:
        return entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
    except OSError:
        return True
