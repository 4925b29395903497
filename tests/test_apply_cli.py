"""`ikmeta apply` and `ikmeta undo`: the workflow, exit codes, and a run killed halfway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import KILLED_AT_NTH_CALL, ROOT, need, need_unprivileged, run, scene


@pytest.fixture
def library(tmp_path):
    """Three pictures, each with copies: 5 duplicates in 3 groups."""
    root = tmp_path / "photos"
    (root / "trip").mkdir(parents=True)
    for seed, copies in ((1, 3), (5, 2), (9, 3)):
        picture = scene((640, 480), seed=seed)
        picture.save(root / f"pic{seed}.jpg", quality=92)
        for k in range(1, copies):
            picture.resize((320 + 40 * k, 240 + 30 * k)).save(
                root / "trip" / f"pic{seed}_copy{k}.jpg", quality=80
            )
    return root


def files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())


def report(library, tmp_path) -> str:
    path = tmp_path / "report.json"
    path.write_text(run("dupes", str(library), "--json", "--no-cache").stdout)
    return str(path)


def test_the_workflow_report_plan_yes_undo(library, tmp_path):
    saved = report(library, tmp_path)
    before = files(library)
    plan = run("apply", "trash", saved)
    assert plan.exit_code == 0 and files(library) == before
    assert len(plan.stdout.splitlines()) == 5 and all(
        line.startswith("trash  ") for line in plan.stdout.splitlines()
    )
    assert "would trash 5 files in 3 groups" in plan.stderr and "nothing changed (add --yes" in plan.stderr
    done = run("apply", "trash", saved, "--yes")
    assert done.exit_code == 0, done.stderr
    assert files(library) == ["pic1.jpg", "pic5.jpg", "pic9.jpg"]
    journal = done.stderr.split("journal: ", 1)[1].split(" (undo", 1)[0]
    assert journal.startswith(os.environ["XDG_STATE_HOME"]) and journal.endswith(".jsonl")
    undone = run("undo", journal)
    assert undone.exit_code == 0 and files(library) == before
    assert "restored 5 files" in undone.stderr
    again = run("undo", journal)
    assert again.exit_code == 0 and again.stdout == "" and "nothing left to undo" in again.stderr


def test_report_from_standard_input_and_ndjson_reports(library, tmp_path):
    ndjson = run("dupes", str(library), "--ndjson", "--no-cache").stdout
    result = run("apply", "move", "--to", str(tmp_path / "dupes"), "--json", stdin=ndjson)
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["dryRun"] is True and document["journal"] is None
    assert [f["status"] for f in document["files"]] == ["planned"] * 5
    assert all(f["to"] == str(tmp_path / "dupes") + f["path"] for f in document["files"])


def test_a_bad_report_changes_nothing(library, tmp_path):
    (tmp_path / "r.json").write_text('[{"reference": "a", "files": [{"source": "a"}]}]')
    result = run("apply", "trash", str(tmp_path / "r.json"), "--yes")
    assert result.exit_code == 1
    assert result.stderr == f"ikmeta: {tmp_path / 'r.json'}: group 1: a group of 1 file: nothing to act on\n"
    assert not os.path.exists(os.path.join(os.environ["XDG_STATE_HOME"], "ikmeta", "journal", "x"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apply", "move", "-"], "move needs --to DIR"),
        (["apply", "trash", "-", "--to", "x"], "move needs --to DIR, and only move takes it"),
        (["apply", "hardlink", "-", "--absolute"], "--absolute is for symlink only"),
        (["apply", "delete", "-"], "Invalid value for '{trash|move|hardlink|symlink}'"),
        (["apply", "trash", "-", "--keep", "biggest"], "'biggest' is not a keep rule"),
        (["apply", "trash", "-", "--json", "--ndjson"], "one choice of output format"),
        (["undo"], "Missing argument 'JOURNAL'"),
    ],
)
def test_usage_errors(args, message):
    result = run(*args, stdin="[]")
    assert result.exit_code == 2 and message in result.stderr


def test_changed_files_skip_their_group_and_exit_1(library, tmp_path):
    saved = report(library, tmp_path)
    changed = library / "trip" / "pic5_copy1.jpg"
    changed.write_bytes(changed.read_bytes() + b"edited")
    result = run("apply", "trash", saved, "--yes")
    assert result.exit_code == 1
    assert f"ikmeta: {changed}: changed since the report; group 2 skipped" in result.stderr.splitlines()
    assert changed.exists() and "trashed 4 files in 2 groups" in result.stderr


def test_keep_and_protect(library, tmp_path):
    saved = report(library, tmp_path)
    result = run(
        "apply", "trash", saved, "--keep", "path:*/trip/*", "--protect", str(library / "pic9.jpg"), "--yes"
    )
    assert result.exit_code == 0, result.stderr
    assert files(library) == ["pic9.jpg", "trip/pic1_copy2.jpg", "trip/pic5_copy1.jpg", "trip/pic9_copy2.jpg"]


@pytest.mark.parametrize("absolute", [False, True])
def test_symlink_makes_relative_links_or_absolute_ones(library, tmp_path, absolute):
    saved = report(library, tmp_path)
    before = {p: p.read_bytes() for p in library.rglob("*") if p.is_file()}
    journal = str(tmp_path / "j.jsonl")
    result = run("apply", "symlink", saved, "--yes", "--journal", journal, *(["--absolute"] * absolute))
    assert result.exit_code == 0, result.stderr
    links = sorted(p for p in library.rglob("*") if p.is_symlink())
    assert [p.name for p in links] == [
        "pic1_copy1.jpg",
        "pic1_copy2.jpg",
        "pic5_copy1.jpg",
        "pic9_copy1.jpg",
        "pic9_copy2.jpg",
    ]
    for link in links:
        kept = library / (link.name.split("_")[0] + ".jpg")
        text = os.readlink(link)
        assert text == (str(kept) if absolute else os.path.join("..", kept.name))
        assert link.resolve() == kept.resolve()
    assert run("undo", journal).exit_code == 0
    assert {p: p.read_bytes() for p in library.rglob("*") if p.is_file() and not p.is_symlink()} == before


def test_a_move_out_of_a_read_only_folder_fails_and_leaves_nothing_behind(library, tmp_path):
    need_unprivileged("root removes files from read-only folders")
    saved = report(library, tmp_path)
    before = {p: p.read_bytes() for p in library.rglob("*") if p.is_file()}
    to, journal = tmp_path / "moved", str(tmp_path / "j.jsonl")
    (library / "trip").chmod(0o555)  # every duplicate is in trip/
    try:
        result = run("apply", "move", saved, "--to", str(to), "--yes", "--journal", journal)
    finally:
        (library / "trip").chmod(0o755)
    assert result.exit_code == 1
    failures = [line for line in result.stderr.splitlines() if "cannot move" in line]
    assert sorted(failures) == sorted(
        f"ikmeta: {p}: cannot move: permission denied" for p in before if p.parent.name == "trip"
    )
    assert {p: p.read_bytes() for p in library.rglob("*") if p.is_file()} == before
    assert all(p.stat().st_nlink == 1 for p in before)
    assert not to.exists()  # no second names, no empty folders: nothing looks moved
    undone = run("undo", journal)
    assert undone.exit_code == 0 and undone.stdout == "" and "nothing left to undo" in undone.stderr
    assert {p: p.read_bytes() for p in library.rglob("*") if p.is_file()} == before


def test_an_unwritable_journal_stops_before_any_action(library, tmp_path):
    saved = report(library, tmp_path)
    result = run("apply", "trash", saved, "--yes", "--journal", str(tmp_path / "no" / "j.jsonl"))
    assert result.exit_code == 1 and "cannot be written" in result.stderr
    assert len(files(library)) == 8


KILLER = (
    KILLED_AT_NTH_CALL
    + """
