"""The ASGI application of ``ikmeta serve``: ImageKit's API, answered from a local library.

Routes (as ImageKit's SDKs call them, with a base URL pointing here):

- ``GET /v1/metadata?url=``: the metadata object of the image or video at a URL;
- ``POST /api/v1/files/upload``: a file into the library (multipart, as the SDKs send it);
- ``GET /v1/files/{fileId}/metadata``, ``GET`` and ``PATCH /v1/files/{fileId}/details``,
  ``GET /v1/files`` (``path``, ``skip``, ``limit``, ``type``, ``fileType``, ``sort``),
  ``DELETE /v1/files/{fileId}`` (to the trash, journaled).

Every request but ``/healthz`` needs Basic authorisation whose user is the private key (the
SDKs send ``private_key:``), unless the app was made without one. A failure is answered in
ImageKit's shape, ``{"message": ..., "help": ...}``, with ImageKit's status, and logged on
one line (logger ``ikmeta.serve``). Reads and decodes run on worker threads, at most
``Settings.workers`` at once (``Settings.fetches`` for downloads) with at most ``QUEUED``
more waiting, beyond which a request is answered 429: a metadata object already read is
answered from memory on the event loop, so a busy server keeps answering those.

    >>> app = make_app(Library.open("photos", HashCache.open(None)), Settings(private_key="secret"))
    >>> uvicorn.run(app, port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ikmeta.errors import IkmetaError, SourceError
from ikmeta.sources.addresses import AddressRefused
from ikmeta.sources.base import Blob, FetchOptions, is_url, is_video_name

from .errors import Busy, Forbidden, NotFound, RequestError, TooLarge, Unauthorised
from .imagekit import ON_REQUEST, file_object, folder_object, upload_response
from .library import Entry, Folder, Library, Upload

LOG = logging.getLogger("ikmeta.serve")
QUEUED = 256  # requests waiting for a worker thread, beyond which one is answered 429
IDLE_BODY = 30.0  # seconds a client may take to send the next part of a request's body
LIST_LIMIT = 1000  # the most files one listing gives (ImageKit's limit)
MOST_FIELD = 65_536  # characters of an upload's text field (tags, customMetadata...), but the file's
SORTS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "NAME": lambda item, summary: item.path.rpartition("/")[2].lower(),
    "CREATED": lambda item, summary: item.mtime_ns,
    "UPDATED": lambda item, summary: item.mtime_ns,
    "RELEVANCE": lambda item, summary: item.mtime_ns,
    "ORIGINAL_CREATION_DATE": lambda item, summary: item.mtime_ns,
    "SIZE": lambda item, summary: getattr(item, "size", 0),
    "HEIGHT": lambda item, summary: summary.get("height") or 0,
    "WIDTH": lambda item, summary: summary.get("width") or 0,
    "DURATION": lambda item, summary: summary.get("duration") or 0,
}
SUMMARY_SORTS = ("HEIGHT", "WIDTH", "DURATION")  # the sorts that need every file's metadata object
AUTH_HELP = (
    "Send the private key ikmeta serve was started with (--private-key-file or IKMETA_PRIVATE_KEY) "
    "as the SDK's private key: Basic authorisation, the key as the user name."
)
ORIGIN_HELP = (
    "ImageKit's private-key API is for servers; a web page uploads through your server, or "
    "with ImageKit's client-side authentication, which ikmeta serve does not offer."
)
JSON = "application/json"
NO_RETRY = {"x-should-retry": "false"}  # the SDKs would otherwise retry a 409 or 429 they cannot fix
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """How the app answers: the private key (None: no authorisation), the largest body it
    takes (``max_bytes``, also the largest download), whether clients' URLs may lead to
    private addresses, the URL files are served at (``url_endpoint``, for their ``url``), and
    how many worker threads read files and download at once."""

    private_key: str | None
    max_bytes: int = 50_000_000
    allow_private_urls: bool = False
    url_endpoint: str | None = None
    workers: int = 4
    fetches: int = 16
    timeout: float = 30.0
    hosts: frozenset[str] | None = None  # the Host names it answers to (None: any)

    @property
    def fetch(self) -> FetchOptions:
        return FetchOptions(
            timeout=self.timeout, max_bytes=self.max_bytes, public_only=not self.allow_private_urls, retries=1
        )


class Answer(JSONResponse):
    """A JSON answer that any file name can be in: a name's bytes that are not UTF-8 (kept by
    Python as lone surrogates) are written as ``\\udcXX`` escapes, as the command line writes
    them (:func:`ikmeta.output.compact`), where Starlette's own would fail."""

    def render(self, content: Any) -> bytes:
        from ikmeta.output import compact

        return compact(content).encode("utf-8")


