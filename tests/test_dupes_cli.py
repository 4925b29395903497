"""`ikmeta dupes`: scanning, caching, output formats, exit codes, and quality on real photos."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageEnhance

from ikmeta.cli import cli

from .conftest import LABELLED_SET, ROOT, labelled_set, run, scene

TOOLS = ROOT.parent / "shared" / "tools"


@pytest.fixture
def library(tmp_path):
    """A small photo library: two scenes with copies, a lone photo, blank pages, junk."""
    root = tmp_path / "photos"
    (root / "trip").mkdir(parents=True)
    (root / ".thumbs").mkdir()
    first = scene((800, 600), seed=1)
    first.save(root / "trip" / "beach.jpg", quality=92)
    first.resize((400, 300)).save(root / "beach_small.JPG", quality=80)
    ImageEnhance.Brightness(first).enhance(1.1).save(root / "trip" / "beach_bright.png")
    first.save(root / ".thumbs" / "beach.jpg", quality=50)  # hidden: skipped by default
    second = scene((640, 480), seed=5)
    second.save(root / "harbour.webp", quality=85)
    second.save(root / "trip" / "harbour.jpg", quality=75)
    scene((500, 500), seed=9).save(root / "lone.png")
    Image.new("RGB", (300, 400), "white").save(root / "white.png")
    Image.new("RGB", (300, 400), "white").save(root / "white-copy.jpg", quality=90)
    Image.new("RGB", (300, 400), (0, 0, 255)).save(root / "blue.png")
    page = Image.new("L", (850, 1100), 246)
    ImageDraw.Draw(page).line([(100, 500), (750, 500)], fill=240)
    page.save(root / "blank_page.png")
    (root / "notes.txt").write_text("not an image")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    return root


def summary_bytes(groups: list[dict]) -> str:
    from ikmeta.output import human_size

    return human_size(sum(f["size"] for g in groups for f in g["files"][1:]))


def groups_of(result) -> list[list[str]]:
    return [[os.path.basename(f["source"]) for f in g["files"]] for g in json.loads(result.stdout)]


def test_groups_references_and_exit_code(library, tmp_path):
    result = run("dupes", str(library), "--json", "--cache", str(tmp_path / "c.sqlite3"))
    assert result.exit_code == 1  # broken.jpg could not be read
    assert (
        result.stderr.splitlines()[0] == f"ikmeta: {library / 'broken.jpg'}: corrupt or truncated jpg header "
        "(truncated file read)"
    )
    found = groups_of(result)
    assert found[0] == [
        "beach.jpg",
        "beach_bright.png",
        "beach_small.JPG",
    ]  # most pixels, then older, then JPEG
    assert sorted(found[1]) == ["harbour.jpg", "harbour.webp"]
    assert sorted(found[2]) == ["white-copy.jpg", "white.png"]  # flat, and the same colour
    assert len(found) == 3  # blue, the blank page and the lone photo stay alone
    data = json.loads(result.stdout)
    beach = data[0]
    assert list(beach) == ["root", "reference", "files"] and beach["root"] == os.getcwd()
    assert beach["reference"] == str(library / "trip" / "beach.jpg")
    assert beach["files"][0] == {
        "source": beach["reference"],
        "pHash": beach["files"][0]["pHash"],
        "match": None,
        "distance": 0,
        "width": 800,
        "height": 600,
        "size": (library / "trip" / "beach.jpg").stat().st_size,
        "format": "jpg",
        "quality": 92,
        "camera": None,
        "captured": None,
        "mtimeNs": str((library / "trip" / "beach.jpg").stat().st_mtime_ns),  # digits no JSON tool rounds
        "duration": None,  # a video's
        "videoBitRate": None,
        "damage": None,
        "why": [],  # nothing places it after another copy
        "alsoAt": [],
    }
    assert all(0 <= f["distance"] <= 10 for f in beach["files"])
    assert data[2]["files"][1]["distance"] is None  # flat images: grouped by colour, no pHash distance
    assert result.stderr.splitlines()[-1] == (
        "10 images scanned, 3 groups, 4 duplicates, "
        f"{summary_bytes(data)} freed by removing the non-references, "
        "1 unreadable, 4 flat (grouped by colour)"
    )


def test_hidden_files_and_max(library, tmp_path):
    cache = ["--cache", str(tmp_path / "c.sqlite3")]
    hidden = run("dupes", str(library), "--json", "--hidden", *cache)
    assert "beach.jpg" in groups_of(hidden)[0] and len(groups_of(hidden)[0]) == 4
    strict = json.loads(run("dupes", str(library), "--json", "--max", "0", *cache).stdout)
    assert all(f["distance"] in (0, None) for g in strict for f in g["files"])


def test_output_formats(library, tmp_path):
    cache = ["--cache", str(tmp_path / "c.sqlite3"), "-q"]
    ndjson = run("dupes", str(library), "--ndjson", *cache).stdout.splitlines()
    assert len(ndjson) == 3 and all(json.loads(line)["reference"] for line in ndjson)
    rows = list(csv.DictReader(io.StringIO(run("dupes", str(library), "--csv", *cache).stdout)))
    assert {r["group"] for r in rows} == {"1", "2", "3"}
    assert [r["reference"] for r in rows if r["group"] == "1"] == ["yes", "no", "no"]
    table = CliRunner().invoke(
        cli,
        ["dupes", str(library), "--table", "--cache", str(tmp_path / "c.sqlite3")],
        env={"COLUMNS": "400"},
    )
    assert (
        "group 1: 3 images" in table.stdout and "ref" in table.stdout and "freed by removing" in table.stdout
    )
    assert str(library / "trip" / "beach_bright.png") in table.stdout  # whole: wide enough not to wrap


def test_second_run_uses_the_cache(library, tmp_path):
    cache = str(tmp_path / "c.sqlite3")
    first = run("dupes", str(library), "--json", "--cache", cache)
    rows = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sqlite3; print(sqlite3.connect({cache!r}).execute('select count(*) from hashes').fetchone()[0])",
        ],
        capture_output=True,
        text=True,
    )
    assert int(rows.stdout) == 10  # every readable image that is not hidden
    (library / "trip" / "beach.jpg").write_bytes(
        (library / "beach_small.JPG").read_bytes()
    )  # edited: re-hashed
    second = run("dupes", str(library), "--json", "--cache", cache)
    assert second.stdout != first.stdout
    assert groups_of(second)[0][0] == "beach_bright.png"


def test_no_cache_writes_nothing(library, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    run("dupes", str(library), "--json", "--no-cache")
    assert not (tmp_path / "xdg").exists()
    run("dupes", str(library), "--json")
    assert (tmp_path / "xdg" / "ikmeta" / "hashes.sqlite3").exists()


def test_corrupt_cache_at_the_default_place_is_replaced(library, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache = tmp_path / "xdg" / "ikmeta" / "hashes.sqlite3"
    cache.parent.mkdir(parents=True)
    cache.write_text("garbage" * 1000)
    result = run("dupes", str(library), "--json")
    assert len(groups_of(result)) == 3 and "Traceback" not in result.stderr
    assert cache.read_bytes().startswith(b"SQLite format 3")


def test_a_named_file_that_is_not_a_cache_is_left_alone(library, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = run("dupes", str(library), "--json", "--cache", str(notes))
    assert len(groups_of(result)) == 3 and result.exit_code == 1  # 1: the library holds unreadable junk
    assert notes.read_text() == "my notes\n"
    assert result.stderr.count("not an ikmeta cache") == 1


def test_hash_lists(library, tmp_path):
    hashes = run("phash", str(library)).stdout
    from_lines = run("dupes", "--hashes", "-", "--json", stdin=hashes)
    assert from_lines.exit_code == 0
    assert any(set(g) == {"beach_bright.png", "beach_small.JPG", "beach.jpg"} for g in groups_of(from_lines))
    listing = tmp_path / "inspected.ndjson"
    listing.write_text(
        run(
            "inspect", "--ndjson", str(library / "trip" / "beach.jpg"), str(library / "beach_small.JPG")
        ).stdout
    )
    ranked = run("dupes", "--hashes", str(listing), "--json")
    assert json.loads(ranked.stdout)[0]["reference"].endswith("beach.jpg")  # width/height used to rank
    bad = run("dupes", "--hashes", "-", "--json", stdin="zzz  a.jpg\n")
    assert bad.exit_code == 1 and bad.stderr.startswith("ikmeta: <stdin>:1: not hexadecimal")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dupes"], "Missing argument"),
        (["dupes", ".", "--max", "65"], "Invalid value for '--max'"),
        (["dupes", ".", "--linkage", "single"], "Invalid value for '--linkage'"),
        (["dupes", ".", "--hashes", "-"], "--hashes groups a hash list"),
    ],
)
def test_usage_errors(args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr


def test_dupes_never_writes_to_images(library, tmp_path):
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in library.rglob("*") if p.is_file()}
    run("dupes", str(library), "--json", "--cache", str(tmp_path / "c.sqlite3"))
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in library.rglob("*") if p.is_file()}
    assert before == after


# --- on the corpus ----------------------------------------------------------------------------


@pytest.mark.corpus
def test_orientations_and_hdr_pairs(corpus, tmp_path):
    result = run(
        "dupes", str(corpus / "jpg" / "orientation"), str(corpus / "jpg" / "hdr"), "--json", "--no-cache"
    )
    groups = [sorted(os.path.basename(f["source"]) for f in g["files"]) for g in json.loads(result.stdout)]
    assert sorted(f"landscape_{i}.jpg" for i in range(1, 9)) in groups
    assert sorted(f"portrait_{i}.jpg" for i in range(1, 9)) in groups
    assert ["iphone_hdr_NO.jpg", "iphone_hdr_YES.jpg"] in groups
    orientation = [g for g in groups if g[0].startswith(("landscape", "portrait"))]
    assert len(orientation) == 2


def score(truth, groups_json: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, str(TOOLS / "score_dupes.py"), str(truth), "-"],
        input=groups_json,
        capture_output=True,
        text=True,
        check=True,
        cwd=truth.parent,
    ).stdout
    words = out.split()
    return float(words[words.index("precision") + 1]), float(words[words.index("recall") + 1])


@pytest.mark.corpus
def test_quality_on_a_labelled_set(corpus, tmp_path, shared_tmp):
    out = labelled_set(corpus, shared_tmp, *LABELLED_SET)  # (the review page's tests use it too)
    cache = str(tmp_path / "hashes.sqlite3")  # hashed once: the second run groups other ways
    default = run("dupes", str(out), "--json", "--cache", cache)
    precision, recall = score(out / "truth.json", default.stdout)
    assert precision >= 0.995 and recall >= 0.96, (precision, recall)  # issue 12's targets
    connected = run("dupes", str(out), "--json", "--cache", cache, "--linkage", "connected")
    precision, recall = score(out / "truth.json", connected.stdout)
    assert precision >= 0.995 and recall >= 0.96, (precision, recall)


def test_a_file_named_twice_is_not_its_own_duplicate(library, tmp_path):
    result = run(
        "dupes", str(library / "lone.png"), str(library / "lone.png"), str(library), "--json", "--no-cache"
    )
    assert all("lone.png" not in g for g in groups_of(result))


def test_table_shows_paths_as_they_are(tmp_path):
    """Brackets in file names are not rich markup: shown as they are, never a crash."""
    (tmp_path / "[").mkdir()
    badge = (ROOT / "examples" / "badge.png").read_bytes()
    names = ["IMG [copy].png", "[bold]b.png", "[/]a.png"]
    for name in names:
        (tmp_path / name).write_bytes(badge)
    result = CliRunner().invoke(
        cli, ["dupes", str(tmp_path), "--table", "--no-cache"], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0
    assert all(str(tmp_path / name) in result.stdout for name in names)


def test_a_source_listed_twice_is_not_its_own_duplicate():
    lines = "81197f0e7ae66839  a.png\n81197f0e7ae66839  a.png\n\ufeff2d5ad3936d2e015b  b.png\n"
    result = run("dupes", "--hashes", "-", "--json", stdin="\ufeff" + lines)
    assert result.exit_code == 1 and json.loads(result.stdout) == []  # 1: the BOM mid-list is not a hash
    assert "<stdin>:3" in result.stderr and "<stdin>:1" not in result.stderr


def test_narrow_terminal_never_breaks_a_path(tmp_path):
    badge = (ROOT / "examples" / "badge.png").read_bytes()
    deep = tmp_path / "a_rather_long_folder_name" / "and_another_one_below_it"
    deep.mkdir(parents=True)
    for name in ("first_copy_of_the_badge.png", "second_copy_of_the_badge.png"):
        (deep / name).write_bytes(badge)
    for columns in ("60", "400"):
        result = CliRunner().invoke(
            cli, ["dupes", str(tmp_path), "--table", "--no-cache"], env={"COLUMNS": columns}
        )
        assert result.exit_code == 0
        for name in ("first_copy_of_the_badge.png", "second_copy_of_the_badge.png"):
            assert str(deep / name) in result.stdout.splitlines() or any(
                str(deep / name) in line for line in result.stdout.splitlines()
            ), (columns, result.stdout)


def test_output_formats_are_one_choice(library):
    result = run("dupes", str(library), "--json", "--csv")
    assert result.exit_code == 2 and "--json and --csv are one choice" in result.stderr
    assert run("phash", str(library), "--ndjson", "--table").exit_code == 2


def test_a_cache_in_a_missing_folder_is_a_usage_error(library, tmp_path):
    result = run("dupes", str(library), "--cache", str(tmp_path / "no" / "such" / "c.sqlite3"))
    assert result.exit_code == 2 and "no such folder" in result.stderr
    assert not (tmp_path / "no").exists()


def test_hash_list_summary_counts_bad_lines_not_images():
    lines = "cedbd88c49eaf808  a.jpg\ncedbd88c49eaf808\tb.jpg\nzz  c.jpg\ncedbd88c49eaf809 *d.jpg\n"
    result = run("dupes", "--hashes", "-", "--json", stdin=lines)
    assert result.exit_code == 1
    assert [f["source"] for f in json.loads(result.stdout)[0]["files"]] == ["a.jpg", "b.jpg", "d.jpg"]
    assert result.stderr.splitlines()[-1] == "3 hashes listed, 1 group, 2 duplicates, 1 bad line in the list"
    assert "unknown" not in result.stderr and "unreadable" not in result.stderr


def test_an_empty_result_is_an_empty_json_array(tmp_path):
    result = run("dupes", "--hashes", "-", "--json", stdin="cedbd88c49eaf808  a.jpg\n")
    assert result.stdout == "[]\n"


def test_skipped_files_are_summed_up(library):
    result = run("dupes", str(library), "--json", "--no-cache")
    assert (
        "ikmeta: skipped 1 file in folders that are not images or videos ikmeta reads (1 .txt)"
        in result.stderr
    )
    assert (
        "not images or videos ikmeta reads"
        not in run("dupes", str(library), "--json", "--no-cache", "-q").stderr
    )


ALL_KINDS = ("--variants", "8", "--kinds", "all")


def recall_by_kind(truth_path, groups: list[dict]) -> dict[str, float]:
    """Per edit kind, the share of edited copies grouped with their scene's original."""
    truth = json.loads(truth_path.read_text())
    group_of = {
        os.path.relpath(f["source"], truth_path.parent): n for n, g in enumerate(groups) for f in g["files"]
    }
    original = {label: path for path, label in truth.items() if "_orig" in path}
    found: dict[str, list[bool]] = {}
    for path, label in truth.items():
        kind = re.match(r"s\d+_(.+)\.\w+$", os.path.basename(path))[1]
        if kind != "orig":
            joined = path in group_of and group_of[path] == group_of.get(original[label])
            found.setdefault(kind, []).append(joined)
    return {kind: sum(hits) / len(hits) for kind, hits in found.items()}


