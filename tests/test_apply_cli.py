"""`ikmeta apply` and `ikmeta undo`: the workflow, exit codes, and a run killed halfway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import KILLED_AT_NTH_CALL, ROOT, run, scene


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
