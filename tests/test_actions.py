"""The core of apply and undo: reports, plans, keep rules, checks, file operations, the journal."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ikmeta.actions import Journal, apply_plan, make_plan, parse_keep_rule, read_report, undo_journal
from ikmeta.actions.fileops import move_file
from ikmeta.actions.journal import read_journal
from ikmeta.actions.plan import KEEP_RULES
from ikmeta.actions.run import Outcome, Skipped
from ikmeta.dupes.report import Copy, ReportError, ReportGroup

from .conftest import KILLED_AT_NTH_CALL


def write(path, content: bytes = b"x") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return str(path)


def entry(path: str, **extra) -> dict:
    status = os.stat(path)
    return {"source": path, "size": status.st_size, "mtimeNs": status.st_mtime_ns, **extra}


def report_of(*groups: list[str]) -> list[ReportGroup]:
    """A report of groups of existing files, each group's first file its reference."""
    text = json.dumps([{"reference": g[0], "files": [entry(p) for p in g]} for g in groups])
    return read_report(io.StringIO(text), "report.json")


# --- reading reports ----------------------------------------------------------------------------


def test_reads_json_arrays_and_ndjson_alike(tmp_path):
    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg", b"yy")
    group = {"reference": a, "files": [entry(a), entry(b, width=4, height=3, format="jpg")]}
    from_json = read_report(io.StringIO(json.dumps([group])), "r")
    from_ndjson = read_report(io.StringIO("\ufeff" + json.dumps(group) + "\n\n"), "r")
    assert from_json == from_ndjson
    assert from_json[0].files[1] == Copy(b, 2, os.stat(b).st_mtime_ns, 4, 3, "jpg")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty: not a report"),
        ("hello", "r:1: not JSON"),
        ("[1, 2", "not JSON"),
        ('{"reference": "a", "files": [{"source": "a"}]}', "a group of 1 file: nothing to act on"),
        ('[{"files": "a"}]', "r: group 1: not a group"),
        ('[{"reference": "c", "files": [{"source": "a"}, {"source": "b"}]}]', "its reference 'c' is not one"),
        ('[{"files": [{"source": "a"}, {"path": "b"}]}]', "file 2: not a file"),
        ('[{"files": [{"source": "a"}, {"source": "b\\u0000"}]}]', "a file name with a NUL byte"),
        ("[" * 100000, "nested too deeply"),
    ],
)
def test_a_bad_report_is_one_clear_error(text, message):
    with pytest.raises(ReportError) as info:
        read_report(io.StringIO(text), "r")
    assert message in str(info.value) and "\n" not in str(info.value)


# --- plans and keep rules -----------------------------------------------------------------------


def copies(*specs: tuple[str, dict]) -> ReportGroup:
    return ReportGroup(1, specs[0][0], tuple(Copy(source, **fields) for source, fields in specs))


@pytest.mark.parametrize(
    ("rules", "kept"),
    [
        ([], "reference.jpg"),
        (["pixels"], "bigger.png"),
        (["size"], "heavy.heic"),
        (["newest"], "newer.jpg"),
        (["oldest"], "older.jpg"),
        (["shortest-path"], "a/x.jpg"),
        (["path:*/a/*"], "a/x.jpg"),
        (["format:heic,jpg"], "heavy.heic"),
        (["format:png", "size"], "bigger.png"),
        (["format:jpg", "newest"], "newer.jpg"),
        (["format:jpg"], "reference.jpg"),  # a tie among JPEGs: the report's order decides
    ],
)
def test_keep_rules(rules, kept):
    group = copies(
        ("reference.jpg", {"size": 10, "mtime_ns": 5, "width": 10, "height": 10}),
        ("bigger.png", {"size": 20, "mtime_ns": 5, "width": 40, "height": 30}),
        ("heavy.heic", {"size": 99, "mtime_ns": 5, "width": 10, "height": 10}),
        ("newer.jpg", {"size": 10, "mtime_ns": 9}),
        ("older.jpg", {"size": 10, "mtime_ns": 1}),
        ("a/x.jpg", {"size": 10}),
    )
    plan = make_plan([group], "trash", keep=[parse_keep_rule(r) for r in rules])
    assert plan.kept[1].source == kept
    assert sorted(s.path for s in plan.steps) == sorted(c.source for c in group.files if c.source != kept)


