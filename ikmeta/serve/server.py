"""The listening socket and uvicorn, for ``ikmeta serve``.

The socket is bound before uvicorn starts, so that an address in use is one line (and
``--port 0`` can say which port it was given); uvicorn then serves the app on it, with
httptools and uvloop when they are installed, its access log off (each failure is logged
by the app), idle connections closed after :data:`KEEP_ALIVE` seconds.

    >>> sock = bind("127.0.0.1", 0)
    >>> serve(app, sock)  # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from . import ServeError

KEEP_ALIVE = 5  # seconds an idle connection is kept open
MOST_CONNECTIONS = 2048  # then new connections are answered 503 at once


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


def server_for(app: Any) -> Any:
    """The uvicorn server that runs ``app`` (call ``.run(sockets=[sock])``; set
    ``.should_exit`` to stop it)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_config=None,  # the command line's handlers (ikmeta.cli.serve), not uvicorn's own
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE,
        limit_concurrency=MOST_CONNECTIONS,
        server_header=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


def serve(app: Any, sock: socket.socket) -> None:
    """Serve ``app`` on ``sock`` until interrupted."""
    server_for(app).run(sockets=[sock])
