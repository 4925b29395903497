"""http(s) sources against a real server on 127.0.0.1 that serves images the tests made."""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from click.testing import CliRunner

from ikmeta._version import __version__
from ikmeta.cli import cli
from ikmeta.errors import SourceError
from ikmeta.image.metadata import inspect_blob
from ikmeta.sources.base import FetchOptions
from ikmeta.sources.read import read_source

from .conftest import EXAMPLES, encode, run, scene

JPEG = (EXAMPLES / "harbour.jpg").read_bytes()
PNG = encode(scene((300, 200), seed=3), "PNG")
BIG = encode(scene((1600, 1200), seed=4), "BMP")  # ~5.8 MB
ZEROS = bytes(200_000)  # compressed, a few hundred bytes that grow past a --max-bytes of 100000
PACKED = {"zeros.gz": ("gzip", gzip.compress(ZEROS)), "zeros.deflate": ("deflate", zlib.compress(ZEROS))}
PROXY_VARS = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, str]]] = []  # (path, User-Agent) of each request
    requests: ClassVar[list[tuple[str, int, dict[str, str]]]] = []  # (path, client port, headers)
    methods: ClassVar[list[tuple[str, str]]] = []  # (method, path)
    validators: ClassVar[dict[str, dict[str, str]]] = {}  # path: ETag or Last-Modified to send
    bodies: ClassVar[dict[str, bytes]] = {}  # path: what a tagged path serves (else an image)
    answers: ClassVar[
        dict[str, list[tuple[int, dict[str, str]]]]
    ] = {}  # path: (status, headers) to give first

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def send(
        self,
        code: int,
        body: bytes = b"",
        ctype: str = "image/jpeg",
        length: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, target: str) -> None:
        self.send(302, b"", "text/plain", headers={"Location": target})

    def do_HEAD(self) -> None:
        Handler.methods.append(("HEAD", self.path))
        path = self.path.lstrip("/")
        if path.startswith("tagged"):
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            for key, value in Handler.validators.get(path, {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(Handler.bodies.get(path, JPEG))))
            self.end_headers()
        else:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_GET(self) -> None:
        Handler.methods.append(("GET", self.path))
        Handler.seen.append((self.path, self.headers.get("User-Agent", "")))
        Handler.requests.append((self.path, self.client_address[1], dict(self.headers.items())))
        path = (
            self.path.split("://", 1)[-1].split("/", 1)[-1] if "://" in self.path else self.path.lstrip("/")
        )
        planned = Handler.answers.get(path)
        if planned:  # a failure planned by a test, before the image
            status, headers = planned.pop(0)
            if status == 0:  # drop the connection without an answer
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send(status, b"busy", "text/plain", headers=headers)
        elif path.startswith(("img.jpg", "flaky")):
            self.send(200, JPEG)
        elif path.startswith("tagged"):  # with the validators Handler.validators gives it
            body = Handler.bodies.get(path, JPEG if "png" not in path else PNG)
            self.send(200, body, headers=Handler.validators.get(path, {}))
        elif path == "caf%C3%A9.jpg":
            self.send(200, JPEG)
        elif path == "to-utf8":  # a Location in raw UTF-8, as some servers send it
            self.send_response(302)
            self.send_header("Content-Length", "0")
            self._headers_buffer.append("Location: /café.jpg\r\n".encode())  # raw bytes
            self.end_headers()
        elif path == "503-endless":  # an error page that never ends
            self.send_response(503)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x" * 1024)
                time.sleep(0.05)
        elif path.startswith("away"):  # to the same server under another name (another origin)
            self.redirect(f"http://localhost:{self.server.server_address[1]}/img.jpg")
        elif path == "img.png":
            self.send(200, PNG, "image/png")
        elif path.startswith("hop"):  # hop3 -> hop2 -> hop1 -> hop0 -> img.jpg
            n = int(path[3:])
            self.redirect("/img.jpg" if n == 0 else f"/hop{n - 1}")
        elif path == "loop":
            self.redirect("/loop")
        elif path == "to-ftp":
            self.redirect("ftp://127.0.0.1/img.jpg")
        elif path in ("404", "500"):
            self.send(int(path), b"<h1>no</h1>", "text/html")
        elif path == "slow":
            time.sleep(2)
            self.send(200, JPEG)
        elif path == "big":
            self.send(200, BIG, "image/bmp")
        elif path == "big-chunked":  # no Content-Length: the cap must hold while streaming
            self.send_response(200)
            self.send_header("Content-Type", "image/bmp")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(BIG), 65536):
                part = BIG[start : start + 65536]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "short":
            self.send(200, JPEG[:1000], length=len(JPEG))
            self.close_connection = True
        elif path == "page.html":
            self.send(200, b"<!doctype html><title>not an image</title>", "text/html; charset=utf-8")
        elif path == "gzip.jpg":
            self.send(200, gzip.compress(JPEG), headers={"Content-Encoding": "gzip"})
        elif path == "empty":
            self.send(200, b"")
        elif path in PACKED:
            encoding, packed = PACKED[path]
            self.send(200, packed, "image/bmp", headers={"Content-Encoding": encoding})
        elif path.startswith("elsewhere"):  # to the server on the port the query names
            self.redirect(f"http://127.0.0.1:{path.partition('=')[2]}/img.jpg")
        elif path == "trickle":  # a byte every 0.2 s of a body that would take days
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(10**6))
            self.end_headers()
            self.trickle(b"x")
        elif path == "trickle-headers":  # the headers themselves, a byte every 0.2 s
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.trickle(b"X")
        else:
            self.send(404, b"", "text/plain")

    def trickle(self, byte: bytes) -> None:
        """Send ``byte`` every 0.2 s until the client hangs up (or 10 s have gone by)."""
        try:
            for _ in range(50):
                self.wfile.write(byte)
                time.sleep(0.2)
        except OSError:
            pass
        self.close_connection = True


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up early (a timeout, a size cap) is part of the tests


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def test_url_gives_the_same_object_as_the_file(server):
    remote = inspect_blob(read_source(f"{server}/img.jpg")).metadata
    local = inspect_blob(read_source(str(EXAMPLES / "harbour.jpg"))).metadata
    assert remote == {**local, "source": f"{server}/img.jpg"}
    assert remote["size"] == len(JPEG)


