"""The command line: output formats, argument order, messages on stderr, exit codes."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from ikmeta._version import __version__
from ikmeta.cli import cli

from .conftest import EXAMPLES, encode, run, scene

HARBOUR = str(EXAMPLES / "harbour.jpg")
BADGE = str(EXAMPLES / "badge.png")


def test_one_source_prints_one_object():
    result = run("inspect", HARBOUR)
    assert result.exit_code == 0, result.stderr
    meta = json.loads(result.stdout)
    assert meta["source"] == HARBOUR
    assert meta["exif"]["exif"]["ISO"] == 200
    assert result.stderr == ""


def test_several_sources_print_an_array_in_argument_order():
    result = run("inspect", BADGE, HARBOUR, BADGE, "-j", "3")
    assert result.exit_code == 0
    assert [m["source"] for m in json.loads(result.stdout)] == [BADGE, HARBOUR, BADGE]


def test_ndjson_is_one_compact_object_per_line():
    result = run("inspect", "--ndjson", HARBOUR, BADGE)
    lines = result.stdout.splitlines()
    assert [json.loads(line)["source"] for line in lines] == [HARBOUR, BADGE]
    assert all("\n" not in line and ": " not in line[:40] for line in lines)


def test_table_output():
    result = run("inspect", "--table", HARBOUR)
    assert result.exit_code == 0
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert rows["format"] == "jpg" and rows["exif.exif.ISO"] == "200" and rows["exif.image.Make"] == "ikmeta"


def test_stdin():
    data = (EXAMPLES / "harbour.jpg").read_bytes()
    result = run("inspect", "-", stdin=data)
    assert result.exit_code == 0
    meta = json.loads(result.stdout)
    assert meta["source"] == "-" and meta["size"] == len(data)
    assert json.loads(run("inspect", HARBOUR).stdout) == {**meta, "source": HARBOUR}


def test_bad_sources_are_named_on_stderr_and_the_rest_still_printed(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = run("inspect", HARBOUR, str(tmp_path / "missing.jpg"), str(empty), str(text), BADGE)
    assert result.exit_code == 1
    assert [m["source"] for m in json.loads(result.stdout)] == [HARBOUR, BADGE]
    assert result.stderr.splitlines() == [
        f"ikmeta: {tmp_path / 'missing.jpg'}: no such file or folder",
        f"ikmeta: {empty}: empty file",
        f"ikmeta: {text}: not an image ikmeta can read (formats: jpg, png, gif, webp, tiff, bmp, heic, avif)",
    ]


def test_one_bad_source_prints_nothing_on_stdout(tmp_path):
    result = run("inspect", str(tmp_path / "missing.jpg"))
    assert result.exit_code == 1 and result.stdout == ""


def test_all_bad_sources_print_an_empty_array(tmp_path):
    result = run("inspect", str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"))
    assert result.exit_code == 1 and json.loads(result.stdout) == []


def test_truncated_image_is_reported_with_a_warning(tmp_path):
    data = encode(scene((600, 400)), "JPEG", quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    result = run("inspect", str(cut))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["width"] == 600
    assert result.stderr.startswith(f"ikmeta: {cut}: warning: truncated image data")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["inspect"], "Missing argument 'SOURCE...'"),
        (["inspect", "-", "-"], "'-' (standard input) can be given only once"),
        (["inspect", "--jobs", "0", HARBOUR], "Invalid value for '-j' / '--jobs'"),
        (["inspect", "--bogus", HARBOUR], "No such option"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
    ],
)
def test_usage_errors_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""


def test_version_and_help():
    assert run("--version").stdout.strip() == f"ikmeta, version {__version__}"
    for command in cli.commands:
        assert "Examples:" in run(command, "--help").stdout, command


@pytest.mark.parametrize("columns", ["80", "100"])
def test_the_command_list_cuts_no_command_short(columns):
    """'ikmeta --help' lists each command on one line, its whole short help (Click would
    cut a long first sentence at '...', and undo's at its own 'ikmeta apply ...')."""
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": columns})
    listed = result.stdout.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed] == sorted(cli.commands)  # one line each
    assert not [line for line in listed if line.rstrip().endswith("...")]
    for line in listed:
        name, short = line.split(None, 1)
        assert short == cli.commands[name].short_help and short.endswith("."), line


