"""Each file's evidence, in words: what places it after an original."""

from __future__ import annotations

from ikmeta.dupes.evidence import evidence_of
from ikmeta.dupes.model import Item, Provenance


def test_an_export_after_capture_says_when_and_with_what():
    export = Item(
        "export.jpg",
        "0",
        640,
        480,
        captured="2019-06-01T10:22:33",
        provenance=Provenance(software="Photo Export 2.1", modified="2026-01-02T03:04:05", tables="libjpeg"),
    )
    assert evidence_of(export) == ["modified 2026-01-02T03:04:05 (Software: Photo Export 2.1)"]
    assert evidence_of(export, tables_matter=True)[-1] == "encoder's JPEG tables"


def test_a_camera_that_writes_modify_date_as_it_shoots_is_not_an_edit():
    camera = Item(
        "IMG.jpg",
        "0",
        640,
        480,
        captured="2019-06-01T10:22:33",
        provenance=Provenance(software="Ver.1.00", modified="2019-06-01T10:22:33"),
    )
    assert evidence_of(camera) == []


def test_upscales_bands_frames_and_damage():
    assert evidence_of(Item("u.jpg", "0", 960, 720), "upscaled ~1.5x") == ["upscaled ~1.5x"]
    assert evidence_of(Item("c.jpg", "0", 640, 560, provenance=Provenance(band=("bottom", 0.143)))) == [
        "band along the bottom (14%)"
    ]
    assert evidence_of(Item("f.jpg", "0", 700, 540, inner_pixels=640 * 480)) == ["framed"]
    cut = Item("t.jpg", "0", provenance=Provenance(damage="truncated", prefix_of="a.jpg"))
    assert evidence_of(cut) == ["truncated copy of a.jpg"]


def test_exif_sizes_that_are_not_the_pixels():
    resized = Item("r.jpg", "0", 640, 480, provenance=Provenance(exif_size=(3264, 2448)))
    assert evidence_of(resized) == ["EXIF says 3264x2448"]
    framed = Item("f.jpg", "0", 402, 258, provenance=Provenance(exif_size=(360, 216)))
    assert evidence_of(framed) == ["pixels added around it (EXIF says 360x216)"]
    turned = Item("t.jpg", "0", 480, 640, provenance=Provenance(exif_size=(640, 480)))
    assert evidence_of(turned) == []
