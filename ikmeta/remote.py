"""Downloading http(s) sources with limits, as :class:`~ikmeta.source.Blob` values.

    >>> fetch_url("https://example.com/a.jpg", FetchOptions(timeout=10, max_bytes=5_000_000))

The client is the standard library's (urllib): it follows redirects, honours the proxy
variables (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``...) the way curl and requests do,
and verifies TLS with the system's certificates. This module adds the limits (time,
size while streaming, redirects), gzip and deflate bodies, and one-line errors.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
import zlib

from . import __version__
from .errors import SourceError
from .source import Blob, FetchOptions, is_url

CHUNK = 1 << 16


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows at most ``limit`` redirects, only to http(s) URLs, and never the same URL twice."""

    def __init__(self, source: str, limit: int) -> None:
        super().__init__()
        self.source = source
        self.limit = limit
        self.visited = {source}
        self.current = source  # the URL being fetched now

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        target = urllib.parse.urljoin(req.full_url, newurl)
        if not is_url(target):
            raise SourceError(self.source, f"redirected to a URL ikmeta does not fetch: {target}")
        if target in self.visited:
            raise SourceError(self.source, f"redirect loop (back to {target})")
        if len(self.visited) > self.limit:
            raise SourceError(self.source, f"too many redirects (more than {self.limit})")
        self.visited.add(target)
        self.current = target
        follow = super().redirect_request(req, fp, code, msg, headers, target)
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(target)
        if follow is not None and (new.scheme, new.netloc) != (old.scheme, old.netloc):
            follow.remove_header("Authorization")  # credentials go where they were given for, and as safely
        return follow


def request_for(url: str) -> urllib.request.Request:
    """The request for ``url`` as a browser or curl sends it: a user:password@ in the URL as
    Basic authorisation, a non-ASCII host in IDNA, non-ASCII path and query percent-encoded.
    Raises SourceError for a URL with no host or a malformed one."""
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port  # ValueError for "[zz]" or a port out of range
    except ValueError as exc:
        raise SourceError(url, f"invalid URL ({exc})") from None
    if not host:
        raise SourceError(url, "invalid URL (no host)")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise SourceError(url, f"invalid host name {host!r}") from None
    if ":" in ascii_host:
        ascii_host = f"[{ascii_host}]"  # IPv6
    netloc = ascii_host if port is None else f"{ascii_host}:{port}"
    path = urllib.parse.quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")
    query = urllib.parse.quote(parts.query, safe="/%:@!$&'()*+,;=~?")
    headers = {
        "User-Agent": f"ikmeta/{__version__}",
        "Accept": "image/*,*/*;q=0.5",
        "Accept-Encoding": "gzip, deflate, identity;q=0.5",
    }
    if parts.username is not None:
        credentials = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
    return urllib.request.Request(
        urllib.parse.urlunsplit((parts.scheme, netloc, path, query, "")), headers=headers
    )


def fetch_url(url: str, options: FetchOptions) -> Blob:
    """Download ``url`` within ``options``' limits, as a :class:`Blob`."""
    request = request_for(url)
    redirects = _Redirects(request.full_url, options.max_redirects)
    opener = urllib.request.build_opener(redirects)
    try:
        with opener.open(request, timeout=options.timeout) as response:
            data = _read_body(url, response, options.max_bytes)
            content_type = (
                response.headers.get_content_type() if response.headers.get("Content-Type") else None
            )
    except SourceError:
        raise
    except urllib.error.HTTPError as exc:
        raise SourceError(url, _http_error(exc)) from None
    except urllib.error.URLError as exc:  # messages name the host that failed, after any redirect
        raise SourceError(url, _network_error(exc.reason, redirects.current, options)) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise SourceError(url, _network_error(exc, redirects.current, options)) from None
    if not data:
        raise SourceError(url, "the server sent an empty body")
    return Blob(url, data, content_type)


def _read_body(url: str, response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    declared_length = int(declared) if declared and declared.isdigit() else None
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if declared_length is not None and declared_length > max_bytes and encoding == "identity":
        raise SourceError(
            url, f"body of {declared_length} bytes is over the --max-bytes limit of {max_bytes}"
        )
    inflate = _decoder(url, encoding)
    chunks, size, received = [], 0, 0
    while True:
        try:
            chunk = response.read(CHUNK)
        except http.client.IncompleteRead as exc:
            raise SourceError(
                url,
                f"the connection closed before the body ended ({received + len(exc.partial)} bytes received)",
            ) from None
        if not chunk:
            break
        received += len(chunk)
        if inflate is not None:
            chunk = _inflate(url, inflate, chunk, max_bytes - size)
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(url, f"body is over the --max-bytes limit of {max_bytes} bytes")
        chunks.append(chunk)
    if declared_length is not None and received < declared_length:
        raise SourceError(
            url, f"body shorter than its Content-Length ({received} of {declared_length} bytes)"
        )
    return b"".join(chunks)


def _decoder(url: str, encoding: str):  # type: ignore[no-untyped-def]
    if encoding in ("identity", ""):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise SourceError(url, f"unsupported Content-Encoding '{encoding}'")


def _inflate(url: str, inflate: zlib._Decompress, chunk: bytes, room: int) -> bytes:
    """Decompress ``chunk``, producing at most ``room + 1`` bytes (enough to see the cap passed)."""
    try:
        out = inflate.decompress(chunk, room + 1)
        while inflate.unconsumed_tail and len(out) <= room:
            out += inflate.decompress(inflate.unconsumed_tail, room + 1 - len(out))
    except zlib.error as exc:
        raise SourceError(url, f"corrupt compressed body ({exc})") from None
    return out


def _http_error(exc: urllib.error.HTTPError) -> str:
    if 300 <= exc.code < 400 and not exc.headers.get("Location"):
        return f"HTTP {exc.code} {exc.reason} without a Location to go to"
    reason = exc.reason or http.client.responses.get(exc.code, "")
    return f"HTTP {exc.code} {reason}".rstrip()


def _network_error(reason: object, url: str, options: FetchOptions) -> str:
    host = urllib.parse.urlsplit(url).hostname or url
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host '{host}'"
    if isinstance(reason, ConnectionRefusedError):
        return f"connection refused by {host}"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS error: certificate verify failed ({reason.verify_message})"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason.reason or reason}"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"timed out after {options.timeout:g} s"
    if isinstance(reason, ConnectionResetError):
        return "the server reset the connection"
    if isinstance(reason, http.client.HTTPException):
        return f"bad HTTP response ({type(reason).__name__}: {reason})"
    if isinstance(reason, ValueError):
        return f"invalid URL ({reason})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[:1].lower() + reason.strerror[1:]
    return str(reason)
