"""Downloading http(s) sources with limits, as :class:`~ikmeta.sources.base.Blob` values.

    >>> fetch_url("https://example.com/a.jpg", FetchOptions(timeout=10, max_bytes=5_000_000))

The client is urllib3's: connections are kept alive and reused per host (a pool of up to
``FetchOptions.connections`` a host, shared by every thread), TLS is verified with the
system's certificates, and failed attempts are retried with backoff and jitter: on
connection errors, 429 and 5xx answers (waiting as ``Retry-After`` asks, up to
:data:`RETRY_AFTER_MAX` seconds), at most ``FetchOptions.retries`` times. A read timeout
is not retried (it would only multiply the wait), nor a host that does not resolve.
``FetchOptions.timeout`` is a deadline for the whole of a URL: connecting, every read of
the answer and its body (a server that trickles a byte at a time is cut off), redirects,
and the tries and waits between them; a wait that would end past it is not begun.
This module adds what urllib3 leaves to its caller: the proxy variables (``HTTPS_PROXY``,
``HTTP_PROXY``, ``NO_PROXY``...) as curl and requests honour them, redirects (at most
``max_redirects``, only to http(s), never in a loop, credentials dropped for another host),
the size cap while streaming, gzip and deflate bodies, and one-line errors.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import http.client
import io
import math
import os
import random
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from types import TracebackType
from typing import Any, NamedTuple

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import Retry, Timeout

from ikmeta._version import __version__
from ikmeta.errors import SourceError

from .addresses import AddressRefused, public_address
from .base import Blob, FetchOptions, is_url

CHUNK = 1 << 16
# An unwanted body (an error page) up to DRAIN_LIMIT bytes is read to its end, if it comes
# within DRAIN_TIME seconds, so that its connection serves again; else the connection is closed.
DRAIN_LIMIT = 1 << 16
DRAIN_TIME = 1.0
REDIRECTS = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, *range(500, 600)})
RETRY_AFTER_MAX = 30  # seconds: a server asking for a longer wait is retried after this long
# Headers sent only to the host they were given for: credentials, and a Host of the user's.
CROSS_ORIGIN_DROPPED = ("authorization", "cookie", "proxy-authorization", "host")
_sleep = time.sleep  # every wait between tries (a test puts a recorder in its place)


# --- the deadline: --timeout bounds a URL's whole download ---------------------------------------
#
# urllib3's timeouts are per connect and per socket read, so a server sending a byte a second
# never trips them. Every download runs with a deadline instead: each try connects within the
# time left (_Until), each read of the socket (status line, headers, body, even the drain of an
# error page) waits at most the time left and none starts after it (_ClockedReader, through the
# pools' own connection classes), and no wait between tries ends past it (_Retry, _follow).

_CLOCK = threading.local()  # .deadline: the time.monotonic() this thread's download must end by


@contextlib.contextmanager
def _until(deadline: float) -> Iterator[None]:
    """Socket reads in this thread, while in the block, end by ``deadline``."""
    before = getattr(_CLOCK, "deadline", None)
    _CLOCK.deadline = deadline
    try:
        yield
    finally:
        _CLOCK.deadline = before


class _ClockedReader(io.RawIOBase):
    """A socket's reading side whose every read waits at most the time left before this
    thread's deadline, and fails (TimeoutError: a read timeout to urllib3) once it has passed."""

    def __init__(self, sock: Any) -> None:
        super().__init__()
        self.sock = sock
        self.raw = sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        deadline = getattr(_CLOCK, "deadline", None)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")
            self.sock.settimeout(left)
        return self.raw.readinto(buffer)  # type: ignore[no-any-return]

    def fileno(self) -> int:
        return self.raw.fileno()  # type: ignore[no-any-return]

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()


class _ClockedSocket:
    """What http.client's response is given as its socket: it only asks it for a reader."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        return io.BufferedReader(_ClockedReader(self.sock))


class _Response(http.client.HTTPResponse):
    """http.client's response, reading its socket through a :class:`_ClockedReader`."""

    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(_ClockedSocket(sock), *args, **kwargs)  # type: ignore[arg-type]


class _HTTPConnection(HTTPConnection):
    response_class = _Response


class _HTTPSConnection(HTTPSConnection):
    response_class = _Response


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOL_CLASSES = {"http": _HTTPPool, "https": _HTTPSPool}


