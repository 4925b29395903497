"""``ikmeta dupes --html`` and ``ikmeta review``: the page, the messages, the exit codes."""

from __future__ import annotations

import json
import os

import pytest

from .conftest import encode, run, scene
from .test_review import embedded as page_data


def embedded(path) -> dict:
    """The data object of the page at ``path``."""
    return page_data(path.read_text(encoding="utf-8"))


@pytest.fixture
def library(tmp_path):
    """Two near-duplicate pairs and a loner."""
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(encode(scene((640, 480), seed=1), "JPEG", quality=95))
    (folder / "a_small.jpg").write_bytes(
        encode(scene((640, 480), seed=1).resize((320, 240)), "JPEG", quality=80)
    )
    (folder / "b.png").write_bytes(encode(scene((400, 300), seed=5), "PNG"))
    (folder / "b.webp").write_bytes(encode(scene((400, 300), seed=5), "WEBP", quality=80))
    (folder / "c.png").write_bytes(encode(scene((400, 300), seed=9).rotate(90), "PNG"))
    return folder


def test_dupes_html_writes_the_page_and_prints_only_the_summary(library, tmp_path):
    page = tmp_path / "review.html"
    result = run("dupes", str(library), "--html", str(page), "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "5 images scanned, 2 groups, 2 duplicates" in result.stderr
    assert f"wrote {page} (2 groups, " in result.stderr
    data = embedded(page)
    assert [len(g["files"]) for g in data["groups"]] == [2, 2]
    assert all(f["thumb"] is not None for g in data["groups"] for f in g["files"])
    scan = data["origin"]["scan"]
    assert scan == {
        "paths": [str(library)],
        "max": 10,
        "linkage": "reference",
        "hidden": False,
        "geometry": "any",
        "scanned": 5,
        "videos": 0,
        "unreadable": 0,
    }


def test_dupes_html_with_an_output_format_prints_the_groups_too(library, tmp_path):
    page = tmp_path / "review.html"
    result = run("dupes", str(library), "--html", str(page), "--no-cache", "--json", "--max", "8")
    assert result.exit_code == 0, result.stderr
    groups = json.loads(result.stdout)
    data = embedded(page)
    assert [[f["source"] for f in g["files"]] for g in groups] == [
        [f["record"]["source"] for f in g["files"]] for g in data["groups"]
    ]
    assert data["origin"]["scan"]["max"] == 8


def test_the_page_records_what_apply_checks(library, tmp_path):
    page = tmp_path / "review.html"
    run("dupes", str(library), "--html", str(page), "--no-cache")
    for group in embedded(page)["groups"]:
        for entry in group["files"]:
            st = os.stat(entry["record"]["source"])
            assert (entry["record"]["size"], entry["record"]["mtimeNs"]) == (st.st_size, st.st_mtime_ns)


def test_dupes_html_never_overwrites_a_file_that_is_not_its_page(library, tmp_path):
    photo = library / "a.jpg"
    before = photo.read_bytes()
    result = run("dupes", str(library), "--html", str(photo), "--no-cache")
    assert result.exit_code == 2
    assert "exists and is not a review page ikmeta made: not overwriting it" in result.stderr
    assert photo.read_bytes() == before


def test_a_page_ikmeta_made_is_replaced(library, tmp_path):
    page = tmp_path / "review.html"
    assert run("dupes", str(library), "--html", str(page), "--no-cache").exit_code == 0
    (library / "b.webp").unlink()
    assert run("dupes", str(library), "--html", str(page), "--no-cache").exit_code == 0
    assert len(embedded(page)["groups"]) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "give the page a file name"),
        ("-", "give the page a file name"),
        ("{tmp}", "is a directory"),
        ("{tmp}/no/such/page.html", "no such folder"),
    ],
)
def test_bad_page_paths_are_usage_errors(library, tmp_path, value, message):
    for command in (["dupes", str(library), "--html"], ["review", "report.json", "-o"]):
        result = run(*command, value.format(tmp=tmp_path))
        assert result.exit_code == 2
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_review_makes_the_page_from_a_report_without_scanning(library, tmp_path):
    report = tmp_path / "report.json"
    report.write_text(run("dupes", str(library), "--json", "--no-cache").stdout)
    page = tmp_path / "page.html"
    result = run("review", str(report), "-o", str(page), "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {page} (2 groups," in result.stderr
    data = embedded(page)
    assert data["origin"] == {"report": str(report)}
    assert [[f["record"]["source"] for f in g["files"]] for g in data["groups"]] == [
        [f["source"] for f in g["files"]] for g in json.loads(report.read_text())
    ]


def test_review_reads_ndjson_on_stdin_and_puts_the_reference_first(library, tmp_path):
    groups = json.loads(run("dupes", str(library), "--json", "--no-cache").stdout)
    groups[0]["files"].reverse()  # a hand-edited report: the reference listed last
    lines = "".join(json.dumps(g) + "\n" for g in groups)
    page = tmp_path / "page.html"
    result = run("review", "-", "-o", str(page), "--no-cache", stdin=lines)
    assert result.exit_code == 0, result.stderr
    first = embedded(page)["groups"][0]["files"][0]["record"]["source"]
    assert first == groups[0]["reference"]


def test_review_shows_files_gone_or_changed_and_says_so(library, tmp_path):
    report = tmp_path / "report.json"
    report.write_text(run("dupes", str(library), "--json", "--no-cache").stdout)
    (library / "a_small.jpg").unlink()
    (library / "b.webp").write_bytes(encode(scene((400, 300), seed=5), "WEBP", quality=50))
    page = tmp_path / "page.html"
    result = run("review", str(report), "-o", str(page), "--no-cache")
    assert result.exit_code == 0
    assert f"{library / 'a_small.jpg'}: warning: shown without a thumbnail: no such file" in result.stderr
    problems = {
        os.path.basename(f["record"]["source"]): f["problem"]
        for g in embedded(page)["groups"]
        for f in g["files"]
    }
    assert problems["a_small.jpg"] == "no such file"
    assert problems["b.webp"].startswith("changed since the report was made")
    assert problems["a.jpg"] is None


def test_review_writes_review_html_by_default(library, tmp_path, monkeypatch):
    report = tmp_path / "report.json"
    report.write_text(run("dupes", str(library), "--json", "--no-cache").stdout)
    monkeypatch.chdir(tmp_path)
    assert run("review", str(report), "--no-cache", "-q").exit_code == 0
    assert (tmp_path / "review.html").is_file()


def test_review_of_something_that_is_not_a_report_fails_with_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"files": [{"source": "a.jpg"}]}]')
    result = run("review", str(bad), "-o", str(tmp_path / "page.html"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "a group of 1 file" in result.stderr
    assert not (tmp_path / "page.html").exists()


def test_review_of_a_missing_report_is_a_usage_error(tmp_path):
    result = run("review", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "nope.json" in result.stderr


def test_review_page_that_cannot_be_written_is_one_line(library, tmp_path, monkeypatch):
    report = tmp_path / "report.json"
    report.write_text(run("dupes", str(library), "--json", "--no-cache").stdout)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ikmeta.review.write_page", full)
    result = run("review", str(report), "-o", str(tmp_path / "page.html"), "--no-cache")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("cannot write the review page: no space left on device")


def test_thumbnails_go_into_the_cache_with_the_hashes(library, tmp_path):
    import sqlite3

    cache = tmp_path / "cache.sqlite3"
    assert (
        run("dupes", str(library), "--html", str(tmp_path / "p.html"), "--cache", str(cache)).exit_code == 0
    )
    connection = sqlite3.connect(cache)
    assert connection.execute("SELECT count(*) FROM hashes").fetchone() == (5,)
    assert connection.execute("SELECT count(*) FROM thumbnails").fetchone() == (4,)  # the grouped ones
    connection.close()


def test_review_help_has_examples():
    result = run("review", "--help")
    assert "ikmeta review report.json -o review.html" in result.stdout
    assert "--html FILE" in run("dupes", "--help").stdout


def test_review_refuses_a_report_naming_one_file_twice(library, tmp_path, monkeypatch):
    """Unmarking ``a_small.jpg`` on the page would not protect ``./a_small.jpg``."""
    monkeypatch.chdir(library)
    group = {
        "reference": "a.jpg",
        "files": [{"source": s} for s in ("a.jpg", "a_small.jpg", "./a_small.jpg")],
    }
    report = tmp_path / "twice.json"
    report.write_text(json.dumps([group]))
    result = run("review", str(report), "-o", str(tmp_path / "page.html"), "--no-cache")
    assert result.exit_code == 1
    assert "./a_small.jpg: the same file as a_small.jpg, listed again" in result.stderr
    assert not (tmp_path / "page.html").exists()


def test_the_selection_names_files_by_absolute_path_and_a_hash_list_gets_sizes(
    library, tmp_path, monkeypatch
):
    """A page made from a relative scan, or from a hash list (no size, no time), still saves a
    selection apply can check from any folder."""
    monkeypatch.chdir(library.parent)
    hashes = tmp_path / "hashes.txt"
    hashes.write_text(run("phash", "photos").stdout)
    page = tmp_path / "page.html"
    assert run("dupes", "--hashes", str(hashes), "--html", str(page), "-q").exit_code == 0
    for group in embedded(page)["groups"]:
        for entry in group["files"]:
            source = entry["record"]["source"]
            assert not os.path.isabs(source) and entry["path"] == os.path.abspath(source)
            st = os.stat(source)
            assert (entry["record"]["size"], entry["record"]["mtimeNs"]) == (st.st_size, st.st_mtime_ns)
    assert embedded(page)["origin"]["scan"]["hashes"] == str(hashes)


def test_apply_keeps_the_choice_made_on_the_page(library, tmp_path):
    groups = json.loads(run("dupes", str(library), "--json", "--no-cache").stdout)
    for group in groups:
        group["chosen"] = True
    selection = tmp_path / "selection.json"
    selection.write_text(json.dumps(groups))
    result = run("apply", "trash", str(selection), "--keep", "pixels")
    assert result.exit_code == 2
    assert "chosen on the review page; --keep would override that choice" in result.stderr
    assert run("apply", "trash", str(selection)).exit_code == 0


def test_a_page_path_that_is_a_fifo_is_refused_at_once(library, tmp_path):
    fifo = tmp_path / "page.html"
    os.mkfifo(fifo)
    result = run("dupes", str(library), "--html", str(fifo), "--no-cache")
    assert result.exit_code == 2
    assert "exists and is not a review page" in result.stderr


# --- reports that travel (issue 24) -------------------------------------------------------------


def test_review_works_from_another_folder(library, tmp_path, monkeypatch):
    monkeypatch.chdir(library.parent)
    report = tmp_path / "report.json"
    report.write_text(run("dupes", "photos", "--json", "--no-cache").stdout)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run("review", str(report), "-o", "page.html", "--no-cache")
    assert result.exit_code == 0, result.stderr
    entries = [f for g in embedded(elsewhere / "page.html")["groups"] for f in g["files"]]
    assert len(entries) == 4 and all(f["problem"] is None and f["thumb"] is not None for f in entries)
    assert all(f["path"].startswith(f"{library}{os.sep}") for f in entries)  # what the selection names


def test_review_of_a_report_whose_files_are_all_missing_fails_with_one_line(library, tmp_path, monkeypatch):
    monkeypatch.chdir(library.parent)
    groups = json.loads(run("dupes", "photos", "--json", "--no-cache").stdout)
    for group in groups:
        group.pop("root", None)  # as reports were before: paths relative to where dupes ran
    report = tmp_path / "old.json"
    report.write_text(json.dumps(groups))
    monkeypatch.chdir(library)
    result = run("review", str(report), "-o", str(tmp_path / "page.html"), "--no-cache")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"ikmeta: {report}: none of its 4 files exist here (its paths are relative"
    )
    assert not (tmp_path / "page.html").exists()


def test_review_of_a_report_jq_16_rounded_shows_no_change(library, tmp_path):
    from decimal import Decimal

    odd = 1_700_000_000_123_456_789
    for k, path in enumerate(sorted(library.iterdir())):
        os.utime(path, ns=(odd + 2000 * k, odd + 2000 * k))
    groups = json.loads(run("dupes", str(library), "--json", "--no-cache").stdout)
    for group in groups:  # numbers, as reports wrote them before, then read as doubles (jq 1.6)
        for entry in group["files"]:
            entry["mtimeNs"] = int(Decimal(repr(float(entry["mtimeNs"]))))
    report = tmp_path / "rounded.json"
    report.write_text(json.dumps(groups))
    page = tmp_path / "page.html"
    assert run("review", str(report), "-o", str(page), "--no-cache").exit_code == 0
    for group in embedded(page)["groups"]:
        for entry in group["files"]:
            assert entry["problem"] is None
            assert entry["record"]["mtimeNs"] == os.stat(entry["record"]["source"]).st_mtime_ns  # exact again
