"""The committed shell completions are what Click generates for the current commands."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_completions_are_up_to_date():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_completions.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bash_completion_answers():
    env = {
        "_IKMETA_COMPLETE": "bash_complete",
        "COMP_WORDS": "ikmeta ph",
        "COMP_CWORD": "1",
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run([sys.executable, "-m", "ikmeta"], env=env, capture_output=True, text=True).stdout
    assert "phash" in out
