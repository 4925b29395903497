"""Every command example in the README runs, and the shown outputs are what ikmeta prints."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys

import pytest

from .conftest import ROOT, moto_server, need, need_module

README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def examples() -> list[tuple[list[str], str | None]]:
    """(commands, expected stdout or None) for each ikmeta example in the README: the ikmeta
    lines of a ``sh`` block run one after the other (a block may be a workflow: save a
    report, then act on it), a ``$ ikmeta`` block with the output shown under it."""
    found: list[tuple[list[str], str | None]] = []
    for lang, body in BLOCK.findall(README):
        lines = body.splitlines()
        if lang == "sh":
            commands = [line for line in lines if re.match(r"^(ikmeta |(cat|find) .*\| ikmeta )", line)]
            if commands:
                found.append((commands, None))
        elif lang == "" and lines and lines[0].startswith("$ ikmeta"):
            found.append(([lines[0][2:]], "\n".join(lines[1:])))
    return found


def shell(command: str) -> str:
    python = shlex.quote(sys.executable)
    return re.sub(r"(^|\| )ikmeta ", rf"\g<1>{python} -m ikmeta ", command)


def test_readme_has_examples_for_every_command():
    from ikmeta.cli import cli

    commands = {command.split()[1] for block, _ in examples() for command in block}
    assert set(cli.commands) <= commands


def wrote_table(command: str, folder) -> bool:
    """A command that writes a Parquet hash table (--parquet DIR) wrote one."""
    words = shlex.split(command)
    named = [words[k + 1] for k, word in enumerate(words[:-1]) if word == "--parquet"]
    return bool(named) and all(any((folder / name).glob("*.parquet")) for name in named)


def wrote_page(command: str, folder) -> bool:
    """A command that writes a review page (--html FILE, review -o FILE) wrote one."""
    from ikmeta.review import is_review_page

    words = shlex.split(command)
    named = [words[k + 1] for k, word in enumerate(words[:-1]) if word in ("--html", "-o", "--output")]
    return bool(named) and all(is_review_page(str(folder / name)) for name in named)


@pytest.fixture(scope="module")
def bucket():
    """The README's bucket: s3://photos/library/ holding examples/, in moto's S3 server on
    127.0.0.1, named to the examples as any S3-compatible store is (AWS_ENDPOINT_URL)."""

    with moto_server() as (_, endpoint):
        yield from _bucket(endpoint)


def _bucket(endpoint: str):
    import boto3

    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "readme",
        "AWS_SECRET_ACCESS_KEY": "readme",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="readme",
        aws_secret_access_key="readme",
    )
    s3.create_bucket(Bucket="photos")
    for path in sorted((ROOT / "examples").iterdir()):
        s3.put_object(Bucket="photos", Key=f"library/{path.name}", Body=path.read_bytes())
    yield env


def runnable() -> list[tuple[list[str], str | None]]:
    """The examples that run to an end: all but ``ikmeta serve``'s (a server: see below)."""
    return [(block, shown) for block, shown in examples() if not any(" serve" in c for c in block)]


@pytest.mark.parametrize(("commands", "expected"), runnable(), ids=[block[0] for block, _ in runnable()])
def test_readme_example_runs(commands, expected, tmp_path, request):
    """Run in a scratch folder holding a copy of examples/, so a workflow's files land there."""
    if any("| jq" in command for command in commands):
        need(shutil.which("jq") is not None, "jq")
    env = dict(os.environ)
    if any("s3://" in command for command in commands):
        env.update(request.getfixturevalue("bucket"))
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    for command in commands:
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", shell(command)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
        )
        assert proc.returncode == 0, f"{command}: {proc.stderr}"
        assert (
            proc.stdout.strip()
            or ">" in command
            or wrote_page(command, tmp_path)
            or wrote_table(command, tmp_path)
        ), command
        if expected is not None:
            assert proc.stdout.strip() == expected.strip()


def test_the_serve_example_answers_its_sdk_snippet(tmp_path):
    """The serve section's command, started as written (on a free port, without the user's
    cache), answers the Python snippet under it with the output shown."""
    need_module("uvicorn", "uvicorn (the serve extra, in the test extra)")
    need_module("imagekitio", "ImageKit's Python SDK (imagekitio, in the test extra)")
    section = README.split("### ImageKit's API on your machine", 1)[1].split("\n### ", 1)[0]
    blocks = BLOCK.findall(section)
    sh = next(body for lang, body in blocks if lang == "sh")
    key = re.search(r"^export IKMETA_PRIVATE_KEY=(\S+)$", sh, re.M).group(1)
    command = next(line for line in sh.splitlines() if line.startswith("ikmeta serve"))
    snippet = next(body for lang, body in blocks if lang == "python")
    shown = next(body for lang, body in blocks if lang == "")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    server = subprocess.Popen(
        ["bash", "-c", "exec " + shell(command) + " --port 0 --no-cache"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "IKMETA_PRIVATE_KEY": key},
    )
    try:
        said = server.stderr.readline()
        assert "(5 files found in" in said, said
        base = said.split()[2]
        code = snippet.replace("http://127.0.0.1:8080", base)
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == shown
        assert not (tmp_path / "examples" / "uploads").exists() or not any(
            (tmp_path / "examples" / "uploads").iterdir()
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)


def test_quick_start_makes_a_virtual_environment_in_one_line_each():
    """PEP 668 systems (Debian 12, Ubuntu 24.04) refuse a bare 'pip install': the first
    command makes and uses a venv, and both commands are a single line."""
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [body.strip() for lang, body in BLOCK.findall(quick) if lang == "sh"]
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    assert commands[0].startswith("python3 -m venv .venv && . .venv/bin/activate && pip install . && ikmeta ")
    assert commands[1] == "pip install -e '.[test]' -c constraints.txt && pytest"


def test_the_constraints_pin_every_dependency_within_its_range():
    """constraints.txt (the versions CI last passed with, used by the README's test command)
    pins ikmeta's dependencies and its test extra, each within pyproject.toml's range."""
    import tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (requirement, pins[name])
