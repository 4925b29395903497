"""The command line: output formats, argument order, messages on stderr, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ikmeta import __version__
from ikmeta.cli import cli

from .conftest import EXAMPLES, encode, scene

HARBOUR = str(EXAMPLES / "harbour.jpg")
BADGE = str(EXAMPLES / "badge.png")


def run(*args: str, stdin: bytes | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


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
    result = run("inspect", HARBOUR, str(tmp_path / "missing.jpg"), str(tmp_path), str(empty), str(text), BADGE)
    assert result.exit_code == 1
    assert [m["source"] for m in json.loads(result.stdout)] == [HARBOUR, BADGE]
    assert result.stderr.splitlines() == [
        f"ikmeta: {tmp_path / 'missing.jpg'}: no such file",
        f"ikmeta: {tmp_path}: is a directory, not an image file",
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


@pytest.mark.parametrize("args, message", [
    (["inspect"], "Missing argument 'SOURCE...'"),
    (["inspect", "-", "-"], "'-' (standard input) can be given only once"),
    (["inspect", "--jobs", "0", HARBOUR], "Invalid value for '-j' / '--jobs'"),
    (["inspect", "--bogus", HARBOUR], "No such option"),
    (["nosuchcommand"], "No such command 'nosuchcommand'"),
])
def test_usage_errors_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""


def test_version_and_help():
    assert run("--version").stdout.strip() == f"ikmeta, version {__version__}"
    assert "Examples:" in run("inspect", "--help").stdout


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
        f"{sys.executable} -m ikmeta inspect --ndjson {' '.join([HARBOUR] * 200)} | head -n 1",
        shell=True, capture_output=True, text=True,
    )
    assert json.loads(proc.stdout)["source"] == HARBOUR
    assert "Traceback" not in proc.stderr
