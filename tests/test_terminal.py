"""On a terminal: Ctrl-C during a scan leaves the terminal as it was (cursor shown, no bar
after); a message during a scan is printed on a line of its own, the bar drawn again below it."""

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


def test_messages_during_a_scan_clear_the_bar_first():
    """The bar's line is cleared before a message is written (never 'hashing ━━━ 3/10ikmeta: ...'),
    the first message as the later ones, and the bar is drawn again below it."""
    script = (
        "import time, ikmeta.cli.terminal as cli\n"
        "bar = cli.ProgressBar(False); bar.__enter__(); bar.total(10)\n"
        "for k in range(3):\n"
        "    bar.advance(); time.sleep(0.15)\n"
        "cli.fail('a.jpg: permission denied')\n"
        "bar.advance(); time.sleep(0.15)\n"
        "cli.warn('b.jpg', 'truncated')\n"
        "cli.note('a note')\n"
        "bar.advance(); time.sleep(0.15)\n"
        "bar.__exit__(None, None, None)\n"
    )
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    try:
        out = read_until(leader, b"\x00never", 15)  # until it closes
        assert proc.wait(10) == 0, out[-300:]
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    for message in (b"ikmeta: a.jpg: permission denied", b"ikmeta: b.jpg: warning: truncated", b"a note"):
        before, _, after = out.partition(message + b"\r\n")
        assert after, out[-300:]
        # what is left on the message's line: the bar's line was cleared before it (ESC[2K), and
        # nothing of the bar drawn after that
        line = before.rsplit(b"\n", 1)[-1]
        assert line.endswith(b"\x1b[2K") or line.rsplit(b"\r", 1)[-1] == b"", line[-200:]
        assert b"hashing" in after  # the bar again, below the message
