"""The served library's core, without a server: paths made safe (and, for any name and folder
a client sends, never leading out), files found, stored, listed and trashed, and ImageKit's
objects for them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ikmeta.actions.journal import read_journal
from ikmeta.cache import HashCache
from ikmeta.serve.errors import Conflict, Forbidden, NotFound, RequestError
from ikmeta.serve.imagekit import embedded_metadata, file_object, folder_object, timestamp, upload_response
from ikmeta.serve.library import Entry, Folder, Library, Upload
from ikmeta.serve.paths import clean_name, file_id, folder_parts, inside

from .conftest import EXAMPLES, encode, scene

PNG = encode(scene((64, 48)), "PNG")


@pytest.fixture
def library(tmp_path: Path) -> Library:
    root = tmp_path / "library"
    (root / "trips").mkdir(parents=True)
    shutil.copy(EXAMPLES / "harbour.jpg", root / "harbour.jpg")
    shutil.copy(EXAMPLES / "badge.png", root / "trips" / "badge.png")
    (root / ".hidden.jpg").write_bytes((EXAMPLES / "harbour.jpg").read_bytes())
    (root / "notes.txt").write_text("not listed")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(EXAMPLES / "harbour_small.jpg", outside / "secret.jpg")
    (root / "link.jpg").symlink_to(outside / "secret.jpg")  # a file outside, through a link
    (root / "door").symlink_to(outside)  # a folder outside
    opened = Library.open(str(root), HashCache.open(None), journal=lambda: _journal(tmp_path))
    opened.scan()
    return opened


def _journal(tmp_path: Path):
    from ikmeta.actions.journal import Journal

    return Journal.create(str(tmp_path / "journal.jsonl"), "trash", "serve test")


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("photo.jpg", "photo.jpg"),
        ("My photo (1).jpg", "My_photo__1_.jpg"),
        ("../../etc/passwd", "_._.._etc_passwd"),
        (".htaccess", "_htaccess"),
        ("été.png", "_t_.png"),
        ("a\x00b.jpg", "a_b.jpg"),
    ],
)
def test_clean_name(name, cleaned):
    assert clean_name(name) == cleaned


def test_folder_parts_refuse_dot_dot_and_hidden_folders():
    assert folder_parts("/a//b/", "folder") == ["a", "b"]
    assert folder_parts("a b/c.d", "folder", clean=True) == ["a_b", "c.d"]
    for bad in ("..", "/a/../b", "./a", "/.git", "a\\..\\b"):
        with pytest.raises(RequestError):
            folder_parts(bad, "folder")


def test_file_ids_are_stable_and_of_imagekits_shape():
    assert file_id("trips/badge.png") == file_id("trips/badge.png") != file_id("trips/badge.jpg")
    assert len(file_id("a")) == 24 and int(file_id("a"), 16) >= 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    folder=st.lists(
        st.sampled_from(["..", ".", "a", "door", "", "b c", ".x", "é", "/", "\\", "trips"]), max_size=5
    ),
    name=st.text(alphabet=st.sampled_from(list("ab./\\_-é \x00")), min_size=0, max_size=12),
)
def test_no_upload_lands_outside_the_library(library, folder, name):
    """Whatever folder and name a client sends, the file lands inside the library (never
    through the link to a folder outside), or the upload is refused and nothing is written."""
    root = Path(library.root)
    outside = root.parent / "outside"
    before = sorted(p.name for p in outside.iterdir())
    try:
        entry, _ = library.store(Upload(PNG, name, "/".join(folder), unique_name=False))
    except RequestError:
        pass
    else:
        written = Path(library.root, entry.path)
        assert written.resolve().is_relative_to(root.resolve()) and written.read_bytes() == PNG
        assert not written.name.startswith(".")
    assert sorted(p.name for p in outside.iterdir()) == before


def test_scan_finds_images_not_hidden_files_links_out_or_other_files(library):
    assert sorted(entry.path for entry in library.entries.values()) == ["harbour.jpg", "trips/badge.png"]
    listed = library.listing("/")
    assert [item.path for item in listed] == ["trips", "harbour.jpg"]  # a link to a folder is not listed
    assert isinstance(listed[0], Folder) and isinstance(listed[1], Entry)
    with pytest.raises(Forbidden, match="leads out of the library"):
        library.listing("/door")


def test_index_makes_every_object_once_and_uses_the_cache(library, tmp_path):
    cache = HashCache.open(str(tmp_path / "c.sqlite3"))
    library.cache = cache
    assert library.index() == 2 and library.index() == 0
    again = Library.open(library.root, cache)
    again.scan()
    assert again.index() == 0  # from the cache
    entry = next(e for e in again.entries.values() if e.path == "harbour.jpg")
    assert entry.summary == {"width": 800, "height": 533, "format": "jpg", "hasTransparency": False}
    assert json.loads(again.metadata(entry.file_id))["source"] == "/harbour.jpg"


def test_store_conflicts_and_overwrites_through_the_journaled_trash(library, tmp_path):
    first, described = library.store(Upload(PNG, "x.png", "/new", unique_name=False))
    assert first.path == "new/x.png" and described["width"] == 64 and described["source"] == "/new/x.png"
    with pytest.raises(Conflict):
        library.store(Upload(PNG, "x.png", "/new", unique_name=False, overwrite=False))
    other = encode(scene((32, 32), seed=2), "PNG")
    second, _ = library.store(Upload(other, "x.png", "/new", unique_name=False))
    assert second.file_id == first.file_id and Path(library.root, "new/x.png").read_bytes() == other
    _, steps = read_journal(str(tmp_path / "journal.jsonl"))
    x = os.path.join(library.root, "new", "x.png")
    assert [(step.action, step.path, step.state) for step in steps] == [
        ("upload", x, "done"),
        ("trash", x, "done"),
        ("upload", x, "done"),
    ]
    unique, _ = library.store(Upload(PNG, "x.png", "/new"))
    assert unique.path.startswith("new/x_") and len(unique.name) == len("x_123456789.png")
    assert sorted(p.name for p in Path(library.root, "new").iterdir() if p.name.startswith(".")) == []


def test_delete_trashes_and_forgets(library, tmp_path):
    entry = next(e for e in library.entries.values() if e.path == "harbour.jpg")
    trashed = library.delete(entry.file_id)
    assert not Path(library.root, "harbour.jpg").exists() and trashed and Path(trashed).is_file()
    with pytest.raises(NotFound):
        library.delete(entry.file_id)
    with pytest.raises(NotFound):
        library.metadata(entry.file_id)


def test_a_store_that_fails_leaves_nothing(library):
    before = sorted(Path(library.root).rglob("*"))
    with pytest.raises(RequestError, match="not an image"):
        library.store(Upload(b"plain text", "a.jpg", "/new"))
    with pytest.raises(RequestError, match="is not a file name"):
        library.store(Upload(PNG, "///", "/"))
    assert sorted(Path(library.root).rglob("*")) == before


def test_imagekit_objects():
    assert timestamp(1_717_267_212_345_000_000) == "2024-06-01T18:40:12.345Z"
    entry = Entry(file_id("clips/a.mp4"), "clips/a.mp4", 1000, 1_717_267_212_000_000_000)
    video = {
        "width": 320,
        "height": 180,
        "format": "mp4",
        "duration": 3,
        "videoCodec": "h264",
        "audioCodec": "aac",
    }
    details = file_object(entry, video, "https://ik.example/me")
    assert details["fileType"] == "non-image" and details["mime"] == "video/mp4"
    assert details["url"] == "https://ik.example/me/clips/a.mp4" and details["duration"] == 3
    assert details["filePath"] == "/clips/a.mp4" and details["name"] == "a.mp4"
    assert folder_object(Folder("clips", 0))["folderPath"] == "/clips"
    response = upload_response(entry, video, None, ["metadata"], {"format": "mp4"})
    assert response["metadata"] == {"format": "mp4"} and "embeddedMetadata" not in response
    flat = embedded_metadata(
        {"format": "jpg", "width": 8, "height": 6, "exif": {"gps": {"GPSAltitude": 4}}}, 9
    )
    assert flat["GPSAltitude"] == 4 and flat["FileType"] == "JPEG"


def test_inside_refuses_a_path_through_a_file(library):
    with pytest.raises(RequestError, match="is a file, not a folder"):
        inside(library.root, ["harbour.jpg", "x"], "folder")


@pytest.mark.parametrize(
    ("credentials", "key", "right"),
    [
        (b"k:", b"k", True),
        (b"k", b"k", True),
        (b"k:do_not_set", b"k", True),
        (b"a:b:", b"a:b", True),
        (b"a:", b"a:b", False),
        (b"kk:", b"k", False),
        (b"", b"k", False),
        (b":", b"", False),
    ],
)
def test_is_key(credentials, key, right):
    from ikmeta.serve.app import _is_key

    assert _is_key(credentials, key) is right


def test_labels_round_trip_and_damaged_or_unusable_ones(tmp_path):
    import sqlite3

    from ikmeta.serve.labels import Label, Labels

    path = str(tmp_path / "labels.sqlite3")
    labels = Labels.open(path)
    labels.put("/lib/a.jpg", Label(["sea"], {"k": 1}, "Oslo"))
    labels.put("/lib/b.jpg", Label(None, {"k": 2}))
    labels.put("/lib2/c.jpg", Label(["other library"]))
    labels.put("/lib/gone.jpg", Label(["x"]))
    labels.put("/lib/gone.jpg", Label())  # empty: forgotten
    labels.close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO labels VALUES ('/lib/bad.jpg', 'not json', '{}', NULL)")
    again = Labels.open(path)
    assert again.under("/lib") == {
        "/lib/a.jpg": Label(["sea"], {"k": 1}, "Oslo"),
        "/lib/b.jpg": Label(None, {"k": 2}),
    }
    (tmp_path / "file").write_text("a file where a folder should be")
    unusable = Labels.open(str(tmp_path / "file" / "labels.sqlite3"))
    assert unusable.problem and "kept for this run only" in unusable.problem
    unusable.put("/lib/a.jpg", Label(["kept"]))
    assert unusable.under("/lib")["/lib/a.jpg"].tags == ["kept"]
