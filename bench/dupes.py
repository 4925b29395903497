#!/usr/bin/env python3
"""Benchmark `ikmeta dupes`: grouping at scale, and scanning a folder cold and cached.

    python3 bench/dupes.py [--sizes 10000,100000,1000000] [--corpus ../shared/corpus] [--skip-scan]
                           [--skip-grouping] [--skip-dense] [--skip-windowed]

Grouping: random 64-bit hashes plus planted near-duplicates (5% copies of random hashes with
0 to 12 bits flipped), each with seven random turned hashes and ten random window hashes, 1%
planted turned copies and 1% planted crops (a window's hash, 0 to 4 bits off).
For each size, in a fresh process: ikmeta's grouping (`dupes.group`, multi-index hashing) as
the hashes stand (`--geometry exact`), then with turned, framed and cropped copies (the
default, `any`: the ratio is the cost of looking up every view and window; issue 12's target
at most 2x), against a chunked numpy
brute force (XOR and np.bitwise_count over all
pairs, one core, as plain numpy runs), and the process's peak memory. The brute force runs
up to 100k (at 1M it would take hours); at 100k and below, the multi-index search must find
the brute force's pairs. Targets: 100k at least 10x faster than the brute force; 1M under
90 s and under 2 GB.

Dense cluster (issue 9): 50,000 copies of one hash, 50,000 near copies of it (1 to 3 random
bits flipped) and 100,000 random hashes, `--max 10`, both linkages, each in a fresh process:
`dupes.group` over Items, then end to end (`ikmeta dupes --hashes FILE --json > /dev/null`,
which adds reading the list and writing the JSON), time and peak memory. Targets for
`dupes.group`: each under 5 s and under 400 MB. Every pair of every item, the way before
(3,000 copies of one hash took 19 s and 1.5 GB), runs at 1/100 and 1/50 of the size only,
against ikmeta at that size: the same groups.

Windowed cluster (issue 24): 3,000 and 20,000 near copies of one picture whose windows all lie
near one another, grouped (`dupes.group`), each in a fresh process, and at 3,000 the way
before (the fullest copy looked for by checking every member against every candidate, 9
million comparisons). Targets: 3,000 under 2 s, 20,000 under 15 s.

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
from ikmeta.dupes.neighbors import brute_pairs
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


def planted(views, count, bits):  # count hashes near a random view of random images, bits flipped
    chosen = rng.integers(0, len(base), size=count)
    copies = views[chosen, rng.integers(0, views.shape[1], size=count)]
    for bit in range(64):
        copies[rng.random(count) < bits / 64] ^= np.uint64(1) << np.uint64(bit)
    return copies


def more(table, count):  # table with count rows of random hashes more: the planted copies' own
    return np.concatenate([table, rng.integers(0, 2**64, size=(count, table.shape[1]), dtype=np.uint64)])


# Each image's seven turned hashes: as spread as the plain ones (random), and 1% of the images
# planted as turned copies of another (their plain hash one of its turned hashes, 0 to 8 bits off).
turned = rng.integers(0, 2**64, size=(len(hashes), 7), dtype=np.uint64)
turned_copies = planted(turned, len(hashes) // 100, 4)
hashes = np.concatenate([hashes, turned_copies])
turned = more(turned, len(turned_copies))
# Each image's ten windows (random as well), and 1% more images planted as crops of another
# (their plain hash one of its windows, 0 to 4 bits off).
windows = rng.integers(0, 2**64, size=(len(hashes), 10), dtype=np.uint64)
crops = planted(windows, len(hashes) // 100, 2)
hashes = np.concatenate([hashes, crops])
turned, windows = more(turned, len(crops)), more(windows, len(crops))
# As items keep their views: the seven turned hashes, the hash itself (no frame), then the
# windows: 18 words, 144 bytes.
packed = np.concatenate([turned, hashes[:, None], windows], axis=1).astype(">u8").tobytes()
size = 8 * 18
items = [
    Item(f"img{i:07d}.jpg", f"{int(h):016x}", 4000, 3000, 1_000_000 + i, views=packed[size * i : size * i + size])
    for i, h in enumerate(hashes.tolist())
]
start = time.perf_counter()
groups = group(items, radius, jobs=default_jobs(), geometry="exact")
ours = time.perf_counter() - start
start = time.perf_counter()
turned_groups = group(items, radius, jobs=default_jobs())
any_geometry = time.perf_counter() - start
result = {"n": len(items), "ours": ours, "groups": len(groups), "members": sum(len(g.members) for g in groups)}
result.update(any=any_geometry, turned_groups=len(turned_groups))
if brute:
    start = time.perf_counter()
    i, j = brute_pairs(hashes, radius, jobs=1)
    result["brute"] = time.perf_counter() - start
    from ikmeta.dupes.pairs import near_pairs
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

# Issue 9's shape, in a fresh process per run: one hash copied `copies` times, `near` copies of
# it 1 to 3 random bits away, `scattered` random hashes, shuffled. Methods: "group", ikmeta's
# grouping (dupes.group over Items); "pairs", the way before it, every pair of every item (as
# dupes.near_pairs lists them) and the leaders from those, under a 6 GB address-space limit;
# "list", write the hashes as a hash list for `ikmeta dupes --hashes`.
DENSE = r"""
import hashlib, json, random, resource, sys, time
sys.path.insert(0, sys.argv[1])
from ikmeta.dupes import Item, group, grouping, pairs, rank

