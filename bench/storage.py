#!/usr/bin/env python3
"""Benchmark `ikmeta phash` over 2,000 objects in moto's S3 server against the same files on
disk, in the same run.

    python3 bench/storage.py [--corpus ../shared/corpus] [--count 2000] [--width 0]

The objects are copies of the corpus's JPEGs (as they are, or made --width pixels wide),
under one prefix of a bucket in moto's standalone server (ThreadedMotoServer, on 127.0.0.1,
in this process), and the same bytes in a temporary folder. Each row is one run of
`ikmeta phash` (start-up included): the folder, then `s3://bench/photos/` through s3fs with
`--storage-option endpoint_url=...`. Prints objects/s for each and the ratio: the cost of
listing and of a GET an object through s3fs and a server that shares this machine's two
cores (a real store is farther away, and does not take the client's CPU). The floor row
GETs the objects through s3fs on 16 threads and does nothing else: no client of this
server does better, so it bounds the S3 row.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)


def photos(corpus: Path, width: int) -> list[bytes]:
    """The corpus's JPEGs that decode, as they are (``width`` 0) or made ``width`` pixels wide
    (upright, quality 88); bench/remote.py serves them too."""
    from PIL import Image, ImageOps

    found = []
    for path in sorted(p for p in corpus.rglob("*.jpg") if "invalid" not in p.parts):
        data = path.read_bytes()
        try:
            with Image.open(io.BytesIO(data)) as opened:
                if width:
                    small = ImageOps.exif_transpose(opened).convert("RGB")
                    small.thumbnail((width, width))
                    out = io.BytesIO()
                    small.save(out, "JPEG", quality=88)
                    data = out.getvalue()
                else:
                    opened.load()
        except Exception:  # noqa: BLE001 - the corpus's broken files are not bench material
            continue
        found.append(data)
    return found


def timed(command: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench/storage.py: ikmeta failed: {proc.stderr[:500]}")
    return seconds, len(proc.stdout.splitlines())


FLOOR = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
import s3fs
fs = s3fs.S3FileSystem(endpoint_url=sys.argv[1])
names = [f"bench/photos/{k:05d}.jpg" for k in range(int(sys.argv[2]))]
start = time.perf_counter()
with ThreadPoolExecutor(16) as pool:
    list(pool.map(fs.cat_file, names))
print(time.perf_counter() - start)
"""


def server_floor(endpoint: str, count: int) -> float:
    """Seconds to GET every object through s3fs on 16 threads in a process of its own, and
    nothing else (no listing, decoding or hashing): what the loopback server allows."""
    proc = subprocess.run([sys.executable, "-c", FLOOR, endpoint, str(count)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench/storage.py: the floor failed: {proc.stderr[-500:]}")
    return float(proc.stdout.split()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", default=os.environ.get("IKMETA_CORPUS", str(ROOT.parent / "shared" / "corpus"))
    )
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--width", type=int, default=0, help="make the JPEGs this wide (0: as they are)")
    args = ap.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    import boto3
    from moto.server import ThreadedMotoServer

    images = photos(Path(args.corpus), args.width)
    if not images:
        sys.exit(f"bench/storage.py: no JPEGs under {args.corpus}")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket="bench")
    bodies = [images[k % len(images)] for k in range(args.count)]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(8) as pool:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for k, body in enumerate(bodies):
            (folder / f"{k:05d}.jpg").write_bytes(body)
        list(
            pool.map(
                lambda kb: s3.put_object(Bucket="bench", Key=f"photos/{kb[0]:05d}.jpg", Body=kb[1]),
                enumerate(bodies),
            )
        )
        size = sum(map(len, bodies))
        made = f", {args.width} px" if args.width else ""
        print(f"{args.count} JPEGs ({size / 1e6:.0f} MB, {len(images)} distinct{made}), moto at {endpoint}")
        ikmeta = [sys.executable, "-m", "ikmeta", "phash"]
        disk, disk_lines = timed([*ikmeta, str(folder)])
        bucket, bucket_lines = timed(
            [*ikmeta, "s3://bench/photos/", "--storage-option", f"endpoint_url={endpoint}"]
        )
        if disk_lines != args.count or bucket_lines != args.count:
            sys.exit(
                f"bench/storage.py: hashed {disk_lines} files and {bucket_lines} objects of {args.count}"
            )
        floor = server_floor(endpoint, args.count)
        extra = (bucket - disk) / args.count * 1000
        print(f"  files on disk             {args.count / disk:7.1f} images/s  {disk:6.1f} s")
        print(f"  objects in moto (S3)      {args.count / bucket:7.1f} images/s  {bucket:6.1f} s")
        print(f"  GETs alone (the floor)    {args.count / floor:7.1f} objects/s {floor:6.1f} s")
        print(f"  disk / S3: {bucket / disk:.2f}x the time ({extra:.1f} ms more an object)")
        print(f"  S3 / the floor: {bucket / floor:.2f}x (what any s3fs client of this server can reach)")
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