def test_many_sources_keep_order_with_many_jobs(tmp_path):
    paths = []
    for i in range(30):
        path = tmp_path / f"{i:02d}.png"
        path.write_bytes(encode(scene((64 + i, 48), seed=i), "PNG"))
        paths.append(str(path))
    result = run("inspect", "--ndjson", "-j", "8", *paths)
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == paths


def test_python_m_and_closed_pipe():
    """`python -m ikmeta` works; a reader that stops early (| head) ends it quietly."""
    proc = subprocess.run(
        [
            "bash",
            "-c",
            (
                f"{sys.executable} -m ikmeta inspect --ndjson {' '.join([HARBOUR] * 200)} | head -n 1; "
                "echo ${PIPESTATUS[0]} >&2"
            ),
        ],
        capture_output=True,
        text=True,
    )
    assert json.loads(proc.stdout)["source"] == HARBOUR
    assert proc.stderr == "1\n"  # exit 1 (not all was written), and not a word on stderr


# --- phash ------------------------------------------------------------------------------------


def test_phash_lines_like_sha256sum(tmp_path):
    result = run("phash", HARBOUR, BADGE)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line[18:] for line in lines] == [HARBOUR, BADGE]
    assert all(len(line[:16]) == 16 and line[16:18] == "  " for line in lines)
    inspected = json.loads(run("inspect", HARBOUR).stdout)["pHash"]
    assert lines[0][:16] == inspected


def test_phash_walks_folders_and_reports_bad_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.png").write_bytes(encode(scene(seed=1), "PNG"))
    (tmp_path / "a.JPG").write_bytes(encode(scene(seed=2), "JPEG"))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 nothing")
    (tmp_path / "notes.txt").write_text("skipped: not an image name")
    result = run("phash", str(tmp_path), str(tmp_path / "missing"))
    assert result.exit_code == 1
    assert [line.split("  ", 1)[1] for line in result.stdout.splitlines()] == [
        str(tmp_path / "a.JPG"),
        str(tmp_path / "sub" / "b.png"),
    ]
    assert result.stderr.splitlines() == [
        f"ikmeta: {tmp_path / 'broken.jpg'}: corrupt or truncated jpg header (truncated file read)",
        f"ikmeta: {tmp_path / 'missing'}: no such file or folder",
        "ikmeta: skipped 1 file in folders that are not images or videos ikmeta reads (1 .txt)",
    ]


def test_phash_json_and_ndjson():
    as_json = json.loads(run("phash", "--json", HARBOUR).stdout)
    assert as_json == [
        {
            "source": HARBOUR,
            "pHash": run("phash", HARBOUR).stdout[:16],
            "flat": None,
            "width": 800,
            "height": 533,
            "size": os.path.getsize(HARBOUR),
            "format": "jpg",
            "quality": 85,
            "camera": "ikmeta Sample Camera 1",
            "captured": "2024-06-01T20:14:59",
            "mtimeNs": os.stat(HARBOUR).st_mtime_ns,
            "turned": as_json[0]["turned"],
            "inner": None,  # no plain border
            "windows": as_json[0]["windows"],
            "provenance": {  # what ranks it among copies: ikmeta.image.provenance
                "software": as_json[0]["provenance"]["software"],
                "modified": as_json[0]["provenance"]["modified"],
                "exifSize": as_json[0]["provenance"]["exifSize"],
                "tables": "libjpeg",  # written by Pillow
                "makerNote": False,
                "thumbnail": False,
                "band": None,
                "head": as_json[0]["provenance"]["head"],
            },
            "damage": None,
        }
    ]
    assert re.fullmatch("[0-9a-f]{16}", as_json[0]["provenance"]["head"])
    assert len(as_json[0]["turned"]) == 7 and len(as_json[0]["windows"]) == 10
    assert all(re.fullmatch("[0-9a-f]{16}", h) for h in as_json[0]["turned"] + as_json[0]["windows"])
    lines = run("phash", "--ndjson", HARBOUR, BADGE).stdout.splitlines()
    assert [json.loads(line)["source"] for line in lines] == [HARBOUR, BADGE]


