"""Moving and linking files without ever overwriting one or leaving a moment without it.

    >>> move_file("photos/b.jpg", "/tmp/dupes/photos/b.jpg")   # never over an existing file
    >>> replace_with_link("photos/b.jpg", "photos/a.jpg", "hardlink", trash_bytes=trash)

On one file system a move is a hard link at the destination (which fails rather than
overwrite) and the removal of the old name, or a rename after a check where a file system
has no hard links; across file systems the file is copied under a temporary name next to the
destination, flushed to disk, put in place without overwriting, and only then is the source
removed.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable

PARTIAL = ".ikmeta-partial"  # a copy under way across file systems
ORIGINAL = ".ikmeta-original"  # a duplicate's second name while it goes to the trash
LINK = ".ikmeta-link"  # a new link, before it is renamed over the duplicate
NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


def entry_key(path: str) -> str:
    """Which directory entry ``path`` names: its folder with links resolved, and its name
    (``L/a.jpg``, with ``L`` a link to ``lib``, is ``lib/a.jpg``; a link *file* stays itself).
    Two hard links are two entries: that they are one file is checked by inode."""
    folder, name = os.path.split(path)  # not made absolute first: 'L/../a.jpg' must follow L
    if name in ("", ".", ".."):
        return os.path.realpath(path)
    return os.path.join(os.path.realpath(folder or "."), name)


def move_file(source: str, destination: str) -> None:
    """Move ``source`` to ``destination`` (its folders made as needed). Raises
    FileExistsError when ``destination`` exists, OSError for the rest; the source is removed
    only once the destination holds all of it."""
    if entry_key(source) == entry_key(destination):
        raise OSError(errno.EINVAL, "the destination is the file itself")
    os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    try:
        os.link(source, destination)
    except FileExistsError:
        if not already_moved(source, destination):
            raise
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            _copy_across(source, destination)
        elif exc.errno in NO_HARD_LINKS:
            _rename_no_overwrite(source, destination)
            return
        else:
            raise
    os.unlink(source)


def already_moved(source: str, destination: str) -> bool:
    """``destination`` is another name of ``source`` (a move stopped between its two steps):
    only the source's name is left to remove. (A copy with the same bytes is not enough: it
    may be the user's own file.)"""
    if entry_key(source) == entry_key(destination):
        return False
    try:
        return os.path.samefile(source, destination)
    except OSError:
        return False


def second_name(path: str) -> str:
    """The hidden name a duplicate's bytes go to the trash under, before a link replaces it."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}{ORIGINAL}")


def replace_with_link(
    path: str, kept: str, kind: str, trash_bytes: Callable[[str, str], str | None]
) -> str | None:
    """Replace the duplicate ``path`` by a hard or symbolic link to ``kept``; its bytes go to
    the trash first (``trash_bytes(name, original_path)``, which returns where they went).

    The duplicate gets a second, hidden name in its folder, which is trashed (the file stays
    at ``path`` meanwhile); then the link is made under a temporary name and renamed over
    ``path``, so that there is no moment without a file there. Returns ``trash_bytes``'s answer.
    """
    folder, name = os.path.split(os.path.abspath(path))
    second, link = second_name(path), os.path.join(folder, f".{name}{LINK}")
    _clear_leftover(second, path)  # from a run stopped between two steps: only ikmeta's own names
    _clear_leftover(link, kept)
    if kind == "hardlink":
        os.link(kept, link)  # first: a file system that cannot link to ``kept`` changes nothing
    else:
        os.symlink(os.path.abspath(kept), link)
    try:
        os.link(path, second)
    except OSError as exc:
        os.unlink(link)
        if exc.errno in NO_HARD_LINKS:
            raise OSError(exc.errno, "this file system has no hard links to keep the bytes with") from None
        raise
    try:
        trashed = trash_bytes(second, path)
    except BaseException:
        os.unlink(second)
        os.unlink(link)
        raise
    os.replace(link, path)
    return trashed


def _clear_leftover(name: str, same_as: str) -> None:
    """Remove ``name`` if it is ikmeta's leftover: another name of ``same_as`` (whose bytes
    stay there) or a symbolic link; anything else under that name is not ikmeta's to touch."""
    try:
        status = os.lstat(name)
    except FileNotFoundError:
        return
    target = os.stat(same_as)
    if stat.S_ISLNK(status.st_mode) or (status.st_dev, status.st_ino) == (target.st_dev, target.st_ino):
        os.unlink(name)
        return
    raise FileExistsError(errno.EEXIST, "a file of that name is in the way", name)


def _copy_across(source: str, destination: str) -> None:
    """Copy to a temporary name beside ``destination``, flush it, then put it in place
    without overwriting (the caller removes the source)."""
    folder, name = os.path.split(os.path.abspath(destination))
    partial = os.path.join(folder, f".{name}{PARTIAL}")
    try:
        shutil.copyfile(source, partial)
        shutil.copystat(source, partial)
        descriptor = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        try:
            os.link(partial, destination)
            os.unlink(partial)
        except OSError as exc:
            if exc.errno not in NO_HARD_LINKS:
                raise
            _rename_no_overwrite(partial, destination)
        _fsync_folder(folder)
    except BaseException:
        if os.path.lexists(partial):
            os.unlink(partial)
        raise


def _rename_no_overwrite(source: str, destination: str) -> None:
    """A rename on a file system without hard links: checked first (a file that appears in
    between would be replaced: such file systems offer nothing better to Python)."""
    if os.path.lexists(destination):
        raise FileExistsError(errno.EEXIST, "File exists", destination)
    os.rename(source, destination)


def _fsync_folder(folder: str) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
