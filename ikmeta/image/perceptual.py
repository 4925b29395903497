"""pHash: imagehash's 64-bit DCT perceptual hash, of an image as displayed.

The algorithm is ``imagehash.phash`` step for step: greyscale, Lanczos resize to 32x32,
a 2-D DCT-II, the top-left 8x8 coefficients compared with their median, the 64 bits as
16 hex digits (first coefficient first). The DCT is one matrix product in numpy, which
keeps scipy's import (~0.2 s) off every run; tests hold it equal to imagehash's.

    >>> phash_image(Image.open("photo.jpg"))
    'f06830ca9f1e3e90'
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from ikmeta.hashes import WINDOWS

HASH_SIZE = 8
SAMPLE_SIZE = HASH_SIZE * 4
# DCT-II basis, scipy.fftpack.dct's unnormalised scaling: 2 cos(pi k (2n + 1) / 2N), k < 8.
_k = np.arange(HASH_SIZE)[:, None]
_n = np.arange(SAMPLE_SIZE)[None, :]
DCT_BASIS = 2.0 * np.cos(np.pi * _k * (2 * _n + 1) / (2 * SAMPLE_SIZE))
del _k, _n
WINDOW_SAMPLE = 96  # pixels on the long side of the sample windows are taken from
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
    return phash_of(low_frequencies(image)[0])


def low_frequencies(image: Image.Image) -> tuple[np.ndarray, float]:
    """The 8x8 lowest DCT coefficients pHash thresholds (rows: vertical frequency), and the
    spread (standard deviation) of the 32x32 grey sample. A spread near 0 means a flat image
    (a solid colour, a blank page): its hash is then noise, not a fingerprint, and duplicate
    search leaves it out."""
    small = greyscale(image).resize((SAMPLE_SIZE, SAMPLE_SIZE), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    low = DCT_BASIS @ pixels @ DCT_BASIS.T
    # Coefficients that are zero in exact arithmetic (flat or symmetric images) come out
    # as +-1e-13 here; scipy's FFT gives them as exact zeros. Snap them, so they compare alike.
    low[np.abs(low) < ROUNDOFF] = 0.0
    return low, float(pixels.std())


def phash_of(low: np.ndarray) -> str:
    """The pHash (16 hex digits) of a low DCT block: its coefficients above their median."""
    return np.packbits(low > _median(low)).tobytes().hex()


_ODD = np.where(np.arange(HASH_SIZE) % 2 == 1, -1.0, 1.0)  # (-1)^k: frequency k of a reversed axis


def turned_blocks(low: np.ndarray) -> list[np.ndarray]:
    """The low DCT block of the picture turned each way of :data:`ikmeta.hashes.TURNS`, from its own block.

    Reversing an axis of the 32x32 sample negates its odd frequencies (DCT-II: cos(pi k
    (2(N-1-n)+1) / 2N) = (-1)^k cos(pi k (2n+1) / 2N)); a transpose swaps the axes. Resizing to
    32x32 commutes with both, so each block is, to rounding, that of the turned picture.
    """
    columns, rows = _ODD[None, :], _ODD[:, None]  # reverse x (left-right), reverse y (top-bottom)
    mirrored = low * columns  # x -> 31 - x
    return [
        low.T * columns,  # rotated 90 clockwise: new[y][x] = old[31 - x][y]
        low * rows * columns,  # rotated 180
        low.T * rows,  # rotated 270: new[y][x] = old[x][31 - y]
        mirrored,
        mirrored.T * columns,  # mirrored, then rotated 90
        mirrored * rows * columns,  # mirrored, then rotated 180 (upside down)
        mirrored.T * rows,  # mirrored, then rotated 270
    ]


def turned_hashes(low: np.ndarray) -> tuple[str, ...]:
    """The pHash of the picture turned each way of :data:`ikmeta.hashes.TURNS` (each block thresholded at its
    own median, as pHash does), from the picture's own low DCT block."""
    return tuple(phash_of(block) for block in turned_blocks(low))


def window_hashes(grey: Image.Image, flat_spread: float) -> tuple[str | None, ...]:
    """The pHash of each window of :data:`ikmeta.hashes.WINDOWS` of a grey picture, or None
    for a window whose pixels spread less than ``flat_spread`` (nearly blank: its hash would
    be noise).

    A window's hash is pHash's (its 8x8 lowest DCT frequencies above their median), of the
    window averaged down to 32x32 by area rather than by Lanczos: a large picture is first
    box-reduced to WINDOW_SAMPLE pixels on its long side, then each window is one product of
    small matrices with its pixels (the DCT basis times the area weights, cached per window
    size), and the ten are thresholded together. About 0.3 ms a picture, a tenth of ten
    resizes and DCTs.
    """
    if max(grey.size) > WINDOW_SAMPLE:
        scale = WINDOW_SAMPLE / max(grey.size)
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float64)
    height, width = pixels.shape
    # Sums of the pixels and of their squares over any rectangle: each window's spread at once.
    sums, squares = np.zeros((2, height + 1, width + 1))
    np.cumsum(pixels.cumsum(axis=0), axis=1, out=sums[1:, 1:])
    np.cumsum((pixels * pixels).cumsum(axis=0), axis=1, out=squares[1:, 1:])
    lows, blank = [], []
    for left, top, right, bottom in WINDOWS:
        x0, x1 = round(left * width), round(right * width)
        y0, y1 = round(top * height), round(bottom * height)
        count = (x1 - x0) * (y1 - y0)
        total = sums[y1, x1] - sums[y0, x1] - sums[y1, x0] + sums[y0, x0]
        total_squares = squares[y1, x1] - squares[y0, x1] - squares[y1, x0] + squares[y0, x0]
        variance = max(0.0, total_squares / count - (total / count) ** 2)
        blank.append(variance < flat_spread * flat_spread)
        lows.append(_area_dct(y1 - y0) @ pixels[y0:y1, x0:x1] @ _area_dct(x1 - x0).T)
    blocks = np.stack(lows).reshape(len(WINDOWS), -1)
    blocks[np.abs(blocks) < ROUNDOFF] = 0.0
    ordered = np.sort(blocks, axis=1)
    middle = blocks.shape[1] // 2
    medians = ordered[:, middle - 1 : middle + 1].mean(axis=1, keepdims=True)
    packed = np.packbits(blocks > medians, axis=1)
    return tuple(None if flat else row.tobytes().hex() for row, flat in zip(packed, blank, strict=True))


@functools.lru_cache(maxsize=512)
def _area_dct(size: int) -> np.ndarray:
    """The 8 lowest DCT-II rows of an axis of ``size`` pixels averaged by area to 32: the DCT
    basis (8x32) times the area weights (32 x size), each output pixel the mean of the input
    span it covers (fractions of pixels at its ends)."""
    edges = np.arange(SAMPLE_SIZE + 1) * (size / SAMPLE_SIZE)
    starts, ends = edges[:-1, None], edges[1:, None]
    pixel = np.arange(size)[None, :]
    overlap = np.clip(np.minimum(pixel + 1, ends) - np.maximum(pixel, starts), 0.0, None)
    weights = overlap / overlap.sum(axis=1, keepdims=True)
    basis: np.ndarray = DCT_BASIS @ weights
    return basis


def _median(values: np.ndarray) -> float:
    """``np.median`` of an even count of values, without the numpy.ma import np.median costs (~7 ms)."""
    ordered = np.sort(values, axis=None)
    middle = ordered.size // 2
    return float(ordered[middle - 1 : middle + 1].mean())