copies, near, scattered = (int(v) for v in sys.argv[2].split(","))
linkage, method = sys.argv[3], sys.argv[4]
rng = random.Random(9)
centre = 0xCEDBD88C49EAF808
values = [centre] * copies
values += [centre ^ sum(1 << b for b in rng.sample(range(64), rng.randint(1, 3))) for _ in range(near)]
values += [rng.getrandbits(64) for _ in range(scattered)]
rng.shuffle(values)
if method == "list":
    with open(sys.argv[5], "w") as f:
        f.writelines(f"{v:016x}  img{i:07d}.jpg\n" for i, v in enumerate(values))
    sys.exit()
items = [Item(f"img{i:07d}.jpg", f"{v:016x}", 4000, 3000, 1_000_000 + i) for i, v in enumerate(values)]
result = {"n": len(items)}
start = time.perf_counter()
try:
    if method == "group":
        found = [[m.source for m, _ in g.members] for g in group(items, 10, linkage)]
    else:
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
        ranked = sorted(items, key=rank.rank_key)
        found_pairs = pairs.near_pairs([int(it.phash, 16) for it in ranked], 10)
        result["pairs"] = len(found_pairs)
        lead = pairs.reference_leaders if linkage == "reference" else pairs.component_leaders
        found = [[ranked[k].source for k in ks] for _, ks in grouping._members(lead(len(ranked), found_pairs))]
        del found_pairs
except MemoryError:
    result["failed"] = "out of memory (6 GB)"
else:
    result["groups"] = len(found)
    result["largest"] = max(len(members) for members in found)
    result["digest"] = hashlib.sha256(json.dumps(sorted(found)).encode()).hexdigest()[:12]
result["seconds"] = time.perf_counter() - start
result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""

