"""Reports that travel (issue 24): times no JSON tool rounds, paths that lead from the folder
``dupes`` ran in, and keep rules or protected paths that match nothing refused."""

from __future__ import annotations

import io
import json
import os
from decimal import Decimal

import pytest

from ikmeta.actions import make_plan, parse_keep_rule, read_report
from ikmeta.actions.checks import check_group, check_present, settled
from ikmeta.actions.plan import unmatched_protect, unmatched_rules
from ikmeta.dupes.report import ReportError, report_group, same_mtime

ODD_TIME = 1_700_000_000_123_456_789  # odd: no double holds it, so a double-reading tool changes it


def jq16(text: str) -> str:
    """A report as jq 1.6 (or JavaScript) writes it back: every number read as a double and
    printed by its shortest digits (1700000000123456789 becomes 1700000000123456800)."""

    def number(token: str) -> int:
        return int(Decimal(repr(float(token))))

    return json.dumps(json.loads(text, parse_int=number))


def test_jq16_is_what_jq_16_prints():
    assert jq16(f"[{ODD_TIME}, 12, {2**53 + 1}]") == "[1700000000123456800, 12, 9007199254740992]"


def write(path, content: bytes = b"x", mtime_ns: int = ODD_TIME) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return str(path)


def entry(path: str) -> dict:
    status = os.stat(path)
    return {"source": path, "size": status.st_size, "mtimeNs": status.st_mtime_ns}


def read(groups: list[dict]) -> list:
    return read_report(io.StringIO(json.dumps(groups)), "report.json")


# --- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "read_as"),
    [
        (str(ODD_TIME), ODD_TIME),  # as reports write it now
        (ODD_TIME, ODD_TIME),  # as they did before
        (1.7e18, 1_700_000_000_000_000_000),  # a tool that writes doubles as such
        ("-1", None),
        ("12a", None),
        (" 12", None),
        ("١٢", None),  # digits, but not ASCII ones
        (str(2**63), None),
        (True, None),
        (1.5, None),
    ],
)
def test_times_are_read_as_strings_of_digits_numbers_or_whole_doubles(value, read_as):
    group = {"reference": "a.jpg", "files": [{"source": "a.jpg", "mtimeNs": value}, {"source": "b.jpg"}]}
    assert read([group])[0].files[0].mtime_ns == read_as


@pytest.mark.parametrize(
    ("recorded", "actual", "same"),
    [
        (ODD_TIME, ODD_TIME, True),
        (1_700_000_000_123_456_800, ODD_TIME, True),  # jq 1.6's digits
        (1_700_000_000_123_456_768, ODD_TIME, True),  # the double itself
        (1_700_000_000_123_456_800, ODD_TIME + 1000, False),  # a microsecond later: another write
        (1_700_000_000_123_456_801, ODD_TIME, False),  # not what a double prints: not rounded
        (1_700_000_000_000_000_000, 1_700_000_000_000_000_300, False),  # past the rounding
        (2**53 - 1, 2**53, False),  # a double holds both: no rounding
        (1000, 1001, False),
    ],
)
def test_a_time_matches_exactly_or_as_a_double_rounded_it(recorded, actual, same):
    assert same_mtime(recorded, actual) is same


def test_a_report_rounded_by_jq_16_still_checks_and_the_step_carries_the_exact_time(tmp_path):
    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg", b"yy", ODD_TIME + 2000)
    rounded = jq16(json.dumps([{"reference": a, "files": [entry(a), entry(b)]}]))
    assert str(ODD_TIME) not in rounded
    groups = read_report(io.StringIO(rounded), "r")
    plan = make_plan(groups, "trash")
    verdict = check_group(plan.kept[1], plan.steps)
    assert verdict.problem is None
    assert [(s.path, s.mtime_ns) for s in verdict.todo] == [(b, ODD_TIME + 2000)]  # what the journal records


def test_a_file_written_again_after_a_rounded_report_is_still_changed(tmp_path):
    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg", b"yy")
    rounded = jq16(json.dumps([{"reference": a, "files": [entry(a), entry(b)]}]))
    os.utime(b, ns=(ODD_TIME + 1000, ODD_TIME + 1000))  # a microsecond later, same size
    plan = make_plan(read_report(io.StringIO(rounded), "r"), "trash")
    problem = check_group(plan.kept[1], plan.steps).problem
    assert problem is not None and (problem.path, problem.reason) == (b, "changed since the report")


def test_the_review_page_gets_the_exact_time_of_a_file_a_rounded_report_names(tmp_path):
    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg", b"yy")
    os.utime(b, ns=(ODD_TIME + 10**9, ODD_TIME + 10**9))
    report = [{"reference": a, "files": [entry(a), dict(entry(b), mtimeNs=ODD_TIME)]}]
    group = settled(read_report(io.StringIO(jq16(json.dumps(report))), "r")[0])
    assert [f["mtimeNs"] for f in group.as_object()["files"]] == [ODD_TIME, 1_700_000_000_123_456_800]


