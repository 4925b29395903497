"""pHash: imagehash's 64-bit DCT perceptual hash, of an image as displayed.

The algorithm is ``imagehash.phash`` step for step: greyscale, Lanczos resize to 32x32,
a 2-D DCT-II, the top-left 8x8 coefficients compared with their median, the 64 bits as
16 hex digits (first coefficient first). The DCT is one matrix product in numpy, which
keeps scipy's import (~0.2 s) off every run; tests hold it equal to imagehash's.

    >>> phash_image(Image.open("photo.jpg"))
    'f06830ca9f1e3e90'
"""

from __future__ import annotations

import numpy as np
from PIL import Image

HASH_SIZE = 8
SAMPLE_SIZE = HASH_SIZE * 4
# DCT-II basis, scipy.fftpack.dct's unnormalised scaling: 2 cos(pi k (2n + 1) / 2N), k < 8.
_k = np.arange(HASH_SIZE)[:, None]
_n = np.arange(SAMPLE_SIZE)[None, :]
DCT_BASIS = 2.0 * np.cos(np.pi * _k * (2 * _n + 1) / (2 * SAMPLE_SIZE))
del _k, _n
ROUNDOFF = 1e-6  # far below any real coefficient of 8-bit pixels (the smallest is ~1e-2)

# EXIF Orientation -> the Pillow transpose that shows the image upright (as ImageOps.exif_transpose).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def upright(image: Image.Image, orientation: object) -> Image.Image:
    """``image`` turned as its EXIF ``orientation`` (1-8) says it is displayed."""
    method = UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    return image.transpose(method) if method is not None else image


def greyscale(im: Image.Image) -> Image.Image:
    """``im`` as 8-bit grey ("L"), as imagehash converts it; LAB images give their L channel.

    Raises ValueError for the few modes Pillow cannot turn grey.
    """
    if im.mode == "L":
        return im
    if im.mode == "LAB":
        return im.getchannel("L")
    return im.convert("L")


def phash_image(image: Image.Image) -> str:
    """The pHash of ``image`` as 16 lowercase hex digits."""
    return phash_and_spread(image)[0]


def phash_and_spread(image: Image.Image) -> tuple[str, float]:
    """The pHash of ``image``, and the standard deviation of the 32x32 grey sample it is made from.

    A spread near 0 means a flat image (a solid colour, a blank page): its hash is then noise,
    not a fingerprint, and duplicate search leaves it out.
    """
    small = greyscale(image).resize((SAMPLE_SIZE, SAMPLE_SIZE), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    low = DCT_BASIS @ pixels @ DCT_BASIS.T
    # Coefficients that are zero in exact arithmetic (flat or symmetric images) come out
    # as +-1e-13 here; scipy's FFT gives them as exact zeros. Snap them, so they compare alike.
    low[np.abs(low) < ROUNDOFF] = 0.0
    return np.packbits(low > _median(low)).tobytes().hex(), float(pixels.std())


def _median(values: np.ndarray) -> float:
    """``np.median`` of an even count of values, without the numpy.ma import np.median costs (~7 ms)."""
    ordered = np.sort(values, axis=None)
    middle = ordered.size // 2
    return float(ordered[middle - 1 : middle + 1].mean())