def test_user_agent(server):
    read_source(f"{server}/img.png")
    assert ("/img.png", f"ikmeta/{__version__}") in Handler.seen


def test_redirect_chain_is_followed(server):
    assert read_source(f"{server}/hop3").data == JPEG  # 4 redirects, within the 5 allowed


@pytest.mark.parametrize(
    ("path", "options", "reason"),
    [
        ("hop5", {}, "too many redirects (more than 5)"),
        ("loop", {}, "redirect loop (back to"),
        ("404", {}, "HTTP 404 Not Found"),
        ("500", {"retries": 0}, "HTTP 500 Internal Server Error"),
        ("500", {"retries": 2, "backoff": 0.01}, "HTTP 500 Internal Server Error (3 tries)"),
        ("slow", {"timeout": 0.5}, "timed out after 0.5 s"),
        ("big", {"max_bytes": 1_000_000}, "over the --max-bytes limit of 1000000"),
        ("big-chunked", {"max_bytes": 1_000_000}, "over the --max-bytes limit of 1000000"),
        ("short", {}, f"body shorter than its Content-Length (1000 of {len(JPEG)} bytes)"),
        ("to-ftp", {}, "redirected to a URL ikmeta does not fetch: ftp://127.0.0.1/img.jpg"),
        ("empty", {}, "the server sent an empty body"),
    ],
)
def test_http_failures(server, path, options, reason):
    url = f"{server}/{path}"
    with pytest.raises(SourceError) as info:
        read_source(url, fetch=FetchOptions(**options))
    assert info.value.source == url
    assert reason in info.value.reason