# Issue 12's floors on the --kinds all set, per kind; every other (classic) kind at least 0.95.
KIND_FLOORS = {
    "rot90_pixels": 0.95,
    "rot180_pixels": 0.95,
    "mirror": 0.95,
    "framed": 0.9,
    "caption": 0.85,
    "crop5": 0.85,
    "crop_side20": 0.5,
}


@pytest.mark.corpus
@pytest.mark.parametrize("seed", ["3", "7"])
def test_quality_on_every_kind_of_edit(corpus, tmp_path, seed):
    """The shared set with every kind of edit (--kinds all), two seeds: issue 12's targets for
    precision, recall, and each kind's recall; --geometry exact finds no mirrored copy."""
    out = tmp_path / "set"
    subprocess.run(
        [sys.executable, str(TOOLS / "make_dupes_set.py"), str(corpus), str(out), *ALL_KINDS, "--seed", seed],
        check=True,
        capture_output=True,
    )
    cache = str(tmp_path / "hashes.sqlite3")  # hashed once: the second run groups another way
    result = run("dupes", str(out), "--json", "--cache", cache)
    precision, recall = score(out / "truth.json", result.stdout)
    assert precision >= 0.99 and recall >= 0.90, (precision, recall)
    kinds = recall_by_kind(out / "truth.json", json.loads(result.stdout))
    for kind, found in kinds.items():
        assert found >= KIND_FLOORS.get(kind, 0.95), (kind, kinds)
    exact = run("dupes", str(out), "--json", "--cache", cache, "--geometry", "exact")
    # As they stand, only a mirrored copy of a nearly symmetric picture matches.
    assert recall_by_kind(out / "truth.json", json.loads(exact.stdout))["mirror"] <= 0.1


def test_reports_record_their_root_and_write_times_as_strings(library, tmp_path, monkeypatch):
    """Reports that travel (issue 24): every JSON tool keeps a string as it is, where jq 1.6 and
    JavaScript round a number past 2**53, as a time in nanoseconds is; and the folder dupes ran
    in is where the report's relative paths lead from, wherever it is used."""
    monkeypatch.chdir(library)
    cache = ["--cache", str(tmp_path / "c.sqlite3"), "-q"]
    as_json = json.loads(run("dupes", "trip", "--json", *cache).stdout)
    as_ndjson = [json.loads(line) for line in run("dupes", "trip", "--ndjson", *cache).stdout.splitlines()]
    assert as_json == as_ndjson and as_json
    for group in as_json:
        assert group["root"] == str(library) and not os.path.isabs(group["reference"])
        for entry in group["files"]:
            assert entry["mtimeNs"] == str(os.stat(entry["source"]).st_mtime_ns)
    rows = list(csv.DictReader(io.StringIO(run("dupes", "trip", "--csv", *cache).stdout)))
    assert [r["mtimeNs"] for r in rows] == [f["mtimeNs"] for g in as_json for f in g["files"]]