@pytest.mark.parametrize("text", ["biggest", "path:", "format:", "pixels:3", "format:,"])
def test_bad_keep_rules(text):
    with pytest.raises(ValueError, match="is not a keep rule"):
        parse_keep_rule(text)


def test_protected_files_and_files_kept_elsewhere_are_never_acted_on(tmp_path):
    archive = tmp_path / "archive"
    a, b, c = write(tmp_path / "a.jpg"), write(archive / "b.jpg"), write(tmp_path / "c.jpg")
    (tmp_path / "link").symlink_to(archive)
    d = str(tmp_path / "link" / "b.jpg")  # the protected file under another name
    groups = [
        ReportGroup(1, a, (Copy(a), Copy(b), Copy(c), Copy(d))),
        ReportGroup(2, c, (Copy(c), Copy("./" + os.path.relpath(a)))),  # keeps c, which group 1 would trash
    ]
    plan = make_plan(groups, "trash", protect=[str(archive)])
    assert plan.protected == {1: [b, d]}
    assert [s.path for s in plan.steps] == []  # c is kept by group 2; a is kept by group 1
    assert ("./" + os.path.relpath(a), "kept in group 1: left alone") in plan.notes


def test_move_destination_is_the_absolute_path_under_the_folder(tmp_path):
    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg")
    plan = make_plan(report_of([a, b]), "move", move_to=str(tmp_path / "dupes"))
    assert plan.steps[0].to == str(tmp_path / "dupes") + b


# --- checks and running -------------------------------------------------------------------------


def run_plan(plan, journal_path=None):
    journal = Journal.create(str(journal_path), plan.action, "report.json") if journal_path else None
    try:
        return list(apply_plan(plan, journal))
    finally:
        if journal:
            journal.close()


def test_a_changed_or_missing_file_skips_its_whole_group(tmp_path):
    a, b, c = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg"), write(tmp_path / "c.jpg")
    e, f = write(tmp_path / "e.jpg"), write(tmp_path / "f.jpg")
    groups = report_of([a, b, c], [e, f])
    with open(c, "ab") as fh:
        fh.write(b"more")
    os.remove(e)  # the file group 2 keeps
    outcomes = run_plan(make_plan(groups, "trash"), tmp_path / "j.jsonl")
    assert [(o.group, o.path, o.reason) for o in outcomes if isinstance(o, Skipped)] == [
        (1, c, "changed since the report"),
        (2, e, "the file to keep is missing"),
    ]
    assert os.path.exists(b) and os.path.exists(f)


def test_already_trashed_and_the_same_file_twice_are_not_errors(tmp_path):
    from send2trash import send2trash

    a, b, c = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg"), write(tmp_path / "c.jpg")
    os.link(a, tmp_path / "hard.jpg")
    hard = str(tmp_path / "hard.jpg")
    groups = report_of([a, b, c, hard])
    send2trash(c)  # as an interrupted run left it
    outcomes = run_plan(make_plan(groups, "trash"), tmp_path / "j.jsonl")
    assert {(o.step.path, o.status, o.reason) for o in outcomes if isinstance(o, Outcome)} == {
        (b, "done", None),
        (c, "already done", "already in the trash"),
        (hard, "already done", "the kept file itself"),
    }
    assert os.path.exists(a) and os.path.exists(hard) and not os.path.exists(b)


def test_a_file_gone_elsewhere_is_missing_and_skips_its_group(tmp_path):
    a, b, c = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg"), write(tmp_path / "c.jpg")
    groups = report_of([a, b, c])
    os.rename(c, tmp_path / "elsewhere.jpg")
    outcomes = run_plan(make_plan(groups, "trash"), tmp_path / "j.jsonl")
    assert [(o.path, o.reason) for o in outcomes if isinstance(o, Skipped)] == [(c, "is missing")]
    assert os.path.exists(b)