def test_html_is_not_an_image(server):
    result = run("inspect", f"{server}/page.html")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"ikmeta: {server}/page.html: not an image ikmeta can read (formats: jpg, png, "
        "gif, webp, tiff, bmp, heic, avif; the server sent text/html)"
    )


def test_gzip_body_is_decoded(server):
    blob = read_source(f"{server}/gzip.jpg")
    assert blob.data == JPEG
    assert inspect_blob(blob).metadata["size"] == len(JPEG)


def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SourceError, match=re.escape("connection refused by 127.0.0.1")):
        read_source(f"http://127.0.0.1:{port}/img.jpg", fetch=FetchOptions(backoff=0.01))


def test_unknown_host():
    with pytest.raises(SourceError, match=re.escape("cannot resolve host 'ikmeta-test.invalid'")):
        read_source("http://ikmeta-test.invalid/img.jpg", fetch=FetchOptions(timeout=5))


@pytest.mark.parametrize(
    "source",
    ["ftp://example.com/a.jpg", "file:///etc/passwd", "data:image/png;base64,xx", "sftp://host/key.jpg"],
)
def test_other_schemes_are_refused(source):
    with pytest.raises(SourceError, match="unsupported URL scheme"):
        read_source(source)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl not available to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_untrusted_certificate_is_a_tls_error(tls_server):
    with pytest.raises(
        SourceError, match=r"TLS error: certificate verify failed \(self.signed certificate\)"
    ):
        read_source(f"{tls_server}/img.jpg", fetch=FetchOptions(timeout=5))


def test_proxy_variables_are_honoured(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", server)  # our server answers absolute-URL requests as a proxy
    assert read_source("http://images.example/img.jpg").data == JPEG
    assert ("http://images.example/img.jpg", f"ikmeta/{__version__}") in Handler.seen
    monkeypatch.setenv("NO_PROXY", "images.example")
    with pytest.raises(SourceError, match=re.escape("cannot resolve host 'images.example'")):
        read_source("http://images.example/img.jpg", fetch=FetchOptions(timeout=5))


# --- through the command line -----------------------------------------------------------------


def test_cli_urls_in_order_with_errors_named(server):
    result = run(
        "inspect",
        "--ndjson",
        "-j",
        "4",
        f"{server}/img.png",
        f"{server}/404",
        f"{server}/img.jpg",
        f"{server}/hop2",
    )
    assert result.exit_code == 1
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == [
        f"{server}/img.png",
        f"{server}/img.jpg",
        f"{server}/hop2",
    ]
    assert result.stderr == f"ikmeta: {server}/404: HTTP 404 Not Found\n"


def test_cli_limits_are_options(server):
    result = run("phash", "--max-bytes", "1MB", "--timeout", "0.5", f"{server}/big", f"{server}/slow")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"ikmeta: {server}/big: body of {len(BIG)} bytes is over the --max-bytes limit of 1000000",
        f"ikmeta: {server}/slow: timed out after 0.5 s",
    ]
    help_text = run("inspect", "--help").stdout
    assert "--timeout" in help_text and "default: 30.0" in help_text and "100MB" in help_text


@pytest.mark.parametrize("value", ["0", "lots", "-5", "1.5XB"])
def test_bad_max_bytes_is_a_usage_error(value):
    result = run("inspect", "--max-bytes", value, "x.jpg")
    assert result.exit_code == 2 and "is not a size" in result.stderr


def test_distance_between_a_url_and_a_file(server):
    assert run("distance", f"{server}/img.jpg", str(EXAMPLES / "harbour.jpg")).stdout == "0\n"
    result = run("distance", "ftp://x/a.jpg", "2d5ad3936d2e015b")
    assert result.exit_code == 2 and "unsupported URL scheme" in result.stderr


