"""The hash cache: hits and misses by path, size and mtime; corrupt or foreign files replaced."""
from __future__ import annotations

import os
import sqlite3
import threading

import pytest

from ikmeta.cache import ALGORITHM, HashCache, cache_key

VALUE = {"pHash": "0123456789abcdef", "width": 40, "height": 30, "flat": None}


def test_round_trip_and_invalidation(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"one")
    path = str(tmp_path / "cache" / "hashes.sqlite3")
    cache = HashCache.open(path)
    key = cache_key(str(photo))
    assert cache.get([key]) == {}
    cache.put([(key, VALUE)])
    cache.close()
    again = HashCache.open(path)
    assert again.get([key]) == {key: VALUE}
    photo.write_bytes(b"changed!")  # new size and mtime: a miss
    assert again.get([cache_key(str(photo))]) == {}
    again.close()


def test_key_is_absolute(tmp_path, monkeypatch):
    (tmp_path / "a.jpg").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert cache_key("a.jpg").path == str(tmp_path / "a.jpg")
    assert cache_key("missing.jpg") is None


def test_corrupt_and_foreign_files_are_replaced(tmp_path):
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not a database" * 100)
    cache = HashCache.open(str(corrupt))
    assert cache.connection is not None and cache.problem is None
    cache.close()
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    cache = HashCache.open(str(foreign))
    assert cache.connection is not None
    tables = {r[0] for r in cache.connection.execute("SELECT name FROM sqlite_master")}
    assert "hashes" in tables and "notes" not in tables
    cache.close()


def test_unusable_path_runs_without_a_cache(tmp_path):
    folder = tmp_path / "is-a-folder"
    folder.mkdir()
    cache = HashCache.open(str(folder))
    assert cache.connection is None and "running without it" in cache.problem
    key = cache_key(str(folder))
    cache.put([(key, VALUE)])
    assert cache.get([key]) == {}
    cache.close()


def test_disabled_cache_stores_nothing():
    cache = HashCache.open(None)
    assert cache.get([]) == {} and cache.problem is None


@pytest.mark.parametrize("attempt", range(5))
def test_two_writers_share_the_file(tmp_path, attempt):
    path = str(tmp_path / "shared.sqlite3")
    start = threading.Barrier(2)
    files = []
    for n in range(200):
        f = tmp_path / f"{n}.jpg"
        f.write_bytes(bytes([n]))
        files.append(cache_key(str(f)))

    def writer(keys):
        start.wait()  # both open the new file at once
        cache = HashCache.open(path)
        for key in keys:
            cache.put([(key, VALUE)])
            cache.flush()
        cache.close()

    threads = [threading.Thread(target=writer, args=(files[k::2],)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache = HashCache.open(path)
    assert len(cache.get(files)) == 200
    assert cache.connection.execute("SELECT DISTINCT algorithm FROM hashes").fetchall() == [(ALGORITHM,)]
    cache.close()
    assert os.path.exists(path)