def test_names_through_linked_folders_are_the_same_entry(tmp_path):
    """A file kept in one group and named through a linked folder in another is never acted on;
    a file named twice that way is acted on once; a move whose destination is itself is refused."""
    lib = tmp_path / "lib"
    a, a2, c = write(lib / "a.jpg"), write(lib / "a2.jpg"), write(lib / "c.png")
    (tmp_path / "L").symlink_to(lib)
    via_link = str(tmp_path / "L" / "a.jpg")
    groups = report_of([a, a2], [c, via_link])
    plan = make_plan(groups, "trash")
    assert [s.path for s in plan.steps] == [a2]
    twice = report_of([a, a2, str(tmp_path / "L" / "a2.jpg"), str(tmp_path / "L" / ".." / "lib" / "a2.jpg")])
    assert [s.path for s in make_plan(twice, "trash").steps] == [a2]
    home = make_plan(report_of([a, a2]), "move", move_to="/")
    outcomes = run_plan(home, tmp_path / "j.jsonl")
    assert [(o.path, o.reason) for o in outcomes if isinstance(o, Skipped)] == [
        (a2, "its destination is the file itself (--to leads back to it)")
    ]
    assert os.path.exists(a2)


def test_a_hard_link_of_another_groups_kept_file_is_left_alone(tmp_path):
    a, b, c = (
        write(tmp_path / "a.jpg", b"a"),
        write(tmp_path / "b.jpg", b"b"),
        write(tmp_path / "c.jpg", b"c"),
    )
    os.link(c, tmp_path / "c_link.jpg")
    link = str(tmp_path / "c_link.jpg")
    outcomes = run_plan(make_plan(report_of([a, b, link], [c, a]), "symlink"), tmp_path / "j.jsonl")
    assert ("left alone", link) in {(o.status, o.step.path) for o in outcomes if isinstance(o, Outcome)}
    assert Path(link).read_bytes() == b"c" and not os.path.islink(link)


def test_a_symbolic_link_or_unrecorded_file_is_not_acted_on(tmp_path):
    a, b, c = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg"), write(tmp_path / "c.jpg")
    (tmp_path / "s.jpg").symlink_to(b)
    link = str(tmp_path / "s.jpg")
    groups = [ReportGroup(1, a, (Copy(a), Copy(link, 1, 1))), ReportGroup(2, b, (Copy(b), Copy(c)))]
    outcomes = run_plan(make_plan(groups, "trash"), tmp_path / "j.jsonl")
    assert {o.path: o.reason for o in outcomes if isinstance(o, Skipped)} == {
        link: "is a symbolic link, not a regular file",
        c: "the report does not record its size and modification time",
    }
    assert all(os.path.lexists(p) for p in (a, b, c, link))