def test_from_list_with_urls_files_comments_and_blank_lines(server, tmp_path):
    listing = tmp_path / "sources.txt"
    listing.write_text(f"# images\n\n{server}/img.jpg\n  {EXAMPLES / 'badge.png'}  \n{server}/404\n-\n")
    result = run("phash", "--from", str(listing))
    assert result.exit_code == 1
    assert [line.split("  ", 1)[1] for line in result.stdout.splitlines()] == [
        f"{server}/img.jpg",
        str(EXAMPLES / "badge.png"),
    ]
    assert result.stderr.splitlines() == [
        f"ikmeta: {server}/404: HTTP 404 Not Found",
        f"ikmeta: {listing}:6: '-' cannot be named in a --from list",
    ]


def test_from_stdin(server):
    listing = f"{EXAMPLES / 'harbour.jpg'}\n{server}/img.png\n"
    result = CliRunner().invoke(cli, ["inspect", "--from", "-", "--ndjson"], input=listing)
    assert result.exit_code == 0
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == [
        str(EXAMPLES / "harbour.jpg"),
        f"{server}/img.png",
    ]
    one = CliRunner().invoke(cli, ["inspect", "--from", "-"], input=f"{EXAMPLES / 'harbour.jpg'}\n")
    assert isinstance(json.loads(one.stdout), list)  # --from always gives an array


def test_from_usage_errors(tmp_path):
    assert (
        "'-' cannot be a source when --from -"
        in CliRunner().invoke(cli, ["inspect", "--from", "-", "-"], input="").stderr
    )
    missing = run("phash", "--from", str(tmp_path / "nope.txt"))
    assert missing.exit_code == 2 and "nope.txt" in missing.stderr
    assert "Missing argument 'SOURCE...' (or --from FILE)" in run("phash").stderr


@pytest.mark.parametrize("value", ["inf", "nan", "1e300", "0", "-1"])
def test_bad_timeout_is_a_usage_error(value):
    result = run("phash", "--timeout", value, "x.jpg")
    assert result.exit_code == 2 and "--timeout" in result.stderr


def test_urls_are_sent_as_curl_sends_them():
    from ikmeta.sources.urls import request_for

    request = request_for("http://ann:s%40fe@bücher.example/fotos/straße.jpg?größe=1 2")
    assert request.url == "http://xn--bcher-kva.example/fotos/stra%C3%9Fe.jpg?gr%C3%B6%C3%9Fe=1%202"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"ann:s@fe").decode()
    assert request_for("http://example.com").url == "http://example.com/"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[zz]/a.jpg", "invalid URL"),
        ("http://:80/a.jpg", "no host"),
        ("http://example.com:99999/a.jpg", "invalid URL"),
    ],
)
def test_malformed_urls_are_one_line(url, reason):
    result = run("inspect", url)
    assert result.exit_code == 1 and reason in result.stderr and "unexpected" not in result.stderr


# --- URLs at volume: pooled connections, retries, headers, errors as records -----------------


def fetched(server: str, path: str, **options) -> bytes:
    return read_source(f"{server}/{path}", fetch=FetchOptions(**options)).data


def requests_to(path: str) -> list[tuple[str, int, dict[str, str]]]:
    return [r for r in Handler.requests if r[0].lstrip("/") == path]


