"""The listening socket and uvicorn, for ``ikmeta serve``.

The socket is bound before uvicorn starts, so that an address in use is one line (and
``--port 0`` can say which port it was given); uvicorn then serves the app on it, with
httptools (and uvloop where it is installed), its access log off (each failure is logged
by the app), idle connections closed after :data:`KEEP_ALIVE` seconds and connections
that do not send a request's headers within :data:`HEADERS_TIMEOUT` seconds.

    >>> sock = bind("127.0.0.1", 0)
    >>> server_for(app).run(sockets=[sock])  # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from . import ServeError

KEEP_ALIVE = 5  # seconds an idle connection is kept open
HEADERS_TIMEOUT = 10.0  # seconds a connection has to send a request's headers, once opened or answered


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``: only there may a server run
    without authorisation.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_names(host: str) -> frozenset[str] | None:
    """The names a server on ``host`` answers to, when it is a loopback address (its
    ``Host`` checked against them, against DNS rebinding); None (any) for another address.

    >>> sorted(loopback_names("127.0.0.1"))
    ['127.0.0.1', '[::1]', 'localhost']
    """
    if not is_loopback(host):
        return None
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return frozenset({"127.0.0.1", "localhost", "[::1]", shown.lower()})


def bind(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port`` (0: a free port); raises :class:`ServeError`."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"{host}:{port}", f"cannot listen there: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise ServeError(f"{host}:{port}", f"cannot listen there: {reason}") from None
    sock.set_inheritable(True)
    return sock


def address_of(sock: socket.socket) -> str:
    """The base URL the socket is reached at: ``http://127.0.0.1:8080``."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def protocol_class() -> type:
    """uvicorn's httptools protocol, with a deadline for each request's headers: uvicorn has
    none, so a client that opens connections and sends half a request line (slowloris)
    would hold them for ever. A connection that has not sent a whole request head within
    :data:`HEADERS_TIMEOUT` seconds of opening, or of its last answer, is closed."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class DeadlineProtocol(HttpToolsProtocol):
        deadline: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            idle = self.cycle is None or self.cycle.response_complete  # (no pipelined request begun)
            if idle and not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self.deadline = self.loop.call_later(HEADERS_TIMEOUT, self._too_slow)

        def _disarm(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

        def _too_slow(self) -> None:
            self.deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    return DeadlineProtocol


def server_for(app: Any) -> Any:
    """The uvicorn server that runs ``app`` (call ``.run(sockets=[sock])``; set
    ``.should_exit`` to stop it). No cap on connections (uvicorn's answers a plain-text 503
    beyond it): slow ones are cut by the headers' deadline, requests queue in the app (429)."""
    import uvicorn

    _more_files()
    config = uvicorn.Config(
        app,
        http=protocol_class(),
        log_config=None,  # the command line's handlers (ikmeta.cli.serve), not uvicorn's own
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE,
        server_header=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


def _more_files() -> None:
    """As many open files as the system allows this process (a connection is one)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(
                resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard)
            )
    except (ImportError, ValueError, OSError):
        pass