class _PublicOnly:
    """A connection that connects only to a public address (:mod:`ikmeta.sources.addresses`):
    the host's addresses are checked, and the one checked is the one connected to (TLS still
    names and verifies the host)."""

    _dns_host: str
    host: str
    port: int

    def _new_conn(self) -> socket.socket:
        try:
            address = public_address(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        named, self._dns_host = self._dns_host, address
        try:
            return super()._new_conn()  # type: ignore[misc,no-any-return]
        finally:
            self._dns_host = named


class _PublicHTTPConnection(_PublicOnly, _HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, _HTTPSConnection):
    pass


class _PublicHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


_PUBLIC_POOL_CLASSES = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


class _Until(Timeout):
    """urllib3's Timeout, as the time left before a deadline: for every try's connect, and the
    first read (later reads are timed by _ClockedReader)."""

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline

    def clone(self) -> _Until:
        return _Until(self.deadline)

    @property
    def connect_timeout(self) -> float:
        return max(self.deadline - time.monotonic(), 0.001)  # 0 would make the socket non-blocking

    @property
    def read_timeout(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)  # 0: urllib3 fails it as a read timeout


class _OutOfTime(MaxRetryError):
    """A try failed and the wait before the next would end past the deadline: given up after
    ``retried`` retries."""

    def __init__(self, pool: Any, url: str, reason: Exception | None, retried: int) -> None:
        super().__init__(pool, url, reason)
        self.retried = retried


class Request(NamedTuple):
    """A URL as it goes on the wire, and the headers sent with it."""

    url: str
    headers: dict[str, str]


class _Retry(Retry):
    """urllib3's Retry, except that a read timeout and a name that does not resolve (the
    server's or the proxy's) fail at once, and so does a failure whose wait before the next
    try would end past ``deadline``."""

    deadline = math.inf  # time.monotonic()
    wait = 0.0  # seconds before the next try, as chosen when this Retry was made

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> Retry:
        cause = getattr(error, "original_error", None) if isinstance(error, ProxyError) else error
        if isinstance(cause, (ReadTimeoutError, NameResolutionError)) and error is not None:
            raise error.with_traceback(_stacktrace)
        after = super().increment(method, url, response, error, _pool, _stacktrace)
        after.deadline = self.deadline
        after.wait = after.get_backoff_time()
        if time.monotonic() + after.wait >= self.deadline:
            raise _OutOfTime(_pool, url or "", error, len(after.history) - 1) from error
        return after

    def sleep(self, response: Any = None) -> None:  # (only ever after a connection error)
        _sleep(self.wait)


def retry_policy(retries: int, options: FetchOptions, deadline: float = math.inf) -> Retry:
    """How often and how patiently a request is tried again after a connection error (urllib3
    does it), never waiting past ``deadline`` (a time.monotonic()); an answer of 429 or 5xx
    is tried again by :func:`_follow`, from the same budget."""
    policy = _Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=0,
        other=0,
        redirect=False,  # followed here, with ikmeta's own checks
        allowed_methods=frozenset({"GET", "HEAD"}),
        backoff_factor=options.backoff,
        backoff_jitter=options.backoff,
        backoff_max=max(options.backoff * 8, 1.0),
        raise_on_status=False,
        raise_on_redirect=False,
    )
    policy.deadline = deadline
    return policy


