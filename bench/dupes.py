#!/usr/bin/env python3
"""Benchmark `ikmeta dupes`: grouping at scale, and scanning a folder cold and cached.

    python3 bench/dupes.py [--sizes 10000,100000,1000000] [--corpus ../shared/corpus] [--skip-scan]

Grouping: random 64-bit hashes plus planted near-duplicates (5% copies of random hashes with
0 to 12 bits flipped). For each size, in a fresh process: ikmeta's grouping (`dupes.group`,
multi-index hashing, all cores) against a chunked numpy brute force (XOR and
np.bitwise_count over all pairs, one core, as plain numpy runs), and the process's peak
memory. The brute force runs up to 100k (at 1M it would take hours); at 10k both must give
the same pairs. Targets: 100k at least 10x faster than the brute force; 1M under 90 s and
under 2 GB.

Scan: folders of ~500 images made from the corpus's photos, two ways: edited copies
(tools/make_dupes_set.py, 9 of each photo: a third of them PNG and WebP, which Pillow can only
decode at full size), and plain copies of the photos as they come (JPEG, HEIC, TIFF). Each
against the naive loop (open, exif_transpose, imagehash.phash, then all pairs in Python),
then `ikmeta dupes` with an empty cache and again with it warm.
Targets: first run at least 5x faster than the naive loop; second at least 20x faster than
the first. The decode floor (decoding just what the hashes need, as ikmeta decodes it, on all
cores, in one process with nothing else) bounds what any cold run can reach.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/, whose inspect.py would shadow the standard library's

# Runs in a fresh process per size, so its peak memory is its own.
GROUPING = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from ikmeta.dupes import Item, group
from ikmeta.neighbors import brute_pairs
from ikmeta.parallel import default_jobs

n, radius, brute = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
rng = np.random.default_rng(2024)
base = rng.integers(0, 2**64, size=n, dtype=np.uint64)
k = n // 20
copies = base[rng.integers(0, n, size=k)].copy()
flips = rng.integers(0, 13, size=k)
for bit in range(64):  # flip bit `bit` in the copies that draw it
    chosen = rng.random(k) < flips / 64
    copies[chosen] ^= np.uint64(1) << np.uint64(bit)
hashes = np.concatenate([base, copies])
items = [Item(f"img{i:07d}.jpg", f"{int(h):016x}", 4000, 3000, 1_000_000 + i) for i, h in enumerate(hashes.tolist())]
start = time.perf_counter()
groups = group(items, radius, jobs=default_jobs())
ours = time.perf_counter() - start
result = {"n": len(items), "ours": ours, "groups": len(groups), "members": sum(len(g.members) for g in groups)}
if brute:
    start = time.perf_counter()
    i, j = brute_pairs(hashes, radius, jobs=1)
    result["brute"] = time.perf_counter() - start
    from ikmeta.dupes import near_pairs
    ranked = sorted(items, key=lambda it: (-it.pixels, -it.size, it.source))
    mine = near_pairs([int(it.phash, 16) for it in ranked], radius, default_jobs())
    order = {it.source: r for r, it in enumerate(ranked)}
    theirs = sorted(
        tuple(sorted((order[f"img{a:07d}.jpg"], order[f"img{b:07d}.jpg"])))
        for a, b in zip(i.tolist(), j.tolist(), strict=True)
    )
    result["same_pairs"] = sorted(mine) == theirs
    result["pairs"] = len(theirs)
result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""

NAIVE = r"""
import itertools, sys, time
import imagehash
import pillow_heif
from PIL import Image, ImageOps
pillow_heif.register_heif_opener()  # HEIC too, as ikmeta reads it
files = sys.argv[2:]
start = time.perf_counter()
hashes = []
for f in files:
    try:
        hashes.append((f, imagehash.phash(ImageOps.exif_transpose(Image.open(f)))))
    except Exception:
        pass