def test_connections_are_kept_alive_and_reused(server):
    Handler.requests.clear()
    urls = [f"{server}/img.jpg?n={k}" for k in range(40)]
    result = run("phash", "--connections", "2", "-j", "2", *urls)
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 40
    ports = {port for _, port, _ in Handler.requests}
    assert len(Handler.requests) == 40 and len(ports) <= 2  # two connections carried forty requests


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The waits between tries, recorded instead of slept."""
    from ikmeta.sources import urls

    recorded: list[float] = []
    monkeypatch.setattr(urls, "_sleep", recorded.append)
    return recorded


def test_5xx_and_429_are_tried_again(server, waits):
    Handler.answers["flaky1"] = [(503, {}), (502, {})]
    assert fetched(server, "flaky1", backoff=0.01) == JPEG
    assert len(requests_to("flaky1")) == 3
    assert len(waits) == 2 and 0.01 <= waits[0] <= 0.02 <= waits[1] <= 0.03  # doubling, with jitter
    waits.clear()
    Handler.answers["flaky2"] = [(429, {"Retry-After": "1"})]
    assert fetched(server, "flaky2", backoff=0.01) == JPEG
    assert waits == [1.0]  # as Retry-After asked, not the 10 ms backoff


def test_retries_give_up_with_one_line(server):
    Handler.answers["flaky3"] = [(503, {})] * 5
    with pytest.raises(SourceError) as info:
        fetched(server, "flaky3", retries=2, backoff=0.01)
    assert info.value.reason == "HTTP 503 Service Unavailable (3 tries)"
    assert len(requests_to("flaky3")) == 3
    Handler.answers["flaky4"] = [(503, {})]
    with pytest.raises(SourceError, match=r"HTTP 503 Service Unavailable$"):
        fetched(server, "flaky4", retries=0)


def test_a_dropped_connection_is_tried_again(server):
    Handler.answers["flaky5"] = [(0, {})]
    assert fetched(server, "flaky5", backoff=0.01) == JPEG


def test_long_retry_after_is_capped_and_404_is_not_retried(server):
    from types import SimpleNamespace

    from ikmeta.sources.urls import RETRY_AFTER_MAX, wait_before_retry

    def waited(retry_after: str | None, attempt: int = 0) -> float:
        answer = SimpleNamespace(headers={"Retry-After": retry_after} if retry_after else {})
        return wait_before_retry(answer, attempt, FetchOptions(backoff=0.5))

    assert waited("3600") == RETRY_AFTER_MAX == 30 and waited("2") == 2.0 and waited("-5") >= 0.5
    assert 0.5 <= waited("soon") <= 1.0 and 2.0 <= waited(None, attempt=2) <= 2.5  # backoff with jitter
    assert waited("Mon, 01 Jan 2024 00:00:00 GMT") == 0.0  # a date gone by
    Handler.requests.clear()
    with pytest.raises(SourceError, match=r"HTTP 404 Not Found$"):
        fetched(server, "404", backoff=0.01)
    assert len(requests_to("404")) == 1


def test_a_read_timeout_is_not_retried(server):
    Handler.requests.clear()
    start = time.monotonic()
    with pytest.raises(SourceError, match=r"timed out after 0\.3 s$"):
        fetched(server, "slow", timeout=0.3, retries=3)
    assert time.monotonic() - start < 1.5 and len(requests_to("slow")) == 1


def test_refused_connections_are_tried_again_then_named():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SourceError) as info:
        read_source(f"http://127.0.0.1:{port}/img.jpg", fetch=FetchOptions(retries=2, backoff=0.01))
    assert info.value.reason == "connection refused by 127.0.0.1 (3 tries)"


def test_headers_are_sent_and_credentials_stay_with_their_host(server):
    Handler.requests.clear()
    result = run(
        "phash",
        "--header",
        "Authorization: Bearer s3cret",
        "--header",
        "X-Tenant: harbour",
        "--header",
        "user-agent: custom/1.0",
        "--header",
        f"Host: {server.removeprefix('http://')}",
        f"{server}/away",
    )
    assert result.exit_code == 0, result.stderr
    first, redirected = ({k.lower(): v for k, v in r[2].items()} for r in Handler.requests[-2:])
    assert first["authorization"] == "Bearer s3cret" and first["x-tenant"] == "harbour"
    assert first["user-agent"] == "custom/1.0"  # over ikmeta's own, whatever its case
    assert redirected["host"].startswith("localhost:")
    assert "authorization" not in redirected and redirected["x-tenant"] == "harbour"
    assert redirected["host"].startswith("localhost:")  # the user's Host stays with its host too


@pytest.mark.parametrize(
    "value", ["no colon", ": empty name", "Bad Name: x", "X-A: b\r\nX-B: c", "X-Name: €"]
)
def test_bad_headers_are_usage_errors(value):
    result = run("phash", "--header", value, "x.jpg")
    assert result.exit_code == 2 and "--header" in result.stderr


def test_errors_as_records(server, tmp_path):
    urls = [f"{server}/img.jpg", f"{server}/404", f"{server}/img.png"]
    result = run("phash", "--ndjson", "--errors", "records", *urls)
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == urls
    assert lines[1] == {"source": f"{server}/404", "error": "HTTP 404 Not Found"}
    assert result.stderr == f"ikmeta: {server}/404: HTTP 404 Not Found\n"
    document = json.loads(run("inspect", "--json", "--errors", "records", urls[1], "nope.jpg").stdout)
    assert document == [
        {"source": f"{server}/404", "error": "HTTP 404 Not Found"},
        {"source": "nope.jpg", "error": "no such file or folder"},
    ]
    refused = run("inspect", "--errors", "records", "--table", urls[0])
    assert refused.exit_code == 2 and "--errors records writes JSON objects" in refused.stderr


def test_python_api_takes_the_same_limits(server):
    import ikmeta

    Handler.requests.clear()
    assert ikmeta.phash(f"{server}/img.jpg", headers={"X-Tenant": "t1"}, retries=0) == ikmeta.phash(JPEG)
    assert Handler.requests[-1][2]["X-Tenant"] == "t1"
    with pytest.raises(TypeError, match="unexpected keyword argument 'timout'"):
        ikmeta.phash(f"{server}/img.jpg", timout=3)


def test_the_cache_asks_a_url_whether_it_changed(server, tmp_path):
    cache = str(tmp_path / "cache.sqlite3")
    Handler.validators.update(
        {
            "tagged-a.jpg": {"ETag": '"v1"'},
            "tagged-b.jpg": {"Last-Modified": "Mon, 30 Nov 2026 10:00:00 GMT"},
            "tagged-c.jpg": {},  # nothing identifies it: fetched every time
        }
    )
    urls = [f"{server}/tagged-{name}.jpg" for name in "abc"]
    Handler.methods.clear()
    first = run("dupes", "--json", "--cache", cache, *urls)
    assert first.exit_code == 0 and len(json.loads(first.stdout)[0]["files"]) == 3
    assert sorted(Handler.methods) == [("GET", f"/tagged-{n}.jpg") for n in "abc"]  # no HEAD the first time
    Handler.methods.clear()
    second = run("dupes", "--json", "--cache", cache, *urls)
    assert second.stdout == first.stdout
    assert sorted(Handler.methods) == [
        ("GET", "/tagged-c.jpg"),
        ("HEAD", "/tagged-a.jpg"),
        ("HEAD", "/tagged-b.jpg"),
    ]
    Handler.validators["tagged-a.jpg"] = {"ETag": '"v2"'}  # changed on the server
    Handler.methods.clear()
    run("dupes", "--json", "--cache", cache, *urls)
    assert ("GET", "/tagged-a.jpg") in Handler.methods and ("GET", "/tagged-b.jpg") not in Handler.methods


def test_without_a_cache_no_url_is_asked_twice(server):
    Handler.methods.clear()
    run("dupes", "--json", "--no-cache", f"{server}/tagged-a.jpg", f"{server}/tagged-b.jpg")
    assert sorted(m for m, _ in Handler.methods) == ["GET", "GET"]


def test_an_endless_error_page_does_not_hold_a_retry(server):
    start = time.monotonic()
    with pytest.raises(SourceError, match=r"HTTP 503 Service Unavailable \(2 tries\)$"):
        fetched(server, "503-endless", retries=1, backoff=0.01, timeout=2)
    assert time.monotonic() - start < 5


def test_a_retry_after_that_is_not_one_is_ignored(server):
    Handler.answers["flaky6"] = [(503, {"Retry-After": "soon"}), (429, {"Retry-After": "-5"})]
    assert fetched(server, "flaky6", backoff=0.01) == JPEG


def test_a_redirect_in_raw_utf8_is_followed(server):
    assert fetched(server, "to-utf8") == JPEG
    assert any(r[0] == "/caf%C3%A9.jpg" for r in Handler.requests)


def test_proxy_credentials_and_a_proxy_without_scheme(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"user:s%40cret@{server.removeprefix('http://')}")
    Handler.requests.clear()
    assert read_source("http://images.example/img.jpg", fetch=FetchOptions(connections=3)).data == JPEG
    sent = {k.lower(): v for k, v in Handler.requests[-1][2].items()}
    assert sent["proxy-authorization"] == "Basic " + base64.b64encode(b"user:s@cret").decode()


def test_a_proxy_that_does_not_resolve_is_named_and_not_retried(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    start = time.monotonic()
    with pytest.raises(SourceError) as info:
        read_source(f"{server}/img.jpg", fetch=FetchOptions(connections=4, timeout=5))
    assert info.value.reason == "proxy error: cannot resolve host 'proxy.invalid'"
    assert time.monotonic() - start < 4


def test_a_forked_child_has_connections_of_its_own(server):
    import os

    from ikmeta.sources import urls as remote

    assert read_source(f"{server}/img.jpg").data == JPEG  # a connection kept alive in the pool
    pid = os.fork()
    if pid == 0:  # the child: no pool of the parent's, and its own answers
        fresh = not remote._POOLS.by_key
        os._exit(0 if fresh and read_source(f"{server}/img.png").data == PNG else 1)
    assert read_source(f"{server}/img.jpg").data == JPEG
    assert os.waitpid(pid, 0)[1] == 0


def test_downloads_wait_for_the_decoders(server):
    """Each download thread holds at most one body no decoder has taken."""
    from ikmeta.sources.read import read_ahead

    drawn = []

    def urls():
        for k in range(200):
            drawn.append(k)
            yield f"{server}/img.jpg?k={k}"

    ahead = read_ahead(urls(), FetchOptions(connections=3))
    assert next(ahead).data == JPEG
    time.sleep(0.5)
    assert len(drawn) <= 3 + 2
    ahead.close()


def test_a_body_rewritten_in_the_same_second_at_another_size_is_fetched_again(server, tmp_path):
    cache = str(tmp_path / "cache.sqlite3")
    Handler.validators["tagged-d.jpg"] = {"Last-Modified": "Mon, 30 Nov 2026 10:00:00 GMT"}
    Handler.bodies["tagged-d.jpg"] = JPEG
    urls = [f"{server}/tagged-d.jpg", f"{server}/img.png"]
    run("dupes", "--json", "--cache", cache, "--max", "64", *urls)
    Handler.bodies["tagged-d.jpg"] = PNG  # the same Last-Modified (cp -p, rsync -t)
    Handler.methods.clear()
    again = json.loads(run("dupes", "--json", "--cache", cache, "--max", "64", *urls).stdout)
    assert ("GET", "/tagged-d.jpg") in Handler.methods
    (group,) = again
    assert {f["source"]: f["size"] for f in group["files"]}[f"{server}/tagged-d.jpg"] == len(PNG)


# --- --timeout is a deadline for the whole download (issue 24) --------------------------------


@pytest.mark.parametrize("path", ["trickle", "trickle-headers"])
def test_timeout_cuts_a_server_that_trickles(server, path):
    start = time.monotonic()
    result = run("inspect", "--timeout", "1", f"{server}/{path}")
    assert result.exit_code == 1
    assert result.stderr == f"ikmeta: {server}/{path}: timed out after 1 s\n"
    assert time.monotonic() - start < 2  # not a byte's wait at a time, for ever


def test_a_retry_after_past_the_timeout_is_not_waited_for(server):
    Handler.answers["flaky7"] = [(503, {"Retry-After": "3600"})]
    start = time.monotonic()
    result = run("inspect", "--timeout", "2", f"{server}/flaky7")
    assert result.exit_code == 1
    assert result.stderr == (
        f"ikmeta: {server}/flaky7: HTTP 503 Service Unavailable; "
        "the server asks to retry after 3600 s, longer than --timeout 2 s\n"
    )
    assert time.monotonic() - start < 1 and len(requests_to("flaky7")) == 1  # not 30 s, nor an hour
    # within --timeout, but not within what is left of it after a first try and its wait
    # (of 0.2-0.4 s: it fits, and then 0.2 + 1 s never does)
    Handler.answers["flaky8"] = [(503, {}), (503, {"Retry-After": "1"})]
    with pytest.raises(SourceError) as info:
        fetched(server, "flaky8", timeout=1.1, backoff=0.2)
    assert info.value.reason == (
        "HTTP 503 Service Unavailable (2 tries); "
        "the server asks to retry after 1 s, past the end of --timeout 1.1 s"
    )


def test_the_backoff_never_sleeps_past_the_timeout(server):
    Handler.answers["flaky9"] = [(503, {})] * 6
    start = time.monotonic()
    with pytest.raises(SourceError) as info:  # waits of 0.4-0.8 s, then 0.8-1.2 s: no third try
        fetched(server, "flaky9", timeout=1.2, retries=5, backoff=0.4)
    assert info.value.reason == (
        "HTTP 503 Service Unavailable (2 tries); no time left to try again within --timeout 1.2 s"
    )
    assert time.monotonic() - start < 1.5 and len(requests_to("flaky9")) == 2
    with socket.socket() as sock:  # urllib3's own tries after a connection error: at once, then 1-1.5 s
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(SourceError) as info:
        read_source(f"http://127.0.0.1:{port}/a.jpg", fetch=FetchOptions(timeout=1, retries=5, backoff=0.5))
    assert info.value.reason == (
        "connection refused by 127.0.0.1 (2 tries); no time left to try again within --timeout 1 s"
    )
    assert time.monotonic() - start < 1.5


@pytest.mark.parametrize("path", list(PACKED))
def test_max_bytes_holds_for_the_decoded_body(server, path):
    assert len(PACKED[path][1]) < 1000
    with pytest.raises(SourceError) as info:
        fetched(server, path, max_bytes=100_000)
    assert info.value.reason == "body is over the --max-bytes limit of 100000 bytes"
    assert fetched(server, path, max_bytes=200_000) == ZEROS


def test_a_cookie_stays_with_its_host_across_redirects(server):
    credentials = ("--header", "Cookie: session=abc", "--header", "Authorization: Bearer s3cret")
    other = QuietServer(("127.0.0.1", 0), Handler)  # the same name, another port: another host
    threading.Thread(target=other.serve_forever, args=(0.05,), daemon=True).start()
    try:
        for path, hops in [
            ("hop1", ["/hop1", "/hop0", "/img.jpg"]),
            ("away", ["/away", "/img.jpg"]),
            (
                f"elsewhere?port={other.server_address[1]}",
                [f"/elsewhere?port={other.server_address[1]}", "/img.jpg"],
            ),
        ]:
            Handler.requests.clear()
            result = run("phash", *credentials, f"{server}/{path}")
            assert result.exit_code == 0, result.stderr
            assert [r[0] for r in Handler.requests] == hops
            sent = [{k.lower(): v for k, v in r[2].items()} for r in Handler.requests]
            hosts = {h["host"] for h in sent}
            for headers in sent:
                same_host = headers["host"] == server.removeprefix("http://")
                assert (headers.get("cookie"), headers.get("authorization")) == (
                    ("session=abc", "Bearer s3cret") if same_host else (None, None)
                ), (path, headers["host"])
            assert len(hosts) == (1 if path == "hop1" else 2)
    finally:
        other.shutdown()


def test_timeout_bounds_the_connects_of_every_try():
    listener = socket.socket()  # never accepts, its queue full: later connects hang
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    waiting = []
    for _ in range(4):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        waiting.append(sock)
    try:
        with socket.socket() as probe:
            probe.settimeout(0.3)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.skip("this system does not leave a connect to a full queue hanging")
        start = time.monotonic()
        with pytest.raises(SourceError) as info:
            read_source(f"http://127.0.0.1:{port}/a.jpg", fetch=FetchOptions(timeout=0.5, retries=3))
        assert info.value.reason == "timed out after 0.5 s"
        assert time.monotonic() - start < 1.5  # not half a second for each of 4 tries
    finally:
        for sock in [*waiting, listener]:
            sock.close()
