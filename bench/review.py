#!/usr/bin/env python3
"""Benchmark the review page: thumbnails, page size, and time to first paint in Chromium.

    python3 bench/review.py [--photos DIR] [--groups 100,5000] [--chromium PATH]

1. Thumbnails: `make_thumbnails` over the photos (default: ../shared/corpus/exif-samples),
   cold and then from the cache, against the baseline of hashing the same files
   (`phash_source` on the same threads): both decode every image at reduced scale, so the
   ratio is what the resize and the WebP encode add.
2. Pages of N groups of 2 and 3 photos (alternately): each file gets a thumbnail of its own,
   made as ikmeta makes them from a different window (85-100%, shifted) of a corpus photo,
   so the page's size is that of distinct photographs (identical thumbnails would be
   stored once). Each page is opened in headless Chromium (Debian's, driven by Playwright) from a
   file: URL; the figures are first contentful paint, the first screenful of groups drawn
   (the page's `ikmeta-first-groups` performance mark), the load event (the whole file
   parsed) and every group drawn with the thumbnails read (`ikmeta-ready`), medians of
   --rounds. Baseline, in the same run: a page of the same size holding the
   same thumbnail lines and a heading only, no program: what the browser alone takes to
   read that many bytes. Targets (issue 11): 5,000 groups open smoothly, the file under
   100 MB. (The baseline column: first paint and whole file read of the same bytes, no program.)
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/, whose inspect.py would shadow the standard library's

from PIL import Image, ImageOps  # noqa: E402

from ikmeta.cache import HashCache  # noqa: E402
from ikmeta.errors import guarded  # noqa: E402
from ikmeta.image.metadata import phash_source  # noqa: E402
from ikmeta.parallel import ordered_map  # noqa: E402
from ikmeta.review.page import page_chunks, write_page  # noqa: E402
from ikmeta.review.thumbnails import METHOD, QUALITY, SIDE, Thumbnail, make_thumbnails  # noqa: E402
from ikmeta.sources.walk import image_paths  # noqa: E402


def photos_in(folder: Path) -> list[str]:
    return [p for p in image_paths([str(folder)]) if isinstance(p, str)]


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} files/s"


def bench_thumbnails(photos: list[str], jobs: int, cache_path: str) -> None:
    start = time.perf_counter()
    hashed = sum(1 for _ in ordered_map(lambda s: guarded(phash_source, s), photos, jobs))
    hashing = time.perf_counter() - start
    cache = HashCache.open(cache_path)
    start = time.perf_counter()
    made = [t for _, t in make_thumbnails(photos, cache, jobs)]
    cold = time.perf_counter() - start
    cache.close()
    cache = HashCache.open(cache_path)
    start = time.perf_counter()
    again = [t for _, t in make_thumbnails(photos, cache, jobs)]
    warm = time.perf_counter() - start
    cache.close()
    thumbs = [t for t in made if isinstance(t, Thumbnail)]
    assert len(again) == len(made) and hashed == len(photos)
    sizes = sorted(len(t.data) for t in thumbs)
    print(f"## thumbnails of {len(photos)} photos, {jobs} threads")
    print("| run | rate | vs hashing the same files |")
    print("| --- | --- | --- |")
    print(f"| hashing (baseline) | {rate(len(photos), hashing)} | 1.00 |")
    print(f"| thumbnails, cold | {rate(len(photos), cold)} | {hashing / cold:.2f} |")
    print(f"| thumbnails, cached | {rate(len(photos), warm)} | {hashing / warm:.1f} |")
    print(
        f"\nthumbnail size: mean {statistics.mean(sizes) / 1000:.1f} kB, median "
        f"{sizes[len(sizes) // 2] / 1000:.1f} kB, largest {sizes[-1] / 1000:.1f} kB ({len(thumbs)} made)\n"
    )


def renditions(photos: list[str], jobs: int) -> list[Image.Image]:
    """Each readable photo at about 1024 pixels on its long side, upright, RGB."""

    def make(source: str) -> Image.Image | None:
        try:
            with Image.open(source) as opened:
                opened.draft("RGB", (1024, 1024))
                upright = ImageOps.exif_transpose(opened).convert("RGB")
            upright.thumbnail((1024, 1024))
            return upright
        except Exception:  # noqa: BLE001 - the corpus holds broken files on purpose
            return None

    return [im for im in ordered_map(make, photos, jobs) if im is not None and min(im.size) >= 256]


def distinct_thumbnails(seeds: list[Image.Image], count: int, jobs: int) -> list[Thumbnail]:
    """``count`` thumbnails of photographs, each its own: a window of a photo (85-100% of it,
    shifted) made into a thumbnail as ikmeta makes them (Lanczos to 256, WebP)."""

    def make(k: int) -> Thumbnail:
        photo = seeds[k % len(seeds)]
        turn = k // len(seeds)
        scale = 1 - 0.15 * (turn % 4) / 3
        width, height = int(photo.width * scale), int(photo.height * scale)
        left = (turn * 37) % (photo.width - width + 1)
        top = (turn * 53) % (photo.height - height + 1)
        im = photo.crop((left, top, left + width, top + height))
        im.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
        out = io.BytesIO()
        im.save(out, "WEBP", quality=QUALITY, method=METHOD)
        return Thumbnail(out.getvalue(), im.width, im.height)

    return list(ordered_map(make, range(count), jobs))


def synthetic_groups(count: int, thumbs: list[Thumbnail]) -> tuple[list[dict], dict[str, Thumbnail]]:
    groups, by_source = [], {}
    k = 0
    for g in range(count):
        files = []
        for m in range(2 + g % 2):
            source = f"/photos/{g // 100:03d}/IMG_{g:05d}_{m}.jpg"
            thumb = thumbs[k]
            k += 1
            by_source[source] = thumb
            files.append(
                {
                    "source": source,
                    "pHash": f"{(g * 2654435761) % 2**64:016x}",
                    "distance": 0 if m == 0 else 2 + m,
                    "width": 4032 // (m + 1),
                    "height": 3024 // (m + 1),
                    "size": 2_400_000 // (m + 1),
                    "format": "jpg",
                    "quality": 92 - 10 * m,
                    "camera": "Apple iPhone 12" if m == 0 else None,
                    "captured": "2024-06-01T10:22:33" if m == 0 else None,
                    "mtimeNs": 1717237353000000000 + g,
                }
            )
        groups.append({"reference": files[0]["source"], "files": files})
    return groups, by_source


def baseline_page(path: Path, page: Path) -> None:
    """A page of the same size: a heading and the same thumbnail lines, no program."""
    text = page.read_text(encoding="utf-8")
    lines = text.split('id="ikmeta-thumbs">', 1)[1]
    filler = "x" * max(0, len(text) - len(lines) - 200)
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>baseline</title></head><body>"
        f"<h1>baseline</h1><script type='text/plain'>{filler}</script>"
        f"<script type='text/plain'>{lines}",
        encoding="utf-8",
    )


TIMINGS = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const first = performance.getEntriesByName("ikmeta-first-groups")[0];
  const ready = performance.getEntriesByName("ikmeta-ready")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  return {fcp: paint ? paint.startTime : null, first: first ? first.startTime : null,
          ready: ready ? ready.startTime : null, load: nav ? nav.loadEventStart : null};
}"""