pairs = [(a, b) for (a, ha), (b, hb) in itertools.combinations(hashes, 2) if ha - hb <= int(sys.argv[1])]
print(time.perf_counter() - start)
"""


def grouping(sizes: list[int], radius: int) -> None:
    print(f"grouping, radius {radius}, cpus {len(os.sched_getaffinity(0))}:")
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-c", GROUPING, str(ROOT), str(n), str(radius), "1" if n <= 100_000 else "0"],
            capture_output=True,
            text=True,
        )
        if out.returncode:
            print(f"  n={n}: failed: {out.stderr[-400:]}")
            continue
        r = json.loads(out.stdout)
        line = (
            f"  {r['n']:>9,} hashes: ikmeta {r['ours']:7.2f} s, {r['groups']:,} groups, "
            f"peak {r['peak_mb']:.0f} MB"
        )
        if "brute" in r:
            line += (
                f"; brute force {r['brute']:7.2f} s ({r['brute'] / r['ours']:.1f}x), "
                f"same pairs: {r['same_pairs']} ({r['pairs']:,})"
            )
        print(line, flush=True)


def timed(args: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def edited_copies(corpus: Path, folder: Path) -> None:
    """~520 files: each corpus photo and 9 edited copies (JPEG re-encodes, PNG, WebP, resized...)."""
    subprocess.run(
        [
            sys.executable,
            str(ROOT.parent / "shared" / "tools" / "make_dupes_set.py"),
            str(corpus),
            str(folder),
            "--seed",
            "1",
            "--variants",
            "9",
        ],
        check=True,
        capture_output=True,
    )
    (folder / "truth.json").unlink()


def plain_copies(corpus: Path, folder: Path, count: int = 500) -> None:
    """``count`` byte copies of the corpus's photos (JPEG, HEIC, TIFF as they come), round robin."""
    photos = sorted(
        p
        for p in corpus.rglob("*")
        if p.suffix.lower() in (".jpg", ".jpeg", ".heic", ".heif", ".tif", ".tiff")
        and "invalid" not in p.parts
    )
    folder.mkdir(parents=True)
    for i in range(count):
        source = photos[i % len(photos)]
        (folder / f"{i:04d}_{source.name}").write_bytes(source.read_bytes())


def scanning(corpus: Path, radius: int) -> None:
    for label, build in (
        ("edited copies (make_dupes_set.py --variants 9)", edited_copies),
        ("copies of the corpus's photos", plain_copies),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "photos"
            build(corpus, folder)
            files = sorted(str(p) for p in folder.iterdir())
            kinds = {}
            for f in files:
                kinds[Path(f).suffix.lower()] = kinds.get(Path(f).suffix.lower(), 0) + 1
            size = sum(os.path.getsize(f) for f in files) / 1e6
            print(
                f"scan of {len(files)} images, {size:.0f} MB, {label}: "
                + ", ".join(f"{n} {k[1:]}" for k, n in sorted(kinds.items()))
            )
            naive = float(
                subprocess.run(
                    [sys.executable, "-c", NAIVE, str(radius), *files],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            floor = min(
                float(
                    subprocess.run(
                        [sys.executable, str(ROOT / "bench" / "floor.py"), *files],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
                for _ in range(3)
            )
            cache = str(Path(tmp) / "cache.sqlite3")
            command = [
                sys.executable,
                "-m",
                "ikmeta",
                "dupes",
                str(folder),
                "--json",
                "--cache",
                cache,
                "--max",
                str(radius),
            ]
            first = timed(command)
            second = min(timed(command) for _ in range(5))
            print(f"  naive loop            {naive:7.2f} s")
            print(
                f"  decode floor          {floor:7.2f} s   naive / floor {naive / floor:5.1f}x (the most a cold run "
                f"can reach with these decoders)"
            )
            print(
                f"  ikmeta dupes, cold    {first:7.2f} s   naive / cold {naive / first:5.1f}x (target >= 5)"
            )
            print(
                f"  ikmeta dupes, cached  {second:7.3f} s   cold / cached {first / second:5.1f}x (target >= 20)"
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--radius", type=int, default=10)
    ap.add_argument(
        "--corpus", default=os.environ.get("IKMETA_CORPUS", str(ROOT.parent / "shared" / "corpus"))
    )
    ap.add_argument("--skip-scan", action="store_true")
    ap.add_argument("--skip-grouping", action="store_true")
    args = ap.parse_args()
    if not args.skip_grouping:
        grouping([int(s) for s in args.sizes.split(",")], args.radius)
    if not args.skip_scan:
        scanning(Path(args.corpus), args.radius)
    return 0


if __name__ == "__main__":
    sys.exit(main())