def test_a_dry_run_changes_nothing(tmp_path):
    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg")
    before = sorted(p.name for p in tmp_path.iterdir())
    outcomes = run_plan(make_plan(report_of([a, b]), "hardlink"))
    assert [o.status for o in outcomes] == ["planned"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("action", ["trash", "move", "hardlink", "symlink"])
def test_each_action_then_undo(tmp_path, action):
    a = write(tmp_path / "lib" / "a.jpg", b"kept bytes")
    b = write(tmp_path / "lib" / "my copy\nof a.jpg", b"duplicate bytes")
    c = write(tmp_path / "lib" / os.fsdecode(b"caf\xe9.jpg"), b"third")
    to = str(tmp_path / "moved") if action == "move" else None
    plan = make_plan(report_of([a, b, c]), action, move_to=to)
    journal = tmp_path / "j.jsonl"
    outcomes = run_plan(plan, journal)
    assert [o.status for o in outcomes] == ["done", "done"]
    for path in (b, c):
        if action == "trash":
            assert not os.path.lexists(path)
        elif action == "move":
            assert Path(to + path).read_bytes() in (b"duplicate bytes", b"third")
        elif action == "hardlink":
            assert os.path.samefile(path, a)
        else:
            assert os.readlink(path) == "a.jpg" and os.path.samefile(path, a)  # relative, beside it
    assert not [p for p in os.listdir(tmp_path / "lib") if "ikmeta" in p]  # no temporary names left
    undone = list(undo_journal(str(journal)))
    assert [u.status for u in undone] == ["undone", "undone"]
    assert Path(b).read_bytes() == b"duplicate bytes" and Path(c).read_bytes() == b"third"
    assert not os.path.islink(b) and not os.path.samefile(b, a)
    assert list(undo_journal(str(journal))) == []  # twice: nothing the second time


def test_undo_never_overwrites_a_file_now_at_the_old_path(tmp_path):
    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg", b"old")
    journal = tmp_path / "j.jsonl"
    run_plan(make_plan(report_of([a, b]), "trash"), journal)
    write(tmp_path / "b.jpg", b"new")
    [outcome] = undo_journal(str(journal))
    assert outcome.status == "failed" and "a file now sits at the old path" in (outcome.reason or "")
    assert Path(b).read_bytes() == b"new"
    _, steps = read_journal(str(journal))
    assert steps[0].state == "undo-failed"


def test_the_journal_says_each_action_before_and_after(tmp_path):
    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg")
    journal = tmp_path / "j.jsonl"
    run_plan(make_plan(report_of([a, b]), "move", move_to=str(tmp_path / "to")), journal)
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines[0]["format"] == "ikmeta-journal" and lines[0]["action"] == "move"
    assert [(line["step"], line["state"]) for line in lines[1:]] == [(1, "begin"), (1, "done")]
    assert lines[1]["path"] == b and lines[1]["kept"] == a and lines[1]["to"] == str(tmp_path / "to") + b


def test_a_journal_is_never_overwritten(tmp_path):
    (tmp_path / "j.jsonl").write_text("mine")
    with pytest.raises(Exception, match="already exists; a journal is never overwritten"):
        Journal.create(str(tmp_path / "j.jsonl"), "trash", "r")
    assert (tmp_path / "j.jsonl").read_text() == "mine"


def test_symbolic_links_are_relative_on_the_real_paths_and_survive_moving_the_tree(tmp_path):
    tree = tmp_path / "tree"
    a = write(tree / "lib" / "a.jpg", b"kept")
    write(tree / "deep" / "er" / "other" / "b.jpg", b"dup")
    (tree / "L").symlink_to(Path("deep") / "er" / "other")
    b = str(tree / "L" / "b.jpg")  # the duplicate named through a linked folder
    journal = tmp_path / "j.jsonl"
    outcomes = run_plan(make_plan(report_of([a, b]), "symlink"), journal)
    assert [o.status for o in outcomes] == ["done"]
    # from the folder the link really is in (deep/er/other), not from L
    assert os.readlink(b) == os.path.join("..", "..", "..", "lib", "a.jpg")
    assert os.path.samefile(b, a)
    moved = tmp_path / "elsewhere"
    os.rename(tree, moved)
    assert (moved / "L" / "b.jpg").read_bytes() == b"kept"  # the link still finds the kept file
    os.rename(moved, tree)
    assert [u.status for u in undo_journal(str(journal))] == ["undone"]
    assert Path(b).read_bytes() == b"dup" and not os.path.islink(b)


def test_absolute_symbolic_links_on_request(tmp_path):
    a, b = write(tmp_path / "lib" / "a.jpg", b"kept"), write(tmp_path / "b.jpg", b"dup")
    journal = tmp_path / "j.jsonl"
    plan = make_plan(report_of([a, b]), "symlink")
    journal_file = Journal.create(str(journal), plan.action, "report.json")
    try:
        outcomes = list(apply_plan(plan, journal_file, absolute_links=True))
    finally:
        journal_file.close()
    assert [o.status for o in outcomes] == ["done"]
    assert os.readlink(b) == a
    assert [u.status for u in undo_journal(str(journal))] == ["undone"]
    assert Path(b).read_bytes() == b"dup" and not os.path.islink(b)


def refuse_unlink(monkeypatch, refused: str) -> None:
    """``os.unlink(refused)`` fails as in a read-only folder (which root could write to)."""
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if os.fspath(path) == refused:
            raise PermissionError(13, "Permission denied", refused)
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)