def open_times(browser, page_path: Path, rounds: int) -> dict[str, float | None]:
    runs = []
    for _ in range(rounds):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        tab = context.new_page()
        tab.goto(page_path.as_uri(), wait_until="load", timeout=300_000)
        if "review" in page_path.name:
            tab.wait_for_selector("body[data-ready]", timeout=300_000)
        runs.append(tab.evaluate(TIMINGS))
        context.close()
    return {key: _median([r[key] for r in runs]) for key in ("fcp", "first", "ready", "load")}


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "corpus" / "exif-samples")
    parser.add_argument("--groups", default="100,5000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = parser.parse_args()
    photos = photos_in(args.photos)
    if not photos:
        sys.exit(f"bench/review.py: no photos in {args.photos}")
    with tempfile.TemporaryDirectory(prefix="ikmeta-bench-review-") as tmp:
        work = Path(tmp)
        bench_thumbnails(photos, args.jobs, str(work / "cache.sqlite3"))
        seeds = renditions(photos, args.jobs)
        counts = [int(n) for n in args.groups.split(",")]
        pages = []
        for count in counts:
            needed = sum(2 + g % 2 for g in range(count))
            start = time.perf_counter()
            thumbs = distinct_thumbnails(seeds, needed, args.jobs)
            mean = sum(len(t.data) for t in thumbs) / len(thumbs)
            print(f"{count:,} groups: {needed:,} thumbnails of photo windows, mean {mean / 1000:.1f} kB")
            groups, by_source = synthetic_groups(count, thumbs)
            page = work / f"review-{count}.html"
            size = write_page(page_chunks(groups, {"report": "bench"}, by_source), str(page))
            baseline = work / f"baseline-{count}.html"
            baseline_page(baseline, page)
            pages.append((count, needed, size, page, baseline, time.perf_counter() - start))
        if not args.chromium:
            sys.exit("bench/review.py: no chromium to open the pages in (apt install chromium)")
        from playwright.sync_api import sync_playwright

        print("## pages in headless Chromium (median of", args.rounds, "opens, 1280x800)")
        print(
            "| groups | files | page size | first paint | first groups drawn | whole file read "
            "| all drawn, thumbnails read | baseline |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            for count, files, size, page, baseline, _ in pages:
                ours = open_times(browser, page, args.rounds)
                floor = open_times(browser, baseline, args.rounds)
                print(
                    f"| {count:,} | {files:,} | {size / 1e6:.1f} MB | {ms(ours['fcp'])} | {ms(ours['first'])} | "
                    f"{ms(ours['load'])} | {ms(ours['ready'])} "
                    f"| first paint {ms(floor['fcp'])}, read {ms(floor['load'])} |"
                )
            browser.close()
        limit = [size for count, _, size, *_ in pages if count >= 5000]
        if limit:
            print(
                f"\ntarget: the page of 5,000 groups under 100 MB: {'met' if max(limit) < 100e6 else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