# --- paths from the report's root ---------------------------------------------------------------


def test_relative_paths_lead_from_the_root_when_read_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    group = {
        "root": "/photos",
        "reference": "./2019/a.jpg",
        "files": [
            {"source": "./2019/a.jpg", "alsoAt": ["2019/a2.jpg"]},
            {"source": "b.jpg"},
            {"source": "/elsewhere/c.jpg"},
            {"source": "https://example.com/d.jpg"},
        ],
    }
    (found,) = read([group])
    assert found.reference == "/photos/2019/a.jpg"
    assert [c.source for c in found.files] == [
        "/photos/2019/a.jpg",
        "/photos/b.jpg",
        "/elsewhere/c.jpg",
        "https://example.com/d.jpg",
    ]
    assert found.files[0].recorded["source"] == "./2019/a.jpg"
    page = found.as_object()
    assert "root" not in page and page["files"][0]["alsoAt"] == ["/photos/2019/a2.jpg"]


def test_in_the_folder_it_was_made_in_a_report_keeps_its_paths_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    group = {"root": str(tmp_path), "files": [{"source": "./a.jpg"}, {"source": "b.jpg"}]}
    assert [c.source for c in read([group])[0].files] == ["./a.jpg", "b.jpg"]
    no_root = {"files": [{"source": "./a.jpg"}, {"source": "b.jpg"}]}  # as reports were before
    assert [c.source for c in read([no_root])[0].files] == ["./a.jpg", "b.jpg"]


@pytest.mark.parametrize("root", ["photos", 3, "", "/pho\x00tos"])
def test_a_root_that_is_not_an_absolute_path_is_a_bad_report(root):
    group = {"root": root, "files": [{"source": "a.jpg"}, {"source": "b.jpg"}]}
    with pytest.raises(ReportError, match=r"its root .* is not the absolute path of a folder"):
        read([group])


def test_a_report_none_of_whose_files_exist_here_says_why(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = read([{"files": [{"source": "a.jpg"}, {"source": "b.jpg"}]}])
    with pytest.raises(ReportError) as caught:
        check_present(old, "old.json")
    assert str(caught.value) == (
        "old.json: none of its 2 files exist here (its paths are relative to the folder 'ikmeta dupes' "
        "ran in: run this there, or make the report again, which now records that folder)"
    )
    made_elsewhere = read([{"root": "/gone", "files": [{"source": "a.jpg"}, {"source": "b.jpg"}]}])
    with pytest.raises(ReportError, match=r"none of its 2 files exist \(the report was made in /gone: moved"):
        check_present(made_elsewhere, "r.json")
    write(tmp_path / "b.jpg")
    check_present(old, "old.json")  # one file is here: each group is checked as before
    check_present(read([{"files": [{"source": "https://x.example/a.jpg"}, {"source": "s3://b/c.jpg"}]}]), "r")
    check_present([], "empty.json")


# --- keep rules and protected paths -------------------------------------------------------------


@pytest.mark.parametrize("written", ["./2019/a.jpg", "2019/a.jpg", "{root}/2019/a.jpg"])
@pytest.mark.parametrize("rule", ["path:2019/*", "path:./2019/*", "path:{root}/2019/*"])
@pytest.mark.parametrize("cwd", ["root", "elsewhere"])
def test_path_globs_match_with_or_without_dot_slash_and_from_the_root(
    tmp_path, monkeypatch, written, rule, cwd
):
    root = tmp_path / "photos"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(root if cwd == "root" else tmp_path / "elsewhere")
    group = {
        "root": str(root),
        "reference": "b.jpg",
        "files": [{"source": "b.jpg"}, {"source": written.format(root=root)}],
    }
    plan = make_plan(read([group]), "trash", keep=[parse_keep_rule(rule.format(root=root))])
    assert os.path.basename(os.path.dirname(plan.kept[1].source)) == "2019"


def test_keep_rules_and_protected_paths_that_match_nothing_are_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "photos" / "a.jpg")
    (tmp_path / "other").mkdir()
    groups = read(
        [{"root": str(tmp_path), "files": [{"source": "photos/a.jpg"}, {"source": "photos/b.heic"}]}]
    )
    rules = [
        parse_keep_rule(r) for r in ("path:2019/*", "path:photos/*", "format:png", "format:heif", "size")
    ]
    assert [r.text for r in unmatched_rules(groups, rules)] == ["path:2019/*", "format:png"]
    protect = ["nonexistent", "other", "photos", str(tmp_path / "photos" / "b.heic")]
    assert unmatched_protect(groups, protect) == ["nonexistent", "other"]
    assert unmatched_rules([], rules) == [] and unmatched_protect([], protect) == []  # nothing to match


def test_a_group_object_reads_as_a_report_group():
    group = report_group(
        {"reference": "a.jpg", "files": [{"source": "a.jpg", "mtimeNs": "12"}, {"source": "b"}]}
    )
    assert group.as_object()["files"][0] == {"source": "a.jpg", "mtimeNs": 12}
