"""What a request to ``ikmeta serve`` can fail with, each carrying the HTTP status ImageKit
answers it with; :mod:`ikmeta.serve.app` turns them into ImageKit's error body,
``{"message": ..., "help": ...}``.

    >>> error = NotFound("/v1/files/abc/details", "The requested file does not exist.")
    >>> error.status, error.reason
    (404, 'The requested file does not exist.')
"""

from __future__ import annotations

from ikmeta.errors import IkmetaError


class RequestError(IkmetaError):
    """A request ikmeta serve cannot answer as asked: 400 unless a subclass says otherwise.
    ``help`` says what to do about it."""

    status = 400

    def __init__(self, source: str, reason: str, help: str | None = None) -> None:
        super().__init__(source, reason)
        self.help = help


class Unauthorised(RequestError):
    """No private key, or not the server's."""

    status = 401


class Forbidden(RequestError):
    """A request the server refuses: a URL to a private address."""

    status = 403


class NotFound(RequestError):
    """No such file (or route)."""

    status = 404


class Conflict(RequestError):
    """A file already at the name an upload asked for, which it may not replace."""

    status = 409


class TooLarge(RequestError):
    """A body over ``--max-bytes``."""

    status = 413


class Busy(RequestError):
    """More requests waiting for the server's workers than it queues: try again shortly."""

    status = 429
