#!/usr/bin/env python3
"""Make docs/review.png, the screenshot of the review page the README shows.

    python3 tools/screenshot_review.py [OUT.png] [--dark] [--keep DIR]

Draws a small picture library of its own in a temporary folder (the samples of
tools/make_samples.py and a few copies of them: resized, converted, cropped, a transparent
badge, two blank scans), runs `ikmeta dupes Pictures --html`, opens the page in headless
Chromium at 1280x800 and saves the screenshot. --dark takes it in the dark colour scheme;
--keep DIR leaves the library and the page in DIR. Needs Pillow, the playwright package and
a Chromium (Debian's chromium, $CHROMIUM, or Playwright's own).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from make_samples import draw_badge, draw_harbour, save_harbour  # noqa: E402

VIEWPORT = {"width": 1280, "height": 800}
WHEN = 1717236000  # 2024-06-01: every file's modification time, so the page reads the same each run


def draw_hills(size: tuple[int, int] = (900, 600)) -> Image.Image:
    """Green hills under a pale sky, a red house and a tree."""
    w, h = size
    im = Image.new("RGB", size)
    draw = ImageDraw.Draw(im)
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=(int(150 + 80 * t), int(200 + 40 * t), 250))
    draw.ellipse([w * 0.08, h * 0.08, w * 0.2, h * 0.26], fill=(255, 240, 170))
    draw.ellipse([-w * 0.3, h * 0.45, w * 0.7, h * 1.6], fill=(70, 140, 60))
    draw.ellipse([w * 0.35, h * 0.55, w * 1.4, h * 1.7], fill=(95, 165, 70))
    draw.rectangle([w * 0.55, h * 0.48, w * 0.7, h * 0.62], fill=(190, 50, 40))
    draw.polygon([(w * 0.53, h * 0.48), (w * 0.625, h * 0.38), (w * 0.72, h * 0.48)], fill=(90, 40, 30))
    draw.rectangle([w * 0.2, h * 0.42, w * 0.22, h * 0.6], fill=(80, 50, 30))
    draw.ellipse([w * 0.14, h * 0.28, w * 0.28, h * 0.46], fill=(40, 110, 50))
    return im


def library(root: Path) -> Path:
    """A folder of pictures with copies: four groups of near-duplicates and a loner."""
    pictures = root / "Pictures"
    for folder in ("2024/harbour", "phone", "exports", "icons", "scans", "backup"):
        (pictures / folder).mkdir(parents=True, exist_ok=True)
    save_harbour(str(pictures / "2024/harbour/harbour.jpg"))
    harbour = draw_harbour()
    harbour.resize((400, 267), Image.Resampling.LANCZOS).save(
        pictures / "exports/harbour_web.jpg", quality=70
    )
    harbour.save(pictures / "phone/IMG_0042.webp", quality=80)
    harbour.convert("L").save(pictures / "backup/harbour grey.jpg", quality=85)
    hills = draw_hills((640, 426))
    hills.save(pictures / "2024/hills.png")
    hills.save(pictures / "phone/IMG_0057.jpg", quality=88)
    w, h = hills.size
    hills.crop((w // 20, h // 20, w - w // 20, h - h // 20)).save(
        pictures / "exports/hills_crop.jpg", quality=85
    )
    badge = draw_badge()
    badge.save(pictures / "icons/badge.png")
    badge.resize((128, 128), Image.Resampling.LANCZOS).save(pictures / "icons/badge_128.png")
    badge.save(pictures / "icons/badge.webp", lossless=True)
    Image.new("RGB", (180, 254), (250, 250, 246)).save(pictures / "scans/page 1.png")
    Image.new("RGB", (90, 127), (251, 250, 245)).save(pictures / "scans/page 1 (copy).jpg", quality=90)
    ImageOps.mirror(draw_hills((600, 400))).rotate(90, expand=True).save(pictures / "2024/hills_sideways.jpg")
    for path in pictures.rglob("*"):
        os.utime(path, (WHEN, WHEN))
    return pictures


def find_chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, out: Path, dark: bool) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = find_chromium()
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox"] if chromium else []
        )
        context = browser.new_context(viewport=VIEWPORT, color_scheme="dark" if dark else "light")
        tab = context.new_page()
        tab.goto(page.as_uri())
        tab.wait_for_selector("body[data-ready='1']", state="attached")
        # One copy kept as well, to show both states of a duplicate.
        tab.locator("li.card", has_text="IMG_0042.webp").locator("input.mark").evaluate("box => box.click()")
        tab.evaluate("window.scrollTo(0, 0)")
        tab.wait_for_function("[...document.images].every((img) => !img.src || img.complete)")
        tab.screenshot(path=str(out))
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "review.png"))
    parser.add_argument("--dark", action="store_true", help="the dark colour scheme")
    parser.add_argument("--keep", metavar="DIR", help="make the library and the page in DIR, and leave them")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="ikmeta-screenshot-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        library(work)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ikmeta",
                "dupes",
                "Pictures",
                "--html",
                "review.html",
                "--no-cache",
                "-q",
            ],
            cwd=work,
            env=env,
            check=True,
        )
        out = Path(args.out).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        screenshot(work / "review.html", out, args.dark)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {out} ({out.stat().st_size / 1000:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