def test_a_move_whose_source_cannot_be_removed_leaves_nothing_behind(tmp_path, monkeypatch):
    """The source's folder is read-only (unlink fails once the destination is linked): the
    destination's new name and the folders made for it go, the source stays, one failure."""
    a, b = write(tmp_path / "lib" / "a.jpg"), write(tmp_path / "lib" / "b.jpg", b"dup")
    refuse_unlink(monkeypatch, b)
    to = tmp_path / "to"
    journal = tmp_path / "j.jsonl"
    outcomes = run_plan(make_plan(report_of([a, b]), "move", move_to=str(to)), journal)
    assert [(o.status, o.reason) for o in outcomes] == [("failed", "permission denied")]
    assert Path(b).read_bytes() == b"dup" and os.stat(b).st_nlink == 1
    assert not to.exists()  # no second name, no empty folders
    _, steps = read_journal(str(journal))
    assert [s.states for s in steps] == [["failed"]]
    monkeypatch.undo()
    assert list(undo_journal(str(journal))) == []
    assert Path(b).read_bytes() == b"dup" and not to.exists()


def test_a_failed_move_keeps_the_folders_that_were_there(tmp_path, monkeypatch):
    a = write(tmp_path / "lib" / "a.jpg")
    to = tmp_path / "to"
    theirs = write(to / str(tmp_path).lstrip("/") / "theirs.jpg", b"theirs")
    refuse_unlink(monkeypatch, a)
    with pytest.raises(PermissionError):
        move_file(a, str(to) + a)
    assert os.path.exists(a) and not os.path.lexists(str(to) + a)
    assert not os.path.lexists(os.path.dirname(str(to) + a))  # the folder the move made goes...
    assert Path(theirs).read_bytes() == b"theirs"  # ...the one it found stays


def test_move_never_overwrites(tmp_path):
    a = write(tmp_path / "a.jpg", b"a")
    dest = write(tmp_path / "dest" / "a.jpg", b"theirs")
    with pytest.raises(FileExistsError):
        move_file(a, dest)
    assert Path(dest).read_bytes() == b"theirs" and os.path.exists(a)


def test_a_failing_action_fails_alone(tmp_path):
    a, b, c = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg"), write(tmp_path / "c.jpg")
    to = tmp_path / "to"
    write(to / str(tmp_path).lstrip("/"), b"a file where b's folder would go")  # ENOTDIR for both
    plan = make_plan(report_of([a, b], [a, c]), "move", move_to=str(to))
    outcomes = run_plan(plan, tmp_path / "j.jsonl")
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all(os.path.exists(p) for p in (a, b, c))


# --- the invariant: no group ever loses its last copy ------------------------------------------


names = st.sampled_from(["a.jpg", "b.png", "c.heic", "d/e.jpg", "f/g.jpg", "h.webp"])
file_specs = st.fixed_dictionaries(
    {"size": st.integers(1, 100), "mtime_ns": st.integers(0, 10), "width": st.integers(0, 9)}
)


@settings(max_examples=200, deadline=None)
@given(
    groups=st.lists(st.lists(st.tuples(names, file_specs), min_size=2, max_size=5), min_size=1, max_size=4),
    rules=st.lists(st.sampled_from([r for r in KEEP_RULES if ":" not in r] + ["path:d/*", "format:png,jpg"])),
    protected=st.lists(st.sampled_from(["d", "f", "a.jpg"]), max_size=2),
    action=st.sampled_from(["trash", "move", "hardlink", "symlink"]),
)
def test_no_group_ever_loses_its_last_copy(groups, rules, protected, action):
    report = [
        ReportGroup(n, members[0][0], tuple(Copy(name, **spec) for name, spec in members))
        for n, members in enumerate(groups, 1)
    ]
    plan = make_plan(
        report,
        action,
        keep=[parse_keep_rule(r) for r in rules],
        protect=protected,
        move_to="/m" if action == "move" else None,
    )
    acted = {os.path.abspath(step.path) for step in plan.steps}
    kept = {os.path.abspath(copy.source) for copy in plan.kept.values()}
    assert not acted & kept  # a kept file is never acted on, in any group
    for group in report:
        assert {os.path.abspath(c.source) for c in group.files} - acted  # something always stays
    assert len(acted) == len(plan.steps)  # each file acted on once


