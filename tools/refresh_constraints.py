#!/usr/bin/env python3
"""Refresh constraints.txt: the versions a fresh install of the test extra gets today.

    python3 tools/refresh_constraints.py

Makes a fresh virtual environment in a temporary folder, installs ``.[test]`` in it with no
constraints (what pip resolves now), and writes every installed distribution but ikmeta
itself, pinned (``pip freeze``), to ``constraints.txt``. The README's test command and CI
install with ``-c constraints.txt``, so a newcomer gets the versions CI last passed with;
run this, then the tests (``bash .ci/run``), and commit both when they pass.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
HEADER = """\
# The versions of ikmeta's dependencies and its test extra that CI last passed with, as a fresh
# install resolved them on Python {python}. Used by the README's test command and by CI
# (pip install -e '.[test]' -c constraints.txt); refreshed by: python3 tools/refresh_constraints.py
"""


def frozen(python: Path) -> list[str]:
    """``pip freeze`` of a venv, without ikmeta and without pip's own tools."""
    lines = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--exclude-editable", "--all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    skipped = ("ikmeta", "pip", "setuptools", "wheel")
    return sorted(
        (line for line in lines if line and re.split(r"[=@ ]", line, maxsplit=1)[0].lower() not in skipped),
        key=str.lower,
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ikmeta-lock-") as folder:
        env = Path(folder) / "venv"
        venv.create(env, with_pip=True)
        python = env / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"{ROOT}[test]"], check=True)
        version = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        pins = frozen(python)
    CONSTRAINTS.write_text(HEADER.format(python=version) + "\n".join(pins) + "\n")
    print(f"{CONSTRAINTS.name}: {len(pins)} pins", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
