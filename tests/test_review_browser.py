"""The review page in a real browser (headless Chromium through Playwright): it draws every
group, loads nothing from anywhere, keeps the user's choice, and the selection it downloads is
a report ``ikmeta apply`` accepts.

Needs Chromium (Debian's ``chromium``) and the ``playwright`` package; skipped without them
outside CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from ikmeta.dupes.report import FILE_FIELDS

from .conftest import LABELLED_SET, encode, labelled_set, need, run, scene

BY = "\N{MULTIPLICATION SIGN}"  # as the page writes dimensions (800 by 600)

# Every thumbnail of the page has its source and has decoded (after scrolling through).
ALL_THUMBNAILS_DECODED = """() => {
  const images = [...document.querySelectorAll("#groups img")];
  return images.length > 0 && images.every((img) => img.src && img.complete && img.naturalWidth > 0);
}"""

# Down the page two screens at a time (thumbnails get their source a screen ahead).
SCROLL_THROUGH = """async () => {
  const frame = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  for (let y = 0; y < document.scrollingElement.scrollHeight; y += 2 * innerHeight) {
    window.scrollTo(0, y);
    await frame();
  }
}"""


# What sticks out past the right edge of the screen (a group's box would clip it unseen).
WIDER_THAN_THE_SCREEN = """() => [...document.body.querySelectorAll("*")]
  .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 0.5)
  .map((e) => e.className || e.tagName)"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    need(
        chromium is not None and importlib.util.find_spec("playwright") is not None, "Chromium and Playwright"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


class Opened:
    """A page in its own browser context, with what it printed, threw and requested."""

    def __init__(self, context: Any, path: Path) -> None:
        self.context = context
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.as_uri()
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=15000)

    def evaluate(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def bytes_freed(self) -> int:
        return int(self.page.get_attribute("#stat-freed", "data-bytes"))

    def current_group(self) -> str | None:
        return self.evaluate("document.querySelector('.group.current')?.dataset.group ?? null")

    def group(self, index: int) -> Any:
        return self.page.locator("section.group").nth(index)

    def card(self, group: int, position: int) -> Any:
        return self.group(group).locator("li.card").nth(position)


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., Opened]]:
    contexts: list[Any] = []

    def opener(path: Path, **options: Any) -> Opened:
        options = {"viewport": {"width": 1280, "height": 800}, "accept_downloads": True, **options}
        contexts.append(browser.new_context(**options))
        return Opened(contexts[-1], path)

    yield opener
    for context in contexts:
        context.close()