def test_undo_never_takes_back_another_file_from_the_trash(tmp_path):
    from send2trash import send2trash

    a, b = write(tmp_path / "lib" / "a.jpg"), write(tmp_path / "lib" / "b.jpg", b"mine")
    journal = tmp_path / "j.jsonl"
    outcomes = run_plan(make_plan(report_of([a, b]), "trash"), journal)
    trashed = outcomes[0].trashed
    os.remove(trashed)  # the user empties the trash...
    os.remove(trashed.replace("/files/", "/info/") + ".trashinfo")
    other = write(tmp_path / "other" / "b.jpg", b"private notes")
    send2trash(other)  # ...and another b.jpg takes its name there
    [outcome] = undo_journal(str(journal))
    assert outcome.status == "failed" and "not in the trash any more" in (outcome.reason or "")
    assert not os.path.exists(b)


def test_a_copy_already_at_the_destination_is_not_taken_for_a_moved_file(tmp_path):
    import shutil

    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg", b"dup")
    plan = make_plan(report_of([a, b]), "move", move_to=str(tmp_path / "to"))
    os.makedirs(os.path.dirname(plan.steps[0].to), exist_ok=True)
    shutil.copy2(b, plan.steps[0].to)  # the user's own copy, same bytes and time
    outcomes = run_plan(plan, tmp_path / "j.jsonl")
    assert [o.reason for o in outcomes if isinstance(o, Skipped)] == [
        f"its destination {plan.steps[0].to} already exists"
    ]
    assert os.path.exists(b)


UNDO_KILLER = (
    KILLED_AT_NTH_CALL
    + """
from ikmeta.actions import undo_journal
list(undo_journal(sys.argv[1]))
"""
)


@pytest.mark.parametrize("action", ["trash", "move", "hardlink", "symlink"])
@pytest.mark.parametrize("stop_at", [1, 2, 3, 4, 5])
def test_an_undo_killed_halfway_is_finished_by_the_next(tmp_path, action, stop_at):
    import signal
    import subprocess
    import sys

    from .conftest import ROOT

    files = [write(tmp_path / "lib" / f"{k}.jpg", bytes([k]) * (100 + k)) for k in range(4)]
    before = {p: Path(p).read_bytes() for p in files}
    journal = tmp_path / "j.jsonl"
    to = str(tmp_path / "moved") if action == "move" else None
    run_plan(make_plan(report_of(files), action, move_to=to), journal)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STOP_AT": str(stop_at)}
    killed = subprocess.run([sys.executable, "-c", UNDO_KILLER, str(journal)], env=env, capture_output=True)
    assert killed.returncode in (-signal.SIGKILL, 0), killed.stderr
    outcomes = list(undo_journal(str(journal)))
    assert [o for o in outcomes if o.status == "failed"] == []
    assert {p: Path(p).read_bytes() for p in files} == before
    assert all(os.stat(p).st_nlink == 1 and not os.path.islink(p) for p in files)
    assert not [n for n in os.listdir(tmp_path / "lib") if "ikmeta" in n]
    assert list(undo_journal(str(journal))) == []


def test_no_home_folder_is_a_clear_failure_and_changes_nothing(tmp_path, monkeypatch):
    a, b = write(tmp_path / "a.jpg"), write(tmp_path / "b.jpg")
    monkeypatch.setenv("HOME", str(tmp_path / "no-such-home"))
    outcomes = run_plan(make_plan(report_of([a, b]), "trash"), tmp_path / "j.jsonl")
    assert [(o.status, o.reason) for o in outcomes] == [
        ("failed", f"no trash: the home folder {tmp_path / 'no-such-home'} does not exist")
    ]
    assert os.path.exists(b)
