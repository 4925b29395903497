"""The hash cache: hits and misses by path, size and mtime; corrupt or foreign files replaced."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from ikmeta.cache import ALGORITHM, APPLICATION_ID, HashCache, cache_key, default_cache_path

VALUE = {
    "pHash": "0123456789abcdef",
    "width": 40,
    "height": 30,
    "flat": None,
    "format": "jpg",
    "quality": 92,
    "camera": "Canon EOS 40D",
    "captured": "2008-05-30T15:56:01",
    "turned": [f"{k:016x}" for k in range(7)],
    "inner": {"pHash": "00000000000000ff", "width": 30, "height": 20, "centred": False},
    "windows": [f"{k:016x}" for k in range(100, 110)],
    "provenance": {"software": "GIMP 2.10", "tables": "libjpeg", "head": "0123456789abcdef"},
}


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


def test_corrupt_and_foreign_files_at_the_default_place_are_replaced(tmp_path):
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


def test_a_named_file_that_is_not_a_cache_is_never_touched(tmp_path):
    """--cache names a path: a note, a photo or another program's database there stays as it is."""
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"my notes\n")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 10)
    database = tmp_path / "contacts.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE contacts (name TEXT)")
    marked = tmp_path / "marked.db"  # another program's, with no table yet: its mark and version
    with sqlite3.connect(marked) as db:
        db.execute("PRAGMA application_id = 1234")
        db.execute("PRAGMA user_version = 7")
    viewed = tmp_path / "viewed.db"  # a schema of views only
    with sqlite3.connect(viewed) as db:
        db.execute("CREATE VIEW settings AS SELECT 1")
    before = {p: p.read_bytes() for p in (notes, photo, database, marked, viewed)}
    for path in before:
        cache = HashCache.open(str(path), replace_foreign=False)
        assert cache.connection is None and "not an ikmeta cache" in cache.problem
        cache.close()
    assert {p: p.read_bytes() for p in before} == before
    assert not any(p.name.endswith(("-wal", "-shm")) for p in tmp_path.iterdir())


def test_a_named_cache_of_ikmetas_own_is_used_or_replaced(tmp_path):
    path = tmp_path / "mine.sqlite3"
    cache = HashCache.open(str(path), replace_foreign=False)
    assert cache.connection is not None
    cache.close()
    assert HashCache.open(str(path), replace_foreign=False).connection is not None
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    assert HashCache.open(str(empty), replace_foreign=False).connection is not None


@pytest.mark.parametrize(
    ("column", "value"),
    [("phash", "zz"), ("phash", b"\xff"), ("flat", "#zz"), ("width", -3), ("width", "wide")],
)
def test_damaged_rows_are_misses(tmp_path, column, value):
    path, key = cached_then_damaged(
        tmp_path,
        "a.jpg",
        lambda cache, key: cache.put([(key, VALUE)]),
        f"UPDATE hashes SET {column} = ?",
        value,
    )
    assert HashCache.open(path).get([key]) == {}


def cached_then_damaged(tmp_path, name, put, statement, value):
    """(cache path, key) of a file cached by ``put(cache, key)``, then its row damaged by ``statement``."""
    (tmp_path / name).write_bytes(b"one")
    path = str(tmp_path / "cache.sqlite3")
    cache = HashCache.open(path)
    key = cache_key(str(tmp_path / name))
    put(cache, key)
    cache.close()
    with sqlite3.connect(path) as db:
        db.execute(statement, (value,))
    return path, key


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


def test_a_cache_that_cannot_be_written_is_still_read(tmp_path, monkeypatch):
    """On read-only media the cache's hashes still serve; nothing is added (running as root,
    the read-only failure is simulated)."""
    import ikmeta.cache as cache_module

    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    path = str(tmp_path / "cache.sqlite3")
    key = cache_key(str(image))
    writer = HashCache.open(path)
    writer.put([(key, VALUE)])
    writer.close()

    def read_only(_path, attempts=50):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(cache_module, "_connect_patiently", read_only)
    cache = HashCache.open(path)
    assert cache.read_only and "reading it only" in cache.problem
    assert cache.get([key]) == {key: VALUE}
    other = cache_key(str(tmp_path / "cache.sqlite3"))
    cache.put([(other, VALUE)])
    cache.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM hashes").fetchone()[0] == 1  # nothing added


def test_the_test_run_never_uses_the_users_own_cache():
    from .conftest import REAL_HOME

    path = Path(default_cache_path()).resolve()
    assert REAL_HOME not in path.parents, path


def test_a_cache_of_an_earlier_version_gains_the_new_columns_and_its_rows_miss(tmp_path):
    path = tmp_path / "c.sqlite3"
    (tmp_path / "a.jpg").write_bytes(b"abc")
    key = cache_key(str(tmp_path / "a.jpg"))
    old = sqlite3.connect(path)
    old.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    old.execute("PRAGMA user_version = 1")
    old.execute(
        "CREATE TABLE hashes (path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, "
        "algorithm TEXT NOT NULL, phash TEXT NOT NULL, width INTEGER, height INTEGER, flat TEXT, "
        "PRIMARY KEY (path, algorithm)) WITHOUT ROWID"
    )
    old.execute(
        "INSERT INTO hashes VALUES (?, ?, ?, ?, ?, 40, 30, NULL)",
        (key.path, key.size, key.mtime_ns, "phash-dct8-draft128-shrink128-flat1.5-v3", "0123456789abcdef"),
    )
    old.commit()
    old.close()
    cache = HashCache.open(str(path), replace_foreign=False)
    assert cache.problem is None
    assert cache.get([key]) == {}  # stored dimensions, no best-copy traits: hashed again
    cache.put([(key, VALUE)])
    cache.close()
    assert HashCache.open(str(path)).get([key]) == {key: VALUE}


