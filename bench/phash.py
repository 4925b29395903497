#!/usr/bin/env python3
"""Benchmark `ikmeta phash` against the naive loop and the decode floor, in one run.

    python3 bench/phash.py [--corpus ../shared/corpus] [--rounds 3] [--folder-size 200]

Sets: the corpus's JPEGs of 2 megapixels and more, and a folder of --folder-size copies
of them that the bench makes. Per image, for each set:
- naive: `imagehash.phash(ImageOps.exif_transpose(Image.open(p)))` in this process;
- floor: decoding alone at the reduced scale ikmeta uses (Pillow draft mode), in this process;
- `ikmeta phash -j 1` and `-j <all cores>` on the set, as commands (start-up included, and
  also shown with the start-up of `ikmeta phash` on one small image taken off).
Targets: one job at least 5x faster than naive and within 1.3x of the floor; all cores
close to linear. Two bounds are printed too: naive / floor, and naive / (floor + the bare
start-up of a hashing command: the interpreter loading Click, numpy and Pillow, nothing of
ikmeta), which no one-job `ikmeta phash` (or any command built as the design says) can pass.
Then start-up: `ikmeta --help` and `ikmeta distance HASH HASH` against
`python -c 'import click'`, target under 1.5x.
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
sys.path[0] = str(ROOT)  # not bench/, whose inspect.py would shadow the standard library's

import imagehash  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from ikmeta.image.decode import DRAFT_SIZE  # noqa: E402
from ikmeta.parallel import default_jobs  # noqa: E402

PHASH = [sys.executable, "-m", "ikmeta", "phash"]
# What any `ikmeta phash` must load before its first hash: the interpreter and the libraries
# the design names (Click for the CLI, Pillow to decode, numpy for the DCT).
BARE_START = "import click, numpy, PIL.Image, PIL.JpegImagePlugin"


def big_jpegs(root: Path) -> list[str]:
    out = []
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() in (".jpg", ".jpeg"):
            try:
                with Image.open(p) as im:
                    if im.width * im.height >= 2_000_000:
                        out.append(str(p))
            except Exception:  # noqa: BLE001 - not an image Pillow opens: not in the set
                pass
    return out


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def naive(files: list[str]) -> None:
    for f in files:
        imagehash.phash(ImageOps.exif_transpose(Image.open(f)))


def floor(files: list[str]) -> None:
    for f in files:
        with Image.open(f) as im:
            im.draft("L" if im.mode in ("RGB", "L") else None, DRAFT_SIZE)
            im.load()


def command(args: list[str]) -> None:
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def report(
    label: str, files: list[str], arg: list[str], rounds: int, jobs: int, startup: float, bare_start: float
) -> None:
    n = len(files)
    t_naive = best(lambda: naive(files), max(1, rounds - 1)) / n
    t_floor = best(lambda: floor(files), rounds) / n
    t_one = best(lambda: command([*PHASH, "-j", "1", *arg]), rounds) / n
    t_all = best(lambda: command([*PHASH, "-j", str(jobs), *arg]), rounds) / n
    t_one_net = t_one - startup / n
    t_all_net = t_all - startup / n
    ms = 1000
    print(f"{label} ({n} images)")
    print(f"  naive loop            {t_naive * ms:7.2f} ms/img")
    print(f"  decode floor          {t_floor * ms:7.2f} ms/img")
    print(f"  ikmeta phash -j 1     {t_one * ms:7.2f} ms/img   ({t_one_net * ms:.2f} less start-up)")
    print(f"  ikmeta phash -j {jobs:<4d}  {t_all * ms:7.2f} ms/img   ({t_all_net * ms:.2f} less start-up)")
    print(f"  naive / ikmeta -j 1   {t_naive / t_one:7.2f}x  (target >= 5)")
    bound = t_naive / (t_floor + bare_start / n)
    print(f"  naive / floor         {t_naive / t_floor:7.2f}x  (decoding alone, in a running process)")
    print(
        f"  naive / (floor + bare start-up) {bound:5.2f}x  (the most any -j 1 command of this design "
        f"can reach)"
    )
    print(
        f"  ikmeta -j 1 / floor   {t_one / t_floor:7.2f}x  ({t_one_net / t_floor:.2f}x less start-up; target <= 1.3)"
    )
    print(
        f"  -j 1 / -j {jobs:<4d}         {t_one / t_all:7.2f}x  ({t_one_net / t_all_net:.2f}x less start-up; "
        f"linear = {jobs})"
    )


def startup(rounds: int) -> tuple[float, float]:
    def wall(args: list[str]) -> float:
        return best(lambda: command(args), rounds)

    base = wall([sys.executable, "-c", "import click"])
    print(f"start-up (best of {rounds}): python -c 'import click' {base * 1000:.1f} ms")
    bare = wall([sys.executable, "-c", BARE_START])
    print(f"  python -c '{BARE_START}' {bare * 1000:.1f} ms (bare start-up of a hashing command)")
    for label, args in [
        ("ikmeta --help", ["--help"]),
        ("ikmeta distance HASH HASH", ["distance", "2d5ad3936d2e015b", "2d6ed293db36a4fb"]),
    ]:
        t = wall([sys.executable, "-m", "ikmeta", *args])
        print(f"  {label:28s} {t * 1000:6.1f} ms  {t / base:.2f}x  (target < 1.5)")
    one = wall([*PHASH, str(ROOT / "examples" / "badge.png")])
    print(f"  {'ikmeta phash (one image)':28s} {one * 1000:6.1f} ms")
    return one, bare


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", default=os.environ.get("IKMETA_CORPUS", str(ROOT.parent / "shared" / "corpus"))
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--folder-size", type=int, default=200)
    args = ap.parse_args()
    jobs = default_jobs()
    files = big_jpegs(Path(args.corpus))
    if not files:
        sys.exit(f"bench/phash.py: no JPEGs of 2 MP or more under {args.corpus}")
    print(f"cpus: {jobs}")
    start, bare = startup(max(5, args.rounds))
    report("corpus JPEGs >= 2 MP", files, files, args.rounds, jobs, start, bare)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        copies = []
        for i in range(args.folder_size):
            target = folder / f"img_{i:04d}.jpg"
            shutil.copyfile(files[i % len(files)], target)
            copies.append(str(target))
        report(f"folder of {args.folder_size} copies", copies, [str(folder)], args.rounds, jobs, start, bare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
