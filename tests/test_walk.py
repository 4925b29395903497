"""Finding image files in folders: order, extensions, hidden files, symlink loops, errors."""

from __future__ import annotations

import os

from ikmeta.errors import SourceError
from ikmeta.sources.walk import image_paths

from .conftest import need_unprivileged


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return str(path)


def test_walk_order_extensions_and_hidden(tmp_path):
    for name in [
        "b.JPG",
        "a.png",
        "notes.txt",
        "sub/c.heic",
        "sub/deeper/d.TIFF",
        ".hidden.jpg",
        ".cache/e.jpg",
        "z.avif",
        "y.Jpeg",
        "x.webp",
    ]:
        touch(tmp_path / name)
    found = [os.path.relpath(p, tmp_path) for p in image_paths([str(tmp_path)])]
    assert found == ["a.png", "b.JPG", "x.webp", "y.Jpeg", "z.avif", "sub/c.heic", "sub/deeper/d.TIFF"]
    with_hidden = [os.path.relpath(p, tmp_path) for p in image_paths([str(tmp_path)], hidden=True)]
    assert ".hidden.jpg" in with_hidden and ".cache/e.jpg" in with_hidden


def test_files_are_taken_as_given_and_missing_paths_reported(tmp_path):
    odd = touch(tmp_path / "picture.data")
    out = list(image_paths([odd, str(tmp_path / "missing.jpg"), "-"]))
    assert out[0] == odd and out[2] == "-"
    assert isinstance(out[1], SourceError) and out[1].reason == "no such file or folder"


def test_symlinked_folders_are_followed_once_with_follow_links(tmp_path):
    touch(tmp_path / "real" / "a.jpg")
    os.symlink(tmp_path / "real", tmp_path / "link")
    os.symlink(tmp_path, tmp_path / "real" / "loop")  # a loop back to the top
    found = [os.path.relpath(p, tmp_path) for p in image_paths([str(tmp_path)], follow_links=True)]
    assert found == ["link/a.jpg"]  # folders in name order: link/ comes before real/, whose a.jpg it is


def test_symlinked_folders_are_counted_not_followed_by_default(tmp_path):
    from collections import Counter

    from ikmeta.sources.walk import FOLDER_LINK, skipped_summary

    touch(tmp_path / "trip" / "a.jpg")
    touch(tmp_path / "backup" / "b.jpg")
    os.symlink(tmp_path / "trip", tmp_path / "backup" / "trip_link")
    skipped: Counter[str] = Counter()
    found = [os.path.relpath(p, tmp_path) for p in image_paths([str(tmp_path / "backup")], skipped=skipped)]
    assert found == ["backup/b.jpg"]
    assert skipped == Counter({FOLDER_LINK: 1})
    assert skipped_summary(skipped) == "skipped 1 link to a folder (--follow-links follows them)"
    named = [os.path.relpath(p, tmp_path) for p in image_paths([str(tmp_path / "backup" / "trip_link")])]
    assert named == ["backup/trip_link/a.jpg"]  # a link named itself is walked


def test_unreadable_folder_is_reported(tmp_path):
    need_unprivileged("root reads any folder")
    locked = tmp_path / "locked"
    touch(locked / "a.jpg")
    locked.chmod(0)
    try:
        out = list(image_paths([str(tmp_path)]))
    finally:
        locked.chmod(0o755)
    assert isinstance(out[0], SourceError) and "cannot read folder" in out[0].reason


def test_a_path_in_a_folder_that_cannot_be_entered_is_permission_denied(tmp_path):
    need_unprivileged("root enters any folder")
    locked = tmp_path / "locked"
    a = touch(locked / "a.jpg")
    touch(locked / "sub" / "b.jpg")
    named = [a, str(locked / "sub"), str(locked / "gone.jpg")]
    locked.chmod(0o666)  # its names can be listed, but nothing in it looked at
    try:
        out = list(image_paths(named))
    finally:
        locked.chmod(0o755)
    assert [(e.source, e.reason) for e in out if isinstance(e, SourceError)] == [
        (path, "permission denied") for path in named
    ]


def test_jpeg_aliases_are_images_and_the_rest_is_counted(tmp_path):
    from collections import Counter

    for name in ("a.jfif", "b.JPE", "c.jif", "notes.txt", "more.TXT", "README", "clip.mov", ".hidden.txt"):
        touch(tmp_path / name)
    skipped: Counter[str] = Counter()
    found = [os.path.basename(p) for p in image_paths([str(tmp_path)], skipped=skipped)]
    assert found == ["a.jfif", "b.JPE", "c.jif"]
    assert skipped == Counter({".txt": 2, ".mov": 1, "(none)": 1})
    from ikmeta.sources.walk import skipped_summary

    assert skipped_summary(skipped) == (
        "skipped 4 files in folders that are not images or videos ikmeta reads (2 .txt, 1 (none), 1 .mov)"
    )
    assert skipped_summary(Counter()) is None
