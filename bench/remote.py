#!/usr/bin/env python3
"""Benchmark `ikmeta phash` on 10,000 URLs from a server 20 ms away: pooled connections against
one connection per URL, in the same run.

    python3 bench/remote.py [--corpus ../shared/corpus] [--count 10000] [--latency 0.02]

The server (the standard library's, HTTP/1.1, on 127.0.0.1, in this process) serves small
copies of the corpus's JPEGs (320 pixels wide, as thumbnails on a CDN) under --count names,
and acts out a network --latency away: each new connection costs one round trip before it
serves (TCP's handshake; TLS would add one or two more), and each answer one more. Rows:

- **before** (ikmeta until issue 13): a new connection for every URL, as many downloads at
  once as --jobs (the CPU count). The server closes each connection after its answer, so
  the client cannot keep it, and --connections equals --jobs.
- **kept alive, as many at once as before**: the pool alone.
- **now**: the pool and the default --connections 16.

Prints images/s for each, and now / before against the issue's target of 3x. Each row is
one run of `ikmeta phash --from LIST` (start-up included).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/, whose inspect.py would shadow the standard library's


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else a kept-alive answer's body waits on a delayed ACK (40 ms)
    images: ClassVar[list[bytes]] = []
    latency = 0.02
    keep_alive = True
    connections = 0

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        Handler.connections += 1
        time.sleep(self.latency)  # the handshake's round trip

    def do_GET(self) -> None:
        time.sleep(self.latency)  # the request's round trip
        number = int("".join(c for c in self.path if c.isdigit()) or 0)
        body = self.images[number % len(self.images)]
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        if not self.keep_alive:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def run(listing: Path, connections: int, jobs: int) -> tuple[float, int]:
    """Seconds for `ikmeta phash --from LIST`, and the connections the server saw."""
    Handler.connections = 0
    command = [sys.executable, "-m", "ikmeta", "phash", "--from", str(listing)]
    command += ["--connections", str(connections), "-j", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench/remote.py: ikmeta failed: {proc.stderr[:500]}")
    return seconds, Handler.connections


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", default=os.environ.get("IKMETA_CORPUS", str(ROOT.parent / "shared" / "corpus"))
    )
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--latency", type=float, default=0.02, help="seconds of one round trip")
    args = ap.parse_args()
    from bench.storage import photos  # the corpus's JPEGs, made 320 pixels wide
    from ikmeta.parallel import default_jobs

    Handler.images = photos(Path(args.corpus), 320)
    Handler.latency = args.latency
    if not Handler.images:
        sys.exit(f"bench/remote.py: no JPEGs under {args.corpus}")
    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    jobs = default_jobs()
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "urls.txt"
        listing.write_text("".join(f"{base}/img/{k}.jpg\n" for k in range(args.count)))
        size = sum(len(Handler.images[k % len(Handler.images)]) for k in range(args.count))
        print(
            f"{args.count} URLs ({size / 1e6:.1f} MB, {len(Handler.images)} distinct JPEGs of 320 px), "
            f"round trip {args.latency * 1000:.0f} ms, {jobs} CPUs"
        )
        rows = [
            ("before: a connection per URL, --connections = -j", False, jobs),
            ("kept alive, as many at once as before", True, jobs),
            ("now: kept alive, --connections 16 (default)", True, 16),
        ]
        rates = []
        for label, keep_alive, connections in rows:
            Handler.keep_alive = keep_alive
            seconds, opened = run(listing, connections, jobs)
            rates.append(args.count / seconds)
            print(f"  {label:52s} {rates[-1]:7.1f} images/s  {seconds:6.1f} s  {opened:6d} connections")
        print(f"  kept alive / before:   {rates[1] / rates[0]:.2f}x (the pool alone)")
        print(f"  now / before:          {rates[2] / rates[0]:.2f}x (target: at least 3x)")
        bound = args.count * 2 * args.latency / jobs  # what the before row must wait, at the least
        print(
            f"  before's floor: {bound:.1f} s of round trips ({args.count} x 2 x {args.latency * 1000:.0f} ms / {jobs})"
        )
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
