"""On a terminal: Ctrl-C during a scan leaves the terminal as it was (cursor shown, no bar after)."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time

from .conftest import ROOT, scene

HIDE_CURSOR, SHOW_CURSOR = b"\x1b[?25l", b"\x1b[?25h"


def read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end and wanted not in out:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            out += chunk
    return out


def test_ctrl_c_during_dupes_restores_the_cursor_and_draws_nothing_after(tmp_path):
    for k in range(400):  # enough work for the progress bar to be on screen when Ctrl-C comes
        scene((640, 480), seed=k % 7).rotate(k).save(tmp_path / f"{k:03d}.png")
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ikmeta", "dupes", str(tmp_path), "--no-cache", "-j", "1"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
    )
    os.close(follower)
    try:
        shown = read_until(leader, b"hashing", 30)
        assert HIDE_CURSOR in shown, shown[-300:]
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        rest = read_until(leader, b"\x00never", 5)  # until it closes
        assert proc.wait(10) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    screen = shown + rest
    after_hide = screen[screen.rindex(HIDE_CURSOR) :]
    assert SHOW_CURSOR in after_hide
    tail = screen[screen.rindex(b"ikmeta: interrupted") :]
    assert b"hashing" not in tail and HIDE_CURSOR not in tail, tail
    assert tail.strip() == b"ikmeta: interrupted"


def test_ctrl_c_while_the_bar_is_busy_never_hangs():
    """Ctrl-C may land while the interrupted code holds the bar's lock and the refresh thread
    waits for it: rich's own stop() would then wait for ever; ikmeta exits at once."""
    script = (
        "import time, ikmeta.cli.terminal as cli\n"
        "bar = cli.ProgressBar(False); bar.__enter__(); bar.total(10)\n"
        "with bar.bar[0]._lock:\n"
        "    time.sleep(0.5)\n"
        "    cli._interrupted(2, None)\n"
    )
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    try:
        out = read_until(leader, b"\x00never", 15)  # until it closes
        assert proc.wait(10) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert out.endswith(SHOW_CURSOR + b"\r\nikmeta: interrupted\r\n"), out[-200:]
