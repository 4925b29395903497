"""A plain hash list as two columns: millions of ``HASH  SOURCE`` lines grouped without an
object a line.

``ikmeta phash`` prints ``HASH  SOURCE`` lines. Such a list says nothing of its images but
their hashes, so its copies rank by path alone (:mod:`ikmeta.dupes.rank`, the last rule), none has
other views, and none is flat by colour: :func:`group_columns` gives exactly the groups
:func:`ikmeta.dupes.group` gives for the same lines as :class:`~ikmeta.dupes.Item` values,
with the sources in a list and the hashes in a numpy array, and Items made only for the
images that are in a group. A million lines take about 100 MB this way instead of 500.

    >>> import io
    >>> columns = read_hash_columns(io.StringIO(
    ...     "2d5ad3936d2e015b  b.jpg\\n2d5ad3936d2e015f  a.jpg\\nffffffff00000000  c.jpg\\n"), "list")
    >>> [[item.source for item, _ in g.members] for g in group_columns(columns, 4)]
    [['a.jpg', 'b.jpg']]

A list with a richer line (an NDJSON object, as ``phash --ndjson`` prints) is read as Items
(:attr:`HashColumns.items`), since its copies rank by more than their paths.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np

from ikmeta.errors import IkmetaError, SourceError, os_reason
from ikmeta.hashes import FLAT_HASHES
from ikmeta.sources.base import is_video_name
from ikmeta.sources.read import MAX_LINE

from .grouping import LINKAGES
from .hashlist import parse_list_line, same_source
from .model import Group, Item
from .pairs import leaders_of

# A line exactly as `ikmeta phash` prints it: 16 lowercase hex digits, two spaces (or a tab,
# or sha256sum's " *"), a name. Any other line is read the general way, with the same result.
PLAIN_LINE = re.compile(r"([0-9a-f]{16})(?:  | \*|\t)(.+)", re.S)
READ_CHUNK = 1 << 20  # characters read at a time


@dataclass
class HashColumns:
    """A hash list's images: ``sources`` and their ``hashes`` (uint64), each source once, in
    the order listed; or, when a line said more than a hash, ``items`` (every image, as
    Items) and the columns empty."""

    sources: list[str]
    hashes: np.ndarray
    items: list[Item] | None = None

    def __len__(self) -> int:
        return len(self.items) if self.items is not None else len(self.sources)

    def flat_count(self) -> int:
        """The flat images (their hash is a solid colour's): never grouped by hash."""
        if self.items is not None:
            return sum(1 for item in self.items if item.flat)
        return int(np.isin(self.hashes, FLAT_VALUES).sum())


FLAT_VALUES = np.array([int(h, 16) for h in sorted(FLAT_HASHES)], dtype=np.uint64)


def read_hash_columns(
    stream: IO[str], name: str, on_error: Callable[[IkmetaError], None] | None = None
) -> HashColumns:
    """The images of a hash list (see :func:`ikmeta.dupes.hashlist.read_hash_list`, which reads the
    same lines the same way), as columns; each bad line goes to ``on_error`` (or is skipped).

        >>> import io
        >>> read_hash_columns(io.StringIO("2d5ad3936d2e015b  a.jpg\\n"), "list").sources
        ['a.jpg']
    """
    sources: list[str] = []
    values: list[int] = []
    items: list[Item] | None = None
    for where, text in _lines(stream, name):
        if isinstance(text, SourceError):
            if on_error:
                on_error(text)
            continue
        plain = PLAIN_LINE.fullmatch(text) if items is None else None
        if (
            plain is not None
            and (plain[2].isascii() or _sound_name(plain[2]))
            and not is_video_name(plain[2])
        ):
            sources.append(plain[2])
            values.append(int(plain[1], 16))
            continue
        item = parse_list_line(where, text)
        if isinstance(item, SourceError):
            if on_error:
                on_error(item)
            continue
        if items is None and not text.lstrip().startswith("{"):
            sources.append(item.source)  # a plain line written another way (upper case, escapes)
            values.append(int(item.phash, 16))
            continue
        if items is None:  # from here on, Items: the lines so far become Items too
            items = [_plain_item(s, v) for s, v in zip(sources, values, strict=True)]
            sources, values = [], []
        items.append(item)
    if items is not None:
        return HashColumns([], np.empty(0, dtype=np.uint64), _first_of_each(items))
    hashes = np.array(values, dtype=np.uint64)
    del values
    kept = _first_listed(sources)
    if len(kept) < len(sources):
        sources = [sources[k] for k in kept.tolist()]
        hashes = hashes[kept]
    return HashColumns(sources, hashes)


def _sound_name(source: str) -> bool:
    """A name Python can hold as a file name's bytes (no lone UTF-16 surrogate)."""
    try:
        source.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def _plain_item(source: str, value: int) -> Item:
    phash = f"{value:016x}"
    return Item(source, phash, flat=phash in FLAT_HASHES)


def _first_of_each(items: list[Item]) -> list[Item]:
    """Each source's first item (a source listed again is one image, not its own duplicate)."""
    kept = _first_listed([item.source for item in items])
    return [items[k] for k in kept.tolist()]


def _first_listed(sources: list[str]) -> np.ndarray:
    """The positions of each source's first listing, in order: a name and the same path written
    another way (./a.jpg, a.jpg) are one source; URLs and stored objects are compared as
    written. Compared through 64-bit hashes of the names (8 bytes a line, not a set of
    names), the names themselves where hashes meet."""
    folder = os.getcwd() + os.sep
    keys = np.fromiter((hash(same_source(s, folder)) for s in sources), dtype=np.int64, count=len(sources))
    unique_keys, counts = np.unique(keys, return_counts=True)
    if len(unique_keys) == len(keys):
        return np.arange(len(sources))
    kept = np.ones(len(sources), dtype=bool)
    seen: set[str] = set()
    for k in np.flatnonzero(np.isin(keys, unique_keys[counts > 1])).tolist():  # in order: the first stays
        name = same_source(sources[k], folder)
        if name in seen:
            kept[k] = False
        seen.add(name)
    return np.flatnonzero(kept)


def _lines(stream: IO[str], name: str) -> Iterator[tuple[str, str | SourceError]]:
    """(``name:line``, text) of each line that is not blank nor a # comment, as
    :func:`ikmeta.sources.read.list_lines` gives them, read a megabyte at a time. Lines end at
    ``\n`` (and a ``\r`` before it goes): what a text stream gives in Python's default
    newline mode, whatever the file's line endings."""
    number, carry, ended = 0, "", False
    while not ended:
        try:
            chunk = stream.read(READ_CHUNK)
        except OSError as exc:
            yield name, SourceError(name, f"cannot read the list: {os_reason(exc)}")
            return
        lines = (carry + chunk).split("\n")
        ended = not chunk
        carry = "" if ended else lines.pop()  # at the end, the last line needs no line break
        for line in lines:
            number += 1
            if len(line) >= MAX_LINE:
                where = f"{name}:{number}"
                yield where, SourceError(where, f"line longer than {MAX_LINE} characters: not a name or hash")
                continue
            text = line.rstrip("\r")
            if text[:1].isalnum() or (text.strip() and not text.lstrip().startswith("#")):
                yield f"{name}:{number}", text
        if len(carry) >= MAX_LINE:  # a line with no end in sight: skip it, in bounded memory
            number += 1
            where = f"{name}:{number}"
            yield where, SourceError(where, f"line longer than {MAX_LINE} characters: not a name or hash")
            try:
                rest = _skip_line(stream)
            except OSError as exc:
                yield name, SourceError(name, f"cannot read the list: {os_reason(exc)}")
                return
            if rest is None:
                return
            carry = rest


def _skip_line(stream: IO[str]) -> str | None:
    """Read past the end of the current line; what follows it, or None at the end."""
    while chunk := stream.read(READ_CHUNK):
        end = chunk.find("\n")
        if end >= 0:
            return chunk[end + 1 :]
    return None


def group_columns(
    columns: HashColumns, max_distance: int, linkage: str = "reference", jobs: int = 1, geometry: str = "any"
) -> list[Group]:
    """The groups :func:`ikmeta.dupes.group` gives for the same list, best reference first.
    A list of Items (:attr:`HashColumns.items`) is grouped as Items, through their other
    views too unless ``geometry`` is "exact" (plain lines have none).

        >>> columns = HashColumns(["b.jpg", "a.jpg"], np.array([1, 3], dtype=np.uint64))
        >>> [(g.reference.source, [d for _, d in g.members]) for g in group_columns(columns, 1)]
        [('a.jpg', [0, 1])]
    """
    from .grouping import group

    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}")
    if columns.items is not None:
        return group(columns.items, max_distance, linkage, jobs, geometry)
    sources = columns.sources
    hashed = np.flatnonzero(~np.isin(columns.hashes, FLAT_VALUES))  # flat ones never group by hash
    ranked = sorted(hashed.tolist(), key=sources.__getitem__)  # best first: path order
    order = np.array(ranked, dtype=np.int64)
    del ranked
    values = columns.hashes[order]
    leaders = leaders_of(values, max_distance, linkage, jobs)
    led = np.flatnonzero(leaders != np.arange(len(leaders)))
    if len(led) == 0:
        return []
    # Each group: its leader (the reference, first in path order), then its members in order.
    members = np.concatenate([np.unique(leaders[led]), led])
    members = members[np.lexsort((members, leaders[members]))]
    distances = np.bitwise_count(values[members] ^ values[leaders[members]]).tolist()
    starts = np.flatnonzero(np.r_[True, leaders[members][1:] != leaders[members][:-1]]).tolist()
    chosen = zip(order[members].tolist(), values[members].tolist(), strict=True)
    items = [_plain_item(sources[k], v) for k, v in chosen]
    return [
        Group(items[a], list(zip(items[a:b], distances[a:b], strict=True)), [None] * (b - a))
        for a, b in itertools.pairwise([*starts, len(members)])
    ]
