"""pHash: the same bits as imagehash.phash, of the image as displayed."""

from __future__ import annotations

import io
import re

import imagehash
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageOps

from ikmeta.image.metadata import phash_blob
from ikmeta.image.perceptual import UPRIGHT, _median, phash_image, upright
from ikmeta.sources.base import Blob

from .conftest import encode, exif_with, scene

INVERSE = {
    Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
    Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90,
}


def stored_for(displayed: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores so that ``orientation`` shows ``displayed``."""
    method = UPRIGHT[orientation]
    return displayed.transpose(INVERSE.get(method, method))


def bits(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "CMYK", "I;16"])
def test_equals_imagehash(seed, mode):
    im = scene((200 + 37 * seed, 150 + 11 * seed), seed=seed).convert(mode)
    assert phash_image(im) == str(imagehash.phash(im))


@pytest.mark.parametrize("colour", [(255, 255, 255), (0, 0, 255), (137, 137, 137)])
def test_flat_images_hash_like_imagehash(colour):
    im = Image.new("RGB", (300, 200), colour)
    assert phash_image(im) == str(imagehash.phash(im)) == "8000000000000000"


def test_symmetric_image_is_stable():
    half = scene((100, 200), seed=3)
    im = Image.new("RGB", (200, 200))
    im.paste(half, (0, 0))
    im.paste(half.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (100, 0))
    assert phash_image(im) == str(imagehash.phash(im))


@given(arrays(np.float64, (8, 8), elements=st.floats(-1e6, 1e6) | st.sampled_from([0.0, 1.0, -1.0])))
def test_median_is_numpys(values):
    assert _median(values) == np.median(values)


def test_hashing_does_not_load_numpy_ma():
    """np.median imports numpy.ma (~7 ms of every run's start-up); the hash does without it."""
    import subprocess
    import sys

    code = (
        "import sys; from PIL import Image; from ikmeta.image.perceptual import phash_image; "
        "phash_image(Image.new('L', (64, 64))); print('numpy.ma' in sys.modules)"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )


def test_hex_format():
    value = phash_image(scene())
    assert re.fullmatch(r"[0-9a-f]{16}", value)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "WEBP", "JPEG"])
def test_orientation_is_applied(orientation, fmt):
    displayed = scene((320, 240), seed=1)
    stored = displayed if orientation == 1 else stored_for(displayed, orientation)
    params = {"lossless": True} if fmt == "WEBP" else {"quality": 95} if fmt == "JPEG" else {}
    data = encode(stored, fmt, exif=exif_with(t0x0112=orientation), **params)
    ours = phash_blob(Blob("x", data)).metadata["pHash"]
    assert bits(ours, phash_image(displayed)) <= (3 if fmt == "JPEG" else 0)


def test_upright_matches_pillow_exif_transpose():
    stored = scene((90, 60), seed=2)
    for orientation in range(1, 9):
        tagged = stored.copy()
        tagged.getexif()[0x0112] = orientation
        expected = ImageOps.exif_transpose(tagged)
        assert upright(stored, orientation).tobytes() == expected.tobytes()
    assert upright(stored, None) is stored and upright(stored, 9) is stored


@pytest.mark.parametrize("size", [(4000, 3000), (1600, 1200), (700, 500), (300, 200), (64, 48)])
def test_reduced_jpeg_decode_stays_close_to_the_full_decode(size):
    im = scene(size, seed=4)
    data = encode(im, "JPEG", quality=90)
    ours = phash_blob(Blob("x", data)).metadata["pHash"]
    full = str(imagehash.phash(Image.open(io.BytesIO(data))))
    assert bits(ours, full) <= 2


def test_imagehash_is_the_tests_reference_not_a_runtime_dependency():
    from importlib.metadata import requires

    needs = requires("ikmeta") or []
    imagehash = [line for line in needs if line.lower().startswith("imagehash")]
    assert imagehash and all('extra == "test"' in line for line in imagehash), imagehash


# What each of TURNS does to a picture, in Pillow's terms (Pillow's ROTATE_90 turns counter-clockwise).
TURNED_BY_PILLOW = {
    "rotated 90": [Image.Transpose.ROTATE_270],
    "rotated 180": [Image.Transpose.ROTATE_180],
    "rotated 270": [Image.Transpose.ROTATE_90],
    "mirrored": [Image.Transpose.FLIP_LEFT_RIGHT],
    "mirrored, rotated 90": [Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_270],
    "mirrored, rotated 180": [Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180],
    "mirrored, rotated 270": [Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_90],
}


def turn(im: Image.Image, name: str) -> Image.Image:
    for step in TURNED_BY_PILLOW[name]:
        im = im.transpose(step)
    return im


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("size", [(400, 300), (257, 511)])
def test_turned_hashes_are_the_pHashes_of_the_turned_pictures(seed, size):
    """From one DCT: each turned hash is the pHash of the picture turned that way (to the
    rounding of the resized pixels, which can move a coefficient next to the median)."""
    from ikmeta.hashes import TURNS, distance
    from ikmeta.image.perceptual import low_frequencies, turned_hashes

    im = scene(size, seed=seed)
    hashes = turned_hashes(low_frequencies(im)[0])
    apart = [distance(phash_image(turn(im, name)), h) for name, h in zip(TURNS, hashes, strict=True)]
    assert max(apart) <= 2 and apart.count(0) >= 5, apart
    assert len(set(hashes)) > 4  # not one hash seven times


def test_turns_and_their_inverses():
    from ikmeta.hashes import INVERSE, TURNS

    im = scene((60, 40), seed=1)
    for k, name in enumerate(TURNS):
        back = turn(turn(im, name), TURNS[INVERSE[k]])
        assert back.tobytes() == im.tobytes(), name


def test_phash_blob_reports_the_turned_hashes_and_none_for_a_flat_image():
    picture = phash_blob(Blob("p.png", encode(scene(), "PNG"))).metadata
    assert len(picture["turned"]) == 7 and all(re.fullmatch("[0-9a-f]{16}", h) for h in picture["turned"])
    flat = phash_blob(Blob("f.png", encode(Image.new("RGB", (50, 50), (9, 9, 9)), "PNG"))).metadata
    assert flat["turned"] is None
