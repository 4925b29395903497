#!/usr/bin/env python3
"""Benchmark `ikmeta apply`: move and trash a report of 10,000 duplicates on one file system.

    python3 bench/apply.py [--duplicates 10000] [--rounds 3]

Makes 5,000 groups of three small files (one kept, two duplicates) in a temporary folder,
writes the report `ikmeta dupes --json` would (source, size, mtimeNs), and times
`ikmeta apply move --to DIR --yes` and `ikmeta apply trash --yes` (start-up, checks and the
journal included; the trash is a temporary XDG_DATA_HOME), best of --rounds on fresh copies.
The baseline, in the same run: a bare Python loop doing only the file-system work of each
action (a hard link and an unlink per file for move; send2trash per file for trash), with
no checks and no journal: the floor any safe tool pays. Target: move at 1,000 files/s or more.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_library(root: Path, duplicates: int) -> Path:
    """``duplicates`` // 2 groups of three files; returns the report's path."""
    groups = []
    for g in range(duplicates // 2):
        folder = root / "lib" / f"{g // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        members = []
        for k in range(3):
            path = folder / f"img{g:05d}_{k}.jpg"
            path.write_bytes(bytes([g % 256, k]) * 512)
            status = path.stat()
            members.append({"source": str(path), "size": status.st_size, "mtimeNs": status.st_mtime_ns})
        groups.append({"reference": members[0]["source"], "files": members})
    report = root / "report.json"
    report.write_text(json.dumps(groups))
    return report


def ikmeta(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ikmeta", *args], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench/apply.py: ikmeta failed: {proc.stderr[-500:]}")
    return elapsed


def bare_loop(action: str, report: Path, to: Path) -> float:
    groups = json.loads(report.read_text())
    start = time.perf_counter()
    if action == "move":
        for group in groups:
            for entry in group["files"][1:]:
                destination = str(to) + entry["source"]
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                os.link(entry["source"], destination)
                os.unlink(entry["source"])
    else:
        from send2trash import send2trash

        for group in groups:
            for entry in group["files"][1:]:
                send2trash(entry["source"])
    return time.perf_counter() - start


def best_of(rounds: int, duplicates: int, run) -> float:
    best = float("inf")
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="ikmeta-bench-apply-") as folder:
            root = Path(folder)
            report = make_library(root, duplicates)
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "XDG_DATA_HOME": str(root / "data"),
                "XDG_STATE_HOME": str(root / "state"),
            }
            best = min(best, run(root, report, env))
    return best


BARE = (
    "import sys; from pathlib import Path; sys.path[0] = sys.argv[1]; from bench.apply import bare_loop; "
    "print(bare_loop(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])))"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duplicates", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    n = args.duplicates // 2 * 2
    print(f"{n} duplicates in {n // 2} groups of three, one file system, best of {args.rounds}")
    print(f"{'action':8} {'ikmeta':>14} {'bare loop':>14} {'ikmeta / bare':>14}")
    for action in ("move", "trash"):

        def with_ikmeta(root: Path, report: Path, env: dict[str, str], action: str = action) -> float:
            extra = ["--to", str(root / "moved")] if action == "move" else []
            return ikmeta(["apply", action, str(report), "--yes", *extra], env)

        def bare(root: Path, report: Path, env: dict[str, str], action: str = action) -> float:
            # In its own process: send2trash fixes its trash folder from XDG_DATA_HOME at import.
            command = [sys.executable, "-c", BARE, str(ROOT), action, str(report), str(root / "moved")]
            return float(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout)

        mine = best_of(args.rounds, n, with_ikmeta)
        floor = best_of(args.rounds, n, bare)
        print(f"{action:8} {n / mine:>9,.0f} f/s {n / floor:>9,.0f} f/s {floor / mine:>13.2f}x")


if __name__ == "__main__":
    main()
