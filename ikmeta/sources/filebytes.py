"""A large local video's bytes, read where they lie rather than held in memory: a phone's
4 GB clip is fingerprinted reading what the decoder asks for (its index, its key frames),
not 4 GB. Only videos are read so (:func:`ikmeta.sources.read.read_file` decides, from the
first bytes): images are decoded whole anyway, and every reader of images takes bytes.

    >>> data = FileBytes.open_file("clip.mp4")  # doctest: +SKIP
    >>> len(data), data[4:8]
    (4294967296, b'ftyp')

A ``FileBytes`` answers ``len()``, indexing and slicing as ``bytes`` does (each slice read
with ``os.pread`` from the file as it is now), and :meth:`reader` gives a file object that
seeks, for PyAV. The file stays open while the value lives (a rename or removal meanwhile
does not change what is read); it is closed when the value is dropped.
"""

from __future__ import annotations

import os
import weakref
from typing import BinaryIO, overload


class FileBytes:
    """The bytes of an open regular file of ``size`` bytes (see the module's text)."""

    def __init__(self, descriptor: int, size: int) -> None:
        self.descriptor = descriptor
        self.size = size
        self._closer = weakref.finalize(self, os.close, descriptor)

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> bytes: ...

    def __getitem__(self, index: int | slice) -> int | bytes:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.size)
            if stop <= start:
                return b""
            data = os.pread(self.descriptor, stop - start, start)
            return data if step == 1 else data[::step]
        at = index + self.size if index < 0 else index
        if not 0 <= at < self.size:
            raise IndexError("FileBytes index out of range")
        byte = os.pread(self.descriptor, 1, at)
        if not byte:
            raise IndexError("FileBytes index out of range (the file is shorter now)")
        return byte[0]

    def __repr__(self) -> str:
        return f"<FileBytes: {self.size} bytes>"

    def reader(self) -> BinaryIO:
        """A file object (a duplicate of the descriptor), at the start: for a reader that
        seeks, such as PyAV. Close it after. Duplicates share one file position: one reader of
        a value at a time (slices, read with ``os.pread``, are never moved by it)."""
        reader = os.fdopen(os.dup(self.descriptor), "rb")
        reader.seek(0)
        return reader

    def close(self) -> None:
        self._closer()
