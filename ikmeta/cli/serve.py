"""``ikmeta serve``: ImageKit's API on this machine, from a folder, for ImageKit's own SDKs.

IKMETA_PRIVATE_KEY=private_dev_key ikmeta serve --library photos
# then, in Python: ImageKit(private_key="private_dev_key", base_url="http://127.0.0.1:8080")
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import NoReturn, TextIO

import click

from .options import CONTEXT, cache_options, check_cache_path, jobs_option
from .terminal import abort, note
from .types import ByteSize

KEY_VARIABLE = "IKMETA_PRIVATE_KEY"


@click.command(context_settings=CONTEXT)
@click.option(
    "--library",
    type=click.Path(exists=True, file_okay=False),
    default=".",
    show_default=True,
    metavar="DIR",
    help="The folder served: its images and videos are listed, uploads are written into it.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0: a free port."
)
@click.option(
    "--private-key-file",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help=f"A file holding the private key clients must send [default: ${KEY_VARIABLE}].",
)
@click.option("--no-auth", is_flag=True, help="Take requests without a key (only on a loopback address).")
@click.option(
    "--max-bytes",
    type=ByteSize(),
    default="50MB",
    show_default=True,
    help="The largest request body (an upload), and the largest download of a URL.",
)
@click.option(
    "--allow-private-urls",
    is_flag=True,
    help="Fetch URLs on loopback, private and link-local addresses too (refused by default).",
)
@click.option(
    "--url-endpoint",
    metavar="URL",
    help="Where the library's files are served from, for the 'url' of each file (none by default).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds a URL may take to download.",
)
@click.option("--access-log", is_flag=True, help="Log every request on stderr (only failures by default).")
@jobs_option
@cache_options
def serve(
    library: str,
    host: str,
    port: int,
    private_key_file: TextIO | None,
    no_auth: bool,
    max_bytes: int,
    allow_private_urls: bool,
    url_endpoint: str | None,
    timeout: float,
    access_log: bool,
    jobs: int,
    cache_path: str | None,
    no_cache: bool,
) -> None:
    """Answer ImageKit's API from a folder, for ImageKit's SDKs pointed at this server.

    \b
    GET  /v1/metadata?url=URL              the metadata object of an image at a URL
    POST /api/v1/files/upload              a file into the library
    GET  /v1/files?path=/&skip=0&limit=10  the library's files and folders
    GET  /v1/files/ID/details              a file's details
    GET  /v1/files/ID/metadata             a file's metadata object
    DELETE /v1/files/ID                    a file to the trash ('ikmeta undo' brings it back)

    Clients authenticate as the SDKs do, with the private key (from --private-key-file or
    $IKMETA_PRIVATE_KEY). Each failure is logged on stderr, one line each. Ctrl-C stops it.

    \b
    Examples:
      IKMETA_PRIVATE_KEY=private_dev_key ikmeta serve --library photos
      ikmeta serve --library photos --no-auth --port 9000       on 127.0.0.1 only
      ikmeta serve --library photos --host 0.0.0.0 --private-key-file key.txt
    """
    from ikmeta import serve as serving
    from ikmeta.serve.labels import default_labels_path
    from ikmeta.serve.server import address_of, bind, is_loopback, loopback_names, server_for

    key = _private_key(private_key_file, no_auth, host)
    cache = check_cache_path(cache_path, no_cache)
    if not serving.available():
        abort(f"ikmeta serve: needs the serve extra: {serving.INSTALL}")
    from ikmeta.api import open_cache
    from ikmeta.errors import IkmetaError

    _log_to_stderr(access_log)
    try:
        sock = bind(host, port)
    except IkmetaError as exc:
        abort(exc)
    with open_cache(cache, on_warning=lambda source, message: note(f"ikmeta: {source}: {message}")) as store:
        started = time.perf_counter()
        try:
            app = serving.create_app(
                library,
                key,
                cache=store,
                max_bytes=max_bytes,
                allow_private_urls=allow_private_urls,
                url_endpoint=url_endpoint,
                workers=max(2, jobs * 2),
                timeout=timeout,
                hosts=loopback_names(host),
                labels=default_labels_path(),
                index=False,  # (begun once the address is said)
                on_journal=lambda path: note(
                    f"ikmeta serve: uploads and files deleted or replaced (to the trash) are journaled in "
                    f"{path}; 'ikmeta undo {path}' undoes them"
                ),
            )
        except IkmetaError as exc:
            sock.close()
            abort(exc)
        if app.library.labels.problem:
            note(f"ikmeta serve: {app.library.labels.problem}")
        found = len(app.library.entries)
        auth = "no key (--no-auth)" if key is None else "private key required"
        seconds = time.perf_counter() - started
        note(
            f"ikmeta serve: {address_of(sock)} serving {app.library.root} "
            f"({found:,} file{'s' * (found != 1)} found in {seconds:.1f} s; {auth}; Ctrl-C stops it)"
        )
        if not is_loopback(host):
            note(f"ikmeta serve: listening on {host}, beyond this machine: keep the private key secret")
        serving.start_indexing(
            app.library,
            lambda count, seconds: note(
                f"ikmeta serve: indexed {count:,} new file{'s' * (count != 1)} in {seconds:.1f} s"
            ),
        )
        server = server_for(app)
        if access_log:
            server.config.access_log = True
        server.run(sockets=[sock])
        app.library.close()


def _private_key(key_file: TextIO | None, no_auth: bool, host: str) -> str | None:
    """The key clients must send, or None with --no-auth (refused off a loopback address)."""
    from ikmeta.serve.server import is_loopback

    if no_auth:
        if key_file is not None:
            _usage("choose one of --no-auth and --private-key-file", "'--no-auth'")
        if not is_loopback(host):
            _usage(f"only on a loopback address (127.0.0.1, ::1, localhost), not {host}", "'--no-auth'")
        return None
    if key_file is not None:
        key = key_file.read().strip()
        if not key:
            _usage(f"{key_file.name} is empty", "'--private-key-file'")
        return str(key)
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if not key:
        _usage(
            f"a private key is needed: --private-key-file FILE or ${KEY_VARIABLE} (or --no-auth)",
            "'--private-key-file'",
        )
    return key


def _usage(message: str, hint: str) -> NoReturn:
    raise click.BadParameter(message, param_hint=hint)


def _log_to_stderr(access_log: bool) -> None:
    """The server's log lines on stderr, each with its time: ikmeta's failures, uvicorn's own
    warnings, and with ``access_log`` every request."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    for name in ("ikmeta.serve", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.INFO if access_log and name == "uvicorn.access" else logging.WARNING)
