"""Cropped copies and copies whose edge differs (a caption band): found through the pHashes of
windows of the picture (``ikmeta.hashes.WINDOWS``), named by ``match``; ``--geometry exact``
leaves them alone, and a hash list from ``phash --ndjson`` finds the same groups. A squashed
copy needs no window: it matches as it stands."""

from __future__ import annotations

import json

import pytest
from PIL import Image, ImageDraw

from .conftest import encode, run, scene

ORIGINAL_SIZE = (600, 400)


def crop(im: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    """``im`` with these shares cut off each side."""
    w, h = im.size
    return im.crop((round(left * w), round(top * h), round(w - right * w), round(h - bottom * h)))


def captioned(im: Image.Image, at_top: bool = False) -> Image.Image:
    """A black band of a sixth of the height over the bottom (or top), with white text."""
    copy = im.copy()
    band = copy.height // 6
    top = 0 if at_top else copy.height - band
    draw = ImageDraw.Draw(copy)
    draw.rectangle((0, top, copy.width, top + band), fill=(0, 0, 0))
    draw.text((band // 2, top + band // 4), "(c) 2026 a caption over the picture", fill=(255, 255, 255))
    return copy


# Each edit, how it matches, and the --max at which pHash alone does not find it (a band over
# these pictures' edge moves their pHash less than a photo's: 8 to 10 bits, so --max 6).
EDITS = {
    "crop5_all_round": (lambda im: crop(im, 0.05, 0.05, 0.05, 0.05), "cropped", 10),
    "crop20_left": (lambda im: crop(im, 0.2, 0, 0, 0), "cropped", 10),
    "crop20_right": (lambda im: crop(im, 0, 0, 0.2, 0), "cropped", 10),
    "crop20_top": (lambda im: crop(im, 0, 0.2, 0, 0), "cropped", 10),
    "crop20_bottom": (lambda im: crop(im, 0, 0, 0, 0.2), "cropped", 10),
    "crop10_left": (lambda im: crop(im, 0.1, 0, 0, 0), "cropped", 10),
    "caption_bottom": (captioned, "edge differs", 6),
    "caption_top": (lambda im: captioned(im, at_top=True), "edge differs", 6),
    # Squashed to three quarters of its height: pHash resizes to a square anyway.
    "squashed": (lambda im: im.resize((im.width, im.height * 3 // 4), Image.Resampling.LANCZOS), None, 10),
}


def photo(seed: int) -> Image.Image:
    """A picture with detail at every scale, as photos have (so an edit moves its pHash)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (8, 12, 3), dtype=np.uint8)).resize(
        ORIGINAL_SIZE, Image.Resampling.BICUBIC
    )
    return Image.blend(coarse, scene(ORIGINAL_SIZE, seed=seed), 0.4)


def library(folder, edit: str, seed: int = 7):
    """An original (PNG), its edited copy (JPEG) and a stranger."""
    folder.mkdir()
    original = photo(seed)
    (folder / "original.png").write_bytes(encode(original, "PNG"))
    (folder / f"{edit}.jpg").write_bytes(encode(EDITS[edit][0](original), "JPEG", quality=88))
    (folder / "stranger.png").write_bytes(encode(photo(13), "PNG"))
    return folder


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_copy_joins_its_original_and_says_how(tmp_path, edit):
    folder = library(tmp_path / "photos", edit)
    result = run("dupes", str(folder), "--json", "--no-cache", "--max", str(EDITS[edit][2]))
    assert result.exit_code == 0, result.stderr
    (found,) = json.loads(result.stdout)
    assert found["reference"] == str(folder / "original.png")
    assert [(f["source"].rsplit("/", 1)[1], f["match"]) for f in found["files"]] == [
        ("original.png", None),
        (f"{edit}.jpg", EDITS[edit][1]),
    ]
    if EDITS[edit][1] is not None:
        assert found["files"][1]["distance"] <= EDITS[edit][2] * 4 // 10  # the window radius


@pytest.mark.parametrize("edit", ["crop20_left", "caption_bottom"])
def test_geometry_exact_does_not_look_at_windows(tmp_path, edit):
    folder = library(tmp_path / "photos", edit)
    result = run(
        "dupes", str(folder), "--json", "--no-cache", "--geometry", "exact", "--max", str(EDITS[edit][2])
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_a_hash_list_from_phash_ndjson_finds_the_same_groups(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    original = photo(7)
    (folder / "original.png").write_bytes(encode(original, "PNG"))
    for edit in ("crop20_left", "caption_bottom", "crop5_all_round"):
        (folder / f"{edit}.jpg").write_bytes(encode(EDITS[edit][0](original), "JPEG", quality=88))
    listed = run("phash", "--ndjson", str(folder)).stdout
    windows = [json.loads(line)["windows"] for line in listed.splitlines()]
    assert all(len(w) == 10 and all(len(h) == 16 for h in w) for w in windows)
    from_list = run("dupes", "--hashes", "-", "--json", stdin=listed)
    scanned = run("dupes", str(folder), "--json", "--no-cache")
    assert json.loads(from_list.stdout) == json.loads(scanned.stdout)
    assert len(json.loads(scanned.stdout)[0]["files"]) == 4


def test_the_cache_keeps_the_windows(tmp_path):
    folder = library(tmp_path / "photos", "caption_bottom")
    cache = str(tmp_path / "cache.sqlite3")
    first = run("dupes", str(folder), "--json", "--cache", cache, "--max", "6").stdout
    again = run("dupes", str(folder), "--json", "--cache", cache, "--max", "6").stdout
    assert again == first and json.loads(again)[0]["files"][1]["match"] == "edge differs"


def test_distance_geometry_any_names_the_crop(tmp_path):
    folder = library(tmp_path / "photos", "crop20_right")
    original, cropped = str(folder / "original.png"), str(folder / "crop20_right.jpg")
    plain = json.loads(run("distance", original, cropped, "--json").stdout)
    found = json.loads(run("distance", original, cropped, "--json", "--geometry", "any").stdout)
    assert plain["distance"] > 10
    assert found["distance"] <= 4 and found["match"] == "cropped"
    back = json.loads(run("distance", cropped, original, "--json", "--geometry", "any").stdout)
    assert back["match"] == "uncropped"


def test_a_picture_on_a_blank_page_has_no_window_hashes_of_the_blank(tmp_path):
    """A window that is nearly blank is not hashed (its hash would be noise): the pHash itself
    stands for it, so two different pictures at the foot of blank pages stay apart."""
    pages = []
    for seed in (1, 2):
        page = Image.new("RGB", (400, 600), (255, 255, 255))
        page.paste(scene((400, 40), seed=seed), (0, 560))
        pages.append(page)
        (tmp_path / f"page{seed}.png").write_bytes(encode(page, "PNG"))
    listed = [json.loads(line) for line in run("phash", "--ndjson", str(tmp_path)).stdout.splitlines()]
    for obj in listed:
        top_windows = [obj["windows"][k] for k in (6, 7)]  # the bottom trimmed: blank
        assert top_windows == [obj["pHash"]] * 2
    assert json.loads(run("dupes", str(tmp_path), "--json", "--no-cache").stdout) == []


def test_an_upscaled_crop_is_not_the_copy_to_keep(tmp_path):
    """A crop enlarged past its original has more pixels, but the original shows more of the
    picture: it stays the copy to keep, and the crop says "cropped"."""
    folder = tmp_path / "photos"
    folder.mkdir()
    original = photo(7)
    (folder / "original.jpg").write_bytes(encode(original, "JPEG", quality=90))
    enlarged = crop(original, 0.2, 0, 0, 0).resize((720, 600), Image.Resampling.LANCZOS)
    (folder / "crop_upscaled.jpg").write_bytes(encode(enlarged, "JPEG", quality=90))
    (found,) = json.loads(run("dupes", str(folder), "--json", "--no-cache").stdout)
    assert [(f["source"].rsplit("/", 1)[1], f["match"]) for f in found["files"]] == [
        ("original.jpg", None),
        ("crop_upscaled.jpg", "cropped"),
    ]


def test_a_frame_with_a_wider_foot_is_a_frame_and_not_the_copy_to_keep(tmp_path):
    """A print's frame: 6% on three sides, 25% at the foot. Its uneven border does not shrink
    the picture for ranking (uneven margins may be a diagram's own), but the original, the
    picture without the frame, is still the copy to keep."""
    from PIL import ImageOps

    folder = tmp_path / "photos"
    folder.mkdir()
    original = photo(7)
    (folder / "original.png").write_bytes(encode(original, "PNG"))
    print_frame = ImageOps.expand(original, (36, 24, 36, 100), (255, 255, 255))
    (folder / "print.jpg").write_bytes(encode(print_frame, "JPEG", quality=88))
    (found,) = json.loads(run("dupes", str(folder), "--json", "--no-cache").stdout)
    assert [(f["source"].rsplit("/", 1)[1], f["match"]) for f in found["files"]] == [
        ("original.png", None),
        ("print.jpg", "framed"),
    ]
    inner = json.loads(run("phash", "--json", str(folder / "print.jpg")).stdout)[0]["inner"]
    assert inner["centred"] is False


def test_one_picture_in_two_mats_is_reframed(tmp_path):
    """The same picture in a white mat and in a black one, without the bare picture: the
    pictures inside match ("reframed"), under both linkages."""
    from PIL import ImageOps

    original = photo(7)
    for name, fill in (("white.jpg", (255, 255, 255)), ("black.jpg", (0, 0, 0))):
        (tmp_path / name).write_bytes(encode(ImageOps.expand(original, 60, fill), "JPEG", quality=88))
    for linkage in ("reference", "connected"):
        (found,) = json.loads(
            run("dupes", str(tmp_path), "--json", "--no-cache", "--linkage", linkage).stdout
        )
        assert sorted(f["match"] or "" for f in found["files"]) == ["", "reframed"]
