"""The library ``ikmeta serve`` answers for: a folder of images and videos, by fileId.

The files already in the folder are found when the server starts (:meth:`Library.scan`,
a walk as ``dupes`` makes it: hidden files and links to folders passed over) and their
metadata objects made once, on threads, into the hash cache beside ``dupes``' hashes
(:meth:`Library.index`), so that a restart reads them back. Uploads are written beside them
(:meth:`Library.store`); a file deleted through the API goes to the system trash, each step
in a journal that ``ikmeta undo`` reads (:meth:`Library.delete`), as is each upload (undone,
it goes to the trash in its turn). Every method is safe to
call from many threads.

    >>> library = Library.open("photos", cache=HashCache.open(None))
    >>> library.scan()
    3
    >>> entry = library.listing("/")[0]
    >>> json.loads(library.metadata(entry.file_id))["format"]
    'jpg'
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import string
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ikmeta.cache import CacheKey, HashCache
from ikmeta.errors import IkmetaError, SourceError, os_reason
from ikmeta.image.limits import MAX_PIXELS
from ikmeta.output import compact
from ikmeta.parallel import ordered_map
from ikmeta.sources.base import Blob, is_wanted_name
from ikmeta.sources.walk import image_paths

from .errors import Conflict, NotFound, RequestError
from .labels import Label, Labels, journaled
from .paths import clean_name, file_id, folder_parts, inside, relative_of, within

# What a listing needs of a file's metadata object, kept for every file (the whole object is
# kept for the most recently asked MEMORY_OBJECTS files, and in the cache).
SUMMARY_KEYS = (
    "width",
    "height",
    "format",
    "hasTransparency",
    "duration",
    "bitRate",
    "videoCodec",
    "audioCodec",
)
MEMORY_OBJECTS = 4096
NOT_FOUND_HELP = "List the library's files with GET /v1/files to find their fileIds."


@dataclass
class Entry:
    """A file of the library: its fileId, its path below the library (POSIX, no leading
    slash), and the size and modification time it had when it was last read."""

    file_id: str
    path: str
    size: int
    mtime_ns: int
    summary: dict[str, Any] | None = None  # SUMMARY_KEYS of its metadata object, once read
    problem: str | None = None  # why its metadata object cannot be made (a damaged file)
    label: Label = field(default_factory=Label)  # what clients said of it: tags, custom metadata
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def folder(self) -> str:
        return self.path.rpartition("/")[0]


@dataclass(frozen=True)
class Folder:
    """A folder of the library, as listings show it."""

    path: str  # below the library, POSIX, no leading slash
    mtime_ns: int


@dataclass(frozen=True)
class Upload:
    """A file to store: its bytes and what the client asked of its name and place."""

    data: bytes
    file_name: str
    folder: str = "/"
    unique_name: bool = True  # useUniqueFileName: a random suffix, so nothing is replaced
    overwrite: bool = True  # overwriteFile: a file at the name goes to the trash first
    tags: list[str] | None = None
    custom_metadata: dict[str, Any] = field(default_factory=dict)


class Library:
    """A folder served as an ImageKit media library (use :meth:`open`)."""

    def __init__(
        self,
        root: str,
        cache: HashCache,
        max_pixels: int | None = MAX_PIXELS,
        videos: bool = True,
        journal: Callable[[], Any] | None = None,
        labels: Labels | None = None,
    ) -> None:
        self.root = root
        self.cache = cache
        self.labels = labels or Labels.open(None)
        self.max_pixels = max_pixels
        self.videos = videos
        self.entries: dict[str, Entry] = {}
        self.folders: dict[str, dict[str, Entry]] = {}  # a folder's path -> its files by fileId
        self.lock = threading.RLock()  # over entries and objects: held briefly, never over I/O
        self.placing = threading.Lock()  # one upload or deletion takes or frees a name at a time
        self.labelling = threading.Lock()  # labels changed in memory and on disk together
        self.objects: OrderedDict[str, bytes] = OrderedDict()  # fileId -> its metadata object, JSON
        self._journal_maker = journal
        self._journal: Any = None
        self._steps = 0
        self.on_journal: Callable[[str], None] | None = None  # told the journal's path when it is made
        self.mode = 0o666 & ~_umask()  # an upload's permissions, as the user's other new files get

    @classmethod
    def open(
        cls,
        folder: str,
        cache: HashCache,
        max_pixels: int | None = MAX_PIXELS,
        videos: bool | None = None,
        journal: Callable[[], Any] | None = None,
        labels: Labels | None = None,
    ) -> Library:
        """The library in ``folder`` (which must be one); raises :class:`SourceError`.
        ``journal()``: the journal deletions are recorded in, made at the first (default: a
        fresh one in ``ikmeta undo``'s folder)."""
        if not os.path.isdir(folder):
            reason = "not a folder" if os.path.exists(folder) else "no such folder"
            raise SourceError(folder, reason)
        if videos is None:
            from ikmeta.video import available

            videos = available()
        return cls(os.path.realpath(folder), cache, max_pixels, videos, journal, labels)

    # --- finding and indexing the files -------------------------------------------------------

    def scan(self) -> int:
        """Find the library's images (and videos): how many there are."""
        found: dict[str, Entry] = {}
        for path in image_paths([self.root], videos=self.videos):
            if isinstance(path, IkmetaError) or (os.path.islink(path) and not within(self.root, path)):
                continue  # an unreadable folder; a link to a file outside the library (the walk
                # passes over links to folders, so only a file's own link can lead out)
            try:
                status = os.stat(path)
            except OSError:
                continue
            relative = relative_of(self.root, path)
            entry = Entry(file_id(relative), relative, status.st_size, status.st_mtime_ns)
            found[entry.file_id] = entry
        labels = self.labels.under(self.root)
        for entry in found.values():
            entry.label = labels.get(self._absolute(entry), entry.label)
        with self.lock:
            self.entries = {}
            self.folders = {}
            for entry in found.values():
                self._add(entry)
        return len(found)

    def index(self, jobs: int = 2, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Make the metadata object of every file that has none yet (from the cache, else read
        on ``jobs`` threads, and cached); how many were read. ``on_progress(done, total)``."""
        with self.lock:
            waiting = [
                entry for entry in self.entries.values() if entry.summary is None and entry.problem is None
            ]
        keys = {entry.file_id: self._key(entry) for entry in waiting}
        cached = self.cache.get_metadata(keys.values())
        missing = []
        for entry in waiting:
            text = cached.get(keys[entry.file_id])
            if text is None:
                missing.append(entry)
            else:
                entry.summary = _summary(json.loads(text))
        total = len(missing)
        if on_progress:
            on_progress(0, total)
        for done, _ in enumerate(ordered_map(self._read_quietly, missing, jobs), 1):
            if on_progress:
                on_progress(done, total)
        return total

    def _read_quietly(self, entry: Entry) -> None:
        with contextlib.suppress(RequestError):
            self._object(entry)

    # --- one file -----------------------------------------------------------------------------

    def entry(self, fid: str) -> Entry:
        """The file of fileId ``fid``; raises :class:`NotFound`."""
        with self.lock:
            entry = self.entries.get(fid)
        if entry is None:
            raise NotFound(fid, "The requested file does not exist.", NOT_FOUND_HELP)
        return entry

    def cached_metadata(self, fid: str) -> bytes | None:
        """The metadata object of ``fid`` as JSON, when it is in memory and the file has not
        changed since (a stat, no read): what a busy server answers most; else None."""
        with self.lock:
            text = self.objects.get(fid)
            entry = self.entries.get(fid)
            if text is None or entry is None:
                return None
            self.objects.move_to_end(fid)
        return text if self._unchanged(entry) else None

    def metadata(self, fid: str) -> bytes:
        """The metadata object of the file ``fid`` as JSON (``source`` is its filePath): from
        memory, the cache, or read now. Raises :class:`NotFound`, or :class:`RequestError`
        for a file that is not an image ikmeta reads."""
        return self._object(self.entry(fid))

    def summary(self, fid: str) -> tuple[Entry, dict[str, Any]]:
        """The file ``fid`` and what listings show of its metadata object (:data:`SUMMARY_KEYS`;
        empty for a file that cannot be read)."""
        entry = self.entry(fid)
        if (entry.summary is None and entry.problem is None) or not self._unchanged(entry):
            with contextlib.suppress(RequestError):
                self._object(entry)
        return entry, entry.summary or {}

    def _object(self, entry: Entry) -> bytes:
        with entry.lock:  # one read of a file at a time: the others wait for it
            with self.lock:
                text = self.objects.get(entry.file_id)
            if text is not None and self._unchanged(entry):
                return text
            text = self._read_object(entry)
            with self.lock:
                self.objects[entry.file_id] = text
                self.objects.move_to_end(entry.file_id)
                while len(self.objects) > MEMORY_OBJECTS:
                    self.objects.popitem(last=False)
            return text

    def _read_object(self, entry: Entry) -> bytes:
        """The metadata object of ``entry``'s file as it is now (from the cache when its size and
        time match), its entry brought up to date; raises NotFound for a file gone."""
        absolute = self._absolute(entry)
        try:
            status = os.stat(absolute)
        except OSError:
            self._forget(entry)
            raise NotFound(entry.file_id, "The requested file does not exist.", NOT_FOUND_HELP) from None
        if (entry.size, entry.mtime_ns) != (status.st_size, status.st_mtime_ns):
            self._relabel(entry)  # (another file now: 'ikmeta undo' may have put one back)
        entry.size, entry.mtime_ns = status.st_size, status.st_mtime_ns
        key = self._key(entry)
        text = self.cache.get_metadata([key]).get(key)
        if text is None:
            from ikmeta.media import inspect_media
            from ikmeta.sources.read import read_source

            try:
                metadata = inspect_media(read_source(absolute), self.max_pixels).metadata
            except IkmetaError as exc:
                entry.problem = exc.reason
                raise RequestError(entry.file_id, f"/{entry.path}: {exc.reason}") from None
            metadata["source"] = "/" + entry.path
            text = compact(metadata)
            self.cache.put_metadata([(key, text)])
            self.cache.flush()
        entry.summary, entry.problem = _summary(json.loads(text)), None
        return text.encode("utf-8")

    def _unchanged(self, entry: Entry) -> bool:
        try:
            status = os.stat(self._absolute(entry))
        except OSError:
            return False
        return (status.st_size, status.st_mtime_ns) == (entry.size, entry.mtime_ns)

    def _absolute(self, entry: Entry) -> str:
        return os.path.join(self.root, *entry.path.split("/"))

    def _key(self, entry: Entry) -> CacheKey:
        return CacheKey(self._absolute(entry), entry.size, entry.mtime_ns)

    def _add(self, entry: Entry) -> None:
        """Index ``entry`` by fileId and by folder (holding the lock)."""
        self.entries[entry.file_id] = entry
        self.folders.setdefault(entry.folder, {})[entry.file_id] = entry

    def _forget_id(self, fid: str) -> None:
        entry = self.entries.get(fid)
        if entry is not None:
            self._forget(entry)

    def _forget(self, entry: Entry) -> None:
        with self.lock:
            gone = self.entries.pop(entry.file_id, None)
            if gone is not None:
                self.folders.get(gone.folder, {}).pop(gone.file_id, None)
            self.objects.pop(entry.file_id, None)

    # --- listing ------------------------------------------------------------------------------

    def listing(self, path: str = "/") -> list[Entry | Folder]:
        """The folders and files directly in the folder ``path`` (``/`` the library's own), as
        found (folders first, then files, each by name); empty for a folder that is not there.
        Raises :class:`RequestError` for a path with ``..``."""
        parts = folder_parts(path, "path")
        prefix = "/".join(parts)
        folder = inside(self.root, parts, "path")
        folders = [
            Folder(relative_of(self.root, sub), mtime) for sub, mtime in _subfolders(folder, self.root)
        ]
        self._refresh(prefix, folder)
        with self.lock:
            files = list(self.folders.get(prefix, {}).values())
        return [*folders, *sorted(files, key=lambda entry: entry.name)]

    def _refresh(self, prefix: str, folder: str) -> None:
        """Bring the files of one folder up to date with what is on disk (another program may
        have added, removed or rewritten some): one scandir and a stat a file, each listing."""
        present: dict[str, os.stat_result] = {}
        with contextlib.suppress(OSError), os.scandir(folder) as scan:
            for item in scan:
                if item.name.startswith(".") or not is_wanted_name(item.name, videos=self.videos):
                    continue
                if item.is_file() and (not item.is_symlink() or within(self.root, item.path)):
                    present[relative_of(self.root, item.path)] = item.stat()
        added = [relative for relative in present if file_id(relative) not in self.entries]
        labels = {relative: self.labels.get(os.path.join(self.root, relative)) for relative in added}
        changed: list[Entry] = []
        with self.lock:  # (a file put back by 'ikmeta undo' has its labels back: read above)
            gone = []
            for entry in list(self.folders.get(prefix, {}).values()):
                if entry.path not in present and not os.path.lexists(self._absolute(entry)):
                    self._forget(entry)  # (one uploaded since the scan is there)
                    gone.append(self._absolute(entry))
            for relative, status in present.items():
                known = self.entries.get(file_id(relative))
                if known is None:
                    found = Entry(file_id(relative), relative, status.st_size, status.st_mtime_ns)
                    found.label = labels.get(relative, found.label)
                    self._add(found)
                elif (known.size, known.mtime_ns) != (status.st_size, status.st_mtime_ns):
                    changed.append(known)
                    known.size, known.mtime_ns = status.st_size, status.st_mtime_ns  # (sorts by them)
                    known.summary, known.problem = None, None  # (and what was read of it is read again)
                    self.objects.pop(known.file_id, None)
        for path in gone:  # removed by another program: what clients said of it goes too
            self.labels.put(path, Label())
        for entry in changed:
            self._relabel(entry)

    def _relabel(self, entry: Entry) -> None:
        """Read the labels of a file changed behind the server again (``ikmeta undo`` gives a
        file it puts back the labels it had)."""
        with self.labelling:
            entry.label = self.labels.get(self._absolute(entry))

    # --- uploads and deletions ----------------------------------------------------------------

    def store(self, upload: Upload, source: str = "file", full: bool = False) -> tuple[Entry, dict[str, Any]]:
        """Write an uploaded file into the library; its entry and header metadata object
        (:func:`ikmeta.media.describe_media`: no pixel decoded), or with ``full`` its whole
        metadata object, made before the file is written (kept for the next request too).
        Raises :class:`RequestError` (not an image or video, a bad name or folder; with
        ``full``, pixels that do not decode), :class:`Conflict` (a file at the name that
        ``overwrite`` does not allow to replace). Nothing is written when it fails."""
        from ikmeta.media import describe_media, inspect_media

        parts = folder_parts(upload.folder, "folder", clean=True)
        name = clean_name(upload.file_name)
        if not name.strip("_"):
            raise RequestError(
                "fileName", f"{upload.file_name!r} is not a file name", "Name the file, as photo.jpg."
            )
        describe = (lambda blob, pixels: inspect_media(blob, pixels).metadata) if full else describe_media
        try:
            described = describe(Blob(source, upload.data), self.max_pixels)
        except IkmetaError as exc:
            raise RequestError(
                source, exc.reason, "ikmeta serve stores images and videos it can read."
            ) from None
        if not is_wanted_name(name, videos=True):  # listed after a restart only with its extension
            name = f"{name}.{described['format']}"
        from ikmeta.actions.fileops import make_folders, remove_folders

        folder = inside(self.root, parts, "folder")
        try:
            made = make_folders(folder)
        except OSError as exc:
            raise RequestError("folder", f"/{'/'.join(parts)} cannot be made: {os_reason(exc)}") from None
        try:
            inside(self.root, parts, "folder")  # (made through no link)
            target, status = self._place(upload, folder, name)
        except BaseException:
            remove_folders(made)  # a refused upload leaves nothing, folders neither
            raise
        relative = relative_of(self.root, target)
        entry = Entry(file_id(relative), relative, status.st_size, status.st_mtime_ns)
        entry.label = Label(upload.tags, dict(upload.custom_metadata))
        with self.labelling:
            self.labels.put(target, entry.label)
            with self.lock:
                self._forget_id(entry.file_id)  # (the file it replaced, if any)
                self._add(entry)
                self.objects.pop(entry.file_id, None)
        described["source"] = "/" + relative
        entry.summary = _summary(described)
        if full:
            text = compact(described)
            self.cache.put_metadata([(self._key(entry), text)])
            with self.lock:
                self.objects[entry.file_id] = text.encode("utf-8")
        return entry, described

    def _place(self, upload: Upload, folder: str, name: str) -> tuple[str, os.stat_result]:
        """Write the bytes beside their final name and give them the name without replacing a
        file (a file there goes to the trash first, when ``overwrite`` allows, and the step is
        journaled so that ``ikmeta undo`` puts it back); the path and its status. The bytes are
        written before the name is chosen, and only choosing it is done one upload at a time
        (never holding the lock the event loop reads under)."""
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = name, ""
        handle, temporary = tempfile.mkstemp(prefix=".ikmeta-upload-", dir=folder)
        try:
            os.fchmod(handle, self.mode)  # (mkstemp makes it 0600)
            with os.fdopen(handle, "wb") as stream:
                stream.write(upload.data)
            with self.placing:
                for _ in range(20):
                    chosen = f"{stem}_{_suffix()}{dot}{extension}" if upload.unique_name else name
                    target = os.path.join(folder, chosen)
                    if os.path.lexists(target):
                        if upload.unique_name:
                            continue
                        self._make_room(target, temporary, upload.overwrite)
                    _link(temporary, target)
                    status = os.stat(target)
                    self._record_upload(target, status)
                    return target, status
            raise Conflict("fileName", f"no free name for {name} after 20 tries")
        except OSError as exc:
            raise RequestError("file", f"cannot be written: {os_reason(exc)}") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def _make_room(self, target: str, temporary: str, overwrite: bool) -> None:
        """Trash the file at ``target`` (journaled) for an upload (in ``temporary``, which takes
        its permissions) to take its name, if ``overwrite``; else :class:`Conflict`, also for
        a folder, a link or anything but a plain file there."""
        relative = relative_of(self.root, target)
        status = os.lstat(target)
        if not stat.S_ISREG(status.st_mode):
            kind = (
                "a folder"
                if stat.S_ISDIR(status.st_mode)
                else "a link"
                if stat.S_ISLNK(status.st_mode)
                else "no file"
            )
            raise Conflict(
                "fileName",
                f"/{relative} is {kind}, which an upload never replaces",
                "Upload under another name.",
            )
        if not overwrite:
            raise Conflict(
                "fileName",
                f"A file already exists at /{relative}.",
                "Upload with overwriteFile true, or useUniqueFileName true.",
            )
        os.chmod(temporary, stat.S_IMODE(status.st_mode))
        self._trash(target, None)  # (its entry stays until the upload's takes its place)

    def _record_upload(self, path: str, status: os.stat_result) -> None:
        """Journal a file an upload wrote (``ikmeta undo`` sends it to the trash, if it is
        still that file)."""
        from ikmeta.actions.plan import Step

        journal = self._journal_now()
        self._steps += 1
        journal.record(
            self._steps, "begin", Step(0, "upload", path, path, status.st_size, status.st_mtime_ns)
        )
        journal.record(self._steps, "done", **self._kept_labels(path, Label()))

    def _kept_labels(self, path: str, label: Label | None = None) -> dict[str, Any]:
        """What a journal step keeps of the labels of the file at ``path`` (``label``, else
        its own), so that ``ikmeta undo`` gives them back with the file (or takes an upload's
        away with it): where the labels are kept and the label; nothing when they are kept
        in memory only (they end with the run)."""
        if self.labels.path is None:
            return {}
        return {"labelsAt": self.labels.path, "labels": journaled(label or self.labels.get(path))}

    def delete(self, fid: str) -> str | None:
        """Send the file ``fid`` to the system trash (journaled, so that ``ikmeta undo``
        restores it); where it is in the trash, where that is known. Raises NotFound."""
        entry = self.entry(fid)
        with self.placing:
            return self._trash(self._absolute(entry), entry)

    def _trash(self, path: str, entry: Entry | None) -> str | None:
        """Trash ``path`` (a file of the library), journaled; where the file went (if known).
        Raises RequestError if it cannot."""
        from ikmeta.actions.plan import Step
        from ikmeta.actions.trash import trash

        try:
            status = os.lstat(path)
        except OSError:
            if entry is not None:
                self._forget(entry)
            raise NotFound(entry.file_id if entry else path, "The requested file does not exist.") from None
        journal = self._journal_now()
        self._steps += 1
        number = self._steps
        journal.record(number, "begin", Step(0, "trash", path, path, status.st_size, status.st_mtime_ns))
        try:
            trashed = trash(path)
        except OSError as exc:
            journal.record(number, "failed", reason=os_reason(exc))
            raise RequestError(path, f"cannot be moved to the trash: {os_reason(exc)}") from None
        with self.labelling:
            kept = self._kept_labels(path)
            journal.record(number, "done", **({"trashed": trashed} if trashed else {}), **kept)
            self.labels.put(path, Label())
        if entry is not None:
            self._forget(entry)
        return trashed

    def _journal_now(self) -> Any:
        if self._journal is None:
            if self._journal_maker is not None:
                self._journal = self._journal_maker()
            else:
                from ikmeta.actions.journal import Journal

                self._journal = Journal.create(None, "trash", f"ikmeta serve {self.root}")
            if self.on_journal is not None:
                self.on_journal(str(self._journal.path))
        return self._journal

    @property
    def journal_path(self) -> str | None:
        """The journal of this run's deletions, once there is one."""
        return None if self._journal is None else str(self._journal.path)

    def update(self, fid: str, changes: dict[str, Any]) -> Entry:
        """Change what clients said of the file ``fid``, as ImageKit's update of a file's details
        does: ``tags`` (a list replaces them, None unsets them), ``customMetadata`` (merged; a
        key set to None is unset), ``description``; kept between runs. Raises NotFound."""
        with self.labelling:
            entry = self.entry(fid)
            label = Label(entry.label.tags, dict(entry.label.custom_metadata), entry.label.description)
            if "tags" in changes:
                label.tags = changes["tags"]
            for key, value in (changes.get("customMetadata") or {}).items():
                if value is None:
                    label.custom_metadata.pop(key, None)
                else:
                    label.custom_metadata[key] = value
            if "description" in changes:
                label.description = changes["description"]
            self.labels.put(self._absolute(entry), label)
            entry.label = label
        return entry

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
        self.cache.close()
        self.labels.close()


def _umask() -> int:
    """The process's umask: from /proc on Linux, else read by setting it (at start-up)."""
    with contextlib.suppress(OSError, ValueError, StopIteration), open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _suffix() -> str:
    """What a unique file name adds: 9 letters and digits, as ImageKit's do."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(9))


def _summary(metadata: dict[str, Any]) -> dict[str, Any]:
    return {key: metadata[key] for key in SUMMARY_KEYS if key in metadata}


def _link(temporary: str, target: str) -> None:
    """Give ``temporary``'s file the name ``target``, never replacing a file there."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        if os.path.lexists(target):
            raise FileExistsError(target) from None
        os.rename(temporary, target)


def _subfolders(folder: str, root: str) -> Iterator[tuple[str, int]]:
    """The folders in ``folder`` (not hidden, not links), with their modification times."""
    try:
        with os.scandir(folder) as scan:
            found = sorted(scan, key=lambda item: item.name)
    except OSError:
        return
    for item in found:
        if not item.name.startswith(".") and item.is_dir(follow_symlinks=False):
            yield item.path, item.stat(follow_symlinks=False).st_mtime_ns
