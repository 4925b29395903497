#!/usr/bin/env python3
"""Benchmark `ikmeta serve`: cached metadata GETs and 1 MB uploads, against the same stack's
floor and a naive server, in the same run.

    python3 bench/serve.py [--seconds 5] [--clients 32] [--uploads 300]

Each server runs in a process of its own (uvicorn, one process, with uvloop and httptools),
driven by this process's client: asyncio, one kept-alive HTTP/1.1 connection per client,
each sending its next request when its answer is read (as the SDKs do). Rows:

- **floor**: a bare ASGI app on the same uvicorn, answering the same JSON bytes without
  looking at the request: no server on this stack answers faster, on this machine, with
  this client sharing its 2 cores.
- **naive**: a Starlette app that runs `ikmeta.inspect` on the file for every request (on
  threads): what a server without ikmeta's index and memory would do.
- **ikmeta serve**: `GET /v1/files/{fileId}/metadata`, authorised, over 100 files already
  read (answered from memory).

Then uploads: `--uploads` distinct JPEGs of about 1 MB through `POST /api/v1/files/upload`
(multipart, as the SDKs send), 8 clients at once. Every answer is checked: 200, the bytes
expected for that file, as many answers as requests and nothing more on any connection; and
every upload is in the library once, byte for byte. Prints requests/s, p50 and p99 latency,
and the targets (issue 26: at least 1,000 cached GETs/s with 32 clients, p99 under 50 ms;
at least 50 uploads/s).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/, whose inspect.py would shadow the standard library's
KEY = "private_bench_key"
AUTH = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
FILES = 100

BASELINES = r"""
import sys, json, os
import ikmeta
import uvicorn
kind, library, port_file = sys.argv[1:4]
names = sorted(n for n in os.listdir(library) if n.endswith(".jpg"))
if kind == "floor":
    body = json.dumps(ikmeta.inspect(os.path.join(library, names[0]))).encode()
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
else:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    from starlette.routing import Route
    async def metadata(request):
        name = request.path_params["name"]
        meta = await run_in_threadpool(ikmeta.inspect, os.path.join(library, name))
        return Response(json.dumps(meta), media_type="application/json")
    app = Starlette(routes=[Route("/files/{name}", metadata)])
import socket
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(1024)
open(port_file, "w").write(str(sock.getsockname()[1]))
uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")).run(sockets=[sock])
"""


def photo(seed: int, size: tuple[int, int], quality: int = 90) -> bytes:
    """A JPEG of a photo-like picture (the example harbour, scaled, with grain)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = Image.open(ROOT / "examples" / "harbour.jpg").convert("RGB").resize(size)
    grain = rng.integers(-18, 18, (size[1], size[0], 3))
    pixels = np.clip(np.asarray(base).astype(np.int16) + grain, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality)
    return out.getvalue()


