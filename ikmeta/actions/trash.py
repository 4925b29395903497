"""The system trash: files go there through send2trash (the freedesktop.org trash on Linux,
also on a headless server; the Recycle Bin; the macOS Trash), and on freedesktop systems
they are found again and put back.

    >>> where = trash("photos/b.jpg")      # '~/.local/share/Trash/files/b.jpg', or None
    >>> restore(where, "photos/b.jpg")     # back where it was

send2trash does not say where a file went, so it is looked for right after, as trash tools
do: in the trashes the freedesktop.org specification names for the file's volume, the
``.trashinfo`` entry whose ``Path`` is the file's and whose name send2trash would have picked.
"""

from __future__ import annotations

import errno
import os
import sys
import urllib.parse

INFO_SUFFIX = ".trashinfo"
FREEDESKTOP = not (sys.platform == "darwin" or sys.platform == "win32")


def trash(path: str, recorded_as: str | None = None) -> str | None:
    """Send ``path`` to the system trash; where it now is in a freedesktop.org trash (None on
    other systems, or if it cannot be found). ``recorded_as``: the path the trash's entry
    should name instead (for a file trashed under a temporary name), so that restoring it
    from a file manager puts it back there."""
    from send2trash import send2trash

    absolute = os.path.abspath(path)
    try:
        send2trash(absolute)
    except FileNotFoundError:
        home = os.path.expanduser("~")
        if os.path.lexists(absolute) and not os.path.isdir(home):  # send2trash looks at ~'s device
            raise FileNotFoundError(
                errno.ENOENT, f"no trash: the home folder {home} does not exist"
            ) from None
        raise
    if not FREEDESKTOP:
        return None
    found = find_trashed(absolute)
    if found is not None and recorded_as is not None:
        _rename_entry(found, os.path.abspath(recorded_as))
    return found


def find_trashed(absolute: str) -> str | None:
    """The trashed file whose entry names ``absolute`` (the newest such), or None."""
    best: tuple[float, str] | None = None
    for trash_dir, topdir in _trash_dirs(absolute):
        files, info = os.path.join(trash_dir, "files"), os.path.join(trash_dir, "info")
        for name in _candidate_names(os.path.basename(absolute), files, info):
            entry = os.path.join(info, name + INFO_SUFFIX)
            if os.path.lexists(os.path.join(files, name)) and _entry_path(entry, topdir) == absolute:
                when = os.stat(entry).st_mtime
                if best is None or when >= best[0]:
                    best = (when, os.path.join(files, name))
    return best[1] if best else None


def restore(trashed: str, path: str) -> None:
    """Put a trashed file back at ``path`` (which must be free: never overwritten) and drop
    its trash entry. Raises OSError (FileExistsError when ``path`` is taken)."""
    from .fileops import move_file

    move_file(trashed, path)
    forget_entry(trashed)


def forget(trashed: str) -> None:
    """Take a trash entry out (its file name and its ``.trashinfo``): only for a name of a
    file that is still in place elsewhere, which the caller has made sure of."""
    os.unlink(trashed)
    forget_entry(trashed)


def forget_entry(trashed: str) -> None:
    """Remove the ``.trashinfo`` of a trashed file that is no longer there (a restore stopped
    between its two steps), so the trash lists nothing that is not in it."""
    try:
        os.remove(_entry_of(trashed))
    except FileNotFoundError:
        pass


def trash_entry_path(trashed: str) -> str | None:
    """The absolute path the trash entry of ``trashed`` names, or None (no entry, unreadable)."""
    trash_dir = os.path.dirname(os.path.dirname(trashed))
    if os.path.basename(trash_dir).startswith(".Trash-"):
        topdir = os.path.dirname(trash_dir)
    elif os.path.basename(os.path.dirname(trash_dir)) == ".Trash":
        topdir = os.path.dirname(os.path.dirname(trash_dir))
    else:  # the home trash: relative to XDG_DATA_HOME, its parent
        topdir = os.path.dirname(trash_dir)
    return _entry_path(_entry_of(trashed), topdir) if os.path.lexists(trashed) else None


def in_trash(trashed: str) -> bool:
    return os.path.lexists(trashed) and os.path.exists(_entry_of(trashed))


def _entry_of(trashed: str) -> str:
    files = os.path.dirname(trashed)
    return os.path.join(os.path.dirname(files), "info", os.path.basename(trashed) + INFO_SUFFIX)


def _trash_dirs(absolute: str) -> list[tuple[str, str]]:
    """(trash folder, the top folder its entries' relative paths start from), the home trash first."""
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    found = [(os.path.join(data_home, "Trash"), data_home)]
    top = _mount_point(os.path.dirname(absolute))
    uid = str(os.getuid()) if hasattr(os, "getuid") else ""
    found += [(os.path.join(top, ".Trash", uid), top), (os.path.join(top, ".Trash-" + uid), top)]
    return [(folder, topdir) for folder, topdir in found if os.path.isdir(os.path.join(folder, "info"))]


def _mount_point(path: str) -> str:
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _candidate_names(name: str, files: str, info: str) -> list[str]:
    """The names send2trash gives a file called ``name`` ('b.jpg', 'b 1.jpg', 'b 2.jpg'...):
    it takes the first free one, so the file is among those up to the first gap."""
    stem, extension = os.path.splitext(name)
    found: list[str] = []
    counter = 0
    while True:
        candidate = name if counter == 0 else f"{stem} {counter}{extension}"
        entry = os.path.join(info, candidate + INFO_SUFFIX)
        if not (os.path.lexists(os.path.join(files, candidate)) or os.path.exists(entry)):
            return found
        found.append(candidate)
        counter += 1


def _entry_path(entry: str, topdir: str) -> str | None:
    try:
        with open(entry, encoding="utf-8", errors="surrogateescape") as fh:
            lines = fh.read(65536).splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("Path="):
            path = os.fsdecode(urllib.parse.unquote_to_bytes(line[5:]))
            return os.path.normpath(os.path.join(topdir, path))
    return None


def _rename_entry(trashed: str, original: str) -> None:
    """Make the trash entry of ``trashed`` name ``original`` (an absolute path, as the
    specification allows for any file)."""
    entry = _entry_of(trashed)
    with open(entry, encoding="utf-8", errors="surrogateescape") as fh:
        lines = fh.read().splitlines()
    quoted = urllib.parse.quote(os.fsencode(original), safe="/")
    lines = [f"Path={quoted}" if line.startswith("Path=") else line for line in lines]
    temporary = entry + ".ikmeta-new"
    with open(temporary, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(temporary, entry)
