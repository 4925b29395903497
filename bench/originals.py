#!/usr/bin/env python3
"""Which copy `dupes` keeps, and what finding the original costs (issue 23).

    python3 bench/originals.py [--seed 5] [--variants 4] [--rounds 3]

Builds the labelled sets of ../shared/tools/make_dupes_set.py from ../shared/corpus
(`--kinds keep`: copies not smaller than the original; `classic`; `all`), groups each with
`ikmeta dupes --json --no-cache`, and prints ../shared/tools/score_dupes.py's lines for it
(originals kept, what was kept instead, pairwise precision and recall).

Then it times, on the keep set, in this one run (best of --rounds):

- the baseline: the scan and the grouping as they were before detail was measured (every
  file hashed, provenance read, groups ranked without a judge of upscales);
- the same with the judge (`ikmeta.dupes.upscales.DetailJudge`), cold: what `dupes` does now;
- both again with a warm cache (hashes and detail measures cached);
- the floor of the judge's share: decoding, at full resolution and in grey, just the files it
  measures, on all cores, with nothing else. No measure of fine detail can read less than
  the pixels it measures, so `baseline + floor` over `baseline` is the least any such cold
  scan can cost, on this machine and these decoders.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# This folder holds an inspect.py of its own: it must not stand for the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


def make_set(kind: str, out: Path, seed: int, variants: int) -> None:
    subprocess.run(
        [sys.executable, str(SHARED / "tools" / "make_dupes_set.py"), str(SHARED / "corpus" / "exif-samples"),
         str(out), "--kinds", kind, "--seed", str(seed), "--variants", str(variants)],
        check=True, capture_output=True,
    )  # fmt: skip


def score(folder: Path) -> list[str]:
    found = subprocess.run(
        [sys.executable, "-m", "ikmeta", "dupes", str(folder), "--json", "--no-cache"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    report = folder.parent / f"{folder.name}.json"
    report.write_text(found.stdout)
    scored = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "score_dupes.py"), str(folder / "truth.json"), str(report)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return scored.stdout.strip().splitlines()[-2:]


def timed(folder: Path, judged: bool, cache_path: str | None) -> tuple[float, list[str]]:
    """Seconds to scan and group ``folder`` (with the judge or not), and the files measured."""
    from ikmeta.cache import HashCache
    from ikmeta.dupes import group
    from ikmeta.dupes.scan import scan_paths
    from ikmeta.dupes.upscales import DetailJudge
    from ikmeta.parallel import default_jobs

    jobs = default_jobs()
    start = time.perf_counter()
    cache = HashCache.open(cache_path)
    items, _ = scan_paths([str(folder)], cache, jobs=jobs, fetch=None, hidden=False)
    judge = DetailJudge(cache, jobs=jobs) if judged else None
    group(items, 10, judge=judge)
    cache.close()
    return time.perf_counter() - start, sorted(judge.profiles) if judge else []


def decode_floor(paths: list[str]) -> float:
    """Seconds to decode ``paths`` at full resolution, in grey, on all cores."""
    from PIL import Image

    from ikmeta.image.decode import open_image
    from ikmeta.parallel import default_jobs, ordered_map
    from ikmeta.sources.read import read_source

    def decode(path: str) -> None:
        im = open_image(read_source(path))
        if im.format == "JPEG":
            im.draft("L", im.size)
        im.load()
        assert isinstance(im, Image.Image)

    start = time.perf_counter()
    for _ in ordered_map(decode, paths, default_jobs()):
        pass
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--variants", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not (SHARED / "corpus" / "exif-samples").is_dir():
        print(f"needs {SHARED / 'corpus'}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        sets = {}
        for kind in ("keep", "classic", "all"):
            sets[kind] = Path(tmp) / kind
            make_set(kind, sets[kind], args.seed, args.variants)
            print(f"{kind} (seed {args.seed}, {args.variants} variants):")
            for line in score(sets[kind]):
                print(f"  {line}")
        keep = sets["keep"]
        best: dict[str, float] = {}
        measured: list[str] = []
        for _ in range(args.rounds):
            for name, judged in (("baseline", False), ("judged", True)):
                seconds, files = timed(keep, judged, None)
                best[f"{name} cold"] = min(best.get(f"{name} cold", 1e9), seconds)
                measured = files or measured
                cache = os.path.join(tmp, f"{name}.sqlite3")
                if not os.path.exists(cache):
                    timed(keep, judged, cache)  # fills it
                seconds, _ = timed(keep, judged, cache)
                best[f"{name} cached"] = min(best.get(f"{name} cached", 1e9), seconds)
        floor = min(decode_floor(measured) for _ in range(args.rounds))
        files = sum(1 for p in keep.iterdir() if p.suffix != ".json")
        print(f"\nkeep set: {files} files; the judge measured {len(measured)} of them")
        for state in ("cold", "cached"):
            base, now = best[f"baseline {state}"], best[f"judged {state}"]
            print(f"  {state:6}: baseline {base:6.2f} s, with the judge {now:6.2f} s, ratio {now / base:.2f}")
        base = best["baseline cold"]
        print(
            f"  floor of the judge's share: decoding the {len(measured)} files it measures at full resolution "
            f"{floor:.2f} s; no detail measure can scan cold in less than {(base + floor) / base:.2f}x the baseline"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
