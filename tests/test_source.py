"""Reading sources: paths and standard input, with one clear reason when it fails."""

from __future__ import annotations

import io

import pytest

from ikmeta.errors import SourceError
from ikmeta.sources.base import FetchOptions
from ikmeta.sources.read import read_source

from .conftest import need_unprivileged


def test_reads_a_file(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc")
    blob = read_source(str(path))
    assert (blob.source, blob.data) == (str(path), b"abc")


def test_reads_stdin():
    assert read_source("-", stdin=io.BytesIO(b"xyz")).data == b"xyz"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: str(p / "missing.jpg"), "no such file"),
        (str, "is a directory, not an image file"),
        (lambda p: ((p / "empty.jpg").write_bytes(b"") and None) or str(p / "empty.jpg"), "empty file"),
        (lambda p: ((p / "f").write_bytes(b"x") and None) or str(p / "f" / "g.jpg"), "no such file"),
    ],
)
def test_unreadable_sources(tmp_path, make, reason):
    source = make(tmp_path)
    with pytest.raises(SourceError) as info:
        read_source(source)
    assert info.value.source == source
    assert info.value.reason.startswith(reason)
    assert str(info.value) == f"{source}: {info.value.reason}"


def test_permission_denied(tmp_path):
    need_unprivileged("root reads any file")
    path = tmp_path / "secret.jpg"
    path.write_bytes(b"x")
    path.chmod(0)
    with pytest.raises(SourceError, match="permission denied"):
        read_source(str(path))


def test_empty_stdin():
    with pytest.raises(SourceError, match="standard input is empty"):
        read_source("-", stdin=io.BytesIO(b""))


def test_a_list_that_cannot_be_read_is_one_error():
    from ikmeta.sources.read import list_lines

    class Broken:
        def __init__(self):
            self.lines = ["a.jpg\n"]

        def readline(self, limit):
            if self.lines:
                return self.lines.pop()
            raise OSError(5, "Input/output error")

    out = list(list_lines(Broken(), "list.txt"))
    assert out[0] == ("list.txt:1", "a.jpg")
    assert (
        isinstance(out[1][1], SourceError)
        and str(out[1][1]) == "list.txt: cannot read the list: input/output error"
    )


def test_a_huge_max_bytes_reserves_nothing():
    data = b"\x89PNG" + b"x" * 5000
    assert read_source("-", stdin=io.BytesIO(data), fetch=FetchOptions(max_bytes=10**15)).data == data