class Workers:
    """At most ``size`` blocking calls at once on threads, at most :data:`QUEUED` more waiting
    (then :class:`Busy`)."""

    def __init__(self, size: int, name: str) -> None:
        self.limiter = anyio.CapacityLimiter(size)
        self.name = name
        self.waiting = 0

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        if self.waiting >= QUEUED:
            raise Busy(
                self.name, "Too many requests are waiting; try again in a second.", "Send fewer at once."
            )
        self.waiting += 1
        try:
            return await anyio.to_thread.run_sync(work, *args, limiter=self.limiter)
        finally:
            self.waiting -= 1


def make_app(library: Library, settings: Settings) -> ASGIApp:
    """The ASGI app serving ``library`` as ``settings`` say (see the module's docstring)."""
    work = Workers(settings.workers, "workers")
    fetches = Workers(settings.fetches, "downloads")

    async def metadata_of_url(request: Request) -> Response:
        url = request.query_params.get("url")
        if not url:
            raise RequestError(
                "url", "Missing url parameter.", "GET /v1/metadata?url=https://example.com/a.jpg"
            )
        if not is_url(url):
            raise RequestError("url", f"{url!r} is not an http(s) URL.", "Give the URL of an image or video.")
        blob = await fetches.run(_download, url, settings.fetch)
        metadata = await work.run(_inspect, blob, library.max_pixels)
        return Answer(metadata)

    async def file_metadata(request: Request) -> Response:
        fid = request.path_params["file_id"]
        text = library.cached_metadata(fid)
        if text is None:
            text = await work.run(library.metadata, fid)
        return Response(text, media_type=JSON)

    async def file_details(request: Request) -> Response:
        entry, summary = await work.run(library.summary, request.path_params["file_id"])
        return Answer(file_object(entry, summary, settings.url_endpoint))

    async def list_files(request: Request) -> Response:
        query = _ListQuery.of(request.query_params)
        items = await work.run(_listed, library, query)
        return Answer([_item_object(item, summary, settings.url_endpoint) for item, summary in items])

    async def update_details(request: Request) -> Response:
        changes = _details_changes(await request.body())
        entry = await work.run(library.update, request.path_params["file_id"], changes)
        entry, summary = await work.run(library.summary, entry.file_id)
        return Answer(file_object(entry, summary, settings.url_endpoint))

    async def delete_file(request: Request) -> Response:
        await work.run(library.delete, request.path_params["file_id"])
        return Response(status_code=204)

    async def upload(request: Request) -> Response:
        form = await _form(request, settings.max_bytes)
        try:
            fields = _upload_fields(form)
            data = await _file_bytes(form, fields, fetches, settings)
            upload = Upload(
                data,
                fields["fileName"],
                fields.get("folder") or "/",
                _flag(fields, "useUniqueFileName", True),
                _flag(fields, "overwriteFile", True),
                _tags(fields.get("tags")),
                _custom_metadata(fields.get("customMetadata")),
            )
            wanted = _list_field(fields.get("responseFields"))
            answer = await work.run(_store, library, upload, wanted, settings.url_endpoint)
        finally:
            await form.close()
        return Answer(answer)

    async def health(request: Request) -> Response:
        return Answer({"status": "ok"})  # (asked without a key: it says nothing of the library)

    routes = [
        Route("/v1/metadata", metadata_of_url, methods=["GET"]),
        Route("/api/v1/files/upload", upload, methods=["POST"]),
        Route("/v1/files", list_files, methods=["GET"]),
        Route("/v1/files/{file_id}/metadata", file_metadata, methods=["GET"]),
        Route("/v1/files/{file_id}/details", file_details, methods=["GET"]),
        Route("/v1/files/{file_id}/details", update_details, methods=["PATCH"]),
        Route("/v1/files/{file_id}", delete_file, methods=["DELETE"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            RequestError: _request_error,
            HTTPException: _http_error,
            ClientDisconnect: _disconnected,
            Exception: _unexpected,
        },
    )
    return Guard(app, settings)


class Guard:
    """The app's door: authorisation, the body's cap (``Content-Length`` checked before a byte
    is read, the bytes counted as they come) and its pace (:data:`IDLE_BODY`)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.key = None if settings.private_key is None else settings.private_key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._check_caller(scope)
            self._authorise(scope)
            self._check_length(scope)
        except RequestError as exc:
            await _send_error(scope, send, exc)
            return
        try:
            await self.app(scope, self._paced(receive), send)
        except Exception:  # noqa: BLE001 - answered 500 and logged in one line by _unexpected
            pass  # (Starlette raises it again after; a traceback in the log is not wanted)

    def _check_caller(self, scope: Scope) -> None:
        """Refuse what a web page's script sends (an ``Origin`` header: ImageKit's private-key
        API is for servers, and a page could otherwise write into the library of a server
        without a key), and a ``Host`` that is not the server's own name (DNS rebinding)."""
        if _header(scope, b"origin") is not None:
            raise Forbidden("Origin", "requests from web pages are refused", ORIGIN_HELP)
        hosts = self.settings.hosts
        if hosts is not None:
            host = (_header(scope, b"host") or b"").decode("latin-1").strip().lower()
            name = host.rpartition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]
            if name not in hosts:
                raise Forbidden(
                    "Host", f"{host!r} is not this server's name", f"Call it as {sorted(hosts)[0]}."
                )

    def _authorise(self, scope: Scope) -> None:
        if self.key is None or scope["path"] == "/healthz":
            return
        header = _header(scope, b"authorization")
        if header is None:
            raise Unauthorised("Authorization", "Your request does not contain private API key.", AUTH_HELP)
        scheme, _, value = header.partition(b" ")
        try:
            credentials = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            credentials = None
        if scheme.lower() != b"basic" or credentials is None or not _is_key(credentials, self.key):
            raise Unauthorised("Authorization", "Your account cannot be authenticated.", AUTH_HELP)

    def _check_length(self, scope: Scope) -> None:
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.settings.max_bytes:
            raise _too_large(self.settings.max_bytes)

    def _paced(self, receive: Receive) -> Receive:
        cap = self.settings.max_bytes
        seen = 0

        async def paced() -> Message:
            nonlocal seen
            with anyio.move_on_after(IDLE_BODY) as waited:
                message = await receive()
            if waited.cancelled_caught:
                raise RequestError(
                    "body", f"no data for {IDLE_BODY:g} s: the request was given up", "Send the body at once."
                )
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise _too_large(cap)
            return message

        return paced