# Issue 24: a cluster of near copies whose windows all lie near one another (re-encoded copies
# of a slide or a product shot), grouped in a fresh process, with "before": the reference's
# fullest copy looked for by checking every member against every candidate, as before.
WINDOWED = r"""
import json, random, resource, sys, time
sys.path.insert(0, sys.argv[1])
from ikmeta.dupes import Item, group, grouping

def every_with_every(best, members, shows_more, near):
    for _ in members:
        fuller = next(
            (k for k in members if k != best and shows_more(k, best) and all(near(m, k) for m in members)),
            None,
        )
        if fuller is None:
            return best
        best = fuller
    return best

def flip(value, bits):
    for bit in bits:
        value ^= 1 << bit
    return value

n, way = int(sys.argv[2]), sys.argv[3]
if way == "before":
    grouping.fullest = every_with_every
rng = random.Random(1)
base = rng.getrandbits(64)
items = []
for k in range(n):
    value = flip(base, rng.sample(range(64), rng.randint(0, 2)))
    windows = [flip(base, rng.sample(range(64), rng.randint(0, 3))) for _ in range(10)]
    views = b"".join(v.to_bytes(8, "big") for v in [value] * 8 + windows)
    items.append(Item(f"{k:05d}.jpg", f"{value:016x}", 100, 100, k, views=views))
start = time.perf_counter()
found = group(items, 10)
print(json.dumps({"seconds": time.perf_counter() - start, "members": len(found[0].members),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# Runs a command (output to /dev/null) and prints its wall time and peak memory.
MEASURED = r"""
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, done.returncode)
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
            f"  {r['n']:>9,} hashes: ikmeta {r['ours']:7.2f} s, {r['groups']:,} groups; "
            f"with views and windows {r['any']:7.2f} s ({r['any'] / r['ours']:.2f}x), "
            f"{r['turned_groups']:,} groups; peak {r['peak_mb']:.0f} MB"
        )
        if "brute" in r:
            line += (
                f"; brute force {r['brute']:7.2f} s ({r['brute'] / r['ours']:.1f}x), "
                f"same pairs: {r['same_pairs']} ({r['pairs']:,})"
            )
        print(line, flush=True)


def windowed(sizes: tuple[int, ...] = (3_000, 20_000)) -> None:
    """Issue 24: a cluster of near copies with windows near one another, grouped; the way
    before (every member against every candidate for the fullest copy) at the smallest size."""
    print("windowed cluster (near copies whose windows all lie near one another), --max 10:")

    def run(n: int, way: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-c", WINDOWED, str(ROOT), str(n), way], capture_output=True, text=True
        )
        return json.loads(out.stdout) if out.returncode == 0 else {"failed": out.stderr[-300:]}

    targets = {3_000: 2, 20_000: 15}
    before = run(sizes[0], "before")
    for n in sizes:
        r = run(n, "now")
        if "failed" in r:
            print(f"  {n:>7,} copies: failed: {r['failed']}")
            continue
        line = f"  {n:>7,} copies: {r['seconds']:6.2f} s, peak {r['peak_mb']:4.0f} MB, one group of {r['members']:,}"
        if n in targets:
            line += f" (target < {targets[n]} s)"
        if n == sizes[0] and "seconds" in before:
            line += f"; before {before['seconds']:6.2f} s ({before['seconds'] / r['seconds']:.0f}x)"
        print(line, flush=True)


def dense_run(shape: tuple[int, int, int], linkage: str, method: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", DENSE, str(ROOT), ",".join(map(str, shape)), linkage, method],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        return {
            "failed": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
        }
    return json.loads(out.stdout)


