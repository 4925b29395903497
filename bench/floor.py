"""The decode floor the benches compare with: what ikmeta must decode for the pHashes,
decoded as ikmeta decodes it (JPEG at 1/8 scale to grey, PNG, WebP and HEIC at full size),
on all cores, with no start-up, EXIF, hashing, cache or output.

    python3 bench/floor.py FILE...     # prints the seconds it took
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # ikmeta, not bench/ (its inspect.py)

from ikmeta.errors import guarded  # noqa: E402
from ikmeta.image.decode import load_reduced, open_image  # noqa: E402
from ikmeta.parallel import default_jobs, ordered_map  # noqa: E402
from ikmeta.sources.read import read_source  # noqa: E402


def decode(path: str) -> None:
    blob = read_source(path)
    load_reduced(blob, open_image(blob))


def decode_all(files: list[str]) -> float:
    """Seconds to decode ``files`` (unreadable ones skipped) on all cores."""
    start = time.perf_counter()
    for _ in ordered_map(lambda path: guarded(decode, path), files, default_jobs()):
        pass
    return time.perf_counter() - start


if __name__ == "__main__":
    print(decode_all(sys.argv[1:]))