def _is_key(credentials: bytes, key: bytes) -> bool:
    """Whether Basic credentials (``user:password``) name ``key`` as the user (the SDKs send
    ``key:``; a key may hold a colon itself), compared in constant time."""
    rest = credentials[len(key) :]
    same = hmac.compare_digest(credentials[: len(key)], key)
    return same and bool(key) and (rest == b"" or rest.startswith(b":"))


# --- the parts of requests ---------------------------------------------------------------------


async def _form(request: Request, max_bytes: int) -> FormData:
    """The request's multipart form; RequestError for a body that is not one (or cut short)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise RequestError("body", "an upload is a multipart/form-data body", "Upload with an ImageKit SDK.")
    form = await request.form(max_files=1, max_fields=64, max_part_size=max_bytes)
    return form


def _upload_fields(form: FormData) -> dict[str, str]:
    """The form's text fields (the last of each name), checked for ``fileName`` and for size
    (all but ``file`` at most :data:`MOST_FIELD` characters)."""
    fields = {name: value for name, value in form.multi_items() if isinstance(value, str)}
    for name, value in fields.items():
        if name != "file" and len(value) > MOST_FIELD:
            raise RequestError(name, f"{len(value):,} characters; at most {MOST_FIELD:,}", "Send less.")
    if not fields.get("fileName"):
        raise RequestError(
            "fileName", "Missing fileName parameter for upload", "Name the file, as photo.jpg."
        )
    if "file" not in form:
        raise RequestError(
            "file", "Missing file parameter for upload", "Send the file's bytes, a URL or base64."
        )
    return fields


async def _file_bytes(form: FormData, fields: dict[str, str], fetches: Workers, settings: Settings) -> bytes:
    """The uploaded file's bytes: the file part's, the URL's (downloaded as ``/v1/metadata``
    does), or the base64 text's (``data:`` URL or bare)."""
    value = form.get("file")
    if isinstance(value, UploadFile):
        return await value.read()
    text = str(value).strip()
    if is_url(text):
        blob = await fetches.run(_download, text, settings.fetch)
        return blob.data
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(
            "file", "neither a file, an http(s) URL nor base64", "Send the file's bytes."
        ) from None
    if not data:
        raise RequestError("file", "the file is empty", "Send the file's bytes.")
    return data


