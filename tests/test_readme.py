"""Every command example in the README runs, and the shown outputs are what ikmeta prints."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT, need

README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def examples() -> list[tuple[str, str | None]]:
    """(command, expected stdout or None) for each ikmeta example in the README."""
    found = []
    for lang, body in BLOCK.findall(README):
        lines = body.splitlines()
        if lang == "sh":
            found += [(line, None) for line in lines if re.match(r"^(ikmeta |(cat|find) .*\| ikmeta )", line)]
        elif lang == "" and lines and lines[0].startswith("$ ikmeta"):
            found.append((lines[0][2:], "\n".join(lines[1:])))
    return found


def shell(command: str) -> str:
    python = shlex.quote(sys.executable)
    return re.sub(r"(^|\| )ikmeta ", rf"\g<1>{python} -m ikmeta ", command)


def test_readme_has_examples_for_every_command():
    from ikmeta.cli import cli

    commands = {command.split()[1] for command, _ in examples()}
    assert set(cli.commands) <= commands


@pytest.mark.parametrize(("command", "expected"), examples(), ids=[c for c, _ in examples()])
def test_readme_example_runs(command, expected):
    if "| jq" in command:
        need(shutil.which("jq") is not None, "jq")
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell(command)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    if expected is not None:
        assert proc.stdout.strip() == expected.strip()
