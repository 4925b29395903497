"""``ikmeta serve`` on the command line: its usage errors (exit 2), failures to start (exit
1, one line), and a run as a process: the address it says, a request, a failure's log line."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from .conftest import EXAMPLES, need_module, run


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv("IKMETA_PRIVATE_KEY", raising=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "a private key is needed: --private-key-file FILE or $IKMETA_PRIVATE_KEY"),
        (
            ["--no-auth", "--host", "0.0.0.0"],
            "only on a loopback address (127.0.0.1, ::1, localhost), not 0.0.0.0",
        ),
        (["--no-auth", "--private-key-file", "KEYFILE"], "choose one of --no-auth and --private-key-file"),
        (["--private-key-file", "EMPTY"], "is empty"),
        (["--library", "missing-folder"], "'missing-folder' does not exist"),
        (["--port", "70000"], "70000 is not in the range 0<=x<=65535"),
    ],
)
def test_usage_errors(no_key, tmp_path, args, message):
    (tmp_path / "key").write_text("secret\n")
    (tmp_path / "empty").write_text("\n")
    args = [{"KEYFILE": str(tmp_path / "key"), "EMPTY": str(tmp_path / "empty")}.get(a, a) for a in args]
    done = run("serve", *args)
    assert done.exit_code == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_an_address_in_use_is_one_line(monkeypatch, tmp_path):
    need_module("uvicorn", "uvicorn (the serve extra, in the test extra)")
    monkeypatch.setenv("IKMETA_PRIVATE_KEY", "secret")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        done = run("serve", "--library", str(tmp_path), "--port", str(port), "--no-cache")
    finally:
        taken.close()
    assert done.exit_code == 1
    assert done.stderr == f"ikmeta: 127.0.0.1:{port}: cannot listen there: address already in use\n"


def test_a_run_says_where_it_listens_answers_and_logs_failures(tmp_path):
    need_module("uvicorn", "uvicorn (the serve extra, in the test extra)")
    library = tmp_path / "photos"
    library.mkdir()
    (library / "harbour.jpg").write_bytes((EXAMPLES / "harbour.jpg").read_bytes())
    key_file = tmp_path / "key"
    key_file.write_text("private_cli_key\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ikmeta",
            "serve",
            "--library",
            str(library),
            "--port",
            "0",
            "--private-key-file",
            str(key_file),
            "--cache",
            str(tmp_path / "cache.sqlite3"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stderr.readline()
        assert first.startswith("ikmeta serve: http://127.0.0.1:") and "1 file found" in first, first
        base = first.split()[2]
        assert "private key required" in first
        request = urllib.request.Request(f"{base}/v1/files")
        request.add_header("Authorization", "Basic " + base64.b64encode(b"private_cli_key:").decode())
        listed = json.load(urllib.request.urlopen(request, timeout=10))
        assert [item["name"] for item in listed] == ["harbour.jpg"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/v1/files", timeout=10)
        assert refused.value.code == 401
        assert json.load(refused.value)["message"] == "Your request does not contain private API key."
        lines = []
        while not any("401" in line for line in lines):
            lines.append(process.stderr.readline())
        logged = next(line for line in lines if "401" in line)
        assert "GET /v1/files 401 Your request does not contain private API key." in logged
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert out == ""  # nothing on stdout: a server has no data to print
    assert process.returncode in (0, 130)
    assert os.path.isfile(tmp_path / "cache.sqlite3")
