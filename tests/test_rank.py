"""The best-copy rule: originals before conversions, the same from a scan, the cache and a hash list."""

from __future__ import annotations

import json
import os

import pillow_heif
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from ikmeta.dupes import Item, group
from ikmeta.dupes.rank import best_of, rank_key
from ikmeta.image.exif_values import camera_from_exif, captured_from_exif, parse_captured

from .conftest import run, scene

HASH = "f06830ca9f1e3e90"


def camera_exif(taken: str = "2024:06:01 10:22:33") -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 40D"  # Make, Model
    exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal
    return exif


def references(stdout: str) -> list[str]:
    return [os.path.basename(g["reference"]) for g in json.loads(stdout)]


def test_a_lossless_png_made_from_a_camera_jpeg_does_not_outrank_it(tmp_path):
    photo = scene((800, 600), seed=3)
    photo.save(tmp_path / "IMG_0001.jpg", quality=90, exif=camera_exif())
    Image.open(tmp_path / "IMG_0001.jpg").save(tmp_path / "a_export.png")  # bigger, same pixels, no EXIF
    assert os.path.getsize(tmp_path / "a_export.png") > os.path.getsize(tmp_path / "IMG_0001.jpg")
    result = run("dupes", str(tmp_path), "--json", "--no-cache")
    assert references(result.stdout) == ["IMG_0001.jpg"]


def test_a_heic_original_outranks_its_jpeg_export(tmp_path):
    pillow_heif.register_heif_opener()  # a dependency of ikmeta
    photo = scene((800, 600), seed=4)
    photo.save(tmp_path / "IMG_0002.HEIC", quality=80, exif=camera_exif())
    photo.save(tmp_path / "IMG_0002.jpg", quality=95, exif=camera_exif())  # larger, same EXIF
    assert os.path.getsize(tmp_path / "IMG_0002.jpg") > os.path.getsize(tmp_path / "IMG_0002.HEIC")
    result = run("dupes", str(tmp_path), "--json", "--no-cache")
    assert references(result.stdout) == ["IMG_0002.HEIC"]


def test_the_earlier_capture_wins_then_higher_quality(tmp_path):
    photo = scene((640, 480), seed=6)
    photo.save(tmp_path / "later.jpg", quality=95, exif=camera_exif("2024:06:01 10:22:34"))
    photo.save(tmp_path / "earlier.jpg", quality=80, exif=camera_exif("2024:06:01 10:22:33"))
    assert references(run("dupes", str(tmp_path), "--json", "--no-cache").stdout) == ["earlier.jpg"]
    photo.save(tmp_path / "later.jpg", quality=95, exif=camera_exif("2024:06:01 10:22:33"))
    assert references(run("dupes", str(tmp_path), "--json", "--no-cache").stdout) == ["later.jpg"]


def test_a_turned_export_ties_on_pixels_and_dimensions_are_shown_as_displayed(tmp_path):
    photo = scene((800, 600), seed=7)
    exif = camera_exif()
    exif[0x0112] = 6  # stored landscape, displayed portrait
    photo.save(tmp_path / "IMG_0003.jpg", quality=90, exif=exif)
    photo.transpose(Image.Transpose.ROTATE_270).save(tmp_path / "turned.png")  # 600x800, upright
    groups = json.loads(run("dupes", str(tmp_path), "--json", "--no-cache").stdout)
    assert [os.path.basename(f["source"]) for f in groups[0]["files"]] == ["IMG_0003.jpg", "turned.png"]
    assert [(f["width"], f["height"]) for f in groups[0]["files"]] == [(600, 800), (600, 800)]


def test_cache_and_hash_lists_rank_as_a_scan_does(tmp_path):
    pillow_heif.register_heif_opener()  # a dependency of ikmeta
    photo = scene((800, 600), seed=8)
    photo.save(tmp_path / "IMG_0004.HEIC", quality=80, exif=camera_exif())
    photo.save(tmp_path / "IMG_0004.jpg", quality=95, exif=camera_exif())
    Image.open(tmp_path / "IMG_0004.jpg").save(tmp_path / "IMG_0004.png")
    cache = str(tmp_path / "c.sqlite3")
    cold = run("dupes", str(tmp_path), "--json", "--cache", cache).stdout
    warm = run("dupes", str(tmp_path), "--json", "--cache", cache).stdout
    listed = run("phash", "--ndjson", str(tmp_path)).stdout
    from_list = run("dupes", "--hashes", "-", "--json", stdin=listed).stdout
    assert json.loads(cold) == json.loads(warm) == json.loads(from_list)
    assert [os.path.basename(f["source"]) for f in json.loads(cold)[0]["files"]] == [
        "IMG_0004.HEIC",
        "IMG_0004.jpg",
        "IMG_0004.png",
    ]