def make_page(folder: Path, page: Path) -> list[dict]:
    """``ikmeta dupes FOLDER --json --html PAGE``: the report, and the page beside it."""
    result = run("dupes", str(folder), "--json", "--html", str(page), "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert page.is_file()
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def labelled(corpus, tmp_path_factory, shared_tmp) -> tuple[Path, list[dict]]:
    """The shared labelled set (~360 edited copies of the corpus' photos, the one
    test_dupes_cli.py scores): its page and report."""
    root = tmp_path_factory.mktemp("labelled")
    page = root / "review.html"
    return page, make_page(labelled_set(corpus, shared_tmp, *LABELLED_SET), page)


@pytest.fixture(scope="session")
def odd(tmp_path_factory) -> tuple[Path, list[dict]]:
    """Names that are not UTF-8, look like markup or are very long, a transparent flat pair and a
    file gone since the report: the page of ``ikmeta review`` and the report."""
    root = tmp_path_factory.mktemp("odd")
    folder = root / "photos"
    folder.mkdir()
    picture = scene((320, 240), seed=3)
    (folder / os.fsdecode(b"caf\xe9.png")).write_bytes(encode(picture, "PNG"))
    (folder / '<img src=x onerror=alert(1)> "q" & {{DATA}}.jpg').write_bytes(
        encode(picture.resize((200, 150)), "JPEG", quality=90)
    )
    (folder / ("long" * 60 + ".jpg")).write_bytes(encode(picture.resize((160, 120)), "JPEG", quality=80))
    (folder / "flat.png").write_bytes(encode(Image.new("RGBA", (64, 64), (200, 30, 30, 128)), "PNG"))
    (folder / "flat_small.png").write_bytes(encode(Image.new("RGBA", (32, 32), (200, 30, 30, 128)), "PNG"))
    (folder / "gone.jpg").write_bytes(encode(scene((300, 200), seed=8), "JPEG"))
    (folder / "gone_copy.jpg").write_bytes(encode(scene((300, 200), seed=8).resize((150, 100)), "JPEG"))
    report = root / "report.json"
    report.write_text(run("dupes", str(folder), "--json", "--no-cache").stdout, encoding="utf-8")
    (folder / "gone.jpg").unlink()
    page = root / "review.html"
    result = run("review", str(report), "-o", str(page), "--no-cache", "--quiet")
    assert result.exit_code == 0, result.stderr
    return page, json.loads(report.read_text(encoding="utf-8"))


# --- the labelled set ---------------------------------------------------------------------------


@pytest.mark.corpus
def test_the_page_loads_with_no_error_and_no_request(labelled, open_page):
    page, _ = labelled
    opened = open_page(page)
    opened.evaluate(SCROLL_THROUGH)
    opened.page.wait_for_function(ALL_THUMBNAILS_DECODED, timeout=10000)
    assert opened.errors == []
    assert all(url.split(":", 1)[0] in ("file", "data", "blob") for url in opened.requests)
    assert [url for url in opened.requests if not url.startswith("data:")] == [opened.url]


@pytest.mark.corpus
def test_every_group_is_drawn_and_every_thumbnail_decodes(labelled, open_page):
    page, report = labelled
    opened = open_page(page)
    assert opened.page.locator("section.group").count() == len(report)
    sources = [f["source"] for group in report for f in group["files"]]
    assert (
        opened.evaluate("[...document.querySelectorAll('li.card .path')].map((p) => p.textContent)")
        == sources
    )
    assert opened.evaluate("[...document.querySelectorAll('#groups img')].map((i) => i.alt)") == [
        f"Thumbnail of {source}" for source in sources
    ]
    assert opened.page.text_content("#stat-groups") == str(len(report))
    assert opened.page.text_content("#stat-duplicates") == str(len(sources) - len(report))
    assert opened.bytes_freed() == sum(f["size"] for group in report for f in group["files"][1:])
    opened.evaluate(SCROLL_THROUGH)
    opened.page.wait_for_function(ALL_THUMBNAILS_DECODED, timeout=10000)
    kept = opened.evaluate("[...document.querySelectorAll('li.card.kept .path')].map((p) => p.textContent)")
    assert kept == [group["reference"] for group in report]


@pytest.mark.corpus
def test_marking_and_unmarking_changes_the_bytes_freed_by_that_file(labelled, open_page):
    page, report = labelled
    opened = open_page(page)
    before = opened.bytes_freed()
    card = opened.card(0, 1)
    size = report[0]["files"][1]["size"]
    card.locator("input.mark").uncheck()
    assert opened.bytes_freed() == before - size
    assert "marked" not in card.get_attribute("class") and card.locator(".badge").text_content() == "Kept too"
    assert opened.page.text_content("#stat-marked") == str(
        len(report[0]["files"]) - 2 + sum(len(g["files"]) - 1 for g in report[1:])
    )
    card.locator("input.mark").check()
    assert opened.bytes_freed() == before
    assert "marked" in card.get_attribute("class")


@pytest.mark.corpus
def test_the_keys(labelled, open_page):
    page, report = labelled
    opened = open_page(page)
    keyboard = opened.page.keyboard
    before = opened.bytes_freed()
    keyboard.press("j")
    assert opened.current_group() == "0"
    keyboard.press("j")
    assert opened.current_group() == "1"
    assert opened.evaluate("document.activeElement.dataset.group") == "1"
    keyboard.press("k")
    assert opened.current_group() == "0"
    keyboard.press("k")
    assert opened.current_group() == "0"
    keyboard.press("Control+j")
    keyboard.press("Alt+j")
    assert opened.current_group() == "0"
    # x: the current group's first file that may be removed, then the focused card.
    keyboard.press("x")
    assert not opened.card(0, 1).locator("input.mark").is_checked()
    assert opened.bytes_freed() == before - report[0]["files"][1]["size"]
    keyboard.press("x")
    assert opened.bytes_freed() == before
    opened.card(0, 2).focus()
    keyboard.press("x")
    assert not opened.card(0, 2).locator("input.mark").is_checked()
    assert opened.bytes_freed() == before - report[0]["files"][2]["size"]
    keyboard.press("x")
    assert opened.card(0, 2).locator("input.mark").is_checked()
    # ? lists the keys; Escape closes.
    keyboard.press("?")
    assert opened.page.is_visible("#keys")
    keyboard.press("Escape")
    assert not opened.page.is_visible("#keys")
    # Enter opens the compare view, f flips it, Escape closes it.
    opened.card(0, 1).focus()
    keyboard.press("Enter")
    assert opened.page.is_visible("#compare")
    stage = opened.page.locator("#stage")
    assert stage.get_attribute("data-mode") == "side"
    assert opened.page.is_visible("#pane-kept") and opened.page.is_visible("#pane-other")
    keyboard.press("f")
    assert (stage.get_attribute("data-mode"), stage.get_attribute("data-shown")) == ("flip", "kept")
    assert opened.page.is_visible("#pane-kept") and not opened.page.is_visible("#pane-other")
    assert "Showing the kept copy" in opened.page.text_content("#flip-state")
    keyboard.press("f")
    assert stage.get_attribute("data-shown") == "other"
    assert opened.page.is_visible("#pane-other") and not opened.page.is_visible("#pane-kept")
    keyboard.press("x")  # in the compare view: the other picture
    assert not opened.card(0, 1).locator("input.mark").is_checked()
    assert "Kept too" in opened.page.text_content("#pane-other figcaption")
    keyboard.press("x")
    keyboard.press("Escape")
    assert not opened.page.is_visible("#compare")
    assert opened.evaluate("document.activeElement.dataset.file") == "1"
    assert opened.bytes_freed() == before
    # Enter on a group (after j) compares its first duplicate.
    keyboard.press("j")
    keyboard.press("Enter")
    assert report[1]["files"][1]["source"] in opened.page.text_content("#pane-other figcaption")
    keyboard.press("Escape")
    assert opened.errors == []


@pytest.mark.corpus
def test_the_compare_view_shows_the_whole_image_or_else_the_thumbnail(labelled, open_page):
    page, report = labelled
    index = next(
        (
            k
            for k, g in enumerate(report)
            if g["files"][0]["format"] == "heic" and g["files"][1]["format"] == "jpg"
        ),
        None,
    )
    assert index is not None, "the labelled set has a HEIC kept with a JPEG copy"
    opened = open_page(page)
    opened.card(index, 1).locator(".frame img").click()
    assert opened.page.is_visible("#compare")
    shown = """(id) => {
      const img = document.getElementById(id);
      return img.complete && img.naturalWidth > 0 ? [img.src.split(":")[0], img.naturalWidth] : null;
    }"""
    # The thumbnails at once; then the JPEG whole, from its file; the HEIC (which does not
    # decode in a browser) stays a thumbnail.
    opened.page.wait_for_function(f"({shown})('compare-kept') && ({shown})('compare-other')", timeout=10000)
    opened.page.wait_for_function(f"({shown})('compare-other')[0] === 'file'", timeout=10000)
    assert opened.evaluate(shown, "compare-other") == ["file", report[index]["files"][1]["width"]]
    opened.page.wait_for_timeout(300)
    assert opened.evaluate(shown, "compare-kept")[0] == "data"
    # Each says which it is: the HEIC a thumbnail (stretched to the JPEG's size), and why.
    other = report[index]["files"][1]
    assert (
        opened.page.text_content("#shown-other") == f"Whole picture, {other['width']}{BY}{other['height']} px"
    )
    kept_label = opened.page.text_content("#shown-kept")
    assert re.fullmatch(rf"Thumbnail, \d+{BY}\d+ px: this browser cannot show HEIC", kept_label)
    assert opened.page.is_visible("#shown-kept") and opened.page.is_visible("#shown-other")
    opened.page.click("#compare-close")
    assert not opened.page.is_visible("#compare")


def popcount_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@pytest.mark.corpus
def test_the_downloaded_selection_is_what_apply_acts_on(labelled, open_page, tmp_path):
    page, report = labelled
    big = [k for k, g in enumerate(report) if len(g["files"]) >= 3 and g["files"][0]["distance"] is not None]
    # Another copy kept where its pHash differs from the reference's: the distances change.
    kept_in, position = next((k, p) for k in big for p, f in enumerate(report[k]["files"]) if f["distance"])
    unmarked_in, emptied = [k for k in big if k != kept_in][:2]
    opened = open_page(page)
    opened.card(unmarked_in, 1).locator("input.mark").uncheck()
    opened.card(kept_in, position).locator(".keep-this").click()
    for other in range(1, len(report[emptied]["files"])):
        opened.card(emptied, other).locator("input.mark").uncheck()
    # The new kept copy moved first, the old one is second and marked, distances measured again.
    chosen = report[kept_in]["files"][position]
    old = report[kept_in]["files"][0]
    assert opened.card(kept_in, 0).locator(".path").text_content() == chosen["source"]
    assert "kept" in opened.card(kept_in, 0).get_attribute("class")
    assert opened.card(kept_in, 1).locator(".path").text_content() == old["source"]
    assert opened.card(kept_in, 1).locator("input.mark").is_checked()
    moved = popcount_distance(old["pHash"], chosen["pHash"])
    assert moved > 0 and opened.card(kept_in, 1).locator(".why").text_content() == f"pHash distance {moved}"
    with opened.page.expect_download() as waiting:
        opened.page.click("#download")
    download = waiting.value
    assert re.fullmatch(r"selection-\d{4}-\d\d-\d\d-\d{6}\.json", download.suggested_filename)
    selection = tmp_path / "selection.json"
    download.save_as(selection)
    assert opened.page.is_visible("#saved")
    text = selection.read_text(encoding="utf-8")
    saved = json.loads(text)

    expected: dict[str, str] = {}  # each file to act on -> the file its group keeps
    for k, group in enumerate(report):
        if k == emptied:
            continue
        files = group["files"]
        kept = chosen if k == kept_in else files[0]
        for f in files:
            if f is not kept and not (k == unmarked_in and f is files[1]):
                expected[f["source"]] = kept["source"]
    assert len(saved) == len(report) - 1
    by_source = {f["source"]: f for group in report for f in group["files"]}
    for group in saved:
        assert group["reference"] == group["files"][0]["source"]
        for record in group["files"]:
            assert list(record) == list(FILE_FIELDS)
            recorded = by_source[record["source"]]
            assert {k: v for k, v in record.items() if k != "distance"} == {
                k: v for k, v in recorded.items() if k != "distance"
            }
    # mtimeNs beyond 2^53 keeps every digit (a JSON number in JavaScript would round it),
    # written as reports write it: a string of digits.
    digits = dict(re.findall(r'"source": ("(?:[^"\\]|\\.)*").*?"mtimeNs": "(\d+)"', text))
    assert any(int(d) > 2**53 for d in digits.values())
    assert all(int(d) == int(by_source[json.loads(s)]["mtimeNs"]) for s, d in digits.items())
    regrouped = next(g for g in saved if g["reference"] == chosen["source"])
    for record in regrouped["files"]:
        assert record["distance"] == popcount_distance(record["pHash"], chosen["pHash"])
    assert [f["source"] for f in regrouped["files"]][:2] == [chosen["source"], old["source"]]

    plan = run("apply", "move", str(selection), "--to", str(tmp_path / "moved"), "--json")
    assert plan.exit_code == 0, plan.stderr
    document = json.loads(plan.stdout)
    assert document["dryRun"] is True
    assert {f["path"]: f["kept"] for f in document["files"]} == expected
    assert {f["status"] for f in document["files"]} == {"planned"}


@pytest.mark.corpus
def test_choosing_another_copy_and_back_restores_every_mark(labelled, open_page):
    """Unmark a file, keep it, keep the first copy again: it is unmarked, as the user left it
    (it is never marked for removal behind their back); x on the kept copy changes nothing."""
    page, report = labelled
    index = next(k for k, g in enumerate(report) if len(g["files"]) >= 3)
    opened = open_page(page)
    first, second = report[index]["files"][0]["source"], report[index]["files"][1]["source"]
    opened.card(index, 1).locator("input.mark").uncheck()
    before = opened.bytes_freed()
    opened.card(index, 1).locator(".keep-this").click()
    assert opened.card(index, 0).locator(".path").text_content() == second
    assert not opened.card(index, 1).locator("input.mark").is_checked()  # the old kept copy: kept too
    assert opened.bytes_freed() == before
    opened.card(index, 1).locator(".keep-this").click()
    assert opened.card(index, 0).locator(".path").text_content() == first
    assert not opened.card(index, 1).locator("input.mark").is_checked()
    assert opened.bytes_freed() == before
    opened.card(index, 0).focus()
    opened.page.keyboard.press("x")
    assert opened.bytes_freed() == before
    assert "copy to keep" in opened.page.text_content("#status")


# --- another copy kept, and what the compare view shows -------------------------------------------

# Each card of the first group: its file's name, what it says of the file, and its marks.
CARDS = """() => [...document.querySelectorAll("section.group")[0].querySelectorAll("li.card")].map((card) => [
  card.querySelector(".path .name").textContent,
  card.querySelector(".why").textContent,
  card.querySelector(".suggested")?.textContent ?? null,
])"""


# The counts in the bar, as read.
TOTALS = """() => [...document.querySelectorAll("#totals .stat")]
  .filter((stat) => !stat.hidden).map((stat) => stat.textContent.trim())"""


def group_head(opened: Opened) -> str:
    return opened.group(0).locator(".group-head p").text_content()


def how_far(kept: Path, other: Path) -> tuple[int, str | None]:
    """What ``ikmeta distance --geometry any`` measures of ``other`` against ``kept``."""
    measured = json.loads(run("distance", str(kept), str(other), "--json", "--geometry", "any").stdout)
    return measured["distance"], measured.get("match")


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> tuple[Path, list[dict]]:
    """One group: a picture, two copies of it turned a quarter (each with a mark of its own),
    a smaller copy with a mark, a mirrored and a cropped one: the page and the report."""
    from .test_perceptual import turn

    folder = tmp_path_factory.mktemp("edited") / "photos"
    folder.mkdir()
    picture = scene((480, 320), seed=4)

    def dotted(x: int) -> Image.Image:
        marked = picture.copy()
        ImageDraw.Draw(marked).ellipse([x, 230, x + 30, 260], fill=(255, 255, 255))
        return marked

    (folder / "original.png").write_bytes(encode(picture, "PNG"))
    (folder / "turned.jpg").write_bytes(encode(turn(dotted(40), "rotated 90"), "JPEG", quality=90))
    (folder / "turned_too.jpg").write_bytes(encode(turn(dotted(360), "rotated 90"), "JPEG", quality=90))
    (folder / "small.jpg").write_bytes(encode(dotted(240).resize((240, 160)), "JPEG", quality=90))
    (folder / "mirrored.jpg").write_bytes(encode(turn(picture, "mirrored"), "JPEG", quality=90))
    (folder / "cropped.jpg").write_bytes(encode(picture.crop((0, 0, 384, 320)), "JPEG", quality=90))
    page = folder.parent / "review.html"
    report = make_page(folder, page)
    assert len(report) == 1 and report[0]["reference"].endswith("original.png")
    how = {Path(f["source"]).name: (f["distance"], f["match"]) for f in report[0]["files"]}
    assert {name: match for name, (_, match) in how.items()} == {
        "original.png": None,
        "turned.jpg": "rotated 90",
        "turned_too.jpg": "rotated 90",
        "small.jpg": None,
        "mirrored.jpg": "mirrored",
        "cropped.jpg": "cropped",
    }
    assert how["turned.jpg"][0] > 0 and how["small.jpg"][0] > 0  # measured, not identical
    return page, report


def test_another_copy_kept_is_compared_with_each_file_as_far_as_the_report_allows(
    edited, open_page, tmp_path
):
    """Keep the turned copy: the suggested copy is turned back from it at the distance the scan
    measured, the other copy turned alike is at its pHashes' distance; the others were
    compared with the suggested copy alone, which they say (a copy turned otherwise, how it is
    turned from the kept one). Never "same solid colour" nor a made-up "edited copy"; the
    selection records no distance that was not measured. Keeping the suggested copy again
    says what the report says."""
    page, report = edited
    files = {Path(f["source"]).name: f for f in report[0]["files"]}
    folder = Path(report[0]["reference"]).parent
    opened = open_page(page)
    before = opened.evaluate(CARDS)
    head_before = group_head(opened)
    turned, small = files["turned.jpg"]["distance"], files["small.jpg"]["distance"]
    assert {name: why for name, why, _ in before} == {
        "original.png": "the suggested copy to keep",
        "turned.jpg": f"rotated 90, pHash distance {turned}",
        "turned_too.jpg": f"rotated 90, pHash distance {files['turned_too.jpg']['distance']}",
        "small.jpg": f"pHash distance {small}",
        "mirrored.jpg": f"mirrored, pHash distance {files['mirrored.jpg']['distance']}",
        "cropped.jpg": f"cropped, pHash distance {files['cropped.jpg']['distance']}",
    }
    position = [name for name, _, _ in before].index("turned.jpg")
    opened.card(0, position).locator(".keep-this").click()

    kept = folder / "turned.jpg"
    alike = popcount_distance(files["turned.jpg"]["pHash"], files["turned_too.jpg"]["pHash"])
    assert how_far(kept, folder / "turned_too.jpg") == (alike, None)  # as they stand
    assert how_far(kept, folder / "original.png") == (turned, "rotated 270")
    small_how, mirrored_how = (
        how_far(kept, folder / "small.jpg")[1],
        how_far(kept, folder / "mirrored.jpg")[1],
    )
    assert (small_how, mirrored_how) == ("rotated 270", "mirrored, rotated 90")
    after = opened.evaluate(CARDS)
    assert [name for name, _, _ in after][:2] == ["turned.jpg", "original.png"]
    by_name = {name: why for name, why, _ in after}
    assert by_name == {
        "turned.jpg": "your copy to keep",
        "original.png": f"rotated 270, pHash distance {turned}",
        "turned_too.jpg": f"pHash distance {alike}" if alike else "identical pHash",
        "small.jpg": f"{small_how}; to the suggested copy: pHash distance {small}",
        "mirrored.jpg": f"{mirrored_how}; to the suggested copy: mirrored, pHash distance "
        f"{files['mirrored.jpg']['distance']}",
        "cropped.jpg": f"to the suggested copy: cropped, pHash distance {files['cropped.jpg']['distance']}",
    }
    assert [name for name, _, suggested in after if suggested] == ["original.png"]
    head = group_head(opened)
    assert "solid colour" not in head and "edited copy" not in opened.page.text_content("#groups")
    assert head.split(" · ")[:2] == [
        "6 pictures",
        f"pHash distance up to {max(turned, alike)} (3 not measured against the kept copy)",
    ]
    # The compare view says the same.
    opened.card(0, 1).locator(".frame img").click()
    assert f"rotated 270, pHash distance {turned}" in opened.page.text_content("#pane-other figcaption")
    opened.page.click("#compare-close")

    with opened.page.expect_download() as waiting:
        opened.page.click("#download")
    selection = tmp_path / "selection.json"
    waiting.value.save_as(selection)
    (saved,) = json.loads(selection.read_text(encoding="utf-8"))
    assert saved["reference"] == str(kept)
    assert {Path(f["source"]).name: (f["distance"], f["match"]) for f in saved["files"]} == {
        "turned.jpg": (0, None),
        "original.png": (turned, "rotated 270"),
        "turned_too.jpg": (alike, None),
        "small.jpg": (None, "rotated 270"),  # how it is turned is known; its distance is not
        "mirrored.jpg": (None, "mirrored, rotated 90"),
        "cropped.jpg": (None, None),
    }

    opened.card(0, 1).locator(".keep-this").click()  # the suggested copy again
    assert sorted(opened.evaluate(CARDS)) == sorted(before)
    assert group_head(opened) == head_before
    assert opened.errors == []


@pytest.fixture(scope="module")
def turned_seven(tmp_path_factory) -> tuple[Path, list[dict]]:
    """A picture and a copy of it turned each of the seven ways: the page and the report."""
    from .test_perceptual import TURNED_BY_PILLOW, turn

    folder = tmp_path_factory.mktemp("turned") / "photos"
    folder.mkdir()
    picture = scene((480, 320), seed=4)
    (folder / "original.png").write_bytes(encode(picture, "PNG"))
    for k, name in enumerate(TURNED_BY_PILLOW):
        (folder / f"copy{k}.jpg").write_bytes(encode(turn(picture, name), "JPEG", quality=88))
    page = folder.parent / "review.html"
    report = make_page(folder, page)
    assert len(report) == 1 and len(report[0]["files"]) == 8
    return page, report


def test_each_turned_copy_kept_says_how_every_other_is_turned_from_it(turned_seven, open_page):
    """However the kept copy is turned, each other copy is turned from it as ``ikmeta distance
    --geometry any`` finds (the turns compose as the pictures do)."""
    page, report = turned_seven
    folder = Path(report[0]["reference"]).parent
    recorded = {Path(f["source"]).name: f for f in report[0]["files"]}
    opened = open_page(page)
    for k in range(7):
        name = f"copy{k}.jpg"
        position = [card[0] for card in opened.evaluate(CARDS)].index(name)
        opened.card(0, position).locator(".keep-this").click()
        for other, why, _ in opened.evaluate(CARDS)[1:]:
            _, match = how_far(folder / name, folder / other)
            assert match is not None, (name, other)
            if other == "original.png":
                assert why == f"{match}, pHash distance {recorded[name]['distance']}", name
            else:
                assert why.startswith(f"{match}; to the suggested copy: "), (name, other, why)
        assert "solid colour" not in group_head(opened)
    assert opened.errors == []


def test_a_group_of_two_with_another_copy_kept_and_counts_of_one(tmp_path, open_page):
    """The issue's case: a picture and a copy turned a quarter, the copy kept. And the bar
    counts one group and one duplicate in the singular."""
    from .test_perceptual import turn

    folder = tmp_path / "photos"
    folder.mkdir()
    picture = scene((480, 320), seed=4)
    (folder / "a.png").write_bytes(encode(picture, "PNG"))
    (folder / "b.jpg").write_bytes(encode(turn(picture, "rotated 90"), "JPEG", quality=88))
    page = tmp_path / "review.html"
    (group,) = make_page(folder, page)
    distance = group["files"][1]["distance"]
    opened = open_page(page)
    assert opened.evaluate(TOTALS)[:3] == ["2 images scanned", "1 group", "1 duplicate"]
    opened.card(0, 1).locator(".keep-this").click()
    assert opened.card(0, 1).locator(".why").text_content() == f"rotated 270, pHash distance {distance}"
    apart = f"pHash distance up to {distance}" if distance else "pHash distance 0"  # turned: not "identical"
    pictures, distances, marked = group_head(opened).split(" · ")
    assert (pictures, distances) == ("2 pictures", apart) and marked.startswith("1 marked, frees ")
    assert opened.errors == []


COMPARE_LABELS = """() => ["kept", "other"].map((side) => {
  const img = document.getElementById(`compare-${side}`);
  const label = document.getElementById(`shown-${side}`);
  return [img.src.split(":")[0], label.dataset.kind, label.textContent, getComputedStyle(label).display];
})"""


def test_the_compare_view_says_which_picture_is_a_thumbnail(tmp_path, open_page):
    """A HEIC beside its JPEG: the JPEG is shown whole from its file and says so; the HEIC,
    which Chromium does not show, is its thumbnail stretched, and says that."""
    pytest.importorskip("pillow_heif").register_heif_opener()
    folder = tmp_path / "photos"
    folder.mkdir()
    picture = scene((800, 600), seed=4)
    picture.save(folder / "IMG_0002.HEIC", quality=80)
    picture.save(folder / "IMG_0002.jpg", quality=95)
    page = tmp_path / "review.html"
    (group,) = make_page(folder, page)
    opened = open_page(page)
    opened.card(0, 1).locator(".frame img").click()
    opened.page.wait_for_function(  # the view open, and each label says what it settled on
        "() => document.getElementById('compare').open && ['kept', 'other'].every((side) => {"
        "  const text = document.getElementById(`shown-${side}`).textContent;"
        "  return text !== '' && !text.includes('loading'); })",
        timeout=10000,
    )
    labels = dict(zip(("kept", "other"), opened.evaluate(COMPARE_LABELS), strict=True))
    formats = {"kept": group["files"][0]["format"], "other": group["files"][1]["format"]}
    assert sorted(formats.values()) == ["heic", "jpg"]
    for side, fmt in formats.items():
        if fmt == "heic":
            text = f"Thumbnail, 256{BY}192 px: this browser cannot show HEIC"
            assert labels[side] == ["data", "thumbnail", text, "block"]
            assert "(thumbnail)" in opened.page.get_attribute(f"#compare-{side}", "alt")
        else:
            assert labels[side] == ["file", "full", f"Whole picture, 800{BY}600 px", "block"]
    opened.page.click("#compare-close")  # the dialog's close event, which clears the labels, comes after
    opened.page.wait_for_function(
        "() => document.getElementById('shown-kept').textContent === ''", timeout=5000
    )
    assert opened.errors == []


def test_a_page_not_opened_from_a_file_says_it_shows_thumbnails(edited, open_page, browser):
    """Served from elsewhere (here http:), the page cannot read the files: both panes are
    thumbnails, and say why."""
    page, _ = edited
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.route("http://review.test/**", lambda route: route.fulfill(path=str(page)))
        served = context.new_page()
        served.goto("http://review.test/review.html")
        served.wait_for_selector("body[data-ready='1']", state="attached", timeout=15000)
        served.locator("section.group li.card").nth(1).locator(".frame img").click()
        for side, kind, text, _ in served.evaluate(COMPARE_LABELS):
            assert (side, kind) == ("data", "thumbnail")
            assert re.fullmatch(
                rf"Thumbnail, \d+{BY}\d+ px: the page reads the files only when opened from a file", text
            )
    finally:
        context.close()


# --- odd names, colours and widths ----------------------------------------------------------------


def test_names_are_shown_as_text_and_come_back_exactly(odd, open_page, tmp_path):
    page, report = odd
    opened = open_page(page)
    sources = [f["source"] for group in report for f in group["files"]]
    # A name that is not UTF-8 holds a lone surrogate in the page, as in Python.
    assert (
        opened.evaluate("[...document.querySelectorAll('li.card .path')].map((p) => p.textContent)")
        == sources
    )
    assert opened.evaluate("document.querySelectorAll('#groups img').length") == len(sources) - 1
    problem = opened.page.locator("li.card", has_text="gone.jpg")
    assert problem.locator(".placeholder").is_visible()
    assert "no such file" in problem.locator(".problem").text_content()
    flat = opened.page.locator("li.card", has_text="flat_small.png")
    assert flat.locator(".why").text_content() == "same solid colour"
    assert "from report" in opened.page.text_content("#origin").lower()
    opened.page.wait_for_function(ALL_THUMBNAILS_DECODED, timeout=10000)
    assert opened.errors == [] and opened.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    with opened.page.expect_download() as waiting:
        opened.page.click("#download")
    selection = tmp_path / "selection.json"
    waiting.value.save_as(selection)
    saved = json.loads(selection.read_text(encoding="utf-8"))
    # Nothing changed: the report itself, names and all, each group's reference now chosen
    # (and no root: every name is absolute).
    assert [{k: v for k, v in group.items() if k != "chosen"} for group in saved] == [
        {k: v for k, v in group.items() if k != "root"} for group in report
    ]
    assert all(group["chosen"] is True for group in saved)


def test_dark_mode_and_a_narrow_screen(odd, open_page):
    page, _ = odd
    light = open_page(page, color_scheme="light")
    dark = open_page(page, color_scheme="dark")
    colours = "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"
    light_colours, dark_colours = light.evaluate(colours), dark.evaluate(colours)
    assert all(a != b for a, b in zip(light_colours, dark_colours, strict=True))  # background, text
    narrow = open_page(page, viewport={"width": 375, "height": 740})
    assert narrow.evaluate("document.scrollingElement.scrollWidth") <= 375
    assert narrow.evaluate(WIDER_THAN_THE_SCREEN) == []  # nor anything cut off (long names wrap)
    narrow.card(0, 1).locator(".frame").click()
    assert narrow.evaluate("document.scrollingElement.scrollWidth") <= 375
    assert narrow.evaluate(WIDER_THAN_THE_SCREEN) == []


# --- a large library ------------------------------------------------------------------------------


def test_five_thousand_groups_open_quickly_in_little_memory(open_page, tmp_path):
    from ikmeta.review.page import page_chunks, write_page
    from ikmeta.review.thumbnails import Thumbnail

    shapes = [(256, 192), (192, 256), (256, 171)]
    thumbs = [
        Thumbnail(encode(scene(size, seed=k), "WEBP", quality=50), *size) for k, size in enumerate(shapes)
    ]
    rng = random.Random(5)
    groups, sources = [], {}
    for g in range(5000):
        files = []
        for k in range(2 + g % 2):
            source = f"/nowhere/library/{g // 100:03d}/IMG_{g:05d}_{k}.jpg"
            sources[source] = thumbs[(g + k) % 3]
            width, height = thumbs[(g + k) % 3].width * 16, thumbs[(g + k) % 3].height * 16
            files.append(
                {
                    "source": source,
                    "pHash": f"{rng.getrandbits(64):016x}",
                    "distance": 0 if k == 0 else rng.randrange(1, 10),
                    "width": width,
                    "height": height,
                    "size": rng.randrange(100_000, 9_000_000),
                    "format": "jpg",
                    "quality": 90,
                    "camera": "Synthetic Camera",
                    "captured": "2024-06-01T10:00:00",
                    "mtimeNs": 1_700_000_000_000_000_000 + g,
                }
            )
        groups.append({"reference": files[0]["source"], "files": files})
    page = tmp_path / "large.html"
    write_page(page_chunks(groups, {"report": "large.json"}, sources), str(page))
    started = time.monotonic()
    opened = open_page(page)
    ready = time.monotonic() - started
    assert opened.page.locator("section.group").count() == 5000
    assert opened.page.locator("li.card").count() == 12500
    assert ready < 10, ready
    # Only the thumbnails near the viewport have a source; the rest come when scrolled to.
    assert opened.evaluate("document.querySelectorAll('#groups img[src]').length") < 200
    session = opened.context.new_cdp_session(opened.page)
    session.send("HeapProfiler.collectGarbage")
    session.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}
    assert metrics["JSHeapUsedSize"] < 100e6, metrics["JSHeapUsedSize"]
    opened.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    opened.page.wait_for_function(
        """() => [...document.querySelectorAll("section.group")].slice(-1)[0]
             .querySelectorAll("img[src]").length > 0""",
        timeout=5000,
    )
    assert opened.errors == []


