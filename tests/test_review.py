"""The review page's core: thumbnails (as displayed, sRGB, cached) and the page's HTML."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re

import pytest
from PIL import Image

from ikmeta.cache import HashCache
from ikmeta.dupes.report import FILE_FIELDS
from ikmeta.errors import IkmetaError, ImageError, SourceError
from ikmeta.review import is_review_page, write_review
from ikmeta.review import thumbnails as thumbs_module
from ikmeta.review.page import MARK, file_url, page_chunks, page_data, script_json, shown_date, write_page
from ikmeta.review.thumbnails import SIDE, Thumbnail, in_srgb, make_thumbnails, thumbnail_source

from .conftest import EXAMPLES, encode, exif_with, scene


def decoded(thumb: Thumbnail) -> Image.Image:
    im = Image.open(io.BytesIO(thumb.data))
    assert im.format == "WEBP"
    assert im.size == (thumb.width, thumb.height)
    im.load()
    return im


def halves(size=(400, 200)) -> Image.Image:
    """Left half red, right half blue: which way up it is shows."""
    im = Image.new("RGB", size, (220, 20, 20))
    im.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return im


def reddish(pixel) -> bool:
    return pixel[0] > 150 and pixel[2] < 100


def blueish(pixel) -> bool:
    return pixel[2] > 150 and pixel[0] < 100


# --- thumbnails ------------------------------------------------------------------------------


def test_thumbnail_is_webp_with_the_long_side_256(write):
    thumb = thumbnail_source(write("wide.jpg", scene((1600, 900)), quality=90))
    im = decoded(thumb)
    assert (im.width, im.height) == (256, 144)
    assert thumb.mime == "image/webp"


def test_a_small_image_is_not_enlarged(write):
    thumb = thumbnail_source(write("small.png", scene((120, 80))))
    assert (thumb.width, thumb.height) == (120, 80)


def test_the_exif_orientation_is_applied(write):
    """Stored 400x200 with Orientation 6 (turn 90 degrees clockwise to show): shown 200x400,
    the red left half on top."""
    path = write("turned.jpg", halves(), exif=exif_with(t0x0112=6), quality=95)
    im = decoded(thumbnail_source(path)).convert("RGB")
    assert im.width < im.height
    assert reddish(im.getpixel((im.width // 2, im.height // 4)))
    assert blueish(im.getpixel((im.width // 2, 3 * im.height // 4)))


def test_alpha_is_kept(write):
    im = scene((300, 300)).convert("RGBA")
    im.putalpha(Image.new("L", im.size, 0).point(lambda v: 0))
    im.paste((0, 0, 0, 255), (0, 0, 150, 300))
    thumb = decoded(thumbnail_source(write("half-clear.png", im)))
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((200, 150))[3] == 0
    assert thumb.getpixel((50, 150))[3] == 255


@pytest.mark.parametrize(
    ("name", "image", "fmt"),
    [
        ("cmyk.jpg", scene().convert("CMYK"), "JPEG"),
        ("grey16.png", scene().convert("I;16"), "PNG"),
        ("palette.gif", scene().convert("P"), "GIF"),
        ("grey.tif", scene().convert("L"), "TIFF"),
        ("bilevel.png", scene().convert("1"), "PNG"),
    ],
)
def test_every_colour_mode_makes_an_rgb_thumbnail(write, name, image, fmt):
    thumb = decoded(thumbnail_source(write(name, image, fmt)))
    assert thumb.mode == "RGB"
    assert thumb.size == (256, 192)


def test_an_srgb_profile_leaves_colours_alone_and_a_broken_one_is_ignored():
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im = Image.new("RGB", (4, 4), (200, 100, 50))
    assert in_srgb(im, srgb).getpixel((0, 0)) == pytest.approx((200, 100, 50), abs=2)
    assert in_srgb(im, b"not a profile").getpixel((0, 0)) == (200, 100, 50)
    assert in_srgb(im.convert("CMYK"), None).mode == "RGB"


def test_a_heic_thumbnail(corpus):
    heic = sorted(corpus.rglob("*.heic")) + sorted(corpus.rglob("*.HEIC"))
    assert heic, "the corpus has HEIC files"
    thumb = decoded(thumbnail_source(str(heic[0])))
    assert max(thumb.size) == SIDE


def test_errors_name_the_source(write, tmp_path):
    with pytest.raises(ImageError, match="corrupt"):
        thumbnail_source(write("bad.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"))
    with pytest.raises(SourceError):
        thumbnail_source(str(tmp_path / "gone.jpg"))


def test_thumbnails_yield_every_source_once_with_errors_in_place(write, tmp_path):
    good = write("good.png", scene())
    missing = str(tmp_path / "missing.png")
    got = dict(make_thumbnails([good, missing, good], HashCache.open(None), jobs=2))
    assert set(got) == {good, missing}
    assert isinstance(got[good], Thumbnail)
    assert isinstance(got[missing], IkmetaError)


def test_thumbnails_are_cached_and_an_edited_file_is_made_again(write, tmp_path, monkeypatch):
    path = write("a.png", scene())
    cache_path = str(tmp_path / "cache.sqlite3")
    cache = HashCache.open(cache_path)
    first = dict(make_thumbnails([path], cache, jobs=1))[path]
    cache.close()

    def no_decoding(source, fetch=None):
        raise AssertionError(f"decoded {source} again")

    monkeypatch.setattr(thumbs_module, "thumbnail_source", no_decoding)
    cache = HashCache.open(cache_path)
    assert dict(make_thumbnails([path], cache, jobs=2))[path] == first
    cache.close()

    monkeypatch.undo()
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    made = []
    real = thumbs_module.thumbnail_source
    monkeypatch.setattr(thumbs_module, "thumbnail_source", lambda s, fetch=None: made.append(s) or real(s))
    cache = HashCache.open(cache_path)
    dict(make_thumbnails([path], cache, jobs=1))
    cache.close()
    assert made == [path]


def test_an_older_cache_gains_the_thumbnails_table(tmp_path):
    import sqlite3

    path = str(tmp_path / "old.sqlite3")
    HashCache.open(path).close()
    connection = sqlite3.connect(path)
    connection.execute("DROP TABLE thumbnails")
    connection.execute("PRAGMA user_version = 2")
    connection.commit()
    connection.close()
    cache = HashCache.open(path)
    key = thumbs_module.cache_key(str(EXAMPLES / "badge.png"))
    cache.put_thumbnails([(key, (3, 2, b"webp"))], "kind")
    assert cache.get_thumbnails([key], "kind") == {key: (3, 2, b"webp")}
    assert cache.get_thumbnails([key], "another kind") == {}
    cache.close()


# --- the page --------------------------------------------------------------------------------


def group_of(*sources: str, **fields) -> dict:
    return {
        "reference": sources[0],
        "files": [{"source": s, "distance": 0 if k == 0 else 4, **fields} for k, s in enumerate(sources)],
    }


def page_text(groups, thumbs=None, origin=None) -> str:
    return "".join(page_chunks(groups, origin or {"report": "r.json"}, thumbs or {}))


def embedded(text: str) -> dict:
    match = re.search(r'<script type="application/json" id="ikmeta-data">(.*?)</script>', text, re.S)
    assert match
    return json.loads(match[1])


def thumbnail_lines(text: str) -> list[str]:
    match = re.search(r'<script type="text/plain" id="ikmeta-thumbs">\n(.*?)</script>', text, re.S)
    assert match
    return match[1].splitlines()


def test_the_page_is_marked_and_carries_the_groups():
    text = page_text([group_of("a.jpg", "b.jpg"), group_of("c.jpg", "d.jpg", "e.jpg")])
    assert text.startswith("<!DOCTYPE html>\n" + MARK)
    data = embedded(text)
    assert [[f["record"]["source"] for f in g["files"]] for g in data["groups"]] == [
        ["a.jpg", "b.jpg"],
        ["c.jpg", "d.jpg", "e.jpg"],
    ]
    assert data["title"] == "ikmeta review: 2 groups"
    assert data["origin"] == {"report": "r.json"}
    assert "<title>ikmeta review: 2 groups</title>" in text


def test_the_page_makes_no_request_anywhere():
    """No URL to load anything from in the markup, and a policy that forbids every request
    but images from data:, blob: and file: (the full-size view)."""
    text = page_text([group_of("a.jpg", "b.jpg")])
    head = text.split('<script type="application/json"')[0]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", head)
    assert "@import" not in head and "url(http" not in text
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)[1]
    assert "default-src 'none'" in policy
    assert "img-src data: blob: file:" in policy


def test_the_policy_allows_exactly_the_page_own_style_and_program():
    text = page_text([group_of("a.jpg", "b.jpg")])
    policy = re.search(r'content="(default-src[^"]+)"', text)[1]
    style = re.search(r"<style>(.*?)</style>", text, re.S)[1]
    script = re.search(r"<script>(.*?)</script>", text, re.S)[1]
    for kind, body in (("style-src", style), ("script-src", script)):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{kind} 'sha256-{digest}'" in policy


@pytest.mark.parametrize(
    "name",
    ["</script><script>alert(1)</script>.jpg", "<!--x.jpg", "{{SCRIPT}}.jpg", "a&amp;b.jpg", "quote\"'.jpg"],
)
def test_a_file_name_cannot_break_out_of_the_data(name):
    text = page_text([group_of(name, "b.jpg")])
    assert text.count("<script>") == 1  # the page's own program, once
    assert text.count("</script>") == 3  # data, program, thumbnails
    assert embedded(text)["groups"][0]["files"][0]["record"]["source"] == name


def test_a_name_that_is_not_utf8_survives_as_python_holds_it():
    name = os.fsdecode(b"caf\xe9.jpg")  # Latin-1 bytes: a lone surrogate in Python
    text = page_text([group_of(name, "b.jpg")])
    text.encode("utf-8")  # the page is valid UTF-8
    assert embedded(text)["groups"][0]["files"][0]["record"]["source"] == name
    assert file_url(name).endswith("/caf%E9.jpg")


def test_recorded_fields_of_the_wrong_type_are_dropped():
    group = group_of("a.jpg", "b.jpg")
    group["files"][1].update(size="12", width=True, mtimeNs=1796022541468584958, camera=["x"])
    record = embedded(page_text([group]))["groups"][0]["files"][1]["record"]
    assert (record["size"], record["width"], record["camera"]) == (None, None, None)
    assert record["mtimeNs"] == 1796022541468584958
    assert tuple(record) == FILE_FIELDS  # the report's fields, in its order


def test_a_time_written_as_digits_is_the_number():
    """Reports write mtimeNs as a string of digits (JSON tools that read numbers as doubles
    would round it): the page takes it as the number, so a changed file is still noticed."""
    group = group_of("a.jpg", "b.jpg")
    group["files"][0]["mtimeNs"] = "1796022541468584958"
    group["files"][1]["mtimeNs"] = "17960225414685849580000"  # not a time
    files = embedded(page_text([group]))["groups"][0]["files"]
    assert [f["record"]["mtimeNs"] for f in files] == [1796022541468584958, None]


def test_the_bar_words_its_counts_for_one_and_for_more():
    """The nouns after the bar's counts are the program's to write ("1 group", "2 groups"),
    and a page of one group is titled so."""
    text = page_text([group_of("a.jpg", "b.jpg")])
    assert "<title>ikmeta review: 1 group</title>" in text
    for count in ("stat-scanned", "stat-groups", "stat-duplicates"):
        assert f'id="{count}-word"' in text


def test_identical_thumbnails_are_stored_once():
    same, other = Thumbnail(b"RIFF-same", 10, 8), Thumbnail(b"RIFF-other", 10, 8)
    thumbs = {
        "a.jpg": same,
        "b.jpg": same,
        "c.jpg": other,
        "d.jpg": ImageError("d.jpg", "corrupt image data"),
    }
    text = page_text([group_of("a.jpg", "b.jpg"), group_of("c.jpg", "d.jpg")], thumbs)
    files = [f for g in embedded(text)["groups"] for f in g["files"]]
    assert [f["thumb"] for f in files] == [0, 0, 1, None]
    assert files[3]["problem"] == "corrupt image data"
    assert [base64.b64decode(line) for line in thumbnail_lines(text)] == [b"RIFF-same", b"RIFF-other"]


def test_a_file_changed_since_the_report_says_so(write):
    path = write("a.png", scene())
    st = os.stat(path)
    record = {"source": path, "size": st.st_size, "mtimeNs": st.st_mtime_ns}
    data, _ = page_data([{"reference": path, "files": [record, dict(record, size=1)]}], {}, {})
    assert [f["problem"] for f in data["groups"][0]["files"]] == [
        None,
        "changed since the report was made (its size differs)",
    ]


def test_shown_date_prefers_the_capture_time():
    assert shown_date({"captured": "2008-05-30T15:56:01", "mtimeNs": 0}) == ("2008-05-30 15:56:01", "taken")
    date, kind = shown_date({"captured": None, "mtimeNs": 1_700_000_000_000_000_000})
    assert kind == "modified" and date.startswith("2023-11-1")
    assert shown_date({"captured": None, "mtimeNs": None}) == (None, None)
    assert shown_date({"captured": None, "mtimeNs": 10**30}) == (None, None)  # past any calendar


def test_file_url_quotes_the_path_and_keeps_urls():
    assert file_url("/photos/a b#1?.jpg") == "file:///photos/a%20b%231%3F.jpg"
    assert file_url("https://example.com/a.jpg") == "https://example.com/a.jpg"
    assert file_url("rel.jpg") == "file://" + os.path.abspath("rel.jpg").replace(" ", "%20")


def test_script_json_escapes_markup():
    assert script_json({"a": "</script><!--&"}) == '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026"}'


def test_write_page_is_whole_or_nothing(tmp_path):
    path = str(tmp_path / "page.html")
    assert write_page(["<!DOCTYPE html>\n", MARK, " -->"], path) == len(f"<!DOCTYPE html>\n{MARK} -->")
    assert is_review_page(path)

    def broken():
        yield "<!DOCTYPE html>\n"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_page(broken(), path)
    assert is_review_page(path)  # the old page, whole
    assert os.listdir(tmp_path) == ["page.html"]  # no temporary file left


def test_is_review_page(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(encode(scene(), "JPEG"))
    (tmp_path / "other.html").write_text("<!DOCTYPE html>\n<html></html>")
    assert not is_review_page(str(tmp_path / "photo.jpg"))
    assert not is_review_page(str(tmp_path / "other.html"))
    assert not is_review_page(str(tmp_path / "missing.html"))


def test_write_review_makes_the_thumbnails_and_the_page(tmp_path, write):
    a, b = write("a.jpg", scene(), quality=90), write("b.png", scene())
    calls = []
    made = write_review(
        [group_of(a, b, str(tmp_path / "gone.jpg"))],
        str(tmp_path / "page.html"),
        origin={"report": "r.json"},
        cache=HashCache.open(None),
        jobs=2,
        on_total=calls.append,
        on_thumbnail=lambda: calls.append("."),
    )
    text = (tmp_path / "page.html").read_text()
    assert made.size == len(text.encode())
    assert made.without_preview == [(str(tmp_path / "gone.jpg"), "no such file")]
    assert calls == [3, ".", ".", "."]
    lines = thumbnail_lines(text)
    assert len(lines) == 2
    assert all(Image.open(io.BytesIO(base64.b64decode(line))).format == "WEBP" for line in lines)


def test_a_file_made_at_the_page_path_meanwhile_is_left_alone(tmp_path):
    from ikmeta.review.page import NotAPage

    path = tmp_path / "page.html"

    def chunks():
        yield "<!DOCTYPE html>\n"
        path.write_text("my notes")  # another program, while the page is being written
        yield MARK

    with pytest.raises(NotAPage):
        write_page(chunks(), str(path))
    assert path.read_text() == "my notes"
    assert os.listdir(tmp_path) == ["page.html"]


def test_an_earlier_page_keeps_its_permissions(tmp_path):
    path = tmp_path / "page.html"
    write_page(["<!DOCTYPE html>\n", MARK], str(path))
    os.chmod(path, 0o600)
    write_page(["<!DOCTYPE html>\n", MARK, " again"], str(path))
    assert path.read_text().endswith("again")
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_a_report_source_dash_is_not_standard_input(monkeypatch):
    import sys

    class Unreadable:
        def read(self, *args):
            raise AssertionError("read standard input")

        buffer = property(lambda self: self)

    monkeypatch.setattr(sys, "stdin", Unreadable())
    got = dict(make_thumbnails(["-"], HashCache.open(None), jobs=1))
    assert isinstance(got["-"], SourceError) and "standard input" in got["-"].reason


def test_a_thumbnail_that_runs_out_of_memory_is_one_error(write, monkeypatch):
    path = write("a.png", scene())

    def exhausted(source, fetch=None):
        raise MemoryError

    monkeypatch.setattr(thumbs_module, "thumbnail_source", exhausted)
    got = dict(make_thumbnails([path], HashCache.open(None), jobs=1))[path]
    assert isinstance(got, IkmetaError) and got.reason == "not enough memory to read this image"
