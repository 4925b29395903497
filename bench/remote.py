#!/usr/bin/env python3
"""Benchmark `ikmeta inspect` on URLs: 200 images served from a local server, -j 1 against -j 8.

    python3 bench/remote.py [--corpus ../shared/corpus] [--count 200] [--rounds 3]

The server (the standard library's, on 127.0.0.1, in this process) serves copies of the
corpus's JPEGs. Each row runs `ikmeta inspect --ndjson --from LIST -j N` on the 200 URLs;
the second pair of rows adds 20 ms of server latency per response, as a CDN would, which
is where fetching concurrently pays. Prints images/s for each and the -j 8 / -j 1 ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/, whose inspect.py would shadow the standard library's


class Handler(SimpleHTTPRequestHandler):
    latency = 0.0

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.latency:
            time.sleep(self.latency)
        super().do_GET()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default listen backlog of 5 drops connections when -j 8 opens them at once


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    httpd = Server(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def timed(args: list[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"bench/remote.py: ikmeta failed: {proc.stderr[:500]}")
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", default=os.environ.get("IKMETA_CORPUS", str(ROOT.parent / "shared" / "corpus"))
    )
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    photos = sorted(p for p in Path(args.corpus).rglob("*.jpg") if "invalid" not in p.parts)
    if not photos:
        sys.exit(f"bench/remote.py: no JPEGs under {args.corpus}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.count):
            (folder / f"img_{i:04d}.jpg").write_bytes(photos[i % len(photos)].read_bytes())
        httpd, base = serve(folder)
        listing = folder / "urls.txt"
        listing.write_text("".join(f"{base}/img_{i:04d}.jpg\n" for i in range(args.count)))
        total = sum((folder / f"img_{i:04d}.jpg").stat().st_size for i in range(args.count))
        print(f"{args.count} images, {total / 1e6:.1f} MB, served from {base}")
        for latency in (0.0, 0.02):
            Handler.latency = latency
            rates = {}
            for jobs in (1, 8):
                command = [
                    sys.executable,
                    "-m",
                    "ikmeta",
                    "inspect",
                    "--ndjson",
                    "--from",
                    str(listing),
                    "-j",
                    str(jobs),
                ]
                seconds = timed(command, args.rounds)
                rates[jobs] = args.count / seconds
                print(
                    f"  latency {latency * 1000:3.0f} ms  -j {jobs}:  {rates[jobs]:7.1f} images/s  ({seconds:.2f} s)"
                )
            print(f"  latency {latency * 1000:3.0f} ms  -j 8 / -j 1: {rates[8] / rates[1]:.2f}x")
        httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
