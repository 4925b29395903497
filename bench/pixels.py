#!/usr/bin/env python3
"""Huge images: what hashing them costs, what holding several at once costs, and how fast one
above ``--max-pixels`` is refused (issue 24).

    python3 bench/pixels.py [--side 13000] [--jobs 4] [--rounds 1]

Builds a PNG of one solid colour, ``--side`` pixels square (13000: 169 megapixels in 490 KB,
the issue's file), and folders of one, two and four copies of it. Each folder is hashed by
``ikmeta phash --jobs 4`` in a process of its own (with ``--max-pixels 0``, so that the files
are read rather than refused: they are above the default limit), whose wall time and peak
resident memory (its ``ru_maxrss``, read with ``os.wait4``) are printed. The baseline, in the
same run: two files. Target: the peak memory of four files at most 1.3x that of two (the
files share a budget of decoded pixels, so a folder of huge images never holds many of them
decoded at once).

The floor: one file decoded by Pillow alone (``Image.open(path).load()``) in a process of its
own, with nothing else: no hashing of any file can hold less memory nor take less time than
the decode its pixels need.

Last, the refusal: ``ikmeta phash`` of the file with the default ``--max-pixels`` (it is
above Pillow's decompression-bomb limit, 89,478,485 pixels), its time, message and exit
status, against the start-up of ``ikmeta phash`` on a small PNG.

On code without ``--max-pixels`` (before issue 24), the option is left out: the files,
below the 178,956,970 pixels at which Pillow raises its DecompressionBombError, were read.
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
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
# This folder holds an inspect.py of its own: it must not stand for the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
IKMETA = [sys.executable, "-m", "ikmeta"]
COUNTS = (1, 2, 4)
TARGET = 1.3  # peak(4 files) / peak(2 files), at most
FLOOR = "import sys\nfrom PIL import Image\nImage.MAX_IMAGE_PIXELS = None\nImage.open(sys.argv[1]).load()\n"


SOLID = (
    "import sys\nfrom PIL import Image\n"
    "Image.new('RGB', (int(sys.argv[2]),) * 2, (52, 101, 164)).save(sys.argv[1], compress_level=9)\n"
)


def solid_png(path: Path, side: int) -> None:
    """A PNG of one colour, ``side`` pixels square (RGB: zlib packs it about 1,000 to 1), drawn
    in a process of its own: a child's peak memory counts its parent's at the time it starts
    (Linux keeps the high-water mark across fork and exec), so this one's must stay small."""
    subprocess.run([sys.executable, "-c", SOLID, str(path), str(side)], check=True)


class Run(NamedTuple):
    seconds: float  # wall
    cpu: float  # user + system seconds (steadier than wall on a shared machine)
    peak_mb: float  # peak resident memory
    status: int
    stderr: str


def measured(command: list[str]) -> Run:
    """How ``command`` ran, in a process of its own (its rusage alone, from wait4)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    assert child.stderr is not None
    errors = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, usage.ru_maxrss / 1024, child.returncode, errors.strip())


def has_max_pixels() -> bool:
    shown = subprocess.run([*IKMETA, "phash", "--help"], capture_output=True, text=True, cwd=ROOT)
    return "--max-pixels" in shown.stdout


def best(command: list[str], rounds: int) -> Run:
    """The best times and the least peak of ``rounds`` runs (the status and stderr of the last)."""
    runs = [measured(command) for _ in range(rounds)]
    return Run(
        min(r.seconds for r in runs), min(r.cpu for r in runs), min(r.peak_mb for r in runs), runs[-1].status,
        runs[-1].stderr,
    )  # fmt: skip


def row(label: str, run: Run) -> str:
    return f"{label:40s} {run.seconds:7.2f} s  cpu {run.cpu:6.2f} s  peak {run.peak_mb:7.0f} MB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=13000, help="pixels a side of the PNG (default 13000)")
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=1, help="runs of each row (best counts)")
    args = ap.parse_args()
    option = ["--max-pixels", "0"] if has_max_pixels() else []
    print(
        f"cpus: {len(os.sched_getaffinity(0))}  image: {args.side}x{args.side} solid PNG "
        f"({args.side * args.side:,} pixels)  --jobs {args.jobs}  "
        + ("--max-pixels 0" if option else "(no --max-pixels: code before issue 24)")
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        original = folder / "huge.png"
        solid_png(original, args.side)
        print(f"file: {original.stat().st_size / 1000:.0f} KB")
        for count in COUNTS:
            (folder / f"{count}").mkdir()
            for k in range(count):
                shutil.copyfile(original, folder / f"{count}" / f"huge{k}.png")
        floor = best([sys.executable, "-c", FLOOR, str(original)], args.rounds)
        print(row("floor: Pillow decodes one file", floor))
        peaks = {}
        for count in COUNTS:
            command = [*IKMETA, "phash", "--jobs", str(args.jobs), *option, str(folder / f"{count}")]
            run = best(command, args.rounds)
            peaks[count] = run.peak_mb
            failed = (
                f"  exit {run.status}: {run.stderr.splitlines()[-1] if run.stderr else ''}"
                if run.status
                else ""
            )
            print(row(f"ikmeta phash, {count} file(s)", run) + failed)
        ratio = peaks[4] / peaks[2]
        print(
            f"peak(4) / peak(2): {ratio:.2f} (target: at most {TARGET}; "
            f"{'met' if ratio <= TARGET else 'missed'})  peak(1) / floor: {peaks[1] / floor.peak_mb:.2f}"
        )
        small = folder / "small.png"
        solid_png(small, 64)
        start = best([*IKMETA, "phash", str(small)], max(3, args.rounds))
        refused = best([*IKMETA, "phash", str(original)], max(3, args.rounds))
        print(row("ikmeta phash of a small PNG (start-up)", start))
        print(row("default --max-pixels, the huge file", refused) + f"  exit {refused.status}")
        print(f"  stderr: {refused.stderr or '(nothing)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
