#!/usr/bin/env python3
"""How far ikmeta's windows reach: the tables of bench/README.md's "Windows" section.

    python3 tools/window_reach.py crops ../shared/corpus/exif-samples
    python3 tools/window_reach.py distances SET [SET...]

``crops``: each photo of the folder (as make_dupes_set.py picks them: 200 pixels or more a
side, not the orientation copies, HDR twins or broken files), cropped by each amount all
round, off one side, or covered by a black band at its foot, on the grey sample ikmeta hashes
(decoded and turned upright as ``phash`` does), against its own windows: the share found
within the window radius at ``--max 10``.

``distances``: for labelled sets made by make_dupes_set.py (``--kinds all``), the smallest
distance between an original and its crop5, crop_side20 and captioned copies through
windows (a window of one against the other as it stands; the same edge window of both),
and the smallest between the originals and copies of two different scenes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ikmeta.dupes.views import EDGE_WINDOWS, view_radius
from ikmeta.image.decode import open_image
from ikmeta.image.exif import read_exif
from ikmeta.image.metadata import FLAT_SPREAD, exif_block, grey_sample, short_format
from ikmeta.image.perceptual import low_frequencies, phash_of, window_hashes
from ikmeta.sources.read import read_source

RADIUS = view_radius(10)
ALL_ROUND = (0.02, 0.05, 0.08, 0.1, 0.12, 0.15)
ONE_SIDE = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
BANDS = (0.05, 0.1, 0.15, 0.2, 0.25)
PHOTOS = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".heic", ".heif"}
LEFT_OUT = ("orientation/", "_YES.", "invalid/", "corrupted")  # make_dupes_set.py's default


def grey_of(path: str) -> Image.Image:
    """The grey picture ikmeta hashes (metadata.grey_sample) of a file."""
    blob = read_source(path)
    im = open_image(blob)
    fmt = short_format(im)
    orientation = read_exif(exif_block(blob, im, fmt) or b"", makernote=False)["image"].get("Orientation")
    return grey_sample(blob, im, fmt, orientation)[0]


def own_hash(im: Image.Image) -> int:
    return int(phash_of(low_frequencies(im)[0]), 16)


def windows_of(im: Image.Image) -> list[int]:
    own = own_hash(im)
    return [int(h, 16) if h else own for h in window_hashes(im, FLAT_SPREAD)]


def cut(im: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = im.size
    return im.crop((round(left * w), round(top * h), round(w - right * w), round(h - bottom * h)))


def crops(folder: str) -> None:
    found: dict[tuple[str, float], list[bool]] = {}
    photos = 0
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            path = os.path.join(root, name)
            if os.path.splitext(name)[1].lower() not in PHOTOS or any(part in path for part in LEFT_OUT):
                continue
            try:
                im = grey_of(path)
                if min(Image.open(path).size) < 200:
                    continue
            except Exception:  # noqa: BLE001 - an unreadable file is not a scene
                continue
            photos += 1
            seen = [own_hash(im), *windows_of(im)]
            for amount in ALL_ROUND:
                copy = own_hash(cut(im, amount, amount, amount, amount))
                found.setdefault(("all round", amount), []).append(
                    min((copy ^ h).bit_count() for h in seen) <= RADIUS
                )
            for amount in ONE_SIDE:
                copy = own_hash(cut(im, amount, 0, 0, 0))
                found.setdefault(("one side", amount), []).append(
                    min((copy ^ h).bit_count() for h in seen) <= RADIUS
                )
            for amount in BANDS:
                banded = im.copy()
                ImageDraw.Draw(banded).rectangle(
                    (0, round(im.height * (1 - amount)), im.width, im.height), fill=0
                )
                theirs = windows_of(banded)
                near = (own_hash(banded) ^ seen[0]).bit_count() <= 10 or any(
                    (theirs[j] ^ seen[1 + j]).bit_count() <= RADIUS for j in EDGE_WINDOWS
                )
                found.setdefault(("band at the foot", amount), []).append(near)
    print(f"{photos} photos, found within {RADIUS} of a window (or within 10 as they stand):\n")
    for kind, amounts in (("all round", ALL_ROUND), ("one side", ONE_SIDE), ("band at the foot", BANDS)):
        print(f"| {kind} | " + " | ".join(f"{a:.0%}" for a in amounts) + " |")
        print("| --- " * (len(amounts) + 1) + "|")
        hits = [found[(kind, a)] for a in amounts]
        print("| found | " + " | ".join(f"{sum(h) / len(h):.0%}" for h in hits) + " |\n")


def distances(sets: list[str]) -> None:
    for folder in sets:
        truth = json.loads((Path(folder) / "truth.json").read_text())
        hashes = {}
        for rel in truth:
            im = grey_of(os.path.join(folder, rel))
            hashes[rel] = (own_hash(im), windows_of(im))

        original = {scene: rel for rel, scene in truth.items() if "_orig" in rel}
        print(f"{folder}:")
        for kind in ("crop5", "crop_side20", "caption"):
            pairs = [
                through_windows(hashes[original[truth[rel]]], hashes[rel])
                for rel in truth
                if f"_{kind}." in rel
            ]
            crop, edge = sorted(p[0] for p in pairs), sorted(p[1] for p in pairs)
            print(f"  {kind}: window against as it stands {crop}, same edge window {edge}")
        apart = [
            through_windows(hashes[a], hashes[b])
            for a, b in itertools.combinations(truth, 2)
            if truth[a] != truth[b]
        ]
        print(
            f"  {len(apart)} pairs of different scenes: smallest {min(p[0] for p in apart)} "
            f"(window against as it stands), {min(p[1] for p in apart)} (same edge window)"
        )


def through_windows(a: tuple[int, list[int]], b: tuple[int, list[int]]) -> tuple[int, int]:
    """The smallest distance of two pictures ((pHash, windows) each) through a window of one
    against the other as it stands, and through the same edge window of both."""
    (plain_a, windows_a), (plain_b, windows_b) = a, b
    crop = min(
        *((w ^ plain_b).bit_count() for w in windows_a), *((w ^ plain_a).bit_count() for w in windows_b)
    )
    edge = min((windows_a[j] ^ windows_b[j]).bit_count() for j in EDGE_WINDOWS)
    return crop, edge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("crops").add_argument("folder")
    sub.add_parser("distances").add_argument("sets", nargs="+")
    args = parser.parse_args()
    if args.command == "crops":
        crops(args.folder)
    else:
        distances(args.sets)


if __name__ == "__main__":
    main()
