"""How much fine detail a picture holds, measured so that an upscale can be told from the copy it
was made from (an upscale invents pixels, not detail).

    >>> profile = detail_profile(read_source("examples/harbour.jpg"))
    >>> len(profile) == len(SCALES)
    True

The measure is what a round trip would lose: a few of the picture's most detailed tiles, at
full resolution, are taken to frequencies (one windowed FFT each); the energy beyond a share
``s`` of the finest, along either axis (what shrinking to ``s`` of the size and enlarging back
would drop), as an RMS in grey levels, is the detail between the picture's finest and ``s``
of it. A copy enlarged by ``k`` has next to none above ``1/k`` of its own finest, so its
loss at ``s = 1/k`` is small next to the finest detail of the copy it was made from.
:func:`upscaled_from` compares the two: with both profiles in hand, the question costs nothing
(profiles are cached beside the hashes).

Only the detail that is there can be measured: a picture that is soft at its own size (out of
focus, heavily smoothed, a scan) holds no fine detail to lose, so between it and an enlargement
of it the measure says nothing, and other evidence decides (:mod:`ikmeta.dupes.rank`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .decode import decoding, open_image
from .limits import MAX_PIXELS

if TYPE_CHECKING:
    from PIL import Image

    from ikmeta.sources.base import Blob

SCALES = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)  # the shares a profile's round trips go through
OWN = SCALES.index(0.8)  # a picture's own finest detail: its loss through 0.8
TILE = 256  # side of the tiles measured (smaller pictures: their short side)
MIN_TILE = 64  # pictures smaller than this on a side are not measured
TILES = 4  # the most detailed tiles of a 5 x 5 grid
UPSCALE_SHARE = 0.5  # an upscale loses at most this share of its source's own finest detail
GENUINE_SHARE = 0.7  # a picture with detail of its own loses more than this share (up to 2x)
NOISE_FLOOR = 1.0  # a source losing less than this (grey levels) is too soft to judge by


def detail_profile(blob: Blob, max_pixels: int | None = MAX_PIXELS) -> tuple[float, ...] | None:
    """The round-trip loss of the picture through each share of :data:`SCALES` (grey levels),
    or None for a picture too small to measure. Decodes the image at full resolution, in grey
    (a JPEG too: its whole size counts against the pixel budget); an image of more than
    ``max_pixels`` pixels (None or 0: no limit) is an :class:`~ikmeta.errors.ImageError`.

    >>> detail_profile(read_source("examples/harbour.jpg"))  # doctest: +SKIP
    (5.1, 4.2, 3.3, 2.4, 1.2)
    """
    im = open_image(blob, max_pixels)
    with decoding(im, reduced=False):
        if im.format == "JPEG" and im.mode in ("RGB", "L", "YCbCr", "CMYK"):
            im.draft("L", im.size)  # full size, grey straight from the luma: no colour conversion
        im.load()
        side = min(TILE, *im.size)
        if side < MIN_TILE:
            return None
        tiles = _detailed_tiles(im, side)
        im.close()  # freed while its share of the budget is held
    profiles = np.array([_tile_losses(tile) for tile in tiles])
    return tuple(round(float(v), 3) for v in np.median(profiles, axis=0))


def _tile_losses(tile: np.ndarray) -> np.ndarray:
    """What a tile loses through each share of :data:`SCALES` (RMS, grey levels): the energy of
    its frequencies beyond the share of its finest along either axis (as shrinking it to that
    share and back would drop them), read from one windowed FFT."""
    side = tile.shape[0]
    window = np.outer(np.hanning(side), np.hanning(side)).astype(np.float32)
    power = np.abs(np.fft.fft2((tile - tile.mean()) * window)) ** 2 / (side**4 * float(np.mean(window**2)))
    frequency = np.abs(np.fft.fftfreq(side)) * 2  # 1 at the finest (Nyquist)
    reach = np.maximum.outer(frequency, frequency)
    return np.sqrt([float(power[reach > share].sum()) for share in SCALES])


def upscaled_from(big: tuple[float, ...], small: tuple[float, ...], share: float) -> bool | None:
    """Whether the picture of profile ``big`` is an enlargement of a picture like ``small``,
    ``share`` of its size (its side, 0 < share < 1): it loses next to nothing through
    ``share``, while ``small`` holds fine detail of its own (True); it loses as much as a
    picture with detail of its own does (False); or it cannot be told (None): ``small`` is
    too soft, or the loss is between the two.

    >>> soft = (0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.6, 0.5, 0.4)
    >>> sharp = (9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0, 4.5, 3.0)
    >>> upscaled_from(soft, sharp, 2 / 3), upscaled_from(sharp, sharp, 2 / 3), upscaled_from(sharp, soft, 2 / 3)
    (True, False, None)
    """
    if not SCALES[0] <= share <= SCALES[-1] + 0.05:
        return False
    own = small[OWN]
    if own < NOISE_FLOOR:
        return None
    loss = loss_at(big, share)
    if loss < UPSCALE_SHARE * own:
        return True
    return False if loss > GENUINE_SHARE * own else None


def loss_at(profile: tuple[float, ...], share: float) -> float:
    """The profile's loss through the first share of :data:`SCALES` at or above ``share`` (an
    upscale loses nothing through any share above the one it was made at; interpolating across
    it would).

    >>> loss_at((9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0), 0.67)
    5.0
    """
    index = next((k for k, s in enumerate(SCALES) if s >= share - 1e-9), len(SCALES) - 1)
    return profile[index]


def _grey(im: Image.Image) -> np.ndarray:
    """A decoded picture (or a tile of it) as a 2-D array of grey levels 0-255."""
    if im.mode.startswith("I;16"):
        return np.asarray(im, dtype=np.float32) / 257
    if im.mode in ("I", "F"):
        return np.asarray(im, dtype=np.float32)
    try:
        return np.asarray(im.convert("L"), dtype=np.float32)
    except ValueError:  # a mode Pillow cannot make grey: its first band
        return np.asarray(im.getchannel(0).convert("L"), dtype=np.float32)


def _detailed_tiles(im: Image.Image, side: int) -> list[np.ndarray]:
    """The :data:`TILES` tiles (``side`` square) of a 5 x 5 grid over the picture with the most
    detail (mean difference between neighbours): a sky or a wall has none to measure. Only
    the grid's tiles are made arrays, not the whole picture."""
    width, height = im.size
    scored: list[tuple[float, int, np.ndarray]] = []
    for top in np.linspace(0, height - side, 5).astype(int):
        for left in np.linspace(0, width - side, 5).astype(int):
            tile = _grey(im.crop((int(left), int(top), int(left) + side, int(top) + side)))
            detail = float(np.abs(np.diff(tile, axis=1)).mean() + np.abs(np.diff(tile, axis=0)).mean())
            scored.append((detail, len(scored), tile))
    scored.sort(key=lambda found: (-found[0], found[1]))
    return [tile for _, _, tile in scored[:TILES]]