def test_an_inspect_list_ranks_by_its_exif_and_shows_dimensions_as_displayed(tmp_path):
    photo = scene((640, 480), seed=9)
    exif = camera_exif()
    exif[0x0112] = 6
    photo.save(tmp_path / "camera.jpg", quality=80, exif=exif)
    photo.transpose(Image.Transpose.ROTATE_270).save(tmp_path / "copy.png")
    listed = run("inspect", "--ndjson", str(tmp_path / "copy.png"), str(tmp_path / "camera.jpg")).stdout
    groups = json.loads(run("dupes", "--hashes", "-", "--json", stdin=listed).stdout)
    assert [(os.path.basename(f["source"]), f["width"], f["height"]) for f in groups[0]["files"]] == [
        ("camera.jpg", 480, 640),
        ("copy.png", 480, 640),
    ]


def test_exif_traits():
    assert (
        camera_from_exif({"Make": "NIKON CORPORATION", "Model": "NIKON D70"}) == "NIKON CORPORATION NIKON D70"
    )
    assert camera_from_exif({"Make": "Apple", "Model": "iPhone 13"}) == "Apple iPhone 13"
    assert camera_from_exif({"Make": "  ", "Model": 5}) is None
    assert captured_from_exif(
        {"DateTimeOriginal": "2021:04:11 15:47:53", "OffsetTimeOriginal": "-05:00"}
    ) == ("2021-04-11T15:47:53-05:00")
    assert captured_from_exif({"DateTimeOriginal": "    :  :     :  :  "}) is None
    assert captured_from_exif({"DateTimeOriginal": "2021:04:11 15:47:53", "OffsetTimeOriginal": "junk"}) == (
        "2021-04-11T15:47:53"
    )


def test_pixel_counts_within_a_percent_tie_whatever_their_values():
    camera = {"format": "jpg", "quality": 92, "camera": "Canon EOS 40D", "captured": "2008-05-30T15:56:01"}
    for (w1, h1), (w2, h2) in [
        ((1600, 1199), (1600, 1200)),
        ((3264, 2440), (3264, 2448)),
        ((1920, 1072), (1920, 1080)),
    ]:
        original = Item("camera.jpg", HASH, w1, h1, 900_000, **camera)
        export = Item("export.png", HASH, w2, h2, 3_000_000, format="png")
        assert best_of([export, original]) is original
        assert [g.reference.source for g in group([export, original], 10)] == ["camera.jpg"]
        assert [g.reference.source for g in group([export, original], 10, "connected")] == ["camera.jpg"]
    small = Item("small.jpg", HASH, 2016, 1512, 900_000, **camera)
    big = Item("big.png", HASH, 4032, 3024, 3_000_000, format="png")
    assert best_of([small, big]) is big