def _flag(fields: dict[str, str], name: str, default: bool) -> bool:
    value = fields.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise RequestError(name, f"{value!r} is not true or false", f"Send {name} as true or false.")


def _list_field(value: str | None) -> list[str]:
    """A list the SDKs send as comma-separated text (or a JSON array)."""
    if not value:
        return []
    if value.startswith("["):
        try:
            items = _client_json(value)
        except (ValueError, RecursionError):
            items = None
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            return [item.strip() for item in items if item.strip()]
    return [item.strip() for item in value.split(",") if item.strip()]


def _tags(value: str | None) -> list[str] | None:
    return _list_field(value) or None


def _no_constant(name: str) -> Any:
    """NaN and Infinity, which Python's JSON reader takes and no JSON answer can hold."""
    raise ValueError(f"{name} is not JSON")


def _client_json(text: str | bytes) -> Any:
    """A client's JSON, as an answer can hold it again: no NaN, no number too large for a
    float (1e400), no lone surrogate (which no UTF-8 answer can carry); else ValueError."""
    found = json.loads(text, parse_constant=_no_constant)
    json.dumps(found, ensure_ascii=False, allow_nan=False).encode("utf-8")  # (raises for those)
    return found


def _custom_metadata(value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    try:
        found = _client_json(value)
    except (ValueError, RecursionError):
        found = None
    if not isinstance(found, dict):
        raise RequestError("customMetadata", "not a JSON object", 'Send it as {"field": value}.')
    return found


def _details_changes(body: bytes) -> dict[str, Any]:
    """The changes of ``PATCH /v1/files/{fileId}/details``, checked: ``tags`` (a list of
    strings, or null), ``customMetadata`` (an object), ``description`` (a string, or null);
    ``removeAITags`` and ``webhookUrl`` mean nothing here; anything else is refused."""
    if len(body) > MOST_FIELD:
        raise RequestError("body", f"{len(body):,} bytes; at most {MOST_FIELD:,}", "Send less.")
    try:
        changes = _client_json(body or b"{}")
    except (ValueError, RecursionError):
        changes = None
    if not isinstance(changes, dict):
        raise RequestError("body", "not a JSON object", 'Send {"tags": [...], "customMetadata": {...}}.')
    tags = changes.get("tags")
    if (
        "tags" in changes
        and tags is not None
        and not (isinstance(tags, list) and all(isinstance(tag, str) for tag in tags))
    ):
        raise RequestError("tags", "not a list of strings, nor null", 'Send ["sea", "boats"].')
    if not isinstance(changes.get("customMetadata", {}), dict):
        raise RequestError("customMetadata", "not a JSON object", 'Send {"field": value}.')
    if not isinstance(changes.get("description", ""), (str, type(None))):
        raise RequestError("description", "not a string, nor null", None)
    unknown = sorted(set(changes) - {"tags", "customMetadata", "description", "removeAITags", "webhookUrl"})
    if unknown:
        raise RequestError(
            unknown[0],
            "ikmeta serve keeps tags, customMetadata and description only",
            "Leave the others out.",
        )
    return changes


@dataclass(frozen=True)
class _ListQuery:
    path: str
    kind: str
    file_type: str
    sort: str
    skip: int
    limit: int

    @classmethod
    def of(cls, params: Any) -> _ListQuery:
        if params.get("searchQuery"):
            raise RequestError(
                "searchQuery",
                "ikmeta serve does not search",
                "List a folder with path, type, fileType and sort.",
            )
        kind = params.get("type") or "all"
        file_type = params.get("fileType") or "all"
        sort = (params.get("sort") or "ASC_CREATED").upper()
        if kind not in ("file", "folder", "all"):
            raise RequestError(
                "type", f"{kind!r} is not file, folder or all", "ikmeta keeps one version a file."
            )
        if file_type not in ("all", "image", "non-image"):
            raise RequestError("fileType", f"{file_type!r} is not all, image or non-image", None)
        direction, _, field = sort.partition("_")
        if direction not in ("ASC", "DESC") or field not in SORTS:
            raise RequestError(
                "sort", f"{sort!r} is not a sort ImageKit knows", "As ASC_NAME or DESC_CREATED."
            )
        return cls(
            params.get("path") or "/",
            kind,
            file_type,
            sort,
            _count(params, "skip", 0, 10**9),
            _count(params, "limit", LIST_LIMIT, LIST_LIMIT, least=1),
        )


def _count(params: Any, name: str, default: int, most: int, least: int = 0) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or not least <= int(value) <= most:
        raise RequestError(name, f"{value!r} is not a whole number from {least} to {most}", None)
    return int(value)


# --- the work, on worker threads ---------------------------------------------------------------


def _download(url: str, fetch: FetchOptions) -> Blob:
    from ikmeta.sources.urls import fetch_url

    try:
        return fetch_url(url, fetch)
    except AddressRefused as exc:
        raise Forbidden(
            "url",
            exc.reason,
            "ikmeta serve fetches only public addresses unless started with --allow-private-urls.",
        ) from None
    except SourceError as exc:
        raise RequestError("url", f"{url}: {exc.reason}", "Give a URL this server can download.") from None


def _inspect(blob: Blob, max_pixels: int | None) -> dict[str, Any]:
    from ikmeta.media import inspect_media

    try:
        return inspect_media(blob, max_pixels).metadata
    except IkmetaError as exc:
        raise RequestError(
            "url", f"{blob.source}: {exc.reason}", "Give the URL of an image or video."
        ) from None


def _store(library: Library, upload: Upload, wanted: list[str], url_endpoint: str | None) -> dict[str, Any]:
    full = bool({"metadata", "embeddedMetadata"} & set(wanted))  # (read whole before it is written)
    entry, described = library.store(upload, full=full)
    metadata = described if full else None
    return upload_response(entry, described, url_endpoint, [f for f in wanted if f in ON_REQUEST], metadata)


def _listed(library: Library, query: _ListQuery) -> list[tuple[Entry | Folder, dict[str, Any]]]:
    """The page of the listing ``query`` asks for, each item with its summary. The files'
    metadata objects are read (where not yet) only for the page, unless the sort or the
    ``fileType`` filter needs them all."""
    direction, _, field = query.sort.partition("_")
    key = SORTS[field]
    by_summary = field in SUMMARY_SORTS or query.file_type != "all"
    items: list[tuple[Entry | Folder, dict[str, Any]]] = []
    for item in library.listing(query.path):
        wanted = (
            query.kind in ("folder", "all") if isinstance(item, Folder) else query.kind in ("file", "all")
        )
        if wanted:
            items.append((item, {}))
    if by_summary:
        items = [pair for pair in (_summarised(library, pair) for pair in items) if pair is not None]
        if query.file_type != "all":
            image = query.file_type == "image"
            items = [(i, sm) for i, sm in items if isinstance(i, Folder) or _is_image(sm, i) == image]
    items.sort(key=lambda pair: key(pair[0], pair[1]), reverse=direction == "DESC")
    page = items[query.skip : query.skip + query.limit]
    if by_summary:
        return page
    return [pair for pair in (_summarised(library, pair) for pair in page) if pair is not None]


def _summarised(
    library: Library, pair: tuple[Entry | Folder, dict[str, Any]]
) -> tuple[Entry | Folder, dict[str, Any]] | None:
    """A listed item with its summary (a folder has none); None for a file gone since."""
    item = pair[0]
    if isinstance(item, Folder):
        return pair
    try:
        return library.summary(item.file_id)
    except NotFound:
        return None


def _is_image(summary: dict[str, Any], entry: Entry) -> bool:
    if not summary:  # a file that cannot be read: by its name
        return not is_video_name(entry.name)
    return "duration" not in summary and "videoCodec" not in summary


def _item_object(item: Entry | Folder, summary: dict[str, Any], url_endpoint: str | None) -> dict[str, Any]:
    return folder_object(item) if isinstance(item, Folder) else file_object(item, summary, url_endpoint)


# --- errors ----------------------------------------------------------------------------------


def _too_large(cap: int) -> TooLarge:
    return TooLarge(
        "body",
        f"the request body is larger than {cap:,} bytes",
        "Send smaller files, or start ikmeta serve with a larger --max-bytes.",
    )


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _error_body(error: RequestError) -> dict[str, Any]:
    return {"message": error.reason, "help": error.help or "See ikmeta serve --help."}


def _log(scope: Scope, status: int, reason: str) -> None:
    """One line in the log for a failed request (control characters escaped: a client's URL
    or name never starts a line of its own)."""
    from ikmeta.output import one_line

    client = scope.get("client")
    peer = f"{client[0]}:{client[1]}" if client else "-"
    path = one_line(str(scope.get("path", "-")))
    LOG.warning("%s %s %s %d %s", peer, scope.get("method", "-"), path, status, one_line(reason))


async def _send_error(scope: Scope, send: Send, error: RequestError) -> None:
    _log(scope, error.status, error.reason)
    response = Answer(_error_body(error), status_code=error.status, headers=_error_headers(error))
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _error_headers(error: RequestError) -> dict[str, str]:
    headers = dict(NO_RETRY) if not isinstance(error, Busy) else {"retry-after": "1"}
    if isinstance(error, TooLarge):
        headers["connection"] = "close"  # the rest of the body is not read
    return headers


async def _request_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestError)
    _log(request.scope, exc.status, exc.reason)
    return Answer(_error_body(exc), status_code=exc.status, headers=_error_headers(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error: RequestError = NotFound(
            request.url.path,
            "Not found.",
            "ikmeta serve answers ImageKit's /v1/files, /v1/metadata and /api/v1/files/upload.",
        )
    elif exc.status_code == 405:
        error = RequestError(request.url.path, f"{request.method} is not allowed here.", None)
        error.status = 405
    else:
        error = RequestError("body", str(exc.detail), "Send a well-formed multipart body, as the SDKs do.")
    return await _request_error(request, error)


async def _disconnected(request: Request, exc: Exception) -> Response:
    _log(request.scope, 499, "the client went away before its request was whole")
    return Response(status_code=400)


async def _unexpected(request: Request, exc: Exception) -> Response:
    _log(request.scope, 500, f"unexpected error: {type(exc).__name__}: {exc}")
    body = {"message": "Internal error.", "help": "The server's log says what went wrong."}
    return Answer(body, status_code=500, headers=NO_RETRY)  # (an SDK would send it again)