def dense(copies: int = 50_000, near: int = 50_000, scattered: int = 100_000) -> None:
    """Issue 9: a cluster of identical and near-identical hashes among random ones, both
    linkages, through dupes.group and end to end; and the way before (every pair of every
    item) at 1/100 and 1/50 of the size, with ikmeta at that size: the same groups."""
    print(
        f"dense cluster, --max 10, cpus {len(os.sched_getaffinity(0))}: {copies:,} copies of one hash, "
        f"{near:,} near copies (1-3 bits), {scattered:,} random hashes"
    )
    for linkage in ("reference", "connected"):
        r = dense_run((copies, near, scattered), linkage, "group")
        if "failed" in r:
            print(f"  {linkage:9} dupes.group: failed: {r['failed']}")
            continue
        print(
            f"  {linkage:9} dupes.group           {r['seconds']:6.2f} s, peak {r['peak_mb']:4.0f} MB, "
            f"{r['groups']:,} groups, largest {r['largest']:,} (target < 5 s, < 400 MB)",
            flush=True,
        )
    with tempfile.TemporaryDirectory() as tmp:
        hash_list = str(Path(tmp) / "hashes.txt")
        subprocess.run(
            [sys.executable, "-c", DENSE, str(ROOT), f"{copies},{near},{scattered}", "-", "list", hash_list],
            check=True,
        )
        for linkage in ("reference", "connected"):
            command = [sys.executable, "-m", "ikmeta", "dupes", "--hashes", hash_list, "--json"]
            command += ["--max", "10", "--linkage", linkage]
            seconds, peak, code = measured(command)
            print(
                f"  {linkage:9} ikmeta dupes --hashes FILE --json > /dev/null: {seconds:6.2f} s, "
                f"peak {peak:4.0f} MB, exit {code}",
                flush=True,
            )
    for divisor in (100, 50):
        shape = (copies // divisor, near // divisor, scattered // divisor)
        for linkage in ("reference", "connected"):
            before = dense_run(shape, linkage, "pairs")
            ours = dense_run(shape, linkage, "group")
            line = f"  1/{divisor} of it ({sum(shape):,} hashes), {linkage:9}: every pair "
            if "failed" in before:
                line += f"failed: {before['failed']} after {before.get('seconds', 0):.1f} s"
            else:
                line += (
                    f"{before['seconds']:6.2f} s, peak {before['peak_mb']:5.0f} MB ({before['pairs']:,} pairs); "
                    f"ikmeta {ours['seconds']:5.2f} s, peak {ours['peak_mb']:4.0f} MB; "
                    f"same groups: {ours.get('digest') == before.get('digest')}"
                )
            print(line, flush=True)
    cluster = copies + near
    print(
        f"  (every pair at full size: over {cluster * (cluster - 1) // 2:,} pairs in the cluster alone; not run)"
    )


# A hash list as `ikmeta phash` prints it: n lines, 10% of them planted near copies (0 to 6 bits
# flipped) of random others, in a random order, under 1,000 folders.
HASH_LIST = r"""
import sys
import numpy as np
n, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(14)
planted = n // 10
hashes = rng.integers(0, 2**64, size=n, dtype=np.uint64)
copies = hashes[rng.integers(0, n - planted, size=planted)]
flips = rng.integers(0, 7, size=planted)
for bit in range(64):
    copies[rng.random(planted) < flips / 64] ^= np.uint64(1) << np.uint64(bit)
hashes[n - planted:] = copies
order = rng.permutation(n)
with open(path, "w") as f:
    for start in range(0, n, 100_000):
        chosen = order[start : start + 100_000].tolist()
        f.writelines(
            f"{h:016x}  photos/{k % 1000:03d}/img{k:08d}.jpg\n" for h, k in zip(hashes[chosen].tolist(), chosen)
        )
"""

# The same list the way before (issue 14): an Item a line (scan.read_hash_list), dupes.group,
# and the JSON written as `dupes --json` writes it.
ITEMS_PATH = r"""
import sys
sys.path.insert(0, sys.argv[1])
from ikmeta.dupes import group
from ikmeta.dupes.report import group_json_lines
from ikmeta.dupes.hashlist import read_hash_list
with open(sys.argv[2], encoding="utf-8-sig", errors="surrogateescape") as f:
    items = [item for item in read_hash_list(f, sys.argv[2])]
with open("/dev/null", "w") as out:
    out.write("\n".join(group_json_lines(group(items, int(sys.argv[3]), jobs=2))))
"""

# Grouping alone, the list's hashes in path order in a numpy array: what exact search costs at
# this size and --max, with no reading or writing.
GROUPING_ALONE = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from ikmeta.dupes.columns import read_hash_columns
from ikmeta.dupes.pairs import leaders_of
with open(sys.argv[2]) as f:
    columns = read_hash_columns(f, sys.argv[2])
values = columns.hashes[np.array(sorted(range(len(columns.sources)), key=columns.sources.__getitem__))]
start = time.perf_counter()
leaders_of(values, int(sys.argv[3]), "reference", jobs=2)
print(time.perf_counter() - start)
"""


def measured(command: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MB, exit status) of a command run with its output to /dev/null."""
    seconds, peak, code = subprocess.run(
        [sys.executable, "-c", MEASURED, *command],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout.split()
    return float(seconds), float(peak), int(code)


def end_to_end(runs: list[tuple[int, int]]) -> None:
    """Issue 14: `ikmeta dupes --hashes FILE --json > /dev/null` on hash lists as `phash` prints
    them, time and peak memory; at a million lines against the way before (an Item a line) in
    the same run, with reading and writing alone (--max 0) and grouping alone, which bound it.
    Targets: 1M lines under 25 s and 1 GB; 10M at --max 6 under 10 minutes and 6 GB."""
    print(f"end to end, a hash list as 'phash' prints it (10% planted near copies), cpus {default_cpus()}:")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted({n for n, _ in runs}):
            hash_list = str(Path(tmp) / f"hashes-{n}.txt")
            subprocess.run([sys.executable, "-c", HASH_LIST, str(n), hash_list], check=True)
            command = [sys.executable, "-m", "ikmeta", "dupes", "--hashes", hash_list, "--json", "-q"]
            floor = measured([*command, "--max", "0"])
            print(
                f"  {n:>10,} lines, reading and writing alone (--max 0): {floor[0]:6.1f} s, peak {floor[1]:5.0f} MB"
            )
            for size, radius in runs:
                if size != n:
                    continue
                seconds, peak, code = measured([*command, "--max", str(radius)])
                alone = float(
                    subprocess.run(
                        [sys.executable, "-c", GROUPING_ALONE, str(ROOT), hash_list, str(radius)],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
                target = (25, 1024) if n <= 1_000_000 else (600, 6144)
                met = "met" if seconds < target[0] and peak < target[1] else "not met"
                line = (
                    f"  {n:>10,} lines, --max {radius:2}: {seconds:6.1f} s, peak {peak:5.0f} MB, exit {code} "
                    f"(target < {target[0]} s, < {target[1]} MB: {met}); grouping alone {alone:6.1f} s, "
                    f"reading and writing {floor[0]:.1f} s: bound {alone + floor[0]:.1f} s"
                )
                if n <= 1_000_000:
                    before, before_peak, _ = measured(
                        [sys.executable, "-c", ITEMS_PATH, str(ROOT), hash_list, str(radius)]
                    )
                    line += f"; an Item a line {before:6.1f} s, peak {before_peak:5.0f} MB ({before / seconds:.2f}x)"
                print(line, flush=True)


def default_cpus() -> int:
    return len(os.sched_getaffinity(0))


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
    ap.add_argument("--skip-dense", action="store_true")
    ap.add_argument("--skip-windowed", action="store_true")
    ap.add_argument(
        "--end-to-end",
        default="1000000:10,1000000:8,1000000:6,10000000:6",
        help="LINES:MAX runs of 'dupes --hashes' on a hash list ('' to skip)",
    )
    args = ap.parse_args()
    if args.end_to_end:
        end_to_end([(int(n), int(m)) for n, m in (run.split(":") for run in args.end_to_end.split(","))])
    if not args.skip_grouping:
        grouping([int(s) for s in args.sizes.split(",")], args.radius)
    if not args.skip_dense:
        dense()
    if not args.skip_windowed:
        windowed()
    if not args.skip_scan:
        scanning(Path(args.corpus), args.radius)
    return 0


if __name__ == "__main__":
    sys.exit(main())
