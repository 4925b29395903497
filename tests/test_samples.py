"""examples/ holds what tools/make_samples.py draws (so the project ships only its own images)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ikmeta.image.metadata import inspect_blob
from ikmeta.sources.read import read_source

from .conftest import EXAMPLES, ROOT

STABLE = ("width", "height", "format", "hasColorProfile", "quality", "density", "hasTransparency", "exif")


@pytest.mark.parametrize("name", ["harbour.jpg", "harbour_small.jpg", "badge.png"])
def test_examples_are_reproducible(tmp_path, name):
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_samples.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    shipped = inspect_blob(read_source(str(EXAMPLES / name))).metadata
    fresh = inspect_blob(read_source(str(tmp_path / name))).metadata
    assert {k: fresh[k] for k in STABLE} == {k: shipped[k] for k in STABLE}
    # Encoders may differ by a few bytes between Pillow versions; the picture does not.
    assert bin(int(fresh["pHash"], 16) ^ int(shipped["pHash"], 16)).count("1") <= 2


def test_harbour_carries_the_documented_exif():
    meta = inspect_blob(read_source(str(EXAMPLES / "harbour.jpg"))).metadata
    assert meta["exif"]["exif"]["ISO"] == 200
    assert meta["exif"]["gps"]["GPSLatitude"] == [59, 54, 36]
    assert meta["exif"]["exif"]["UserComment"] == "Evening at the harbour"


def test_the_clip_is_reproducible(tmp_path):
    """examples/clip.mp4 and its smaller WebM copy are what make_samples.py films (the fields
    that do not hang on the encoder's exact bytes)."""
    import ikmeta

    from .conftest import need_module

    need_module("av", "PyAV (the video extra)")
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_samples.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    stable = ("width", "height", "format", "duration", "videoCodec", "audioCodec", "captured", "location")
    for name in ("clip.mp4", "clip_small.webm"):
        shipped, fresh = ikmeta.inspect(EXAMPLES / name), ikmeta.inspect(tmp_path / name)
        assert {k: fresh[k] for k in stable} == {k: shipped[k] for k in stable}
        assert shipped["size"] < 40_000
    small = ikmeta.inspect(EXAMPLES / "clip_small.webm")
    assert (small["width"], small["videoCodec"], small["captured"]) == (160, "vp9", None)