from ikmeta.cli import cli
cli(sys.argv[1:], prog_name="ikmeta")
"""
)


@pytest.mark.parametrize("action", ["move", "hardlink", "symlink", "trash"])
@pytest.mark.parametrize("stop_at", [1, 2, 3, 4, 6, 9])
def test_a_run_killed_halfway_leaves_every_file_done_or_untouched_and_resumes(
    library, tmp_path, action, stop_at
):
    """A subprocess killed at its Nth link, unlink or rename (before, inside or between
    actions); then the same report again; then undo, which gives every file back."""
    saved = report(library, tmp_path)
    before = {p: p.read_bytes() for p in library.rglob("*") if p.is_file()}
    args = ["apply", action, saved, "--yes", "--journal", str(tmp_path / "j1.jsonl")]
    args += ["--to", str(tmp_path / "moved")] if action == "move" else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STOP_AT": str(stop_at)}
    killed = subprocess.run([sys.executable, "-c", KILLER, *args], env=env, capture_output=True, text=True)
    assert killed.returncode in (-signal.SIGKILL, 0), killed.stderr  # 0: fewer calls than STOP_AT
    trash = os.path.join(os.environ["XDG_DATA_HOME"], "Trash", "files")
    trashed = (
        {Path(os.path.join(trash, n)).read_bytes() for n in os.listdir(trash)}
        if os.path.isdir(trash)
        else set()
    )
    for path, data in before.items():  # each file is whole: in place, moved, or in the trash
        moved = tmp_path / "moved" / str(path).lstrip("/")
        assert path.exists() or moved.exists() or data in trashed, path
        if path.exists() and not path.is_symlink() and path.stat().st_nlink == 1:
            assert path.read_bytes() == data
        if moved.exists():
            assert moved.read_bytes() == data
    args[5] = str(tmp_path / "j2.jsonl")
    resumed = run(*args)
    assert resumed.exit_code == 0, resumed.stderr
    left = [p for p in library.rglob("*") if p.is_file()]
    if action in ("move", "trash"):
        assert sorted(p.name for p in left) == ["pic1.jpg", "pic5.jpg", "pic9.jpg"]
    else:  # every copy is now a name (or a link) of its group's kept file
        assert len(left) == 8 and len({p.stat().st_ino for p in left}) == 3
    assert not [p for p in library.rglob("*") if "ikmeta" in p.name]  # no temporary names left
    for journal in ("j2.jsonl", "j1.jsonl"):
        undone = run("undo", str(tmp_path / journal))
        assert undone.exit_code == 0, undone.stderr
    assert {p: p.read_bytes() for p in library.rglob("*") if p.is_file()} == before
    assert all(p.stat().st_nlink == 1 and not p.is_symlink() for p in before)


def test_names_with_spaces_line_breaks_and_bytes_that_are_not_utf8(tmp_path):
    root = tmp_path / "odd"
    root.mkdir()
    picture = scene((400, 300), seed=4)
    picture.save(root / "keep me.jpg", quality=92)
    names = ["copy one.jpg", "two\nlines.jpg", os.fsdecode(b"caf\xe9.jpg")]
    for name in names:
        picture.resize((200, 150)).save(root / name, quality=80)
    saved = tmp_path / "r.json"
    saved.write_text(run("dupes", str(root), "--json", "--no-cache").stdout)
    result = run("apply", "trash", str(saved), "--yes", "--journal", str(tmp_path / "j.jsonl"))
    assert result.exit_code == 0, result.stderr
    assert os.listdir(root) == ["keep me.jpg"]
    assert "two\\nlines.jpg" in result.stdout  # one line per file, whatever the name
    assert run("undo", str(tmp_path / "j.jsonl")).exit_code == 0
    assert sorted(os.listdir(root)) == sorted(["keep me.jpg", *names])


# --- reports that travel (issue 24) -------------------------------------------------------------

ODD_TIME = 1_700_000_000_123_456_789  # odd: no double holds it, so jq 1.6 rounds it


def at_odd_times(library) -> None:
    """Modification times past 2**53 that a double cannot hold (a file's own are too, mostly)."""
    for k, path in enumerate(sorted(library.rglob("*.jpg"))):
        os.utime(path, ns=(ODD_TIME + 2000 * k, ODD_TIME + 2000 * k))


def jq16(text: str) -> str:
    """A report as jq 1.6 (or JavaScript) writes it back: numbers read as doubles and printed
    by their shortest digits (1700000000123456789 becomes 1700000000123456800)."""
    from decimal import Decimal

    return json.dumps(json.loads(text, parse_int=lambda token: int(Decimal(repr(float(token))))))


def todays_form(text: str) -> str:
    """A report as ikmeta wrote them before issue 24: no root, times as JSON integers."""
    groups = json.loads(text)
    for group in groups:
        group.pop("root", None)
        for entry in group["files"]:
            entry["mtimeNs"] = int(entry["mtimeNs"])
    return json.dumps(groups)


@pytest.mark.parametrize("form", ["written now", "today's form"])
def test_a_report_edited_with_jq_16_still_applies_and_undoes(library, tmp_path, form):
    at_odd_times(library)
    before = files(library)
    text = run("dupes", str(library), "--json", "--no-cache").stdout
    if form == "today's form":
        text = todays_form(text)
    edited = tmp_path / "edited.json"
    edited.write_text(jq16(json.dumps(json.loads(text)[:2])))  # jq 'del(.[2])'
    assert str(ODD_TIME) not in edited.read_text() or form == "written now"
    journal = tmp_path / "j.jsonl"
    result = run("apply", "trash", str(edited), "--yes", "--journal", str(journal))
    assert result.exit_code == 0, result.stderr
    assert "trashed 3 files in 2 groups" in result.stderr
    assert run("undo", str(journal)).exit_code == 0  # the journal holds the files' exact times
    assert files(library) == before


def test_a_report_through_the_real_jq_applies(library, tmp_path):
    import shutil

    need(shutil.which("jq") is not None, "jq")
    at_odd_times(library)
    for name, text in (("now.json", None), ("old.json", "old")):
        saved = Path(report(library, tmp_path))
        if text:
            saved.write_text(todays_form(saved.read_text()))
        edited = subprocess.run(["jq", "del(.[2])", str(saved)], capture_output=True, text=True, check=True)
        (tmp_path / name).write_text(edited.stdout)
        result = run("apply", "trash", str(tmp_path / name))
        assert result.exit_code == 0, result.stderr
        assert "would trash 3 files in 2 groups" in result.stderr


def test_a_report_in_todays_form_still_applies(library, tmp_path):
    saved = Path(report(library, tmp_path))
    saved.write_text(todays_form(saved.read_text()))
    result = run("apply", "trash", str(saved), "--yes")
    assert result.exit_code == 0, result.stderr
    assert files(library) == ["pic1.jpg", "pic5.jpg", "pic9.jpg"]


def test_a_report_works_from_any_folder(library, tmp_path, monkeypatch):
    monkeypatch.chdir(library.parent)
    (tmp_path / "report.json").write_text(run("dupes", "photos", "--json", "--no-cache").stdout)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    plan = run("apply", "trash", "../report.json")
    assert plan.exit_code == 0, plan.stderr
    assert all(line.split("  ")[1].startswith(f"{library}/") for line in plan.stdout.splitlines())
    done = run("apply", "trash", "../report.json", "--keep", "path:photos/trip/*", "--yes")
    assert done.exit_code == 0, done.stderr
    assert files(library) == ["trip/pic1_copy2.jpg", "trip/pic5_copy1.jpg", "trip/pic9_copy2.jpg"]


def test_a_report_whose_files_are_all_missing_is_one_line_and_exit_1(library, tmp_path, monkeypatch):
    monkeypatch.chdir(library.parent)
    saved = tmp_path / "old.json"
    saved.write_text(todays_form(run("dupes", "photos", "--json", "--no-cache").stdout))
    monkeypatch.chdir(library)  # not where it was made: photos/... leads nowhere
    result = run("apply", "trash", str(saved), "--yes")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"ikmeta: {saved}: none of its 8 files exist here (its paths are relative to the folder "
        "'ikmeta dupes' ran in: run this there, or make the report again, which now records that folder)\n"
    )
    assert len(files(library)) == 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--protect", "nonexistent"],
            (
                "Invalid value for '--protect': 'nonexistent' holds no file of the report "
                "(no such file or folder)"
            ),
        ),
        (["--protect", "{tmp}"], "Invalid value for '--protect': '{tmp}' holds no file of the report\n"),
        (
            ["--keep", "path:2019/*"],
            "Invalid value for '--keep': 'path:2019/*' matches no file of the report",
        ),
        (["--keep", "size", "--keep", "format:heic"], "'format:heic' matches no file of the report"),
    ],
)
def test_keep_rules_and_protected_paths_that_match_nothing_are_usage_errors(library, tmp_path, args, message):
    saved = report(library, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    args = [a.format(tmp=outside) for a in args]
    result = run("apply", "trash", saved, *args, "--yes")
    assert result.exit_code == 2 and message.format(tmp=outside) in result.stderr
    assert len(files(library)) == 8


def test_path_globs_match_paths_written_with_dot_slash(library, tmp_path, monkeypatch):
    monkeypatch.chdir(library)
    (tmp_path / "report.json").write_text(run("dupes", ".", "--json", "--no-cache").stdout)
    assert '"source": "./trip/' in (tmp_path / "report.json").read_text()
    result = run("apply", "trash", str(tmp_path / "report.json"), "--keep", "path:trip/*", "--yes")
    assert result.exit_code == 0, result.stderr
    assert files(library) == ["trip/pic1_copy2.jpg", "trip/pic5_copy1.jpg", "trip/pic9_copy2.jpg"]


def test_a_time_rounded_to_fewer_digits_is_named_as_the_reason(library, tmp_path):
    """A tool that keeps 15 digits (a spreadsheet) rounds the time past what a double does:
    apply still refuses, and says the report's time lost digits rather than blaming the file."""
    at_odd_times(library)
    before = files(library)
    groups = json.loads(run("dupes", str(library), "--json", "--no-cache").stdout)
    for group in groups:
        for entry in group["files"]:
            entry["mtimeNs"] = str(round(int(entry["mtimeNs"]), -4))
    edited = tmp_path / "rounded.json"
    edited.write_text(json.dumps(groups))
    result = run("apply", "trash", str(edited), "--yes")
    assert result.exit_code == 1
    assert "has lost digits" in result.stderr and "changed since the report" not in result.stderr
    assert files(library) == before  # nothing removed
