"""Shell completions: the committed scripts are what Click generates, and every argument or
option that takes a path completes file and folder names in bash, zsh and fish (issue 9).

Click answers a path parameter with a "file" item; each shell's script then hands the word to
the shell's own file-name completion (bash: ``compopt -o default``, zsh: ``_path_files -f``,
fish: ``__fish_complete_path``). The tests below check Click's answer for each shell, then
type into the real shells, with ``ikmeta`` on PATH running this checkout.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.shell_completion import get_completion_class

from ikmeta.cli import cli

from .conftest import ROOT, need

COMPLETIONS = ROOT / "completions"

# Words before the one being completed, and that incomplete word: every place a path is typed.
PATH_WORDS = [
    (["inspect"], "pho"),
    (["inspect", "photo.jpg", "-"], "alb"),
    (["phash"], "alb"),
    (["phash", "--hidden"], "pho"),
    (["distance"], "pho"),
    (["distance", "photo.jpg"], "pho"),
    (["dupes"], "alb"),
    (["dupes", "--max", "6"], "alb"),
    (["inspect", "--from"], "li"),
    (["phash", "--from"], "li"),
    (["dupes", "--from"], "li"),
    (["dupes", "--hashes"], "ha"),
    (["dupes", "--cache"], "ca"),
]

PATH_IDS = [" ".join([*args, incomplete]) for args, incomplete in PATH_WORDS]

# A command line typed up to <TAB>, and the word the shell should complete its last word to.
TYPED = [
    ("ikmeta insp", "inspect"),  # not a path: shows the harness itself completes
    ("ikmeta inspect pho", "photo.jpg"),
    ("ikmeta inspect my", "my photo.jpg"),
    ("ikmeta inspect photo.jpg alb", "albums/"),
    ("ikmeta phash alb", "albums/"),
    ("ikmeta dupes alb", "albums/"),
    ("ikmeta distance photo.jpg pho", "photo.jpg"),
    ("ikmeta inspect --from li", "list.txt"),
    ("ikmeta phash --from li", "list.txt"),
    ("ikmeta dupes --hashes ha", "hashes.txt"),
    ("ikmeta dupes --cache ca", "cache.sqlite3"),
]


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


# --- what Click answers ---------------------------------------------------------------------


def click_answer(monkeypatch: pytest.MonkeyPatch, shell: str, args: list[str], incomplete: str) -> str:
    """The reply to ``_IKMETA_COMPLETE=<shell>_complete``, with the variables the script sets."""
    words = ["ikmeta", *args, incomplete]
    if shell == "fish":  # COMP_WORDS=(commandline -cp) COMP_CWORD=(commandline -t)
        monkeypatch.setenv("COMP_WORDS", " ".join(words))
        monkeypatch.setenv("COMP_CWORD", incomplete)
    else:  # bash joins ${COMP_WORDS[*]} with IFS=$'\n', zsh ${words[*]} with spaces
        monkeypatch.setenv("COMP_WORDS", ("\n" if shell == "bash" else " ").join(words))
        monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    complete = get_completion_class(shell)
    assert complete is not None
    return complete(cli, {}, "ikmeta", "_IKMETA_COMPLETE").complete()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize(("args", "incomplete"), PATH_WORDS, ids=PATH_IDS)
def test_click_marks_paths_as_files(monkeypatch, shell, args, incomplete):
    """The item that makes each script run the shell's own file-name completion."""
    expected = {"bash": f"file,{incomplete}", "zsh": f"file\n{incomplete}\n_", "fish": f"file,{incomplete}"}
    assert click_answer(monkeypatch, shell, args, incomplete) == expected[shell]


def test_every_path_parameter_completes_files():
    """A new argument (all but a Choice take sources or paths) or File/Path option completes paths too."""
    missing = []
    for name, command in cli.commands.items():
        ctx = click.Context(command, info_name=name, parent=click.Context(cli, info_name="ikmeta"))
        for param in command.params:
            if isinstance(param.type, click.Choice):  # completes its choices (apply's ACTION)
                continue
            if isinstance(param, click.Argument) or isinstance(param.type, (click.File, click.Path)):
                items = [(item.type, item.value) for item in param.shell_complete(ctx, "pho")]
                folders_only = isinstance(param.type, click.Path) and not param.type.file_okay
                if items != [("dir" if folders_only else "file", "pho")]:
                    missing.append(f"ikmeta {name} {param.opts[0]}: {items}")
    assert not missing, "no file-name completion for: " + "; ".join(missing)