def test_detail_profiles_round_trip_and_miss_when_the_file_changes(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"one")
    path = str(tmp_path / "c.sqlite3")
    cache = HashCache.open(path)
    key = cache_key(str(photo))
    cache.put_details([(key, (5.5, 4.25, 3.0))], "v1")
    cache.close()
    again = HashCache.open(path)
    assert again.get_details([key], "v1") == {key: (5.5, 4.25, 3.0)}
    assert again.get_details([key], "v2") == {}  # another version of the measure
    photo.write_bytes(b"changed")
    assert again.get_details([cache_key(str(photo))], "v1") == {}
    again.close()


@pytest.mark.parametrize(
    ("column", "damaged"),
    [
        ("inner", "0123456789abcdef ² 3"),
        ("inner", "0123456789abcdef " + "9" * 5000 + " 3"),
        ("inner", "x y"),
        ("provenance", "not json"),
        ("provenance", "[1, 2]"),
        ("provenance", "{"),
        ("provenance", None),
    ],
)
def test_a_damaged_column_is_a_miss_not_a_crash(tmp_path, column, damaged):
    path = str(tmp_path / "c.sqlite3")
    (tmp_path / "a.jpg").write_bytes(b"abc")
    key = cache_key(str(tmp_path / "a.jpg"))
    cache = HashCache.open(path)
    cache.put([(key, VALUE)])
    cache.close()
    connection = sqlite3.connect(path)
    connection.execute(f"UPDATE hashes SET {column} = ?", (damaged,))
    connection.commit()
    connection.close()
    again = HashCache.open(path)
    assert again.get([key]) == {}
    again.close()


VIDEO = {
    "pHash": "0123456789abcdef",
    "width": 960,
    "height": 720,
    "format": "mp4",
    "camera": None,
    "captured": "2024-06-01T18:40:12Z",
    "damage": None,
    "duration": 8.76,
    "videoBitRate": 716,
    "videoCodec": "h264",
    "sound": True,
    "picture": [960, 548],
    "frames": [{"time": 0.0, "pHash": "0123456789abcdef", "turned": [f"{k:016x}" for k in range(3)]}],
    "blank": [0.0, 1.5],  # (a dense fingerprint's; null in a key frames' one)
    "flat": None,  # (a video of one colour: its colour, and no frames)
}


def test_video_records_round_trip_apart_from_image_rows(tmp_path):
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"one")
    path = str(tmp_path / "c.sqlite3")
    cache = HashCache.open(path)
    key = cache_key(str(clip))
    cache.put_videos([(key, {**VIDEO, "source": "ignored", "size": 3})])  # only the record's own keys
    cache.close()
    again = HashCache.open(path)
    assert again.get_videos([key]) == {key: VIDEO} and again.get([key]) == {}
    clip.write_bytes(b"changed!")
    assert again.get_videos([cache_key(str(clip))]) == {}


@pytest.mark.parametrize(
    "damaged",
    [
        "not json",
        "[1, 2]",
        '{"pHash": "0123456789abcdef"}',  # keys missing
        None,  # frames of the wrong shape (below)
    ],
)
def test_a_damaged_video_record_is_a_miss_not_a_crash(tmp_path, damaged):
    import json

    if damaged is None:
        damaged = json.dumps({**VIDEO, "frames": [{"time": "0", "pHash": "xyz", "turned": []}]})
    path, key = cached_then_damaged(
        tmp_path,
        "a.mp4",
        lambda cache, key: cache.put_videos([(key, VIDEO)]),
        "UPDATE videos SET record = ?",
        damaged,
    )
    assert HashCache.open(path).get_videos([key]) == {}


def test_one_cache_is_shared_by_threads(tmp_path):
    """Dense fingerprints are made on two threads that share the run's cache: its connection
    is used by one thread at a time (sqlite3's Python connection is not safe to share, and
    once crashed the test run's worker)."""
    path = str(tmp_path / "c.sqlite3")
    cache = HashCache.open(path)
    clips = []
    for k in range(8):
        clip = tmp_path / f"{k}.mp4"
        clip.write_bytes(b"x" * (k + 1))
        clips.append(cache_key(str(clip)))
    failures: list[BaseException] = []

    def write_and_read(key):
        try:
            for _ in range(150):
                cache.put_videos([(key, VIDEO)], dense=True)
                assert cache.get_videos([key], dense=True) == {key: VIDEO}
                cache.put([(key, VALUE)])
                cache.get([key])
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            failures.append(exc)

    threads = [threading.Thread(target=write_and_read, args=(key,)) for key in clips]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cache.close()
    assert failures == [] and cache.problem is None
    assert HashCache.open(path).get_videos(clips, dense=True) == dict.fromkeys(clips, VIDEO)
