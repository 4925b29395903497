"""``ikmeta serve``: ImageKit's Metadata and Media Library API on your own machine, for
ImageKit's own SDKs (pointed at it with their base URL), from a folder of images and videos.

The stages: :mod:`.paths` (where a file lives, made safe), :mod:`.library` (the folder's
files: found, indexed, stored, trashed), :mod:`.imagekit` (ImageKit's objects for them),
:mod:`.app` (the ASGI app: routes, authorisation, errors) and :mod:`.server` (the socket and
uvicorn). Needs the ``serve`` extra (``pip install 'ikmeta[serve]'``: uvicorn, Starlette,
python-multipart).

    >>> from ikmeta.serve import create_app
    >>> app = create_app("photos", private_key="private_key_of_mine")  # any ASGI server runs it
"""

from __future__ import annotations

import importlib.util
import threading
from typing import TYPE_CHECKING, Any

from ikmeta.errors import IkmetaError

if TYPE_CHECKING:
    from ikmeta.cache import HashCache

INSTALL = "pip install 'ikmeta[serve]'"


class ServeError(IkmetaError):
    """The server cannot start: its extra missing, an address that cannot be listened on."""


def available() -> bool:
    """Whether the ``serve`` extra is installed (looked up, not imported)."""
    return all(importlib.util.find_spec(name) is not None for name in ("uvicorn", "starlette", "multipart"))


def create_app(
    library: str,
    private_key: str | None,
    *,
    cache: HashCache | None = None,
    max_bytes: int = 50_000_000,
    allow_private_urls: bool = False,
    url_endpoint: str | None = None,
    workers: int = 4,
    timeout: float = 30.0,
    hosts: Any = None,
    labels: str | None = None,
    index: bool = True,
    on_indexed: Any = None,
    on_journal: Any = None,
) -> Any:
    """The ASGI app serving the folder ``library`` (see :mod:`ikmeta.serve.app`): its files are
    found now, and with ``index`` their metadata objects made on a thread in the background
    (``on_indexed(count, seconds)`` when done). ``timeout``: seconds a client's URL may take to
    download, within ``max_bytes``. ``private_key`` None: no authorisation (keep
    such a server on a loopback address). ``cache``: where metadata objects are kept between
    runs (default: none). ``hosts``: the names clients may call it by (its ``Host``; None:
    any), as a server on a loopback address should keep to against DNS rebinding.
    ``on_journal(path)``: told where deletions are journaled, at the first. ``labels``: the
    file that keeps tags, custom metadata and descriptions between runs (default: none, kept
    in memory; the command line's is :func:`ikmeta.serve.labels.default_labels_path`). Raises
    :class:`~ikmeta.errors.SourceError` for a library that is not a folder,
    :class:`ServeError` for an empty private key or without the ``serve`` extra.

        >>> app = create_app("photos", "private_key_of_mine", max_bytes=10_000_000)
    """
    if not available():
        raise ServeError("ikmeta serve", f"needs the serve extra: {INSTALL}")
    if private_key is not None and not private_key.strip():
        raise ServeError("private_key", "empty: give a key, or None for no authorisation")
    from ikmeta.cache import HashCache

    from .app import Settings, make_app
    from .labels import Labels
    from .library import Library

    kept = Labels.open(labels)
    opened = Library.open(library, cache or HashCache.open(None), labels=kept)
    opened.on_journal = on_journal
    opened.scan()
    if index:
        start_indexing(opened, on_indexed)
    settings = Settings(
        private_key,
        max_bytes,
        allow_private_urls,
        url_endpoint,
        workers,
        timeout=timeout,
        hosts=None if hosts is None else frozenset(host.lower() for host in hosts),
    )
    app = make_app(opened, settings)
    app.library = opened  # type: ignore[attr-defined]
    return app


def start_indexing(library: Any, on_indexed: Any = None) -> threading.Thread:
    """Make the metadata objects of ``library``'s files on a thread of their own
    (:meth:`ikmeta.serve.library.Library.index`), then call ``on_indexed(count, seconds)``."""
    import time

    def run_index() -> None:
        start = time.perf_counter()
        count = library.index()
        if on_indexed is not None:
            on_indexed(count, time.perf_counter() - start)

    thread = threading.Thread(target=run_index, name="ikmeta-index", daemon=True)
    thread.start()
    return thread