# --- the real shells ------------------------------------------------------------------------


@pytest.fixture
def shell_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose ``ikmeta`` runs this checkout, a home in tmp_path, and a folder to
    complete in: photo.jpg, 'my photo.jpg', albums/, list.txt, hashes.txt, cache.sqlite3."""
    bin_dir, home, work = tmp_path / "bin", tmp_path / "home", tmp_path / "work"
    for folder in (bin_dir, home, work, work / "albums"):
        folder.mkdir()
    for name in ("photo.jpg", "my photo.jpg", "list.txt", "hashes.txt", "cache.sqlite3"):
        (work / name).write_bytes(b"")
    wrapper = bin_dir / "ikmeta"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"PYTHONPATH={shlex.quote(str(ROOT))}${{PYTHONPATH:+:$PYTHONPATH}} "
        f'exec {shlex.quote(sys.executable)} -m ikmeta "$@"\n'
    )
    wrapper.chmod(0o755)
    env = {
        "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", os.defpath)]),
        "HOME": str(home),
        "ZDOTDIR": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "INPUTRC": os.devnull,  # readline's defaults, not the user's
        "PS1": "$ ",
    }
    return env, work


def need_shell(name: str) -> str:
    path = shutil.which(name)
    need(path is not None, f"{name} (apt install {name})")
    return path or name


BASH_CALL = r"""
source "$1"
compopt() { printf 'compopt'; printf ' %s' "$@"; echo; }  # the builtin needs readline: record it
spec=$(complete -p ikmeta)
func=${spec##* -F }
func=${func%% *}
read -r -a COMP_WORDS <<< "$2"
[[ $2 == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE=$2
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$func" ikmeta "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf 'reply %s\n' "${COMPREPLY[@]}"
"""


def bash_function(env: dict[str, str], cwd: Path, line: str) -> list[str]:
    """What the registered completion function does for ``line``: its COMPREPLY and compopt calls."""
    bash = need_shell("bash")
    proc = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", BASH_CALL, "bash", str(COMPLETIONS / "ikmeta.bash"), line],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return [out for out in proc.stdout.splitlines() if out != "reply "]


@pytest.mark.parametrize(("args", "incomplete"), PATH_WORDS, ids=PATH_IDS)
def test_bash_function_hands_paths_to_readline(shell_env, args, incomplete):
    """COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT as bash sets them for ``ikmeta ... pho<TAB>``:
    the function leaves COMPREPLY empty and turns on ``-o default``, readline's file names."""
    env, work = shell_env
    assert bash_function(env, work, " ".join(["ikmeta", *args, incomplete])) == ["compopt -o default"]


def test_bash_function_completes_commands(shell_env):
    env, work = shell_env
    assert bash_function(env, work, "ikmeta ph") == ["reply phash"]


class Terminal:
    """An interactive shell on a pseudo-terminal, typed at as a user would."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        import pty

        self.fd, child = pty.openpty()
        self.proc = subprocess.Popen(
            argv, stdin=child, stdout=child, stderr=child, env=env, cwd=cwd, start_new_session=True
        )
        os.close(child)
        self.seen = b""

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def read_until(self, marker: bytes, timeout: float = 60) -> bytes:
        """The output up to and including ``marker``."""
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = b""
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: the shell is gone
                    pass
            if not chunk:
                raise AssertionError(
                    f"no {marker!r} from the shell; it wrote:\n{self.seen.decode('utf-8', 'replace')}"
                )
            self.seen += chunk
        end = self.seen.index(marker) + len(marker)
        out, self.seen = self.seen[:end], self.seen[end:]
        return out

    def run(self, command: str) -> None:
        self.type(f"{command}; echo READY$((1+1))\r")
        self.read_until(b"READY2")

    def complete(self, line: str) -> str:
        """Type ``line`` and <TAB>, then print the words of the line as completed: the last one."""
        # <TAB>, Ctrl-A to put printf in front of the line, Ctrl-E to add an end marker, <Enter>.
        self.type(f"{line}\t\x01printf 'W[%s]\\n' \x05; echo DONE$((6*7))\r")
        out = self.read_until(b"DONE42")
        printed = out[out.rindex(b"$((6*7))") :]  # after the shell's echo of the line
        words = re.findall(rb"W\[(.*?)\]\r?\n", printed)
        assert words, out.decode("utf-8", "replace")
        return words[-1].decode()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self.fd)


def type_at(argv: list[str], setup: list[str], env: dict[str, str], cwd: Path) -> dict[str, str]:
    """Each TYPED line completed by the shell ``argv``, after the ``setup`` commands."""
    terminal = Terminal(argv, env, cwd)
    try:
        for command in setup:
            terminal.run(command)
        return {line: terminal.complete(line) for line, _ in TYPED}
    finally:
        terminal.close()


def test_bash_tab_completes_paths(shell_env):
    """ikmeta inspect pho<TAB> in an interactive bash gives photo.jpg (and so on for each path)."""
    env, work = shell_env
    bash = need_shell("bash")
    got = type_at(
        [bash, "--norc", "--noprofile", "-i"],
        [f"source {shlex.quote(str(COMPLETIONS / 'ikmeta.bash'))}"],
        env,
        work,
    )
    assert got == dict(TYPED)


def test_zsh_tab_completes_paths(shell_env):
    env, work = shell_env
    zsh = need_shell("zsh")
    got = type_at(
        [zsh, "-f", "-i"],
        [
            "bindkey -e",
            "unsetopt auto_remove_slash",  # (else the Ctrl-A that prints the line takes back a folder's /)
            "autoload -Uz compinit && compinit -u -D",
            f"source {shlex.quote(str(COMPLETIONS / 'ikmeta.zsh'))}",
        ],
        env,
        work,
    )
    assert got == dict(TYPED)


def test_fish_completes_paths(shell_env):
    env, work = shell_env
    fish = need_shell("fish")
    script = f"source {shlex.quote(str(COMPLETIONS / 'ikmeta.fish'))}\n" + "".join(
        f"echo '>>'; complete -C {shlex.quote(line)}\n" for line, _ in TYPED
    )
    proc = subprocess.run(
        [fish, "-c", script], env=env, cwd=work, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    answers = [block.strip("\n").splitlines() for block in proc.stdout.split(">>\n")[1:]]
    for (line, expected), answer in zip(TYPED, answers, strict=True):
        assert expected in [a.split("\t")[0] for a in answer], (line, answer)


def test_a_choice_argument_completes_its_choices():
    command = cli.commands["apply"]
    ctx = click.Context(command, info_name="apply", parent=click.Context(cli, info_name="ikmeta"))
    action = next(p for p in command.params if p.name == "action")
    assert [item.value for item in action.shell_complete(ctx, "h")] == ["hardlink"]


def readme_install_lines() -> dict[str, str]:
    """The README's lines that install each shell's completion, by shell."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Shell completions", 1)[1].split("\n#", 1)[0]
    lines = [
        line for line in section.splitlines() if line.startswith("mkdir -p ") and " cp completions/" in line
    ]
    return {line.split("completions/ikmeta.", 1)[1].split()[0]: line for line in lines}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_readme_install_lines_work_as_written(shell, tmp_path):
    """Issue 24: on a fresh account (a new home, no folders made yet) the README's line for
    each shell installs a completion that shell then loads: bash through the bash-completion
    package (as Debian's and Ubuntu's ~/.bashrc load it), zsh with ~/.zfunc in fpath, fish
    by itself."""
    line = readme_install_lines()[shell]
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}  # a plain account
    env.update(HOME=str(home), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    subprocess.run(["bash", "-euc", line], cwd=ROOT, env=env, check=True)
    if shell == "bash":
        loader = Path("/usr/share/bash-completion/bash_completion")
        need(loader.exists(), "the bash-completion package (apt install bash-completion)")
        check = [need_shell("bash"), "-c", f"source {loader}; _completion_loader ikmeta; complete -p ikmeta"]
        expected = "-F _ikmeta_completion ikmeta"
    elif shell == "zsh":
        script = "fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit -u; print $_comps[ikmeta]"
        check, expected = [need_shell("zsh"), "-f", "-c", script], "_ikmeta"
    else:
        check, expected = [need_shell("fish"), "-c", "complete -C'ikmeta insp'"], "inspect"
    out = subprocess.run(check, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert expected in out.stdout, (out.stdout, out.stderr)
