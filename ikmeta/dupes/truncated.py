"""Truncated copies matched with their file: an interrupted copy or download holds the first
bytes of the file it was copying, so it belongs with that file whatever its pHash (the part
that decodes may be half a picture, grey below the cut).

    >>> items = find_truncated(items)   # each truncated copy's provenance.prefix_of set

A damaged file (``damage`` "truncated") is compared with the intact files that are longer and
begin with the same 4 KiB (their ``head`` digests, made while hashing); the match is then
checked byte for byte, on files on this machine only. A truncated file shorter than 4 KiB
holds next to no picture and is left as it is.
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict

from ikmeta.errors import IkmetaError
from ikmeta.image.provenance import HEAD_BYTES, head_digest
from ikmeta.sources.base import STDIN, is_remote

from .model import Item, Provenance

CHUNK = 1 << 16  # bytes compared at a time (most candidates differ in the first)


def find_truncated(items: list[Item]) -> list[Item]:
    """The items, each truncated copy of another item's file marked with that file's source
    (:attr:`ikmeta.dupes.model.Provenance.prefix_of`); the longest such file when several are.

    >>> find_truncated([])
    []
    """
    damaged = [k for k, item in enumerate(items) if item.provenance.damage and _local(item)]
    if not damaged:
        return items
    by_head: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if not item.damaged and item.provenance.head and _local(item):
            by_head[item.provenance.head].append(item)
    found = list(items)
    for k in damaged:
        part = items[k]
        size = part.size or 0
        if size < HEAD_BYTES or not part.provenance.head:
            continue
        longer = sorted(
            (w for w in by_head.get(part.provenance.head, []) if (w.size or 0) > size),
            key=lambda w: (-(w.size or 0), w.source),
        )
        whole = next((w for w in longer if begins_with(w.source, part.source, size)), None)
        if whole is not None:
            provenance = dataclasses.replace(part.provenance, prefix_of=whole.source)
            found[k] = dataclasses.replace(part, provenance=provenance)
    return found


def begins_with(whole: str, part: str, size: int) -> bool:
    """Whether the file ``whole`` begins with the ``size`` bytes of the file ``part`` (and
    ``part`` has no more); False when either cannot be read."""
    try:
        with open(whole, "rb") as longer, open(part, "rb") as shorter:
            left = size
            while left > 0:
                wanted = min(CHUNK, left)
                piece = shorter.read(wanted)
                if len(piece) != wanted or longer.read(wanted) != piece:
                    return False
                left -= wanted
            return shorter.read(1) == b""
    except OSError:
        return False


def _local(item: Item) -> bool:
    return item.source != STDIN and not is_remote(item.source) and os.path.isfile(item.source)


def rescue_truncated(
    errors: list[IkmetaError], items: list[Item]
) -> tuple[list[tuple[Item, IkmetaError]], list[IkmetaError]]:
    """Files that could not be decoded but are truncated copies of an item's file (cut in
    their header, say): each as an item of that file's pHash, damaged and marked as its
    truncated copy, with the error that stopped it; and the errors left.

    >>> rescue_truncated([], [])
    ([], [])
    """
    by_head: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if not item.damaged and item.provenance.head and _local(item):
            by_head[item.provenance.head].append(item)
    rescued: list[tuple[Item, IkmetaError]] = []
    left: list[IkmetaError] = []
    for error in errors:
        found = _truncated_item(error.source, by_head)
        if found is None:
            left.append(error)
        else:
            rescued.append((found, error))
    return rescued, left


def _truncated_item(source: str, by_head: dict[str, list[Item]]) -> Item | None:
    try:
        status = os.stat(source)
        with open(source, "rb") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError:
        return None
    if status.st_size < HEAD_BYTES:
        return None
    longer = sorted(
        (w for w in by_head.get(head_digest(head), []) if (w.size or 0) > status.st_size),
        key=lambda w: (-(w.size or 0), w.source),
    )
    whole = next((w for w in longer if begins_with(w.source, source, status.st_size)), None)
    if whole is None:
        return None
    provenance = Provenance(damage="truncated", head=head_digest(head), prefix_of=whole.source)
    return Item(
        source,
        whole.phash,
        size=status.st_size,
        format=whole.format,
        mtime_ns=status.st_mtime_ns,
        flat=whole.flat,
        colour=whole.colour,
        provenance=provenance,
    )
