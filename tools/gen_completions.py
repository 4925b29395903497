#!/usr/bin/env python3
"""Generate completions/ikmeta.{bash,zsh,fish} from Click's own shell-completion support.

    python3 tools/gen_completions.py            # rewrite completions/
    python3 tools/gen_completions.py --check    # exit 1 when a committed script is stale

Each script is what `_IKMETA_COMPLETE=<shell>_source ikmeta` prints; it asks ikmeta itself
for completions at run time, so it only changes when Click's script template does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELLS = ("bash", "zsh", "fish")


def script(shell: str) -> str:
    env = {**os.environ, "_IKMETA_COMPLETE": f"{shell}_source"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "ikmeta"], env=env, capture_output=True, text=True, check=True
    ).stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a committed script differs")
    args = ap.parse_args()
    stale = []
    for shell in SHELLS:
        path = ROOT / "completions" / f"ikmeta.{shell}"
        text = script(shell)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print("stale: " + ", ".join(stale) + " (run tools/gen_completions.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