def test_a_video_group_shows_posters_lengths_and_counts(tmp_path, open_page):
    """The sample clip and its smaller WebM beside the photos: each card a poster, its length
    and bit rate; the bar counts images and videos; the compare view says it shows a frame."""
    pytest.importorskip("av")
    from .conftest import EXAMPLES

    folder = tmp_path / "library"
    shutil.copytree(EXAMPLES, folder)
    page = tmp_path / "review.html"
    groups = make_page(folder, page)
    assert [len(g["files"]) for g in groups] == [2, 2]
    opened = open_page(page)
    assert opened.evaluate(TOTALS)[:3] == ["3 images and 2 videos scanned", "2 groups", "2 duplicates"]
    facts = opened.card(1, 0).locator(".facts li").first.text_content()
    assert facts.startswith(f"320{BY}180, 3.0 s · ") and facts.endswith("MP4, 25 kbps")
    assert opened.card(1, 1).locator(".frame img").evaluate("img => img.complete && img.naturalWidth") == 160
    opened.card(1, 1).locator(".frame img").click()
    opened.page.wait_for_function("() => document.getElementById('shown-other').textContent !== ''")
    text = opened.evaluate("document.getElementById('shown-other').textContent")
    assert text == f"Thumbnail, 160{BY}90 px: a video: its key frame nearest before the middle"
    assert opened.errors == []
