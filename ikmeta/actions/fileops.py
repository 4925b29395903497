"""Moving and linking files without ever overwriting one or leaving a moment without it.

    >>> move_file("photos/b.jpg", "/tmp/dupes/photos/b.jpg")   # never over an existing file
    >>> replace_with_link("photos/b.jpg", "photos/a.jpg", "hardlink", trash_bytes=trash)

On one file system a move is a hard link at the destination (which fails rather than
overwrite) and the removal of the old name, or a rename after a check where a file system
has no hard links; across file systems the file is copied under a temporary name next to the
destination, flushed to disk, put in place without overwriting, and only then is the source
removed. A move that fails leaves nothing behind: when the source cannot be removed (its
folder is read-only), the destination's new name goes again, and so do the folders made for it.

A symbolic link is relative (from the link's folder to the kept file, both with their
folder links resolved, so a tree moved whole keeps its links), or absolute on request.
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
    made = make_folders(os.path.dirname(os.path.abspath(destination)))
    try:
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
        placed = os.lstat(destination)
        try:
            os.unlink(source)
        except OSError:
            _take_back(destination, placed, source)
            raise
    except BaseException:
        remove_folders(made)
        raise


def _take_back(destination: str, placed: os.stat_result, source: str) -> None:
    """Undo the first half of a move whose source could not be removed: the name (or copy)
    just put at ``destination`` goes, as long as it is still that file and the source is
    still there (were the source gone, the destination would be the only copy: it stays)."""
    try:
        status = os.lstat(destination)
        if (status.st_dev, status.st_ino) != (placed.st_dev, placed.st_ino) or not os.path.lexists(source):
            return
        os.unlink(destination)
    except OSError:
        pass  # the step fails anyway; a leftover second name of the source loses nothing


def make_folders(folder: str) -> list[str]:
    """Make ``folder`` and its missing parents; the ones this made, outermost first."""
    missing: list[str] = []
    while not os.path.lexists(folder):  # up to the first name there (a file in the way: ENOTDIR below)
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    made: list[str] = []
    for name in reversed(missing):
        try:
            os.mkdir(name)
        except FileExistsError:
            if os.path.isdir(name):
                continue  # made meanwhile, or there but not to be looked into
            remove_folders(made)
            raise
        except BaseException:  # a file in the way, no permission: what this made so far goes
            remove_folders(made)
            raise
        made.append(name)
    return made


def remove_folders(made: list[str]) -> None:
    """The folders :func:`make_folders` made, innermost first, as long as they are empty."""
    for folder in reversed(made):
        try:
            os.rmdir(folder)  # only ever removes an empty folder
        except OSError:
            return


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


def link_text(path: str, kept: str, absolute: bool = False) -> str:
    """What a symbolic link at ``path`` to ``kept`` holds: the way from the folder the link
    really is in to the kept file, folder links resolved on both sides (``../lib/a.jpg``), or
    with ``absolute``, the kept file's absolute path. Absolute too where no relative way
    exists (another drive on Windows)."""
    if absolute:
        return os.path.abspath(kept)
    try:
        return os.path.relpath(entry_key(kept), os.path.realpath(os.path.dirname(os.path.abspath(path))))
    except ValueError:
        return os.path.abspath(kept)


def replace_with_link(
    path: str,
    kept: str,
    kind: str,
    trash_bytes: Callable[[str, str], str | None],
    absolute: bool = False,
) -> str | None:
    """Replace the duplicate ``path`` by a hard or symbolic link to ``kept`` (a relative one
    unless ``absolute``: :func:`link_text`); its bytes go to the trash first
    (``trash_bytes(name, original_path)``, which returns where they went).

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
        os.symlink(link_text(path, kept, absolute), link)
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