def test_capture_times_compare_as_wall_clock_whatever_the_machines_timezone(monkeypatch):
    import time

    heic = Item(
        "IMG_0001.HEIC", HASH, 2566, 3313, 833_284, format="heic", captured="2021-04-11T15:47:53-05:00"
    )
    jpeg = Item(
        "IMG_0001.jpg", HASH, 2566, 3313, 1_233_284, format="jpg", quality=90, captured="2021-04-11T15:47:53"
    )
    for zone in ("UTC", "America/Chicago", "Asia/Tokyo"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        assert group([jpeg, heic], 10)[0].reference is heic
    monkeypatch.delenv("TZ")
    time.tzset()


def test_junk_capture_times_are_unknown():
    assert parse_captured("0001-01-01T00:00:00+14:00") is None
    assert parse_captured("not a date") is None
    assert captured_from_exif({"DateTimeOriginal": "0000:00:00 00:00:00"}) is None
    assert captured_from_exif(
        {"DateTimeOriginal": "2020:01:01 00:00:00", "OffsetTimeOriginal": "+99:99"}
    ) == ("2020-01-01T00:00:00")


def test_hash_list_values_out_of_range_are_unknown():
    lines = "\n".join(
        json.dumps(obj)
        for obj in (
            {
                "source": "a.jpg",
                "pHash": HASH,
                "width": -4000,
                "height": -3000,
                "size": -5,
                "quality": -7,
                "mtimeNs": -1,
            },
            {
                "source": "b.jpg",
                "pHash": HASH,
                "width": 400,
                "height": 300,
                "captured": "0000-00-00",
                "mtimeNs": 10**400,
            },
            {"source": "c.jpg", "pHash": HASH, "width": 40, "height": 30, "quality": 1000, "size": 10**309},
        )
    )
    result = run("dupes", "--hashes", "-", "--json", stdin=lines + "\n")
    assert result.exit_code == 0, result.stderr
    files = json.loads(result.stdout)[0]["files"]
    assert [f["source"] for f in files] == ["b.jpg", "c.jpg", "a.jpg"]
    assert files[0]["captured"] is None and files[0]["mtimeNs"] is None
    assert files[2]["width"] is None and files[1]["quality"] is None and files[1]["size"] is None


items = st.builds(
    Item,
    source=st.sampled_from(["a.jpg", "b.png", "c.heic", "d/e.jpg"]),
    phash=st.just(HASH),
    width=st.none() | st.integers(1, 5000),
    height=st.none() | st.integers(1, 5000),
    size=st.none() | st.integers(0, 10**8),
    format=st.none() | st.sampled_from(["jpg", "png", "heic", "webp"]),
    quality=st.none() | st.integers(0, 100),
    camera=st.none() | st.just("Canon EOS 40D"),
    captured=st.none() | st.sampled_from(["2024-06-01T10:22:33", "2020-01-01T00:00:00+02:00", "junk"]),
    mtime_ns=st.none() | st.integers(0, 2 * 10**18),
)


@given(st.lists(items, max_size=12))
def test_the_reference_does_not_depend_on_input_order(found):
    distinct = list({item.source: item for item in found}.values())
    forward = group(distinct, 10)
    backward = group(list(reversed(distinct)), 10)
    assert [g.reference for g in forward] == [g.reference for g in backward]
    for g in forward:
        assert g.reference == min((m for m, _ in g.members), key=rank_key)


# --- issue 23: damaged files, upscales, additions, backups -------------------------------------

from ikmeta.dupes.model import Provenance  # noqa: E402
from ikmeta.dupes.rank import choose, exif_upscale, made_pixels  # noqa: E402


def photo_item(source, width, height, **kw) -> Item:
    return Item(source, HASH, width, height, kw.pop("size", width * height // 4), format="jpg", **kw)


def test_an_intact_copy_is_kept_over_a_larger_damaged_one():
    cut = photo_item("big.jpg", 640, 480, provenance=Provenance(damage="truncated"))
    small = photo_item("small.jpg", 320, 240)
    assert best_of([cut, small]).source == "small.jpg"
    assert best_of([cut]).source == "big.jpg"  # with no intact copy, a damaged one is still a reference


def test_an_exif_size_smaller_than_the_pixels_is_what_the_upscale_was_made_from():
    up = photo_item("a_up.jpg", 960, 720, camera="Canon", provenance=Provenance(exif_size=(640, 480)))
    assert exif_upscale(up) == 1.5 and made_pixels(up) == 640 * 480
    original = photo_item("z_orig.jpg", 640, 480, camera="Canon", provenance=Provenance(exif_size=(640, 480)))
    assert best_of([up, original]).source == "z_orig.jpg"


def test_the_judge_decides_upscales_and_soft_pictures_tie():
    big = photo_item("a_big.jpg", 960, 720)
    small = photo_item("z_small.jpg", 640, 480)
    assert best_of([big, small]).source == "a_big.jpg"  # no judge: pixels
    assert best_of([big, small], lambda b, s: True).source == "z_small.jpg"
    assert best_of([big, small], lambda b, s: False).source == "a_big.jpg"
    choice = choose([big, small], lambda b, s: None)  # cannot tell: one size, then the rest decides
    assert choice.pixels == {0: "maybe upscaled ~1.5x"} and choice.best == 1


def test_an_upscale_of_an_upscale_counts_as_the_first_size():
    sizes = {"a.jpg": (1200, 900), "b.jpg": (960, 720), "c.jpg": (640, 480)}
    items = [photo_item(name, *size) for name, size in sizes.items()]
    made_from = {("a.jpg", "b.jpg"): True, ("b.jpg", "c.jpg"): True, ("a.jpg", "c.jpg"): True}
    choice = choose(items, lambda b, s: made_from.get((b.source, s.source), False))
    assert items[choice.best].source == "c.jpg"
    assert choice.pixels == {0: "upscaled ~1.9x", 1: "upscaled ~1.5x"}


def test_a_copy_with_camera_metadata_is_never_judged_an_upscale_of_one_without():
    camera = photo_item("camera.jpg", 960, 720, camera="Canon EOS 40D")
    thumb = photo_item("thumb.jpg", 640, 480)
    asked = []
    assert best_of([camera, thumb], lambda b, s: asked.append(b.source) or True).source == "camera.jpg"
    assert asked == []


def test_a_band_added_and_a_newer_identical_copy_rank_after():
    photo = photo_item("z.jpg", 640, 480, camera="Canon", mtime_ns=10**18)
    captioned = photo_item("a.jpg", 640, 560, camera="Canon", provenance=Provenance(band=("bottom", 0.143)))
    assert made_pixels(captioned) == pytest.approx(640 * 480, rel=0.01)
    assert best_of([captioned, photo]).source == "z.jpg"
    backup = photo_item("a_copy.jpg", 640, 480, camera="Canon", mtime_ns=2 * 10**18)
    assert best_of([backup, photo]).source == "z.jpg"


def test_a_later_modify_date_ranks_an_export_after_the_camera_file():
    common = {"camera": "Canon", "captured": "2019-06-01T10:22:33"}
    camera = photo_item("z.jpg", 640, 480, quality=90, **common)
    export = photo_item(
        "a.jpg", 640, 480, quality=95, provenance=Provenance(modified="2026-01-02T03:04:05"), **common
    )
    assert best_of([export, camera]).source == "z.jpg"


damaged_items = st.builds(
    Item,
    source=st.sampled_from(["a.jpg", "b.png", "c.heic", "d/e.jpg", "f.jpg"]),
    phash=st.just(HASH),
    width=st.integers(1, 3000),
    height=st.integers(1, 3000),
    size=st.none() | st.integers(0, 10**7),
    camera=st.none() | st.just("Canon EOS 40D"),
    mtime_ns=st.none() | st.integers(0, 2 * 10**18),
    provenance=st.builds(
        Provenance,
        damage=st.none() | st.just("truncated"),
        exif_size=st.none() | st.tuples(st.integers(1, 3000), st.integers(1, 3000)),
        band=st.none() | st.tuples(st.just("bottom"), st.floats(0.05, 0.3)),
    ),
)


@given(st.lists(damaged_items, min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_the_choice_is_intact_when_it_can_be_and_does_not_depend_on_order(found, rng):
    distinct = list({item.source: item for item in found}.values())

    def judge(big: Item, small: Item) -> bool | None:  # any fixed verdict per pair
        return (None, True, False)[(len(big.source) + 2 * len(small.source) + big.pixels) % 3]

    best = best_of(distinct, judge)
    if any(not item.damaged for item in distinct):
        assert not best.damaged
    shuffled = list(distinct)
    rng.shuffle(shuffled)
    assert best_of(shuffled, judge) == best


def test_many_copies_of_one_upscale_are_all_judged_as_one():
    original = photo_item("orig.jpg", 640, 480)
    copies = [photo_item(f"up{k:02d}.jpg", 960, 720) for k in range(20)]
    asked = []

    def judge(big: Item, small: Item) -> bool:
        asked.append(big.source)
        return small.source == "orig.jpg"

    assert best_of([*copies, original], judge).source == "orig.jpg"
    assert len(asked) == 1  # one size, one question


def test_a_soft_original_is_not_taken_for_an_upscale_of_its_shrunk_copy():
    exif = {"camera": "Canon", "captured": "2019-06-01T10:22:33"}
    original = photo_item("original.jpg", 800, 533, provenance=Provenance(exif_size=(800, 533)), **exif)
    shrunk = photo_item("a_smaller.jpg", 600, 400, provenance=Provenance(exif_size=(800, 533)), **exif)
    assert best_of([shrunk, original], lambda big, small: None).source == "original.jpg"


def test_standard_input_is_never_the_reference_while_a_file_copy_exists():
    """Issue 24: what was piped in cannot be kept (there is nothing of it on disk), even when it
    is the larger copy or the file is damaged."""
    piped = Item("-", HASH, 4000, 3000, 9_000_000, format="jpg", camera="Canon EOS 40D")
    small = Item("b.jpg", HASH, 2000, 1500, 1_000_000, format="jpg")
    damaged = Item(
        "c.jpg", HASH, 2000, 1500, 500_000, format="jpg", provenance=Provenance(damage="truncated")
    )
    assert best_of([piped, small]).source == "b.jpg"
    assert best_of([piped, damaged]).source == "c.jpg"
    assert sorted([piped, small], key=rank_key)[0].source == "b.jpg"
    assert best_of([piped]).source == "-"


def test_dupes_of_standard_input_and_a_smaller_file_keep_the_file(tmp_path):
    photo = scene((800, 600), seed=5)
    photo.resize((400, 300)).save(tmp_path / "small.jpg", quality=90)
    piped = tmp_path / "big.jpg"
    photo.save(piped, quality=95)
    result = run("dupes", "-", str(tmp_path / "small.jpg"), "--json", "--no-cache", stdin=piped.read_bytes())
    assert result.exit_code == 0, result.stderr
    (found,) = json.loads(result.stdout)
    assert os.path.basename(found["reference"]) == "small.jpg"
