#!/usr/bin/env python3
"""Benchmark `ikmeta inspect --ndjson` against `exiftool -j`, on the same files in the same run.

    python3 bench/inspect.py [--corpus ../shared/corpus] [--rounds 5] [--repeat 10]

Sets: the whole corpus, and the corpus's JPEGs of 2 megapixels and more. Each set is run
once as given (one process per tool, start-up included) and once with the file list
repeated --repeat times in the one process (steady-state throughput). The best of --rounds
wall times counts. Prints images/s for both tools and ikmeta's ratio (above 1: faster).

The decode floor is the time to decode, in this process on all cores, just what ikmeta
must decode for the pHash (JPEGs at reduced scale, as ikmeta does), with no start-up, EXIF
or output; "decode floor" after each ratio is exiftool's time over that floor: the ratio no
pixel-hashing run of that set can pass with these decoders on this machine.

Then the peak resident memory of `ikmeta inspect` on one 24-megapixel JPEG the bench draws.
Target: ikmeta at least exiftool's throughput; peak memory under 200 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: this file's name would shadow the standard library's inspect
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".heif", ".png", ".webp"}
IKMETA = [sys.executable, "-m", "ikmeta", "inspect", "--ndjson"]
EXIFTOOL = ["exiftool", "-j", "-q", "-q"]


def corpus_files(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def big_jpegs(files: list[str]) -> list[str]:
    from PIL import Image

    out = []
    for f in files:
        if f.lower().endswith((".jpg", ".jpeg")):
            try:
                with Image.open(f) as im:
                    if im.width * im.height >= 2_000_000:
                        out.append(f)
            except Exception:  # noqa: BLE001 - not an image Pillow opens: not in the set
                pass
    return out


def best_time(command: list[str], files: list[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command + files, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def floor_time(files: list[str], rounds: int) -> float:
    from bench.floor import decode_all

    return min(decode_all(files) for _ in range(rounds))


def compare(label: str, files: list[str], rounds: int, floor: float) -> float:
    ours = best_time(IKMETA, files, rounds)
    theirs = best_time(EXIFTOOL, files, rounds)
    ratio = theirs / ours
    print(
        f"{label:44s} {len(files):5d} files  ikmeta {len(files) / ours:7.1f} img/s  "
        f"exiftool {len(files) / theirs:7.1f} img/s  ratio {ratio:5.2f}  (decode floor: {theirs / floor:5.2f})"
    )
    return ratio


def draw_24mp(path: Path) -> None:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (6000, 4000), (40, 90, 160))
    draw = ImageDraw.Draw(im)
    for i in range(400):
        x, y = (i * 733) % 6000, (i * 379) % 4000
        draw.rectangle([x, y, x + 300, y + 200], fill=((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
    im.save(path, "JPEG", quality=92)


def peak_memory_mb(command: list[str]) -> float:
    """Peak RSS of ``command``, in a helper process so that only its child is counted."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
    return int(out.stdout) / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", default=os.environ.get("IKMETA_CORPUS", str(ROOT.parent / "shared" / "corpus"))
    )
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    if shutil.which("exiftool") is None:
        sys.exit("bench/inspect.py: exiftool is needed (Debian: libimage-exiftool-perl)")
    files = corpus_files(Path(args.corpus))
    big = big_jpegs(files)
    print(f"cpus: {len(os.sched_getaffinity(0))}  corpus: {args.corpus}")
    floor_all, floor_big = floor_time(files, args.rounds), floor_time(big, args.rounds)
    print(
        f"decode floor, in process on all cores: corpus {len(files) / floor_all:.1f} img/s, "
        f"JPEGs >= 2 MP {len(big) / floor_big:.1f} img/s"
    )
    ratios = [
        compare("corpus, one run", files, args.rounds, floor_all),
        compare(
            f"corpus x{args.repeat}, one run",
            files * args.repeat,
            max(1, args.rounds // 2),
            floor_all * args.repeat,
        ),
        compare("JPEGs >= 2 MP, one run", big, args.rounds, floor_big),
        compare(
            f"JPEGs >= 2 MP x{args.repeat}, one run",
            big * args.repeat,
            max(1, args.rounds // 2),
            floor_big * args.repeat,
        ),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "24mp.jpg"
        draw_24mp(photo)
        peak = peak_memory_mb([*IKMETA[:-1], str(photo)])
    print(f"peak memory, one 24 MP JPEG ({photo.name}, 6000x4000): {peak:.0f} MB (target < 200 MB)")
    print(f"worst throughput ratio ikmeta/exiftool: {min(ratios):.2f} (target >= 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