def test_near_blank_pages_from_a_hash_list_group_by_colour(tmp_path):
    """phash --ndjson carries a flat image's colour, so dupes --hashes never groups blank
    pages by their (noise) pHash, as a scan would not."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(5)
    for k in range(3):  # grey pages with a little sensor noise: each has its own random pHash
        page = np.clip(200 + rng.normal(0, 0.6, (300, 200)), 0, 255).astype("uint8")
        Image.fromarray(page).save(tmp_path / f"page{k}.png")
    listed = run("phash", "--ndjson", str(tmp_path)).stdout
    assert all(json.loads(line)["flat"] in ("#c7c7c7", "#c8c8c8") for line in listed.splitlines())
    groups = json.loads(run("dupes", "--hashes", "-", "--json", "--max", "64", stdin=listed.encode()).stdout)
    assert [[f["distance"] for f in g["files"]] for g in groups] == [[None, None, None]]


def test_phash_stdin():
    result = run("phash", "-", stdin=(EXAMPLES / "badge.png").read_bytes())
    assert result.stdout.endswith("  -\n")
    assert result.stdout[:16] == run("phash", BADGE).stdout[:16]


# --- distance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("f06830ca9f1e3e90", "f06830ca9f1e3e90", "0"),
        ("2d5ad3936d2e015b", "2d6ed293db36a4fb", "17"),
        ("a4a65595ac94518b", "7838873e791f8400", "37"),
        ("0xA4A65595AC94518B", "7838873E791F8400", "37"),
    ],
)
def test_distance_of_hashes(a, b, expected):
    result = run("distance", a, b)
    assert (result.exit_code, result.stdout) == (0, expected + "\n")


def test_distance_of_images_and_json():
    badge_hash = run("phash", BADGE).stdout[:16]
    assert run("distance", BADGE, badge_hash).stdout == "0\n"
    data = json.loads(run("distance", "--json", HARBOUR, BADGE).stdout)
    assert set(data) == {"a", "b", "distance"} and 0 < data["distance"] <= 64
    stdin = run("distance", "-", BADGE, stdin=(EXAMPLES / "badge.png").read_bytes())
    assert stdin.stdout == "0\n"


def test_an_existing_file_named_like_hex_is_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deadbeef").write_bytes((EXAMPLES / "badge.png").read_bytes())
    badge_hash = run("phash", BADGE).stdout[:16]
    assert run("distance", "deadbeef", badge_hash).stdout == "0\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["2d5ad3936d2e015b", "xyz"],
            "Invalid value for 'B': not a hexadecimal pHash and no such file: 'xyz'",
        ),
        (["", "2d5ad3936d2e015b"], "Invalid value for 'A': not a hexadecimal pHash and no such file: ''"),
        (["2d5ad3936d2e015b", "2d5ad3936d2e015"], "pHashes differ in length: 16 vs 15 hex digits"),
        (["-", "-"], "'-' (standard input) can be given only once"),
        (["2d5ad3936d2e015b"], "Missing argument 'B'"),
    ],
)
def test_distance_usage_errors(args, message):
    result = run("distance", *args)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_distance_with_an_unreadable_image_exits_1(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = run("distance", str(text), "2d5ad3936d2e015b")
    assert result.exit_code == 1 and result.stderr.startswith(f"ikmeta: {text}: not an image")


@pytest.mark.parametrize(
    "args",
    [["distance", "2d5ad3936d2e015b", "2d6ed293db36a4fb"], ["--help"], ["distance", "--help"], ["--version"]],
)
def test_light_commands_import_no_image_libraries(args):
    code = (
        "import sys; from ikmeta.cli import cli\n"
        f"try:\n    cli({args!r}, prog_name='ikmeta')\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('numpy', 'scipy', 'PIL', 'imagehash', 'exifread') if m in sys.modules)\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.splitlines()[-1] == "HEAVY []"


# --- names and streams that are not what they seem ----------------------------------------


def ikmeta(*args, stdin: bytes | None = None, **kwargs) -> subprocess.CompletedProcess:
    """The real command in a subprocess, bytes in and out (for what CliRunner cannot show)."""
    return subprocess.run(
        [sys.executable, "-m", "ikmeta", *args], input=stdin, capture_output=True, timeout=60, **kwargs
    )


def test_file_names_that_are_not_utf8_round_trip(tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    odd = bytes(folder) + b"/caf\xe9.png"
    with open(odd, "wb") as fh:
        fh.write((EXAMPLES / "badge.png").read_bytes())
    lines = ikmeta("phash", str(folder))
    assert (
        lines.returncode == 0 and lines.stdout == b"81197f0e7ae66839  " + odd + b"\n"
    )  # the bytes, as ls shows them
    ndjson = ikmeta("phash", "--ndjson", str(folder))
    text = ndjson.stdout.decode("utf-8")  # always valid UTF-8: the stray byte escaped
    assert "\\udce9" in text and os.fsencode(json.loads(text)["source"]) == odd
    grouped = ikmeta("dupes", "--hashes", "-", "--json", stdin=lines.stdout + ndjson.stdout)
    assert grouped.returncode == 0 and b"Traceback" not in grouped.stderr
    listed = ikmeta("inspect", "--from", "-", "--ndjson", stdin=odd + b"\n")
    assert listed.returncode == 0 and json.loads(listed.stdout)["pHash"] == "81197f0e7ae66839"


def test_binary_data_as_a_list_is_one_line_per_bad_entry():
    result = ikmeta("inspect", "--from", "-", stdin=(EXAMPLES / "harbour.jpg").read_bytes()[:4000])
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert json.loads(result.stdout) == []
    assert all(line.startswith(b"ikmeta: <stdin>:") for line in result.stderr.splitlines())


def test_names_with_newlines_are_escaped_as_sha256sum_does(tmp_path):
    name = tmp_path / "two\nlines.png"
    name.write_bytes((EXAMPLES / "badge.png").read_bytes())
    line = run("phash", str(name)).stdout
    assert line == "\\81197f0e7ae66839  " + str(name).replace("\n", "\\n") + "\n"
    back = run(
        "dupes", "--hashes", "-", "--ndjson", "--max", "0", stdin=(line + line.replace("two", "one")).encode()
    )
    assert back.exit_code == 0
    assert {f["source"] for f in json.loads(back.stdout)["files"]} == {
        str(name),
        str(name).replace("two", "one"),
    }
    missing = run("inspect", str(tmp_path / "gone\nnow.jpg"))
    assert missing.stderr.count("\n") == 1 and "gone\\nnow.jpg: no such file" in missing.stderr


def test_pipes_and_devices_never_hang(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jpg")  # nothing will ever write to it
    (folder / "badge.png").write_bytes((EXAMPLES / "badge.png").read_bytes())
    walked = ikmeta("phash", str(folder))
    assert walked.returncode == 1 and walked.stdout.endswith(b"badge.png\n")
    assert b"pipe.jpg: not a regular file" in walked.stderr
    named = ikmeta("inspect", str(folder / "pipe.jpg"))
    assert named.returncode == 1 and b"pipe.jpg: empty file" in named.stderr
    endless = ikmeta("inspect", "--max-bytes", "1MB", "/dev/zero")
    assert (
        endless.returncode == 1
        and endless.stderr == b"ikmeta: /dev/zero: more than 1000000 bytes (--max-bytes); not read\n"
    )
    piped = ikmeta("phash", "--max-bytes", "1k", "-", stdin=(EXAMPLES / "harbour.jpg").read_bytes())
    assert piped.returncode == 1 and b"-: more than 1000 bytes" in piped.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_output_that_cannot_be_written_is_one_line_and_exit_1():
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "ikmeta", "inspect", HARBOUR],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert (
        result.returncode == 1
        and result.stderr == b"ikmeta: cannot write the output: no space left on device\n"
    )
    closed = subprocess.run(
        f"{sys.executable} -m ikmeta phash {HARBOUR} >&-", shell=True, capture_output=True
    )
    assert closed.returncode == 1 and b"standard output is closed" in closed.stderr


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"pHash":"81197f0e7ae66839","source":"a.png","flat":"garbage"}', "not null nor a colour"),
        (
            '{"pHash":"81197f0e7ae66839","source":"a.png","x":' + "[" * 5000 + "]" * 5000 + "}",
            "nested too deeply",
        ),
        ("81197f0e7ae66839" + " " * 70000, "longer than 65536 characters"),
    ],
)
def test_bad_hash_list_lines_are_named(line, reason):
    result = run("dupes", "--hashes", "-", "--json", stdin=(line + "\n81197f0e7ae66839  b.png\n").encode())
    assert (
        result.exit_code == 1 and result.stderr.startswith("ikmeta: <stdin>:1: ") and reason in result.stderr
    )
    assert json.loads(result.stdout) == []


def test_a_folder_named_like_a_hash_is_the_hash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deadbeef").mkdir()
    assert run("distance", "deadbeef", "deadbeee").stdout == "1\n"
    (tmp_path / "photos").mkdir()
    result = run("distance", "photos", "2d5ad3936d2e015b")
    assert result.exit_code == 2 and "is a folder" in result.stderr


def reading_standard_input(pid: int, seconds: float = 30) -> None:
    """Wait until a thread of process ``pid`` is blocked reading its standard input (Linux's
    /proc/PID/task/*/syscall: read, 0, on descriptor 0), rather than sleeping a guess."""
    import time

    tasks = Path(f"/proc/{pid}/task")
    if not tasks.is_dir():  # not Linux: the old guess
        time.sleep(2.5)
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        readable = False
        for task in tasks.glob("*/syscall"):
            try:
                calls = task.read_text().split()
            except OSError:  # a thread that ended, or not ours to look at
                continue
            readable = True
            if calls[:2] == ["0", "0x0"]:
                return
        if not readable:  # /proc/PID/task/*/syscall closed to us (ptrace rules): the old guess
            time.sleep(2.5)
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never read its standard input")


def test_ctrl_c_stops_at_once_with_130():
    import signal

    waiting = subprocess.Popen(
        [sys.executable, "-m", "ikmeta", "inspect", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reading_standard_input(waiting.pid)  # started, and reading standard input that never ends
    waiting.send_signal(signal.SIGINT)
    out, err = waiting.communicate(timeout=30)
    waiting.stdin.close()
    assert waiting.returncode == 130 and err == b"ikmeta: interrupted\n" and out == b""


def test_list_names_keep_their_spaces(tmp_path, monkeypatch):
    """A --from line is the name as written, spaces and all; outer spaces are dropped only
    when no file has them and one without them exists (a hand-written list)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.jpg").write_bytes((EXAMPLES / "badge.png").read_bytes())
    (tmp_path / "a.jpg ").write_bytes((EXAMPLES / "harbour.jpg").read_bytes())
    (tmp_path / " b.png").write_bytes((EXAMPLES / "badge.png").read_bytes())
    result = run("phash", "--from", "-", stdin=b"a.jpg \n b.png\n  a.jpg\n")
    assert result.exit_code == 0
    harbour, badge = run("phash", HARBOUR).stdout[:16], run("phash", BADGE).stdout[:16]
    assert result.stdout.splitlines() == [f"{harbour}  a.jpg ", f"{badge}   b.png", f"{badge}  a.jpg"]


def test_the_same_file_twice_in_a_hash_list_counts_once(monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)
    lines = run("phash", "examples", "examples/harbour.jpg", "./examples/harbour.jpg").stdout
    result = run("dupes", "--hashes", "-", "--json", stdin=lines.encode())
    assert result.exit_code == 0
    assert [[f["source"] for f in g["files"]] for g in json.loads(result.stdout)] == [
        ["examples/harbour.jpg", "examples/harbour_small.jpg"]
    ]  # the web copy; harbour.jpg once


def test_a_lone_surrogate_in_a_hash_list_is_a_bad_line():
    lines = '{"pHash":"81197f0e7ae66839","source":"a"}\n{"pHash":"81197f0e7ae66839","source":"\\ud800x"}\n'
    for output in ("--json", "--csv", "--table"):
        result = run("dupes", "--hashes", "-", output, stdin=lines.encode())
        assert (
            result.exit_code == 1
            and "<stdin>:2: source" in result.stderr
            and "Traceback" not in result.stderr
        )


def test_cache_holds_names_that_are_not_utf8(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in (b"a.png", b"b\xff.png"):
        with open(bytes(folder) + b"/" + name, "wb") as fh:
            fh.write((EXAMPLES / "badge.png").read_bytes())
    cache = str(tmp_path / "cache.sqlite3")
    first = ikmeta("dupes", str(folder), "--json", "--cache", cache)
    second = ikmeta("dupes", str(folder), "--json", "--cache", cache)
    assert first.returncode == second.returncode == 0 and first.stdout == second.stdout
    assert len(json.loads(first.stdout)[0]["files"]) == 2 and b"Traceback" not in first.stderr + second.stderr
    import sqlite3

    assert sqlite3.connect(cache).execute("SELECT count(*) FROM hashes").fetchone()[0] == 2


def test_libtiff_prints_nothing_of_its_own(tmp_path):
    """A corrupt LZW strip makes libtiff complain on stderr by itself; only ikmeta's line shows."""
    data = bytearray(encode(scene((400, 300), seed=2), "TIFF", compression="tiff_lzw"))
    data[3000:3040] = b"\xff" * 40
    path = tmp_path / "flipped.tif"
    path.write_bytes(bytes(data))
    result = ikmeta("phash", str(path))
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [f"ikmeta: {path}: corrupt image data (decoder error -2)"]


def test_pillow_logs_nothing_of_its_own(tmp_path):
    """Pillow logs some TIFF problems itself; only ikmeta's line reaches stderr."""
    data = bytearray(encode(scene((64, 48)), "TIFF"))
    entry = struct.pack("<HHIH", 0x0115, 3, 1, 3)  # SamplesPerPixel 3 ...
    at = bytes(data).index(entry)
    data[at : at + len(entry)] = struct.pack("<HHIH", 0x0115, 3, 1, 515)  # ... says 515
    path = tmp_path / "samples.tif"
    path.write_bytes(bytes(data))
    result = ikmeta("phash", str(path))
    assert result.returncode == 1
    assert [line.startswith(b"ikmeta: ") for line in result.stderr.splitlines()] == [True]


def test_ctrl_c_with_stderr_closed_still_stops_with_130():
    import signal

    waiting = subprocess.Popen(
        ["bash", "-c", f"exec {sys.executable} -m ikmeta inspect - 2>&-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    reading_standard_input(waiting.pid)
    waiting.send_signal(signal.SIGINT)
    waiting.communicate(timeout=30)
    assert waiting.returncode == 130


def test_a_slow_list_and_a_reader_that_stops_early_end_quietly():
    """| head -1 while --from - is still arriving: exit 1 and nothing on stderr (not an abort
    on the thread still reading the list)."""
    script = (
        f"{{ for k in 1 2 3 4; do echo {HARBOUR}; sleep 0.5; done; }} | "
        f"{sys.executable} -m ikmeta phash --from - -j 2 | head -1; echo ${{PIPESTATUS[1]}} >&2"
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.endswith(f"  {HARBOUR}\n") and result.stderr == "1\n"


def test_inspect_walks_a_folder(tmp_path):
    import shutil

    shutil.copy(HARBOUR, tmp_path / "harbour.jpg")
    (tmp_path / "sub").mkdir()
    shutil.copy(BADGE, tmp_path / "sub" / "badge.png")
    (tmp_path / "notes.txt").write_text("x")
    result = run("inspect", str(tmp_path))
    assert result.exit_code == 0
    objects = json.loads(result.stdout)  # a folder gives an array, even alone
    assert [os.path.basename(o["source"]) for o in objects] == ["harbour.jpg", "badge.png"]
    assert "skipped 1 file in folders that are not images or videos ikmeta reads (1 .txt)" in result.stderr


def test_phash_help_names_every_key_it_prints():
    text = " ".join(run("phash", "--help").stdout.split())
    for key in ("flat", "width", "height", "size", "format", "quality", "camera", "captured", "mtimeNs"):
        assert key in text, key


def test_distance_of_a_file_in_a_folder_it_may_not_enter_says_permission_denied(tmp_path, unprivileged):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.jpg").write_bytes((EXAMPLES / "harbour.jpg").read_bytes())
    locked.chmod(0o000)
    try:
        result = run("distance", str(locked / "a.jpg"), "2d5ad3936d2e015b")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 1
    assert result.stderr == f"ikmeta: {locked / 'a.jpg'}: permission denied\n"