def retry_after(response: Any) -> float | None:
    """The seconds a response's ``Retry-After`` asks to wait (it holds seconds or an HTTP
    date; a date gone by is 0), else None (no Retry-After, or one that is neither)."""
    asked = response.headers.get("Retry-After")
    if not asked:
        return None
    text = asked.strip()
    if text.isdigit():
        return float(text)
    try:
        return max(email.utils.parsedate_to_datetime(text).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def wait_before_retry(response: Any, attempt: int, options: FetchOptions) -> float:
    """Seconds to wait before trying again after a 429 or 5xx: as ``Retry-After`` asks (seconds
    or an HTTP date; up to RETRY_AFTER_MAX; a value that is neither is ignored), else the
    backoff (``options.backoff`` doubling each time, with as much jitter)."""
    seconds = retry_after(response)
    if seconds is not None:
        return min(seconds, RETRY_AFTER_MAX)
    backoff = min(options.backoff * 2.0**attempt, max(options.backoff * 8, 1.0))
    return backoff + random.uniform(0, options.backoff)


class _Pools:
    """The process's connection pools, by proxy and size."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str | None, int, bool], urllib3.PoolManager] = {}
        self.lock = threading.Lock()

    def forget(self) -> None:
        """In a forked child: the parent's connections are not the child's to use (both would
        read answers off the same sockets), nor is a lock another thread of the parent held."""
        self.by_key = {}
        self.lock = threading.Lock()


_POOLS = _Pools()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOLS.forget)


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url``'s scheme (unless NO_PROXY exempts its
    host), as a URL (``http://`` added when it names none, as curl does), else None."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def pool_for(url: str, connections: int, public_only: bool = False) -> urllib3.PoolManager:
    """The pool of connections for ``url``: direct, or through its :func:`proxy_for` (with the
    proxy URL's user:password as Proxy-Authorization); one per process, proxy and
    ``public_only`` (direct connections only to public addresses), shared by every thread,
    keeping up to ``connections`` connections alive a host."""
    proxy = proxy_for(url)
    key = (proxy, connections, public_only)
    with _POOLS.lock:
        pool = _POOLS.by_key.get(key)
        if pool is None:
            pool = (
                _proxy_pool(proxy, connections)
                if proxy
                else urllib3.PoolManager(num_pools=64, maxsize=connections)
            )
            # whose reads keep to the deadline (and, public_only, connect only to public addresses)
            pool.pool_classes_by_scheme = _PUBLIC_POOL_CLASSES if public_only and not proxy else _POOL_CLASSES
            _POOLS.by_key[key] = pool
    return pool


def _proxy_pool(proxy: str, connections: int) -> urllib3.ProxyManager:
    parts = urllib.parse.urlsplit(proxy)
    headers = None
    if parts.username is not None:  # urllib3 leaves the proxy URL's user:password unsent
        user, password = urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
        headers = urllib3.make_headers(proxy_basic_auth=f"{user}:{password}")
        proxy = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return urllib3.ProxyManager(proxy, num_pools=64, maxsize=connections, proxy_headers=headers)


def request_for(url: str, extra: tuple[tuple[str, str], ...] = ()) -> Request:
    """The request for ``url`` as a browser or curl sends it: a user:password@ in the URL as
    Basic authorisation, a non-ASCII host in IDNA, non-ASCII path and query percent-encoded,
    and the ``extra`` headers (``--header``) over ikmeta's own. Raises SourceError for a URL
    with no host or a malformed one."""
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
    for name, value in extra:
        for same in [key for key in headers if key.lower() == name.lower()]:
            del headers[same]
        headers[name] = value
    return Request(urllib.parse.urlunsplit((parts.scheme, netloc, path, query, "")), headers)


def fetch_url(url: str, options: FetchOptions) -> Blob:
    """Download ``url`` within ``options``' limits (all of it, tries and waits included,
    within ``options.timeout``), as a :class:`Blob` whose ``version`` is what the server said
    identifies the body (its ETag, else its Last-Modified)."""
    deadline = time.monotonic() + options.timeout
    with _until(deadline):
        response, current = _follow("GET", url, options, deadline)
        try:
            try:
                data = _read_body(url, response, options.max_bytes)
            finally:
                response.release_conn()
        except SourceError:
            raise
        except (HTTPError, OSError, http.client.HTTPException, ValueError) as exc:
            raise SourceError(url, _network_error(exc, current, options)) from None
    if not data:
        raise SourceError(url, "the server sent an empty body")
    content_type = response.headers.get("Content-Type")
    media_type = content_type.split(";")[0].strip().lower() if content_type else None
    return Blob(url, data, media_type, version=validator(response.headers))


def probe_url(url: str, options: FetchOptions) -> str | None:
    """What identifies ``url``'s body now (ETag, else Last-Modified), asked with a HEAD request
    (redirects followed), or None when the server does not say or cannot be asked."""
    deadline = time.monotonic() + options.timeout
    try:
        with _until(deadline):
            response, _ = _follow("HEAD", url, options, deadline)
    except SourceError:
        return None
    response.release_conn()
    return validator(response.headers)


def validator(headers: Any) -> str | None:
    """A response's ETag (strong or weak), else its Last-Modified, else None; with its
    Content-Length, so that a body rewritten within the same second at another size misses
    (a HEAD and a GET, sent with the same headers, describe the same representation)."""
    etag, modified = headers.get("ETag"), headers.get("Last-Modified")
    if not etag and not modified:
        return None
    named = f"etag {etag.strip()}" if etag else f"modified {modified.strip()}"
    return f"{named} length {headers.get('Content-Length', '?').strip()}"


def _follow(method: str, url: str, options: FetchOptions, deadline: float) -> tuple[Any, str]:
    """The final response to ``method`` on ``url`` after redirects (its body unread), and the
    URL it came from; raises SourceError for an answer that is not a success. An answer of
    429 or 5xx is tried again, and a connection error (by urllib3), from one budget of
    ``options.retries``, unless the wait before the next try would end past ``deadline``
    (a time.monotonic())."""
    request = request_for(url, options.headers)
    current, headers = request.url, dict(request.headers)
    visited = {current}
    tries = 0  # answers of 429 or 5xx so far
    try:
        while True:
            if time.monotonic() >= deadline:
                raise SourceError(url, f"timed out after {options.timeout:g} s" + _tries(tries))
            response = _request(method, current, headers, options.retries - tries, options, deadline)
            if response.status in RETRY_STATUSES and tries < options.retries:
                wait = wait_before_retry(response, tries, options)
                _discard(response)
                if time.monotonic() + wait >= deadline:
                    raise SourceError(url, _status(response) + _tries(tries) + _no_time(response, options))
                tries += 1
                _sleep(wait)
                continue
            if response.status not in REDIRECTS:
                break
            target = _redirect_target(url, current, response, visited, options.max_redirects)
            if _origin(target) != _origin(current):  # credentials go only where they were given for
                headers = {k: v for k, v in headers.items() if k.lower() not in CROSS_ORIGIN_DROPPED}
            visited.add(target)
            current = target
    except AddressRefused as exc:  # named by the URL asked for (the reason names the host)
        via = "" if current == request.url else f" (redirected to {current})"
        raise AddressRefused(url, exc.reason + via) from None
    except SourceError:
        raise
    except (HTTPError, OSError, http.client.HTTPException, ValueError) as exc:
        raise SourceError(url, _network_error(exc, current, options, tries)) from None
    if not 200 <= response.status < 300:
        _discard(response)
        raise SourceError(url, _status(response) + _tries(tries))
    return response, current


def _request(
    method: str, url: str, headers: dict[str, str], retries: int, options: FetchOptions, deadline: float
) -> Any:
    """The response to ``method`` on ``url`` (tried again after a connection error up to
    ``retries`` times, while there is time), its body unread; by ``deadline``."""
    pool = pool_for(url, options.connections, options.public_only)
    if options.public_only and proxy_for(url):  # the proxy connects: the host is checked before
        parts = urllib.parse.urlsplit(url)
        try:
            public_address(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except socket.gaierror as exc:
            raise NameResolutionError(parts.hostname or "", None, exc) from exc  # type: ignore[arg-type]
    return pool.urlopen(
        method,
        url,
        headers=headers,
        redirect=False,
        retries=retry_policy(retries, options, deadline),
        timeout=_Until(deadline),
        preload_content=False,
        decode_content=False,
        enforce_content_length=False,  # a short body is named as such by _read_body
    )


def _discard(response: Any) -> None:
    """Give back the connection of a response whose body is not wanted (see DRAIN_LIMIT)."""
    declared = response.headers.get("Content-Length")
    drained = False
    if declared is not None and declared.isdigit() and int(declared) <= DRAIN_LIMIT:
        deadline = time.monotonic() + DRAIN_TIME
        try:
            while time.monotonic() < deadline:
                if not response.read(CHUNK, decode_content=False):
                    drained = True
                    break
        except (HTTPError, OSError, http.client.HTTPException):
            pass
    if not drained:
        response.close()
    response.release_conn()


def _redirect_target(source: str, current: str, response: Any, visited: set[str], limit: int) -> str:
    """Where a redirect leads, once it is one ikmeta follows; raises SourceError saying why not."""
    location = response.headers.get("Location")
    _discard(response)
    if not location:
        raise SourceError(source, f"{_status(response)} without a Location to go to")
    try:  # http.client hands header bytes over as Latin-1: a UTF-8 path comes back as itself
        location = location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    target: str = urllib.parse.urljoin(current, location.strip())
    if not is_url(target):
        raise SourceError(source, f"redirected to a URL ikmeta does not fetch: {target}")
    try:
        target = request_for(target).url  # as it goes on the wire: IDNA host, percent-encoded path
    except SourceError as error:
        raise SourceError(source, f"redirected to an invalid URL: {error.reason}") from None
    if target in visited:
        raise SourceError(source, f"redirect loop (back to {target})")
    if len(visited) > limit:
        raise SourceError(source, f"too many redirects (more than {limit})")
    return target


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _read_body(url: str, response: Any, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    declared_length = int(declared) if declared and declared.isdigit() else None
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if declared_length is not None and declared_length > max_bytes and encoding == "identity":
        response.close()  # not read: the connection cannot be used again
        raise SourceError(
            url, f"body of {declared_length} bytes is over the --max-bytes limit of {max_bytes}"
        )
    inflate = _decoder(url, encoding)
    chunks, size, received = [], 0, 0
    try:
        while True:
            try:
                chunk = response.read(CHUNK, decode_content=False)
            except ProtocolError:
                raise SourceError(
                    url, f"the connection closed before the body ended ({received} bytes received)"
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
    except SourceError:
        response.close()  # the rest of the body is still on the wire: the connection is not reused
        raise
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


def _status(response: Any) -> str:
    reason = response.reason or http.client.responses.get(response.status, "")
    return f"HTTP {response.status} {reason}".rstrip()


def _no_time(response: Any, options: FetchOptions) -> str:
    """Why a 429 or 5xx is not tried again although retries are left: the wait would end
    past the deadline."""
    limit = f"--timeout {options.timeout:g} s"
    asked = retry_after(response)
    if asked is None:
        return f"; no time left to try again within {limit}"
    past = f"longer than {limit}" if asked > options.timeout else f"past the end of {limit}"
    return f"; the server asks to retry after {round(asked, 1):g} s, {past}"


def _network_error(exc: BaseException, url: str, options: FetchOptions, tries: int = 0) -> str:
    """A failure to get an answer, as one phrase naming the host (after any redirect; the
    proxy's, for a failure to reach the proxy), with the tries it took."""
    host = urllib.parse.urlsplit(url).hostname or url
    made, cut = tries, ""
    if isinstance(exc, MaxRetryError):
        made = tries + exc.retried if isinstance(exc, _OutOfTime) else options.retries
        cause = exc.reason.original_error if isinstance(exc.reason, ProxyError) else exc.reason
        timed_out = isinstance(
            cause, (ConnectTimeoutError, ReadTimeoutError, TimeoutError)
        ) and not isinstance(cause, NewConnectionError)
        if isinstance(exc, _OutOfTime) and not timed_out:  # else the reason says it
            cut = f"; no time left to try again within --timeout {options.timeout:g} s"
        exc = exc.reason or exc
    if isinstance(exc, ProxyError):
        proxy = proxy_for(url)
        proxy_host = urllib.parse.urlsplit(proxy).hostname if proxy else None
        return f"proxy error: {_reason(exc.original_error, proxy_host or host, options)}" + _tries(made) + cut
    return _reason(exc, host, options) + _tries(made) + cut


def _tries(retried: int) -> str:
    return f" ({retried + 1} tries)" if retried else ""


def _reason(exc: BaseException, host: str, options: FetchOptions) -> str:
    if isinstance(exc, NameResolutionError):
        return f"cannot resolve host '{host}'"
    if isinstance(exc, NewConnectionError):  # (a subclass of ConnectTimeoutError, for history's sake)
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused by {host}"
        return _reason(cause, host, options) if isinstance(cause, OSError) else str(exc)
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError, TimeoutError, socket.timeout)):
        return f"timed out after {options.timeout:g} s"
    if isinstance(exc, SSLError):
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], ssl.SSLError) else exc.__cause__
        if isinstance(inner, ssl.SSLCertVerificationError):
            return f"TLS error: certificate verify failed ({inner.verify_message})"
        if isinstance(inner, ssl.SSLError):
            return f"TLS error: {inner.reason or inner}"
        return f"TLS error: {exc}"
    if isinstance(exc, ProtocolError):
        cause = exc.args[1] if len(exc.args) > 1 else None
        if isinstance(cause, ConnectionResetError):
            return "the server reset the connection"
        if isinstance(cause, http.client.RemoteDisconnected):
            return "the server closed the connection without answering"
        return f"bad HTTP response ({cause or exc})"
    if isinstance(exc, LocationParseError):
        return f"invalid URL ({exc})"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {host}"
    if isinstance(exc, ConnectionResetError):
        return "the server reset the connection"
    if isinstance(exc, http.client.HTTPException):
        return f"bad HTTP response ({type(exc).__name__}: {exc})"
    if isinstance(exc, ValueError):
        return f"invalid URL ({exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc)