class Connection:
    """One kept-alive HTTP/1.1 connection: a request at a time, its answer read whole."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        import asyncio  # (after main() put the clone first on sys.path: see ROOT)

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def ask(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await self.reader.readexactly(length)

    async def nothing_more(self) -> bool:
        """No answer came that was not asked for."""
        import asyncio

        try:
            extra = await asyncio.wait_for(self.reader.read(1), 0.05)
        except asyncio.TimeoutError:
            return True
        return extra == b""

    def close(self) -> None:
        self.writer.close()


async def hammer(
    port: int, requests: list[bytes], expected: list[bytes], clients: int, seconds: float
) -> dict:
    """``clients`` connections sending ``requests`` in turn for ``seconds``; every answer
    checked against ``expected`` (same index). Returns the counts and latencies."""
    import asyncio

    connections = [await Connection.open(port) for _ in range(clients)]
    latencies: list[float] = []
    sent = answered = wrong = 0
    deadline = time.perf_counter() + seconds

    async def client(number: int, connection: Connection) -> None:
        nonlocal sent, answered, wrong
        turn = number
        while time.perf_counter() < deadline:
            index = turn % len(requests)
            turn += clients
            started = time.perf_counter()
            sent += 1
            status, body = await connection.ask(requests[index])
            latencies.append(time.perf_counter() - started)
            answered += 1
            wrong += status != 200 or body != expected[index]

    started = time.perf_counter()
    await asyncio.gather(*(client(n, c) for n, c in enumerate(connections)))
    elapsed = time.perf_counter() - started
    clean = all([await c.nothing_more() for c in connections])
    for connection in connections:
        connection.close()
    latencies.sort()
    return {
        "rate": answered / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
        "sent": sent,
        "answered": answered,
        "wrong": wrong,
        "clean": clean,
    }


def get(path: str, auth: bool = True) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + (f"Authorization: {AUTH}\r\n" if auth else "")
        + "\r\n"
    ).encode()


def upload_request(data: bytes, name: str) -> bytes:
    boundary = "----ikmetabench"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="fileName"\r\n\r\n{name}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="useUniqueFileName"\r\n\r\nfalse\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        "POST /api/v1/files/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {AUTH}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def upload_all(port: int, bodies: list[bytes], clients: int) -> tuple[float, list[dict], int]:
    """Send every upload, ``clients`` at once; (seconds, answers, failures)."""
    import asyncio

    queue = list(range(len(bodies)))
    answers: list[dict] = [{} for _ in bodies]
    failures = 0

    async def client() -> None:
        nonlocal failures
        connection = await Connection.open(port)
        while queue:
            index = queue.pop()
            status, body = await connection.ask(bodies[index])
            if status == 200:
                answers[index] = json.loads(body)
            else:
                failures += 1
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, answers, failures


def start(
    command: list[str], env: dict, ready: str | None = None, port_file: Path | None = None
) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    if port_file is not None:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        return process, int(port_file.read_text())
    first = process.stderr.readline()
    port = int(first.split()[2].rsplit(":", 1)[1])
    while ready and ready not in process.stderr.readline():
        pass
    return process, port


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


def row(name: str, result: dict) -> str:
    ok = result["wrong"] == 0 and result["sent"] == result["answered"] and result["clean"]
    cells = [
        name,
        f"{result['rate']:,.0f} req/s",
        f"{result['p50']:.1f} ms",
        f"{result['p99']:.1f} ms",
        f"{result['answered']:,}",
        "yes" if ok else "NO",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--uploads", type=int, default=300)
    args = parser.parse_args()
    import asyncio

    try:
        import uvloop

        uvloop.install()  # the client's loop too: it shares the 2 cores with the server
    except ImportError:
        pass
    import ikmeta
    from ikmeta.output import compact  # how the server writes JSON

    work = Path(tempfile.mkdtemp(prefix="ikmeta-bench-serve-"))
    library = work / "library"
    library.mkdir()
    for number in range(FILES):
        (library / f"p{number:03d}.jpg").write_bytes(photo(number, (640, 427), 85))
    env = {
        **os.environ,
        "IKMETA_PRIVATE_KEY": KEY,
        "XDG_STATE_HOME": str(work / "state"),
        "XDG_DATA_HOME": str(work / "data"),
    }
    print(
        f"{FILES} JPEGs of 640x427 in the library; {args.clients} clients for {args.seconds:g} s a row; "
        f"{os.cpu_count()} cores"
    )
    print()
    print("| server | rate | p50 | p99 | answers | all right |")
    print("| --- | --- | --- | --- | --- | --- |")
    names = sorted(p.name for p in library.iterdir())
    expected_floor = json.dumps(ikmeta.inspect(library / names[0])).encode()
    results = {}
    for kind in ("floor", "naive"):
        port_file = work / f"{kind}.port"
        process, port = start(
            [sys.executable, "-c", BASELINES, kind, str(library), str(port_file)], env, port_file=port_file
        )
        try:
            if kind == "floor":
                requests, expected = [get("/x", auth=False)], [expected_floor]
            else:
                requests = [get(f"/files/{name}", auth=False) for name in names]
                expected = [json.dumps(ikmeta.inspect(library / name)).encode() for name in names]
            seconds = args.seconds if kind == "floor" else min(args.seconds, 3.0)
            results[kind] = asyncio.run(hammer(port, requests, expected, args.clients, seconds))
            print(
                row(
                    f"{kind} ({'bare ASGI, same bytes' if kind == 'floor' else 'ikmeta.inspect each request'})",
                    results[kind],
                ),
                flush=True,
            )
        finally:
            stop(process)
    command = [
        sys.executable,
        "-m",
        "ikmeta",
        "serve",
        "--library",
        str(library),
        "--port",
        "0",
        "--no-cache",
    ]
    process, port = start(command, env, ready="indexed")
    try:
        listing = asyncio.run(_listing(port))
        ids = {item["name"]: item["fileId"] for item in listing}
        requests = [get(f"/v1/files/{ids[name]}/metadata") for name in names]
        expected = [
            compact({**ikmeta.inspect(library / name), "source": f"/{name}"}).encode() for name in names
        ]
        asyncio.run(hammer(port, requests, expected, args.clients, 0.5))  # warm: every object read
        results["ikmeta"] = asyncio.run(hammer(port, requests, expected, args.clients, args.seconds))
        print(row("ikmeta serve (GET /v1/files/{id}/metadata, cached)", results["ikmeta"]), flush=True)

        pictures = [photo(1000 + n, (1760, 1173), 95) for n in range(8)]
        uploads = [pictures[n % 8][:-2] + n.to_bytes(4, "big") + b"\xff\xd9" for n in range(args.uploads)]
        bodies = [upload_request(data, f"u{n:04d}.jpg") for n, data in enumerate(uploads)]
        seconds, answers, failures = asyncio.run(upload_all(port, bodies, 8))
    finally:
        stop(process)
    stored = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in library.glob("u*.jpg")}
    intact = (
        failures == 0
        and len(stored) == len(uploads)
        and all(
            stored.get(answer.get("name")) == hashlib.sha256(data).hexdigest()
            for answer, data in zip(answers, uploads, strict=True)
        )
    )
    mean = statistics.mean(len(u) for u in uploads) / 1e6
    print()
    print(
        f"uploads: {len(uploads)} JPEGs of {mean:.2f} MB (1760x1173), 8 clients: "
        f"{len(uploads) / seconds:.0f} uploads/s, "
        f"{len(uploads) * mean / seconds:.0f} MB/s; each stored once, byte for byte: {'yes' if intact else 'NO'}"
    )
    print()
    got = results["ikmeta"]
    print(
        f"cached GETs: {got['rate']:,.0f} req/s (target 1,000: {'met' if got['rate'] >= 1000 else 'NOT met'}), "
        f"p99 {got['p99']:.1f} ms (target < 50 ms: {'met' if got['p99'] < 50 else 'NOT met'}); "
        f"{got['rate'] / results['naive']['rate']:.0f}x the naive server, "
        f"{got['rate'] / results['floor']['rate']:.2f} of the floor"
    )
    rate = len(uploads) / seconds
    print(f"uploads: {rate:.0f}/s (target 50: {'met' if rate >= 50 else 'NOT met'})")
    shutil.rmtree(work, ignore_errors=True)


async def _listing(port: int) -> list[dict]:
    connection = await Connection.open(port)
    status, body = await connection.ask(get("/v1/files?type=file"))
    connection.close()
    assert status == 200, body
    return json.loads(body)


if __name__ == "__main__":
    main()
