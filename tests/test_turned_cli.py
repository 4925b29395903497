"""Turned and mirrored copies (their pixels, no EXIF tag to undo it): found by ``dupes``,
named by ``match``, measured by ``distance --geometry any``; ``--geometry exact`` as before."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from .conftest import encode, run, scene
from .test_perceptual import TURNED_BY_PILLOW, turn


@pytest.fixture
def turned_copies(tmp_path):
    """An original, a copy turned each of the seven ways (re-encoded as JPEG), and a stranger."""
    folder = tmp_path / "photos"
    folder.mkdir()
    original = scene((480, 320), seed=4)
    (folder / "original.png").write_bytes(encode(original, "PNG"))
    for k, name in enumerate(TURNED_BY_PILLOW):
        (folder / f"copy{k}.jpg").write_bytes(encode(turn(original, name), "JPEG", quality=88))
    (folder / "stranger.png").write_bytes(encode(scene((480, 320), seed=11), "PNG"))
    return folder


def test_every_turned_copy_joins_its_original_and_says_how(turned_copies):
    result = run("dupes", str(turned_copies), "--json", "--no-cache")
    assert result.exit_code == 0, result.stderr
    (found,) = json.loads(result.stdout)
    assert found["reference"] == str(turned_copies / "original.png")
    how = {f["source"].rsplit("/", 1)[1]: f["match"] for f in found["files"]}
    assert how == {"original.png": None} | {f"copy{k}.jpg": name for k, name in enumerate(TURNED_BY_PILLOW)}
    assert all(f["distance"] <= 10 for f in found["files"])


def test_geometry_exact_finds_none_of_them(turned_copies):
    result = run("dupes", str(turned_copies), "--json", "--no-cache", "--geometry", "exact")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_a_hash_list_from_phash_ndjson_finds_the_same_groups(turned_copies, tmp_path):
    listed = run("phash", "--ndjson", str(turned_copies)).stdout
    from_list = run("dupes", "--hashes", "-", "--json", stdin=listed)
    scanned = run("dupes", str(turned_copies), "--json", "--no-cache")
    assert json.loads(from_list.stdout) == json.loads(scanned.stdout)


def test_the_table_and_csv_say_how(turned_copies):
    table = run("dupes", str(turned_copies), "--table", "--no-cache").stdout
    assert "mirrored, rotated 180" in table
    rows = run("dupes", str(turned_copies), "--csv", "--no-cache").stdout.splitlines()
    assert rows[0].startswith("group,reference,source,distance,match,pHash")
    assert any(",rotated 90," in row for row in rows)


def test_the_cache_keeps_the_turned_hashes(turned_copies, tmp_path):
    cache = str(tmp_path / "cache.sqlite3")
    first = run("dupes", str(turned_copies), "--json", "--cache", cache).stdout
    again = run("dupes", str(turned_copies), "--json", "--cache", cache).stdout
    assert again == first and len(json.loads(again)[0]["files"]) == 8


def test_distance_geometry_any(turned_copies):
    original, mirrored = str(turned_copies / "original.png"), str(turned_copies / "copy3.jpg")
    plain = json.loads(run("distance", original, mirrored, "--json").stdout)
    turned = json.loads(run("distance", original, mirrored, "--json", "--geometry", "any").stdout)
    assert plain["distance"] > 20 and "match" not in plain
    assert turned["distance"] <= 4 and turned["match"] == "mirrored"
    assert run("distance", original, mirrored, "--geometry", "any").stdout.strip() == str(turned["distance"])
    # One side a hash: the image's turned hashes still serve.
    hash_of = run("phash", original).stdout.split()[0]
    one_side = json.loads(run("distance", hash_of, mirrored, "--json", "--geometry", "any").stdout)
    assert one_side["match"] == "mirrored"


def test_distance_geometry_any_needs_an_image():
    result = run("distance", "2d5ad3936d2e015b", "2d6ed293db36a4fb", "--geometry", "any")
    assert result.exit_code == 2
    assert "give at least one image" in result.stderr
    assert run("distance", "2d5ad3936d2e015b", "2d6ed293db36a4fb").stdout.strip() == "17"


def test_a_symmetric_picture_is_not_its_own_duplicate(tmp_path):
    """A picture that looks the same mirrored matches itself turned: it stays alone."""
    im = Image.new("RGB", (200, 200), (20, 40, 60))
    half = scene((100, 200), seed=2)
    im.paste(half, (0, 0))
    im.paste(half.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (100, 0))
    (tmp_path / "symmetric.png").write_bytes(encode(im, "PNG"))
    assert json.loads(run("dupes", str(tmp_path), "--json", "--no-cache").stdout) == []


@pytest.mark.parametrize(
    ("name", "border"),
    [("framed", (40, 40, 40, 40)), ("letterboxed", (0, 70, 0, 70)), ("pillarboxed", (90, 0, 90, 0))],
)
def test_a_copy_in_a_plain_border_joins_its_original(tmp_path, name, border):
    """A frame (white), letterbox or pillarbox bars (black): the picture inside is hashed too,
    the framed copy joins, says so, and is never the copy to keep."""
    from PIL import ImageOps

    original = scene((480, 320), seed=6)
    fill = (255, 255, 255) if name == "framed" else (0, 0, 0)
    (tmp_path / "original.jpg").write_bytes(encode(original, "JPEG", quality=92))
    (tmp_path / f"{name}.jpg").write_bytes(
        encode(ImageOps.expand(original, border, fill), "JPEG", quality=88)
    )
    (tmp_path / "stranger.png").write_bytes(encode(scene((480, 320), seed=12), "PNG"))
    exact = json.loads(run("dupes", str(tmp_path), "--json", "--no-cache", "--geometry", "exact").stdout)
    assert exact == []
    (found,) = json.loads(run("dupes", str(tmp_path), "--json", "--no-cache").stdout)
    assert found["reference"] == str(tmp_path / "original.jpg")
    assert [(f["source"].rsplit("/", 1)[1], f["match"]) for f in found["files"]] == [
        ("original.jpg", None),
        (f"{name}.jpg", "framed"),
    ]
    inner = json.loads(run("phash", "--json", str(tmp_path / f"{name}.jpg")).stdout)[0]["inner"]
    assert abs(inner["width"] - 480) <= 8 and abs(inner["height"] - 320) <= 8


def test_a_picture_with_different_corners_has_no_inner_picture(tmp_path):
    (tmp_path / "a.png").write_bytes(encode(scene((300, 200), seed=1), "PNG"))
    assert json.loads(run("phash", "--json", str(tmp_path / "a.png")).stdout)[0]["inner"] is None


def test_pictures_in_bars_match_by_what_is_inside_and_a_blank_inside_is_not_hashed(tmp_path):
    """Bars' patterns, turned, come near other pictures' bars: the turned hashes of a picture in
    bars are those of the picture inside, so two pictures in bars stay apart while a turned
    copy (pillarboxed turns letterboxed) still joins; a blank card in bars has no inner picture."""
    from PIL import ImageOps

    from ikmeta.hashes import distance

    def boxed(im):
        return ImageOps.expand(im, (64, 0), 0)

    (tmp_path / "a.png").write_bytes(encode(boxed(scene((320, 320), seed=1)), "PNG"))
    (tmp_path / "b.png").write_bytes(encode(boxed(scene((320, 320), seed=2)), "PNG"))
    turned = boxed(scene((320, 320), seed=1)).transpose(Image.Transpose.ROTATE_270)
    (tmp_path / "a_turned.jpg").write_bytes(encode(turned, "JPEG", quality=90))
    (tmp_path / "card.png").write_bytes(
        encode(ImageOps.expand(Image.new("RGB", (300, 200), (128,) * 3), (0, 60), 0), "PNG")
    )
    found = {
        o["source"].rsplit("/", 1)[1]: o for o in json.loads(run("phash", "--json", str(tmp_path)).stdout)
    }
    assert found["card.png"]["inner"] is None
    inside = json.loads(run("phash", "--json", str(tmp_path / "a.png")).stdout)[0]["inner"]["pHash"]
    assert distance(found["a_turned.jpg"]["inner"]["pHash"], found["a.png"]["turned"][0]) <= 4
    assert inside != found["a.png"]["pHash"]
    (group,) = json.loads(run("dupes", str(tmp_path), "--json", "--no-cache").stdout)
    assert sorted((f["source"].rsplit("/", 1)[1], f["match"]) for f in group["files"]) == [
        ("a.png", None),
        ("a_turned.jpg", "rotated 90"),
    ]


def test_a_hash_list_inner_larger_than_its_image_does_not_rank_it(tmp_path):
    big = {"source": "big.jpg", "pHash": "f06830ca9f1e3e90", "width": 4000, "height": 3000}
    liar = {
        "source": "small.jpg",
        "pHash": "f06830ca9f1e3e91",
        "width": 40,
        "height": 30,
        "inner": {"pHash": "f06830ca9f1e3e91", "width": 100000, "height": 100000},
    }
    listed = "".join(json.dumps(o) + "\n" for o in (liar, big))
    (found,) = json.loads(run("dupes", "--hashes", "-", "--json", stdin=listed).stdout)
    assert found["reference"].endswith("big.jpg")
