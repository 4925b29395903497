#!/usr/bin/env python3
"""Grouping videos by fingerprint at scale: ``ikmeta.video.matching.group_videos`` (each video
compared only with the group leaders it has a frame near) against the plain loop its text
describes (each video compared with every leader), on the same fingerprints, in this run.

    python3 bench/video_groups.py [--videos 1000 4000] [--copies 0.1] [--seed 1]

The fingerprints are made up (grouping never decodes): each video 1 to 12 key frames 5 s
apart, random pHashes; a share ``--copies`` of them are copies of another (its frames with two
bits flipped, the same length), so groups form. Both ways must give the same groups; the
bench says so, then prints seconds and the speed-up (``--no-loop`` above a count: the plain
loop's time grows with the square of the videos). The index still compares each video's
frames with every leader's frame, one numpy pass a video: the bound is videos x leaders'
frames (10,000 videos of about 6 frames: 10,000 x 240,000 frame pairs in every turn,
about 14 s on one core). A multi-index of the frames, as ``ikmeta/dupes/neighbors.py``
keeps for images, is the way under it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from ikmeta.video.fingerprint import Fingerprint, Frame  # noqa: E402
from ikmeta.video.matching import group_videos, same  # noqa: E402


def made_up(count: int, copies: float, rng: random.Random) -> list[Fingerprint]:
    """``count`` fingerprints, a share ``copies`` of them near copies of an earlier one."""

    def near(value: str) -> str:
        return f"{int(value, 16) ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)):016x}"

    def fresh() -> str:
        return f"{rng.getrandbits(64):016x}"

    prints: list[Fingerprint] = []
    for k in range(count):
        if prints and rng.random() < copies:
            like = rng.choice(prints)
            frames = [Frame(f.time, near(f.phash), tuple(near(t) for t in f.turned)) for f in like.frames]
            prints.append(Fingerprint(f"v{k}.mp4", frames, like.duration, 640, 360, "mp4"))
            continue
        length = rng.randint(1, 12)
        frames = [Frame(5.0 * t, fresh(), (fresh(), fresh(), fresh())) for t in range(length)]
        prints.append(Fingerprint(f"v{k}.mp4", frames, 5.0 * length, 640, 360, "mp4"))
    return prints


def plain_loop(prints: list[Fingerprint]) -> list[list[int]]:
    """The groups as group_videos' text describes them: each video against every leader."""
    order = sorted(range(len(prints)), key=lambda i: (-prints[i].duration, i))
    groups: list[list[int]] = []
    for i in order:
        for members in groups:
            if same(prints[members[0]], prints[i]):
                members.append(i)
                break
        else:
            groups.append([i])
    return sorted((sorted(g) for g in groups if len(g) > 1), key=lambda g: g[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--copies", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-loop", type=int, default=5000, help="no plain loop above this many videos")
    args = parser.parse_args()
    agreed = True
    for count in args.videos:
        prints = made_up(count, args.copies, random.Random(args.seed))
        start = time.perf_counter()
        indexed = group_videos(prints)
        fast = time.perf_counter() - start
        line = f"{count:6d} videos, {len(indexed):5d} groups: group_videos {fast:7.2f} s"
        if count <= args.no_loop:
            start = time.perf_counter()
            looped = plain_loop(prints)
            slow = time.perf_counter() - start
            agreed &= indexed == looped
            line += f", plain loop {slow:7.2f} s ({slow / max(fast, 1e-9):.0f}x), same groups: {indexed == looped}"
        print(line, flush=True)
    return 0 if agreed else 1


if __name__ == "__main__":
    sys.exit(main())
