"""The review page as one self-contained HTML file: its CSS, JavaScript, data and thumbnails
inside it, no request to anywhere (its Content-Security-Policy forbids them).

    >>> groups = [{"reference": "a.jpg", "files": [{"source": "a.jpg", "size": 10}, {"source": "b.jpg", "size": 9}]}]
    >>> text = "".join(page_chunks(groups, {"report": "report.json"}, {}))
    >>> text.startswith("<!DOCTYPE html>")
    True

The page holds, in order: the markup and styles, the data (``<script type="application/json"
id="ikmeta-data">``), the program, and last the thumbnails (``<script type="text/plain"
id="ikmeta-thumbs">``, one base64 WebP per line), so the groups are drawn while the browser is
still reading the thumbnails.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import stat
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any

from ikmeta._version import __version__
from ikmeta.dupes.report import FILE_FIELDS
from ikmeta.errors import IkmetaError
from ikmeta.output import compact
from ikmeta.sources.base import STDIN, is_remote

from .thumbnails import Thumbnail

PLACEHOLDER = re.compile(r"\{\{([A-Z]+)\}\}")
MARK = "<!-- ikmeta review page"  # on the page's second line: the mark of a file ikmeta may overwrite
# Each recorded field's JSON types: anything else in a report is dropped (shown as unknown).
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "source": (str,),
    "pHash": (str,),
    "distance": (int,),
    "match": (str,),
    "width": (int,),
    "height": (int,),
    "size": (int,),
    "format": (str,),
    "quality": (int,),
    "camera": (str,),
    "captured": (str,),
    "mtimeNs": (int,),
    "duration": (int, float),
    "videoBitRate": (int,),
    "damage": (str,),
    "why": (list,),  # of strings
    "alsoAt": (list,),  # of strings
}
assert tuple(FIELD_TYPES) == FILE_FIELDS  # kept in step with the report's fields


def asset(name: str) -> str:
    """The text of one of the page's assets (review.html, review.css, review.js)."""
    return resources.files(__package__).joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def page_chunks(
    groups: Sequence[Mapping[str, Any]],
    origin: Mapping[str, Any],
    thumbs: Mapping[str, Thumbnail | IkmetaError],
) -> Iterator[str]:
    """The page's text, in pieces (it can be 100 MB: written as it is made).

    ``groups``: as ``dupes --json`` writes them (``{"reference": PATH, "files": [...]}``, the
    reference first); ``origin``: what the groups come from, ``{"scan": {"paths": [...],
    "max": 10, "linkage": "reference", "scanned": N, "unreadable": N}}`` or ``{"report":
    NAME}``; ``thumbs``: each file's thumbnail, or the error that prevented one.
    """
    data, lines = page_data(groups, origin, thumbs)
    css, script = asset("review.css"), asset("review.js")
    policy = "; ".join(
        (
            "default-src 'none'",
            "img-src data: blob: file:",
            f"style-src 'sha256-{_digest(css)}'",
            f"script-src 'sha256-{_digest(script)}'",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    values = {
        "VERSION": __version__,
        "POLICY": policy,
        "TITLE": _html(data["title"]),
        "CSS": css,
        "DATA": script_json(data),
        "SCRIPT": script,
    }
    head, tail = asset("review.html").split("{{THUMBNAILS}}")
    yield PLACEHOLDER.sub(lambda m: values[m[1]], head)  # in one pass: a value may hold "{{...}}"
    for start in range(0, len(lines), 256):
        yield "".join(line + "\n" for line in lines[start : start + 256])
    yield tail


def page_data(
    groups: Sequence[Mapping[str, Any]],
    origin: Mapping[str, Any],
    thumbs: Mapping[str, Thumbnail | IkmetaError],
) -> tuple[dict[str, Any], list[str]]:
    """The page's data object and its thumbnail lines (base64 WebP; identical ones once)."""
    lines: list[str] = []
    index_of: dict[bytes, int] = {}
    page_groups = []
    for group in groups:
        files = []
        for obj in group["files"]:
            record = {key: _typed(key, obj.get(key)) for key in FILE_FIELDS}
            entry = file_entry(record, thumbs.get(record["source"]))
            thumb = thumbs.get(record["source"])
            if isinstance(thumb, Thumbnail):
                if thumb.data not in index_of:
                    index_of[thumb.data] = len(lines)
                    lines.append(base64.b64encode(thumb.data).decode("ascii"))
                entry["thumb"] = index_of[thumb.data]
            files.append(entry)
        page_groups.append({"files": files})
    count = len(page_groups)
    data = {
        "title": f"ikmeta review: {count} group{'s' * (count != 1)}",
        "version": __version__,
        "made": time.strftime("%Y-%m-%d %H:%M"),
        "origin": dict(origin),
        "fields": list(FILE_FIELDS),
        "groups": page_groups,
    }
    return data, lines


def file_entry(record: dict[str, Any], thumb: Thumbnail | IkmetaError | None) -> dict[str, Any]:
    """What the page shows of a file: ``record`` (what goes back into the saved report), where
    to load it whole (``url``), its date, and what is wrong with it (``problem``) if anything."""
    source = record["source"]
    local = not is_remote(source) and source != STDIN
    if local:
        fill_from_disk(record)
    date, date_kind = shown_date(record)
    entry: dict[str, Any] = {
        "record": record,
        "path": os.path.abspath(source) if local else None,  # what the saved selection names
        "url": file_url(source),
        "date": date,
        "dateKind": date_kind,
        "thumb": None,
        "thumbWidth": thumb.width if isinstance(thumb, Thumbnail) else None,
        "thumbHeight": thumb.height if isinstance(thumb, Thumbnail) else None,
        "problem": thumb.reason if isinstance(thumb, IkmetaError) else None,
    }
    if entry["problem"] is None and local:
        entry["problem"] = changed_since(record)
    return entry


def fill_from_disk(record: dict[str, Any]) -> None:
    """A size or modification time the report lacks (a hash list records neither), taken from
    the file as the page shows it: ``apply`` then checks the file is still as it was seen."""
    if record["size"] is not None and record["mtimeNs"] is not None:
        return
    try:
        st = os.stat(record["source"])
    except OSError:
        return
    if record["size"] is None:
        record["size"] = st.st_size
    if record["mtimeNs"] is None:
        record["mtimeNs"] = st.st_mtime_ns


def same_files(groups: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """Two sources of the report that name one file (``a.jpg`` and ``./a.jpg``, or through a
    link), if any: unmarking one on the page would not protect the other."""
    seen: dict[str, str] = {}
    for group in groups:
        for obj in group["files"]:
            source = obj["source"]
            if is_remote(source) or source == STDIN:
                continue
            real = os.path.realpath(source)
            if real in seen and seen[real] != source:
                return seen[real], source
            seen.setdefault(real, source)
    return None


def changed_since(record: Mapping[str, Any]) -> str | None:
    """Why a local file is no longer as the report recorded it (apply would leave its group alone)."""
    try:
        st = os.stat(record["source"])
    except OSError:
        return None  # its thumbnail's error says why
    if record["size"] is not None and st.st_size != record["size"]:
        return "changed since the report was made (its size differs)"
    if record["mtimeNs"] is not None and st.st_mtime_ns != record["mtimeNs"]:
        return "changed since the report was made (its modification time differs)"
    return None


def shown_date(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(date, "taken" or "modified"): the EXIF capture time, else the modification time.

    >>> shown_date({"captured": "2008-05-30T15:56:01", "mtimeNs": None})
    ('2008-05-30 15:56:01', 'taken')
    """
    if record["captured"]:
        return record["captured"].replace("T", " "), "taken"
    if record["mtimeNs"] is not None:
        try:
            moment = datetime.fromtimestamp(record["mtimeNs"] / 1e9)
        except (OverflowError, OSError, ValueError):
            return None, None
        return moment.strftime("%Y-%m-%d %H:%M:%S"), "modified"
    return None, None


def file_url(source: str) -> str:
    """Where the browser loads the file whole: a URL as it is, a path as a file: URL.

    >>> file_url("/photos/my photo.jpg")
    'file:///photos/my%20photo.jpg'
    """
    if is_remote(source):
        return source
    path = os.path.abspath(source)
    if os.name == "nt":  # C:\\photos -> file:///C:/photos
        return "file:///" + urllib.parse.quote(path.replace("\\", "/"), safe="/:")
    return "file://" + urllib.parse.quote(os.fsencode(path), safe="/")


def script_json(obj: Any) -> str:
    """JSON that can stand inside a ``<script>`` element (no ``</script>`` or ``<!--`` in it)."""
    return compact(obj).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _typed(key: str, value: Any) -> Any:
    """``value`` if it is of the field's type, else None; a time as reports write it, a string
    of digits, as the number.

    >>> _typed("mtimeNs", "1700000000123456789"), _typed("size", "12"), _typed("distance", True)
    (1700000000123456789, None, None)
    """
    types = FIELD_TYPES[key]
    if key == "mtimeNs" and isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, types):
        return None
    if isinstance(value, list):  # a list of strings: what else it holds is dropped
        return [item for item in value if isinstance(item, str)]
    return value


def _digest(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class NotAPage(FileExistsError):
    """The page's path holds a file that is not a page ikmeta made: it is never overwritten."""


def write_page(chunks: Iterable[str], path: str) -> int:
    """Write the page to ``path`` whole or not at all (a temporary file renamed over it);
    returns its size in bytes. An earlier page keeps its permissions; any other file at
    ``path``, even one made while the page was being written, is left alone
    (:class:`NotAPage`). Raises OSError."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".ikmeta-review-", suffix=".html.part", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            for chunk in chunks:
                out.write(chunk)
            size = out.tell()
        _install(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return size


def _install(temporary: str, path: str) -> None:
    """Put the finished page at ``path``: where nothing is, by a hard link (which fails rather
    than replace a file made meanwhile); over an earlier page, by a rename, keeping its mode."""
    try:
        os.chmod(temporary, 0o644 & ~_umask())
        os.link(temporary, path)
    except FileExistsError:
        pass
    except OSError:  # no hard links here (FAT, some network file systems): check, then rename
        if not os.path.lexists(path):
            os.replace(temporary, path)
            return
    else:
        os.unlink(temporary)
        return
    if not is_review_page(path):
        raise NotAPage(errno.EEXIST, "exists and is not a review page ikmeta made: not overwriting it", path)
    os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
    os.replace(temporary, path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def is_review_page(path: str) -> bool:
    """Whether ``path`` holds a page ikmeta made (which ikmeta may overwrite), judged by its start."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the read below
            return False
        with open(path, "rb") as fh:
            start = fh.read(200)
    except OSError:
        return False
    return start.startswith(b"<!DOCTYPE html>\n" + MARK.encode())
