"""The copy kept is the original: damaged files, upscales, captions, backups, links (issue 23)."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from .conftest import run


def photo(size=(480, 360), seed=0) -> Image.Image:
    """A picture with detail at every scale (so an upscale of it can be told by its detail)."""
    rng = np.random.default_rng(seed)
    w, h = size
    base = rng.normal(128, 50, (h // 8, w // 8)).astype(np.float32)
    coarse = np.asarray(Image.fromarray(base).resize(size, Image.Resampling.BICUBIC))
    fine = rng.normal(0, 22, (h, w))
    grey = np.clip(coarse + fine, 0, 255).astype(np.uint8)
    return Image.merge("RGB", [Image.fromarray(grey)] * 3)


def camera_exif(width: int, height: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 40D"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2019:06:01 10:22:33"  # DateTimeOriginal
    sub[0xA002], sub[0xA003] = width, height  # PixelXDimension, PixelYDimension
    return exif


def dupes(*args: str) -> tuple[list[dict], str]:
    result = run("dupes", *args, "--json", "--no-cache")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def by_name(groups: list[dict]) -> dict[str, dict]:
    return {os.path.basename(f["source"]): f for g in groups for f in g["files"]}


def age(path, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(path, (then, then))


def test_a_truncated_copy_is_never_kept_over_a_smaller_intact_one(tmp_path):
    big = photo((640, 480), seed=1)
    big.save(tmp_path / "IMG_0042.jpg", quality=92)
    data = (tmp_path / "IMG_0042.jpg").read_bytes()
    (tmp_path / "IMG_0042_partial.jpg").write_bytes(data[: len(data) * 90 // 100])  # grey below the cut
    os.remove(tmp_path / "IMG_0042.jpg")  # only the cut copy of the big one is left
    big.resize((320, 240), Image.Resampling.LANCZOS).save(tmp_path / "IMG_0042_small.jpg", quality=92)
    groups, stderr = dupes(str(tmp_path))
    assert [os.path.basename(g["reference"]) for g in groups] == ["IMG_0042_small.jpg"]
    partial = by_name(groups)["IMG_0042_partial.jpg"]
    assert partial["damage"] == "truncated" and "truncated" in partial["why"]
    assert "IMG_0042_partial.jpg: warning: truncated image data" in stderr
    table = run("dupes", str(tmp_path), "--no-cache", "--table").stdout
    assert table.rstrip().splitlines()[-3].endswith("; truncated")  # the table's last file, and why


def test_a_prefix_truncated_copy_joins_its_file_whatever_its_phash(tmp_path):
    exif = Image.Exif()
    exif[0x010E] = "a long description " * 400  # ImageDescription: an EXIF block of about 8 kB
    photo((640, 480), seed=2).save(tmp_path / "a.jpg", quality=95, exif=exif)
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "a_download.jpg").write_bytes(data[: len(data) // 3])
    (tmp_path / "a_header_only.jpg").write_bytes(data[:5000])  # cut in its EXIF: does not decode at all
    groups, stderr = dupes(str(tmp_path))
    assert len(groups) == 1 and os.path.basename(groups[0]["reference"]) == "a.jpg"
    files = by_name(groups)
    for cut in ("a_download.jpg", "a_header_only.jpg"):
        assert files[cut]["match"] == "truncated"
        assert files[cut]["why"][0] == f"truncated copy of {tmp_path / 'a.jpg'}"
    assert "a truncated copy of" in stderr


def test_an_upscale_that_kept_the_exif_is_not_kept(tmp_path):
    original = photo((480, 360), seed=3)
    original.save(tmp_path / "b_original.jpg", quality=92, exif=camera_exif(480, 360))
    age(tmp_path / "b_original.jpg", 365)
    up = original.resize((720, 540), Image.Resampling.LANCZOS)
    up.save(tmp_path / "a_upscaled.jpg", quality=95, exif=camera_exif(480, 360))
    up2 = original.resize((600, 450), Image.Resampling.LANCZOS)
    up2.save(tmp_path / "a_upscaled_stripped.jpg", quality=95)
    groups, _ = dupes(str(tmp_path))
    assert os.path.basename(groups[0]["reference"]) == "b_original.jpg"
    files = by_name(groups)
    assert files["a_upscaled.jpg"]["why"][0] == "upscaled ~1.5x (EXIF says 480x360)"
    assert files["a_upscaled_stripped.jpg"]["why"][0] == "upscaled ~1.2x"


def test_an_upscale_without_exif_is_told_by_its_detail(tmp_path):
    original = photo((480, 360), seed=4)
    original.save(tmp_path / "z_original.png")
    original.resize((720, 540), Image.Resampling.LANCZOS).save(tmp_path / "a_big.png")
    groups, _ = dupes(str(tmp_path))
    assert os.path.basename(groups[0]["reference"]) == "z_original.png"
    assert by_name(groups)["a_big.png"]["why"] == ["upscaled ~1.5x"]


def test_a_captioned_print_is_not_kept(tmp_path):
    original = photo((480, 360), seed=5)
    original.save(tmp_path / "z_original.jpg", quality=92, exif=camera_exif(480, 360))
    captioned = Image.new("RGB", (480, 420), (0, 0, 0))
    captioned.paste(original, (0, 0))
    ImageDraw.Draw(captioned).text(
        (60, 380), "Summer 2019 - (c) family archive", fill=(255, 255, 255), font_size=20
    )
    captioned.save(tmp_path / "a_print.jpg", quality=92, exif=camera_exif(480, 360))
    groups, _ = dupes(str(tmp_path))
    assert os.path.basename(groups[0]["reference"]) == "z_original.jpg"
    printed = by_name(groups)["a_print.jpg"]
    assert printed["match"] == "band added"
    assert printed["why"][0].startswith("band along the bottom")


def test_an_identical_copy_whose_name_sorts_first_is_not_kept(tmp_path):
    photo(seed=6).save(tmp_path / "photo.jpg", quality=92, exif=camera_exif(480, 360))
    (tmp_path / "copy of photo.jpg").write_bytes((tmp_path / "photo.jpg").read_bytes())
    age(tmp_path / "photo.jpg", 30)  # the original is the older file
    groups, _ = dupes(str(tmp_path))
    assert os.path.basename(groups[0]["reference"]) == "photo.jpg"


def test_a_symlinked_folder_is_not_followed_unless_asked(tmp_path):
    trip = tmp_path / "2019" / "trip"
    trip.mkdir(parents=True)
    for k in range(2):
        photo(seed=10 + k).save(trip / f"p{k}.jpg", quality=92)
    backup = tmp_path / "backup"
    backup.mkdir()
    photo(seed=10).save(backup / "p0_copy.jpg", quality=80)
    os.symlink("../2019/trip", backup / "trip_link")
    groups, stderr = dupes(str(backup))
    assert groups == []
    assert "skipped 1 link to a folder (--follow-links follows them)" in stderr
    followed, _ = dupes(str(backup), "--follow-links")
    sources = {f["source"] for g in followed for f in g["files"]}
    assert str(trip / "p0.jpg") in sources  # listed under its real path, not the link's
    assert not any("trip_link" in s for s in sources)
    both, _ = dupes(str(backup), str(tmp_path / "2019"), "--follow-links")
    assert sorted(f["source"] for g in both for f in g["files"]) == sorted(sources)  # reached twice: once


def test_a_plan_acts_on_the_real_path_of_a_report_that_names_a_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    photo(seed=12).save(real / "a.jpg", quality=92, exif=camera_exif(480, 360))
    photo(seed=12).save(real / "b.jpg", quality=60)
    os.symlink(real, tmp_path / "link")
    groups, _ = dupes(str(real))
    for g in groups:
        g["reference"] = g["reference"].replace(str(real), str(tmp_path / "link"))
        for f in g["files"]:
            f["source"] = f["source"].replace(str(real), str(tmp_path / "link"))
    report = tmp_path / "report.json"
    report.write_text(json.dumps(groups))
    plan = run("apply", "trash", str(report))
    assert plan.exit_code == 0, plan.stderr
    assert f"trash  {real / 'b.jpg'}  (named {tmp_path / 'link' / 'b.jpg'}, keeping" in plan.stdout


def test_hard_links_are_one_file_never_to_remove_for_one_another(tmp_path):
    photo(seed=7).save(tmp_path / "a.jpg", quality=92)
    os.link(tmp_path / "a.jpg", tmp_path / "b_link.jpg")
    photo(seed=7).resize((240, 180)).save(tmp_path / "c_small.jpg", quality=80)
    groups, _ = dupes(str(tmp_path))
    assert len(groups) == 1
    files = groups[0]["files"]
    assert [os.path.basename(f["source"]) for f in files] == ["a.jpg", "c_small.jpg"]
    assert files[0]["alsoAt"] == [str(tmp_path / "b_link.jpg")]
    alone = run("dupes", str(tmp_path / "a.jpg"), str(tmp_path / "b_link.jpg"), "--json", "--no-cache")
    assert json.loads(alone.stdout) == []  # one file, two names: no duplicate
    assert "0 duplicates" in alone.stderr
    table = run("dupes", str(tmp_path), "--no-cache", "--table").stdout
    assert "also at" in table


def test_a_hard_linked_copy_frees_nothing(tmp_path):
    photo(seed=8).save(tmp_path / "a.jpg", quality=92, exif=camera_exif(480, 360))
    photo(seed=8).save(tmp_path / "b.jpg", quality=70)
    os.link(tmp_path / "b.jpg", tmp_path / "b_again.jpg")
    result = run("dupes", str(tmp_path), "--json", "--no-cache")
    assert "0 B freed" in result.stderr
    report = tmp_path / "r.json"
    report.write_text(result.stdout)
    plan = run("apply", "trash", str(report))
    assert "freeing 0 B" in plan.stderr + plan.stdout


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_reports_carry_damage_why_and_also_at(tmp_path, kind):
    photo(seed=9).save(tmp_path / "a.jpg", quality=92)
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "a_cut.jpg").write_bytes(data[: len(data) // 2])
    result = run("dupes", str(tmp_path), f"--{kind}", "--no-cache")
    if kind == "csv":
        header, *rows = result.stdout.splitlines()
        assert header.endswith(",damage,why,alsoAt")
        assert any(",truncated,truncated copy of" in row for row in rows)
    else:
        assert by_name(json.loads(result.stdout))["a_cut.jpg"]["damage"] == "truncated"


def test_a_link_to_a_file_keeps_its_name_and_apply_never_follows_it(tmp_path):
    archive, photos = tmp_path / "archive", tmp_path / "photos"
    archive.mkdir()
    photos.mkdir()
    photo(seed=13).save(archive / "orig.jpg", quality=92, exif=camera_exif(480, 360))
    os.symlink("../archive/orig.jpg", photos / "link.jpg")
    photo(seed=13).save(photos / "copy.jpg", quality=70)
    groups, _ = dupes(str(photos))
    assert str(photos / "link.jpg") in {f["source"] for g in groups for f in g["files"]}
    report = tmp_path / "r.json"
    report.write_text(json.dumps(groups))
    plan = run("apply", "trash", str(report))
    assert "archive" not in plan.stdout  # the link's target is never acted on


def test_hard_links_are_listed_under_the_least_name_whatever_the_order(tmp_path):
    photo(seed=14).save(tmp_path / "m.jpg", quality=92)
    os.link(tmp_path / "m.jpg", tmp_path / "a.jpg")
    os.link(tmp_path / "m.jpg", tmp_path / "z.jpg")
    photo(seed=14).resize((240, 180)).save(tmp_path / "small.jpg", quality=80)
    for order in (["z.jpg", "a.jpg", "m.jpg"], ["a.jpg", "m.jpg", "z.jpg"]):
        groups, _ = dupes(*(str(tmp_path / name) for name in order), str(tmp_path / "small.jpg"))
        first = groups[0]["files"][0]
        assert first["source"] == str(tmp_path / "a.jpg")
        assert first["alsoAt"] == [str(tmp_path / "m.jpg"), str(tmp_path / "z.jpg")]


def test_keep_rules_never_keep_a_damaged_copy_over_an_intact_one(tmp_path):
    photo(seed=15).save(tmp_path / "whole.jpg", quality=92)
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    age(tmp_path / "whole.jpg", 10)
    groups, _ = dupes(str(tmp_path))
    report = tmp_path / "r.json"
    report.write_text(json.dumps(groups))
    for rule in ("newest", "shortest-path"):
        plan = run("apply", "trash", str(report), "--keep", rule)
        assert f"keeping {tmp_path / 'whole.jpg'}" in plan.stdout, plan.stdout
