"""Telling an upscale from the copy it was made from by the fine detail each holds."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from ikmeta.image.detail import NOISE_FLOOR, OWN, SCALES, detail_profile, loss_at, upscaled_from
from ikmeta.sources.base import Blob


def photo(size=(480, 360), seed=0) -> Image.Image:
    """A picture with detail at every scale, as a photo of foliage or gravel has."""
    rng = np.random.default_rng(seed)
    base = rng.normal(128, 40, (size[1] // 4, size[0] // 4))
    coarse = np.asarray(Image.fromarray(base.astype(np.float32)).resize(size, Image.Resampling.BICUBIC))
    fine = rng.normal(0, 25, (size[1], size[0]))
    return Image.fromarray(np.clip(coarse + fine, 0, 255).astype(np.uint8)).convert("RGB")


def blob(im: Image.Image, name="a.jpg", **params) -> Blob:
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=params.pop("quality", 92), **params)
    return Blob(name, buffer.getvalue())


def profile(im: Image.Image) -> tuple[float, ...]:
    found = detail_profile(blob(im))
    assert found is not None and len(found) == len(SCALES)
    return found


@pytest.mark.parametrize("factor", [1.25, 1.5, 2.0])
def test_an_upscale_is_told_from_the_photo_it_was_made_from(factor):
    original = photo()
    big = original.resize((round(480 * factor), round(360 * factor)), Image.Resampling.LANCZOS)
    assert upscaled_from(profile(big), profile(original), 1 / factor) is True


@pytest.mark.parametrize("factor", [1.25, 1.5, 2.0])
def test_a_photo_is_not_an_upscale_of_its_downscale(factor):
    original = photo((720, 540), seed=1)
    small = original.resize((round(720 / factor), round(540 / factor)), Image.Resampling.LANCZOS)
    assert upscaled_from(profile(original), profile(small), 1 / factor) is False


def test_a_soft_picture_cannot_tell_and_says_so():
    soft = photo(seed=2).filter(ImageFilter.GaussianBlur(4))
    big = soft.resize((720, 540), Image.Resampling.LANCZOS)
    small_profile = profile(soft)
    assert small_profile[OWN] < NOISE_FLOOR
    assert upscaled_from(profile(big), small_profile, 2 / 3) is None


def test_a_picture_too_small_to_measure_has_no_profile():
    assert detail_profile(blob(photo((60, 40)))) is None


def test_shares_outside_the_measured_range_claim_nothing():
    sharp = (9.0,) * len(SCALES)
    assert upscaled_from((0.1,) * len(SCALES), sharp, 0.3) is False


def test_the_loss_is_read_at_the_first_share_at_or_above():
    steps = tuple(float(k) for k in range(len(SCALES), 0, -1))
    assert loss_at(steps, SCALES[2]) == steps[2]
    assert loss_at(steps, SCALES[2] + 0.01) == steps[3]
