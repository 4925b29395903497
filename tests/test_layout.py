"""The package's layout: no import circle, no oversized module, and the README's Layout tree
naming every module and folder there is (and none that is not)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE_PREFIX = re.compile(r"^[│├└─ ]*")


def test_no_import_circle_and_no_oversized_module():
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "import_graph.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "circles 0" in done.stdout


def test_the_import_graph_finds_a_circle(tmp_path):
    """The check is no formality: two modules that import each other are a circle."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import import_graph
    finally:
        sys.path.remove(str(ROOT / "tools"))
    package = tmp_path / "ikmeta"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from .inner import b\n")
    (package / "inner" / "b.py").write_text("from ..a import f\n")
    (package / "c.py").write_text("from . import a\n")
    graph = import_graph.arrows(import_graph.modules(tmp_path))
    assert graph["ikmeta.c"] == {"ikmeta.a"}
    assert import_graph.circles(graph) == [["ikmeta.a", "ikmeta.inner.b"]]


def layout_tree() -> set[str]:
    """The paths the README's Layout tree names: ``ikmeta/cli/dupes.py``, ``ikmeta/cli/``..."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Layout") :]
    block = section[section.index("```") + 3 :]
    block = block[block.index("\n") + 1 : block.index("```")]
    paths: set[str] = set()
    parents: list[str] = []
    for line in block.splitlines():
        prefix = TREE_PREFIX.match(line)
        name = line[prefix.end() if prefix else 0 :].split()[0] if line.strip() else ""
        if not name:
            continue
        depth = len(prefix.group(0)) // 4 if prefix else 0
        parents[depth:] = [name]
        paths.add("".join(parents))
    return paths


def test_the_readme_layout_names_every_module_and_folder():
    actual = {f"{p.relative_to(ROOT).as_posix()}" for p in (ROOT / "ikmeta").rglob("*.py")}
    actual |= {f"{p.parent.relative_to(ROOT).as_posix()}/" for p in (ROOT / "ikmeta").rglob("__init__.py")}
    named = layout_tree()
    assert sorted(actual - named) == [], "modules missing from the README's Layout"
    assert sorted(named - actual) == [], "the README's Layout names modules that do not exist"
