#!/usr/bin/env python3
"""Video fingerprints: seconds of video fingerprinted per second of wall time, against the
floor of decoding the key frames alone (issue 25).

    python3 bench/video.py [--clips 30] [--seconds 60] [--size 1920x1080] [--jobs 2] [--folder DIR]

Films ``--clips`` clips of ``--seconds`` seconds at ``--size``, 30 fps, H.264 (libx264
``veryfast``, its default key frame interval of 250 frames, as a camera's export or a
messenger's re-encode has it) with AAC sound, through PyAV, into ``--folder`` (kept, so a
second run films nothing): a slow pan and zoom over a picture the bench draws, each clip its
own picture. Then, each run in a process of its own, in this order:

- the floor: every key frame of every clip decoded by PyAV (``skip_frame = NONKEY``, packets
  read in order), on ``--jobs`` processes, with nothing else done: no fingerprint can take less
  time than the decoding of the frames it hashes;
- ``ikmeta phash --jobs N FOLDER`` (every clip read, its key frames decoded, made small and
  grey, hashed);
- the naive way, on one clip only: every frame decoded (``ffmpeg -i clip -f null -``'s work,
  with PyAV);
- blank ends (what ``dupes`` decodes of the longest copies where a group's lengths differ:
  :func:`ikmeta.video.blanks.blank_ends`) of every clip, on ``--jobs`` processes, against its
  floor: every frame from the key frame before each clip's last 2 seconds to its end decoded
  by PyAV, and its first frame, with nothing else done.

Targets: at least 50 seconds of video a second of wall time on 2 cores, and at most 1.5x the
floor's time.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/inspect.py would stand in for the standard library's inspect module, which PyAV imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

FLOOR = """
import sys
from concurrent.futures import ProcessPoolExecutor
import av

def key_frames(path):
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))

with ProcessPoolExecutor(int(sys.argv[1])) as pool:
    print(sum(pool.map(key_frames, sys.argv[2:])))
"""

BLANK_FLOOR = """
import sys
from concurrent.futures import ProcessPoolExecutor
import av

def ends(path):
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first = next(container.decode(stream))
        container.seek(int((container.duration / 1e6 - 2) / stream.time_base), stream=stream, backward=True)
        return 1 + sum(1 for _ in container.decode(stream))

with ProcessPoolExecutor(int(sys.argv[1])) as pool:
    print(sum(pool.map(ends, sys.argv[2:])))
"""

BLANK_ENDS = """
import sys
from concurrent.futures import ProcessPoolExecutor
from ikmeta.sources.read import read_source
from ikmeta.video.blanks import blank_ends

def ends(path):
    return sum(blank_ends(read_source(path)))

with ProcessPoolExecutor(int(sys.argv[1])) as pool:
    print(sum(pool.map(ends, sys.argv[2:])))
"""

EVERY_FRAME = """
import sys
import av

with av.open(sys.argv[1]) as container:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    print(sum(1 for _ in container.decode(stream)))
"""


def film(path: Path, seconds: int, size: tuple[int, int], seed: int) -> None:
    """A slow pan and zoom over a drawn picture, with a tone."""
    import av
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    width, height = size
    big = Image.new("RGB", (width * 3 // 2, height * 3 // 2), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(big)
    for _ in range(60):
        x, y = rng.integers(0, big.width), rng.integers(0, big.height)
        r = int(rng.integers(20, height // 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    picture = np.asarray(big)
    fps = 30
    frames = seconds * fps
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "23"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=44100)
        for i in range(frames):
            share = i / max(1, frames - 1)
            zoom = 1.0 + 0.3 * share
            w, h = int(width / zoom) // 2 * 2, int(height / zoom) // 2 * 2
            x = int((big.width - w) * share)
            y = int((big.height - h) * (0.5 + 0.4 * math.sin(share * math.pi)) / 1.4)
            crop = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(picture[y : y + h, x : x + w]), format="rgb24"
            )
            out.mux(video.encode(crop.reformat(width=width, height=height, format="yuv420p")))
        out.mux(video.encode())
        tone = (0.1 * np.sin(2 * np.pi * (300 + seed) * np.arange(seconds * 44100) / 44100)).astype(
            np.float32
        )
        for start in range(0, len(tone) - 1023, 1024):
            block = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="fltp", layout="mono")
            block.sample_rate, block.pts = 44100, start
            out.mux(sound.encode(block))
        out.mux(sound.encode())


def timed(args: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, out.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=30)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--folder", default=os.path.join("/tmp", "ikmeta-bench-video"))
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    folder = Path(args.folder) / f"{args.size}-{args.seconds}s"
    folder.mkdir(parents=True, exist_ok=True)
    clips = [folder / f"clip{k:03d}.mp4" for k in range(args.clips)]
    started = time.perf_counter()
    for k, clip in enumerate(clips):
        if not clip.exists():
            part = clip.with_suffix(".part")
            film(part, args.seconds, size, k)  # type: ignore[arg-type]
            part.rename(clip)
    print(
        f"{args.clips} clips of {args.seconds} s at {args.size}, H.264 ({time.perf_counter() - started:.0f} s to film"
        f" what was missing), {sum(c.stat().st_size for c in clips) / 1e6:,.0f} MB; --jobs {args.jobs}"
    )
    total = args.clips * args.seconds
    paths = [str(c) for c in clips]
    floor, frames = timed([sys.executable, "-c", FLOOR, str(args.jobs), *paths])
    ours, _ = timed([sys.executable, "-m", "ikmeta", "phash", "--jobs", str(args.jobs), str(folder)])
    every, all_frames = timed([sys.executable, "-c", EVERY_FRAME, paths[0]])
    naive = args.seconds / every
    print(
        f"  floor: key frames decoded alone ({int(frames):,}): {floor:6.2f} s, {total / floor:5.0f} s of video a second"
    )
    verdict = "met" if total / ours >= 50 else "not met"
    print(
        f"  ikmeta phash (fingerprints):  {ours:6.2f} s, {total / ours:5.0f} s of video a second (target 50: {verdict})"
    )
    verdict = "met" if ours / floor <= 1.5 else "not met"
    print(f"  ikmeta over the floor: {ours / floor:.2f}x (target 1.5: {verdict})")
    print(
        f"  the naive way, every frame of one clip ({int(all_frames):,}): {every:6.2f} s,"
        f" {naive:5.0f} s of video a second"
    )
    tails, tail_frames = timed([sys.executable, "-c", BLANK_FLOOR, str(args.jobs), *paths])
    blanks, blank_seconds = timed([sys.executable, "-c", BLANK_ENDS, str(args.jobs), *paths])
    print(
        f"  blank ends' floor: first frames and last GOPs decoded alone ({int(tail_frames):,} frames):"
        f" {tails:6.2f} s, {tails / args.clips:.2f} s a clip"
    )
    print(
        f"  ikmeta blank ends ({float(blank_seconds):.1f} s blank found): {blanks:6.2f} s,"
        f" {blanks / args.clips:.2f} s a clip, {blanks / tails:.2f}x the floor"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
