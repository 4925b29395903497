"""ikmeta serve driven by ImageKit's own Python SDK (imagekitio 5, pointed at it by base URL):
each call answers what ``ikmeta inspect`` says of the same bytes, and hostile requests get
ImageKit's statuses and leave the library as it was."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

import ikmeta

from .conftest import EXAMPLES, encode, need_module, run, scene, serving
from .test_remote import QuietServer

KEY = "private_test_key"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    (folder / "trips").mkdir(parents=True)
    shutil.copy(EXAMPLES / "harbour.jpg", folder / "harbour.jpg")
    shutil.copy(EXAMPLES / "clip.mp4", folder / "clip.mp4")
    shutil.copy(EXAMPLES / "badge.png", folder / "trips" / "badge.png")
    return folder


def client(app, key: str = KEY):
    imagekitio = need_module("imagekitio", "ImageKit's Python SDK (imagekitio, in the test extra)")
    return imagekitio.ImageKit(private_key=key, base_url=app.base_url, max_retries=0)


def errors():
    return need_module("imagekitio", "ImageKit's Python SDK (imagekitio, in the test extra)")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too) and its bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def without_source(metadata: dict) -> dict:
    return {key: value for key, value in metadata.items() if key != "source"}


def test_the_sdk_lists_reads_and_describes_the_library_as_inspect_does(library):
    with serving(library) as app:
        ik = client(app)
        listed = ik.assets.list()
        assert [(item.type, item.name) for item in listed] == [
            ("file", "clip.mp4"),
            ("file", "harbour.jpg"),
            ("folder", "trips"),
        ] or sorted((item.type, item.name) for item in listed) == [
            ("file", "clip.mp4"),
            ("file", "harbour.jpg"),
            ("folder", "trips"),
        ]
        files = {item.name: item for item in listed if item.type == "file"}
        for name, item in files.items():
            expected = ikmeta.inspect(library / name)
            got = ik.files.metadata.get(item.file_id).to_dict()
            assert without_source(got) == without_source(expected)
            assert got["source"] == f"/{name}"
            details = ik.files.get(item.file_id)
            assert (details.file_path, details.size, details.width, details.height) == (
                f"/{name}",
                expected["size"],
                expected["width"],
                expected["height"],
            )
            assert details.file_id == item.file_id and details.type == "file"
        assert files["harbour.jpg"].mime == "image/jpeg" and files["harbour.jpg"].file_type == "image"
        assert files["clip.mp4"].file_type == "non-image" and files["clip.mp4"].duration == 3
        nested = ik.assets.list(path="/trips/")
        assert [(item.name, item.file_path) for item in nested] == [("badge.png", "/trips/badge.png")]
        assert [item.name for item in ik.assets.list(type="folder")] == ["trips"]
        by_size = ik.assets.list(type="file", sort="DESC_SIZE", skip=0, limit=1)
        assert [item.name for item in by_size] == ["harbour.jpg"]
        assert [item.name for item in ik.assets.list(type="file", file_type="non-image")] == ["clip.mp4"]


def test_an_upload_is_stored_described_and_deleted_to_the_trash(library):
    data = (EXAMPLES / "harbour.jpg").read_bytes()  # (with EXIF)
    before = snapshot(library)
    with serving(library) as app:
        ik = client(app)
        uploaded = ik.files.upload(
            file=data,
            file_name="harbour copy.jpg",
            folder="/new/place",
            tags=["sea", "boats"],
            custom_metadata={"camera": "one"},
            response_fields=["metadata", "embeddedMetadata", "customMetadata"],
        )
        expected = ikmeta.inspect(data)
        assert uploaded.file_path.startswith("/new/place/harbour_copy_") and uploaded.name.endswith(".jpg")
        assert (uploaded.size, uploaded.width, uploaded.height) == (
            len(data),
            expected["width"],
            expected["height"],
        )
        assert uploaded.tags == ["sea", "boats"] and uploaded.custom_metadata == {"camera": "one"}
        assert without_source(uploaded.metadata.to_dict()) == without_source(expected)
        embedded = uploaded.embedded_metadata
        assert embedded["ISO"] == expected["exif"]["exif"]["ISO"] and embedded["FileSize"] == len(data)
        stored = library / uploaded.file_path.lstrip("/")
        assert stored.read_bytes() == data
        assert without_source(ik.files.metadata.get(uploaded.file_id).to_dict()) == without_source(expected)
        assert ik.files.get(uploaded.file_id).tags == ["sea", "boats"]

        ik.files.delete(uploaded.file_id)
        assert not stored.exists()
        assert ik.assets.list(path="/new/place") == []
        with pytest.raises(errors().NotFoundError):
            ik.files.get(uploaded.file_id)
        with pytest.raises(errors().NotFoundError):
            ik.files.delete(uploaded.file_id)
        journal = app.library.journal_path
    done = run("undo", journal)  # the deletion undone, then the upload (to the trash in its turn)
    assert done.exit_code == 0, done.stderr
    assert done.stderr.endswith("restored 1 file, 1 upload sent to the trash\n"), done.stderr
    assert snapshot(library) == before


def test_upload_names_overwrites_and_conflicts(library):
    jpeg = (EXAMPLES / "harbour_small.jpg").read_bytes()
    png = encode(scene((64, 48)), "PNG")
    original = (library / "harbour.jpg").read_bytes()
    (library / "album.jpg").mkdir()
    (library / "album.jpg" / "inside.png").write_bytes(png)
    (library / "link.jpg").symlink_to("harbour.jpg")
    before = snapshot(library)
    with serving(library) as app:
        ik = client(app)
        kept = ik.files.upload(file=jpeg, file_name="same.jpg", use_unique_file_name=False)
        assert kept.file_path == "/same.jpg"
        with pytest.raises(errors().ConflictError, match=r"already exists at /same\.jpg"):
            ik.files.upload(file=png, file_name="same.jpg", use_unique_file_name=False, overwrite_file=False)
        assert (library / "same.jpg").read_bytes() == jpeg
        replaced = ik.files.upload(file=png, file_name="same.jpg", use_unique_file_name=False)
        assert replaced.file_id == kept.file_id and (library / "same.jpg").read_bytes() == png
        assert ik.files.metadata.get(replaced.file_id).format == "png"
        trash = Path(os.environ["XDG_DATA_HOME"]) / "Trash" / "files"
        assert jpeg in [path.read_bytes() for path in trash.iterdir()]  # the replaced file, in the trash
        for name, kind in (("album.jpg", "a folder"), ("link.jpg", "a link")):
            with pytest.raises(
                errors().ConflictError, match=rf"/{name} is {kind}, which an upload never replaces"
            ):
                ik.files.upload(file=jpeg, file_name=name, use_unique_file_name=False)
        assert (library / "album.jpg" / "inside.png").read_bytes() == png and (
            library / "link.jpg"
        ).is_symlink()
        over = ik.files.upload(file=png, file_name="harbour.jpg", use_unique_file_name=False)
        assert over.file_path == "/harbour.jpg" and (library / "harbour.jpg").read_bytes() == png
        journal = app.library.journal_path
        # a name with no image extension gets its format's; a name of slashes stays in its folder
        bare = ik.files.upload(file=png, file_name="noext", use_unique_file_name=False)
        assert bare.file_path == "/noext.png"
        sneaky = ik.files.upload(file=png, file_name="../../evil.png", use_unique_file_name=False)
        assert sneaky.file_path == "/_._.._evil.png" and (library / "_._.._evil.png").is_file()
    done = run("undo", journal)  # every upload to the trash, every file replaced back
    assert done.exit_code == 0, done.stderr
    assert (library / "harbour.jpg").read_bytes() == original
    assert snapshot(library) == before


def test_uploads_keep_the_permissions_of_new_files_and_of_the_file_replaced(library):
    png = encode(scene((64, 48)), "PNG")
    (library / "shared.png").write_bytes(png)
    (library / "shared.png").chmod(0o664)
    with serving(library) as app:
        ik = client(app)
        fresh = ik.files.upload(file=png, file_name="fresh.png", use_unique_file_name=False)
        ik.files.upload(file=png, file_name="shared.png", use_unique_file_name=False)
    umask = os.umask(0o022)
    os.umask(umask)
    assert (library / fresh.file_path.lstrip("/")).stat().st_mode & 0o777 == 0o666 & ~umask
    assert (library / "shared.png").stat().st_mode & 0o777 == 0o664


def test_a_file_sent_as_base64_or_a_url(library):
    """ImageKit takes the file part as text too: base64 (bare or a data: URL) or a URL to fetch
    (the Python SDK sends bytes only; other clients send these)."""
    httpx = need_module("httpx", "httpx (with the SDK)")
    png = encode(scene((64, 48)), "PNG")
    with serving(library, allow_private_urls=True) as app:
        for number, text in enumerate(
            [base64.b64encode(png).decode(), "data:image/png;base64," + base64.b64encode(png).decode()]
        ):
            response = httpx.post(
                f"{app.base_url}/api/v1/files/upload",
                data={"file": text, "fileName": f"b{number}.png"},
                files={"unused": ("x", b"")},  # (a multipart body, as the SDKs send)
                auth=(KEY, ""),
            )
            assert response.status_code == 200, response.text
            assert (library / response.json()["filePath"].lstrip("/")).read_bytes() == png
        response = httpx.post(
            f"{app.base_url}/api/v1/files/upload",
            data={"file": "neither base64 nor a URL!", "fileName": "c.png"},
            files={"unused": ("x", b"")},
            auth=(KEY, ""),
        )
        assert response.status_code == 400 and "neither a file" in response.json()["message"]


def test_the_metadata_of_a_url(library):
    handler = _files_handler({"/a.jpg": (EXAMPLES / "harbour.jpg").read_bytes()})
    httpd = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/a.jpg"
    try:
        with serving(library, allow_private_urls=True) as app:
            got = client(app).files.metadata.get_from_url(url=url).to_dict()
        assert got == ikmeta.inspect(EXAMPLES / "harbour.jpg") | {"source": url}
        handler.seen.clear()
        with serving(library) as app:  # private addresses refused: nothing is fetched
            ik = client(app)
            for refused in (url, "http://169.254.169.254/latest/meta-data/", "http://localhost:9/x.jpg"):
                with pytest.raises(
                    errors().PermissionDeniedError, match=r"refused: .* is a (loopback|link-local)"
                ):
                    ik.files.metadata.get_from_url(url=refused)
            httpx = need_module("httpx", "httpx (with the SDK)")
            response = httpx.post(
                f"{app.base_url}/api/v1/files/upload",
                data={"file": url, "fileName": "fetched.jpg"},
                files={"unused": ("x", b"")},
                auth=(KEY, ""),
            )
            assert response.status_code == 403 and "loopback" in response.json()["message"]
            with pytest.raises(errors().BadRequestError, match="Missing url parameter"):
                ik.files.metadata.get_from_url(url="")
        assert handler.seen == []
    finally:
        httpd.shutdown()


def _files_handler(files: dict[str, bytes]) -> type:
    class Handler(BaseHTTPRequestHandler):
        seen: ClassVar[list[str]] = []

        def do_GET(self) -> None:
            Handler.seen.append(self.path)
            body = files.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.mark.parametrize(
    ("key", "message"), [("wrong_key", "cannot be authenticated"), (None, "does not contain")]
)
def test_a_wrong_key_or_none_is_401_and_reads_nothing(library, key, message):
    httpx = need_module("httpx", "httpx (with the SDK)")
    with serving(library) as app:
        if key is None:
            response = httpx.get(f"{app.base_url}/v1/files")
            assert response.status_code == 401 and message in response.json()["message"]
            assert "www-authenticate" not in response.headers  # (a browser would offer to remember a key)
        else:
            with pytest.raises(errors().AuthenticationError, match=message):
                client(app, key).assets.list()
        upload = httpx.post(
            f"{app.base_url}/api/v1/files/upload",
            files={"file": ("a.jpg", b"x")},
            data={"fileName": "a.jpg"},
            auth=(key or "", ""),
        )
        assert upload.status_code == 401 and set(upload.json()) == {"message", "help"}
    assert not (library / "a.jpg").exists()


def test_paths_never_leave_the_library(library, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (library / "door").symlink_to(outside)
    png = encode(scene((64, 48)), "PNG")
    before = snapshot(library)
    with serving(library) as app:
        ik = client(app)
        for folder in ("../x", "/trips/../../x", "/./x", "/.hidden"):
            with pytest.raises(errors().BadRequestError):
                ik.files.upload(file=png, file_name="a.png", folder=folder)
        with pytest.raises(errors().PermissionDeniedError, match="leads out of the library"):
            ik.files.upload(file=png, file_name="a.png", folder="/door")
        with pytest.raises(errors().BadRequestError, match="a path never leaves the library"):
            ik.assets.list(path="/../")
        assert ik.assets.list(path="/nothing/here") == []
        for fid in ("..%2F..%2Fetc%2Fpasswd", "nope"):
            with pytest.raises(errors().NotFoundError):
                ik.files.get(fid)
    assert snapshot(library) == before and list(outside.iterdir()) == []


def test_uploads_over_the_cap_and_cut_short_store_nothing(library):
    httpx = need_module("httpx", "httpx (with the SDK)")
    from PIL import Image

    big = encode(Image.frombytes("RGB", (200, 200), os.urandom(120_000)), "PNG")  # noise: no compression
    assert len(big) > 100_000
    before = snapshot(library)
    with serving(library, max_bytes=100_000) as app:
        ik = client(app)
        with pytest.raises(errors().APIStatusError) as raised:
            ik.files.upload(file=big, file_name="big.png")
        assert raised.value.status_code == 413 and "larger than 100,000 bytes" in raised.value.message

        def chunks():  # no Content-Length: counted as it comes
            boundary = b"--b0undary\r\n"
            yield boundary + b'Content-Disposition: form-data; name="fileName"\r\n\r\nbig.png\r\n'
            yield boundary + b'Content-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
            for start in range(0, len(big), 16_384):
                yield big[start : start + 16_384]
            yield b"\r\n--b0undary--\r\n"

        response = httpx.post(
            f"{app.base_url}/api/v1/files/upload",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
            auth=(KEY, ""),
        )
        assert response.status_code == 413
        small = (EXAMPLES / "harbour_small.jpg").read_bytes()
        whole = _multipart(small)
        for cut in (whole[: len(whole) // 2], whole[:-20]):  # the closing boundary missing
            assert _raw_post(app.base_url, cut, cut) == 400
        assert _raw_post(app.base_url, whole, whole[: len(whole) // 2]) in (400, None)  # the client left
        assert ik.assets.list(path="/") is not None  # the server still answers
    assert snapshot(library) == before


def _multipart(data: bytes) -> bytes:
    return (
        b'--B\r\nContent-Disposition: form-data; name="fileName"\r\n\r\ncut.jpg\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="cut.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n--B--\r\n"
    )


def _raw_post(base_url: str, whole: bytes, sent: bytes) -> int | None:
    """POST ``sent`` as an upload body of ``len(whole)`` bytes (less: the client leaves before
    its end; the same: a form cut short), then read the status if one comes."""
    host, port = base_url.removeprefix("http://").split(":")
    auth = base64.b64encode(f"{KEY}:".encode()).decode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = (
            f"POST /api/v1/files/upload HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}\r\n"
            f"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: {len(whole)}\r\n\r\n"
        )
        sock.sendall(head.encode() + sent)
        sock.shutdown(socket.SHUT_WR)
        answer = sock.recv(200)
    return int(answer.split()[1]) if answer.startswith(b"HTTP/1.1") else None


def test_slow_clients_never_stall_the_others(library):
    with serving(library) as app:
        ik = client(app)
        fid = next(item.file_id for item in ik.assets.list() if getattr(item, "name", "") == "harbour.jpg")
        host, port = app.base_url.removeprefix("http://").split(":")
        slow = []
        try:
            for number in range(200):
                sock = socket.create_connection((host, int(port)), timeout=10)
                if number % 2:  # headers begun, never finished
                    sock.sendall(b"GET /v1/files HTTP/1.1\r\nHost: x\r\n")
                else:  # a body promised, a few bytes sent
                    sock.sendall(
                        b"POST /api/v1/files/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
                        + base64.b64encode(f"{KEY}:".encode())
                        + b"\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n--B\r\n"
                    )
                slow.append(sock)
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda _: ik.files.metadata.get(fid).p_hash, range(64)))
            assert time.perf_counter() - started < 10
            assert set(answers) == {ikmeta.phash(library / "harbour.jpg")}
        finally:
            for sock in slow:
                sock.close()


def test_concurrent_uploads_are_each_stored_once(library):
    pictures = [encode(scene((96, 64), seed=seed), "PNG") for seed in range(24)]
    with serving(library) as app:
        ik = client(app)
        with ThreadPoolExecutor(8) as pool:
            uploaded = list(
                pool.map(
                    lambda pair: ik.files.upload(file=pair[1], file_name=f"p{pair[0]}.png"),
                    enumerate(pictures),
                )
            )
        assert len({item.file_id for item in uploaded}) == len(pictures)
        for item, data in zip(uploaded, pictures, strict=True):
            assert (library / item.file_path.lstrip("/")).read_bytes() == data
        assert len(list(ik.assets.list(type="file"))) == 2 + len(pictures)


def test_a_file_changed_behind_the_server_is_read_again(library):
    with serving(library) as app:
        ik = client(app)
        fid = next(item.file_id for item in ik.assets.list() if getattr(item, "name", "") == "harbour.jpg")
        first = ik.files.metadata.get(fid).p_hash
        (library / "harbour.jpg").write_bytes(encode(scene((200, 150), seed=9), "JPEG"))
        second = ik.files.metadata.get(fid)
        assert second.p_hash != first and second.width == 200
        assert ik.files.get(fid).width == 200
        (library / "harbour.jpg").unlink()
        with pytest.raises(errors().NotFoundError):
            ik.files.metadata.get(fid)
        time.sleep(0.01)  # (a folder's mtime to the nanosecond; some file systems keep less)
        shutil.copy(EXAMPLES / "harbour_small.jpg", library / "trips" / "added.jpg")
        (library / "trips" / "badge.png").unlink()
        listed = ik.assets.list(path="/trips")
        assert [item.name for item in listed] == ["added.jpg"]
        assert ik.files.metadata.get(listed[0].file_id).p_hash == ikmeta.phash(EXAMPLES / "harbour_small.jpg")


def test_a_damaged_file_is_listed_and_its_metadata_is_a_400(library):
    (library / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    with serving(library) as app:
        ik = client(app)
        broken = next(item for item in ik.assets.list() if getattr(item, "name", "") == "broken.jpg")
        assert broken.size == 15 and broken.width is None
        with pytest.raises(errors().BadRequestError, match=r"/broken\.jpg: "):
            ik.files.metadata.get(broken.file_id)
        with pytest.raises(errors().BadRequestError, match="not an image"):
            ik.files.upload(file=b"plain text, not a picture", file_name="notes.txt")
    assert not list(library.glob("notes*"))


def test_a_restart_reads_the_metadata_from_the_cache(library, tmp_path, monkeypatch):
    from ikmeta.cache import HashCache

    path = str(tmp_path / "cache.sqlite3")
    with serving(library, cache=HashCache.open(path)) as app:
        assert app.library.index() == 0  # all done at start
    calls = []
    import ikmeta.media

    real = ikmeta.media.inspect_media
    monkeypatch.setattr(ikmeta.media, "inspect_media", lambda *a, **k: calls.append(a) or real(*a, **k))
    counted = []
    with serving(
        library, cache=HashCache.open(path), on_indexed=lambda count, seconds: counted.append(count)
    ) as app:
        time.sleep(0.5)
        fid = next(
            item.file_id for item in client(app).assets.list() if getattr(item, "name", "") == "harbour.jpg"
        )
        assert json.loads(app.library.metadata(fid))["pHash"] == ikmeta.phash(library / "harbour.jpg")
    assert calls == [] and counted == [0]


def test_the_queue_is_bounded(monkeypatch):
    import anyio

    from ikmeta.serve import app as served
    from ikmeta.serve.errors import Busy

    monkeypatch.setattr(served, "QUEUED", 2)
    workers = served.Workers(1, "workers")
    release = threading.Event()
    outcomes = []

    async def main() -> None:
        async def one() -> None:
            try:
                outcomes.append(await workers.run(release.wait, 5))
            except Busy as exc:
                outcomes.append(exc.status)

        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(one)
                await anyio.sleep(0.05)
            release.set()

    anyio.run(main)
    assert sorted(map(str, outcomes)) == ["429", "True", "True"]


def test_web_pages_and_other_host_names_are_refused(library):
    """With no key on 127.0.0.1 a web page could post into the library (a form needs no
    permission to be sent) or read it through DNS rebinding: neither gets through."""
    httpx = need_module("httpx", "httpx (with the SDK)")
    png = encode(scene((64, 48)), "PNG")
    before = snapshot(library)
    with serving(library, private_key=None, hosts={"127.0.0.1", "localhost"}) as app:
        page = httpx.post(
            f"{app.base_url}/api/v1/files/upload",
            files={"file": ("harbour.jpg", png)},
            data={"fileName": "harbour.jpg", "useUniqueFileName": "false"},
            headers={"Origin": "https://evil.example"},
        )
        assert page.status_code == 403 and page.json()["message"] == "requests from web pages are refused"
        rebound = httpx.get(f"{app.base_url}/v1/files", headers={"Host": "evil.example:8080"})
        assert rebound.status_code == 403 and "is not this server's name" in rebound.json()["message"]
        own = httpx.get(f"{app.base_url}/v1/files", headers={"Host": "localhost:1234"})
        assert own.status_code == 200
    assert snapshot(library) == before


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("skip=%C2%B2", "is not a whole number"),
        ("limit=1001", "is not a whole number from 1 to 1000"),
        ("limit=0", "is not a whole number from 1 to 1000"),
        ("path=%00", "holds a NUL character"),
        ("sort=BY_MOOD", "is not a sort ImageKit knows"),
        ("type=file-version", "is not file, folder or all"),
        ("searchQuery=name%3Da", "does not search"),
    ],
)
def test_bad_list_parameters_are_400(library, query, reason):
    httpx = need_module("httpx", "httpx (with the SDK)")
    with serving(library, index=False) as app:
        response = httpx.get(f"{app.base_url}/v1/files?{query}", auth=(KEY, ""))
    assert response.status_code == 400 and reason in response.json()["message"]


def test_odd_uploads_are_refused_in_one_line_and_write_nothing(library, caplog):
    httpx = need_module("httpx", "httpx (with the SDK)")
    jpeg = (EXAMPLES / "harbour.jpg").read_bytes()
    start = jpeg.index(b"\xff\xda")  # the scan: its header reads, its pixels do not
    garbled = jpeg[:start] + b"\xff\xda" + bytes(100)
    before = snapshot(library)
    cases = [
        ({"fileName": "a.jpg", "folder": "x" * 300}, jpeg, 400, "cannot be made"),
        ({"fileName": "a.jpg", "customMetadata": "[" * 100_000}, jpeg, 400, "at most 65,536"),
        ({"fileName": "a.jpg", "customMetadata": "[" * 60_000}, jpeg, 400, "not a JSON object"),
        ({"fileName": "a.jpg", "tags": "x" * 70_000}, jpeg, 400, "at most 65,536"),
        ({"fileName": "a.jpg", "responseFields": "metadata"}, garbled, 400, "corrupt image data"),
        ({"fileName": "a.jpg", "useUniqueFileName": "maybe"}, jpeg, 400, "is not true or false"),
        ({"fileName": "a.jpg", "customMetadata": '{"a": NaN}'}, jpeg, 400, "not a JSON object"),
        ({"fileName": "a" * 300 + ".jpg", "folder": "/left/behind"}, jpeg, 400, "file name too long"),
        ({"fileName": ""}, jpeg, 400, "Missing fileName"),
    ]
    with serving(library, index=False) as app:
        for fields, data, status, reason in cases:
            response = httpx.post(
                f"{app.base_url}/api/v1/files/upload",
                files={"file": ("a.jpg", data)},
                data=fields,
                auth=(KEY, ""),
            )
            assert response.status_code == status, (fields, response.text)
            assert reason in response.json()["message"], (fields, response.text)
        bad = httpx.get(f"{app.base_url}/v1/files", headers={"Authorization": "Basic !!!"})
        assert bad.status_code == 401
    assert snapshot(library) == before
    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"


def test_a_connection_that_never_finishes_its_headers_is_closed(library, monkeypatch):
    from ikmeta.serve import server

    monkeypatch.setattr(server, "HEADERS_TIMEOUT", 0.5)
    with serving(library, index=False) as app:
        host, port = app.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            started = time.perf_counter()
            assert sock.recv(100) == b""  # closed by the server
            assert time.perf_counter() - started < 3


def test_an_empty_key_is_refused():
    from ikmeta.serve import ServeError, create_app

    with pytest.raises(ServeError, match="empty"):
        create_app(str(EXAMPLES), " ")


def test_a_clients_text_never_starts_a_log_line_of_its_own(library, caplog):
    httpx = need_module("httpx", "httpx (with the SDK)")
    forged = "http://x%0a2026-12-07T17:00:00%20127.0.0.1:1%20DELETE%20/v1/files/abc%20204%20forged/"
    with serving(library, index=False) as app:
        response = httpx.get(f"{app.base_url}/v1/metadata?url={forged}", auth=(KEY, ""))
    assert response.status_code in (400, 403)
    lines = [record.getMessage() for record in caplog.records if record.name == "ikmeta.serve"]
    assert lines and all("\n" not in line for line in lines)


def test_a_video_that_cannot_be_read_is_still_a_video_in_listings(library):
    (library / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 cut short")
    with serving(library) as app:
        ik = client(app)
        videos = sorted(item.name for item in ik.assets.list(type="file", file_type="non-image"))
        images = [item.name for item in ik.assets.list(type="file", file_type="image")]
    assert videos == ["broken.mp4", "clip.mp4"] and images == ["harbour.jpg"]


def test_a_page_of_a_listing_reads_only_its_own_files(tmp_path):
    library = tmp_path / "many"
    library.mkdir()
    for number in range(30):
        (library / f"p{number:02d}.png").write_bytes(encode(scene((48, 32), seed=number), "PNG"))
    with serving(library, index=False) as app:
        ik = client(app)
        page = ik.assets.list(sort="ASC_NAME", skip=10, limit=5)
        assert [item.name for item in page] == [f"p{number:02d}.png" for number in range(10, 15)]
        assert all(item.width == 48 for item in page)
        read = sorted(entry.path for entry in app.library.entries.values() if entry.summary is not None)
        assert read == [f"p{number:02d}.png" for number in range(10, 15)]
        widest = ik.assets.list(sort="DESC_WIDTH", limit=1)  # a sort by width reads them all
        assert len(widest) == 1
        assert all(entry.summary is not None for entry in app.library.entries.values())


def test_tags_and_custom_metadata_are_updated_and_kept_between_runs(library, tmp_path):
    labels = str(tmp_path / "labels.sqlite3")
    png = encode(scene((64, 48)), "PNG")
    with serving(library, labels=labels) as app:
        ik = client(app)
        uploaded = ik.files.upload(
            file=png, file_name="tagged.png", tags=["a"], custom_metadata={"k": 1, "x": 2}
        )
        fid = next(item.file_id for item in ik.assets.list() if getattr(item, "name", "") == "harbour.jpg")
        changed = ik.files.update(
            fid, tags=["sea", "boats"], custom_metadata={"camera": "one"}, description="Oslo"
        )
        assert (changed.tags, changed.custom_metadata, changed.description) == (
            ["sea", "boats"],
            {"camera": "one"},
            "Oslo",
        )
        ik.files.update(uploaded.file_id, custom_metadata={"x": None, "y": 3})
        with pytest.raises(errors().BadRequestError, match="keeps tags, customMetadata and description only"):
            ik.files.update(fid, custom_coordinates="10,10,20,20")
        with pytest.raises(errors().NotFoundError):
            ik.files.update("nope", tags=["x"])
    with serving(library, labels=labels) as app:  # a second run reads them back
        ik = client(app)
        again = ik.files.get(fid)
        assert (again.tags, again.custom_metadata, again.description) == (
            ["sea", "boats"],
            {"camera": "one"},
            "Oslo",
        )
        tagged = ik.files.get(uploaded.file_id)
        assert (tagged.tags, tagged.custom_metadata) == (["a"], {"k": 1, "y": 3})
        ik.files.update(fid, tags=None)
        assert ik.files.get(fid).tags is None
        ik.files.delete(uploaded.file_id)  # a file trashed takes its labels along
    with serving(library, labels=labels) as app:
        ik = client(app)
        assert ik.files.get(fid).custom_metadata == {"camera": "one"}
        again = ik.files.upload(file=png, file_name=uploaded.name, use_unique_file_name=False)
        assert ik.files.get(again.file_id).tags is None


def test_what_no_json_answer_can_hold_is_refused(library):
    httpx = need_module("httpx", "httpx (with the SDK)")
    png = encode(scene((64, 48)), "PNG")
    with serving(library) as app:
        fid = next(
            item["fileId"]
            for item in httpx.get(f"{app.base_url}/v1/files", auth=(KEY, "")).json()
            if item["name"] == "harbour.jpg"
        )
        for body in (
            '{"customMetadata": {"x": 1e400}}',
            '{"description": "\\ud800"}',
            '{"tags": ["\\udcff"]}',
            '{"customMetadata": {"x": NaN}}',
        ):
            response = httpx.patch(f"{app.base_url}/v1/files/{fid}/details", content=body, auth=(KEY, ""))
            assert response.status_code == 400 and response.json()["message"] == "not a JSON object", body
        upload = httpx.post(
            f"{app.base_url}/api/v1/files/upload",
            files={"file": ("a.png", png)},
            data={"fileName": "a.png", "customMetadata": '{"x": 1e400}'},
            auth=(KEY, ""),
        )
        assert upload.status_code == 400
        assert httpx.get(f"{app.base_url}/v1/files", auth=(KEY, "")).status_code == 200
        assert (
            httpx.get(f"{app.base_url}/v1/files/{fid}/details", auth=(KEY, "")).json()["customMetadata"] == {}
        )


def test_a_name_that_is_not_utf8_is_listed_labelled_and_deleted(library, tmp_path):
    name = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes, as an old camera card may hold
    (library / name).write_bytes(encode(scene((64, 48)), "PNG"))
    labels = str(tmp_path / "labels.sqlite3")
    with serving(library, labels=labels) as app:
        ik = client(app)
        item = next(i for i in ik.assets.list() if getattr(i, "name", "").startswith("caf"))
        assert item.name == "caf\udce9.png"  # the byte as a \udcXX escape, as the command line writes it
        assert ik.files.update(item.file_id, tags=["old card"]).tags == ["old card"]
        assert ik.files.metadata.get(item.file_id).width == 64
    with serving(library, labels=labels) as app:
        ik = client(app)
        assert ik.files.get(item.file_id).tags == ["old card"]
        ik.files.delete(item.file_id)
    assert not (library / name).exists()


def test_listings_follow_files_rewritten_or_removed_behind_the_server(library, tmp_path):
    labels = str(tmp_path / "labels.sqlite3")
    folder = library / "sizes"
    folder.mkdir()
    for number, side in enumerate((40, 60, 80)):
        (folder / f"{'abc'[number]}.png").write_bytes(encode(scene((side, side), seed=number), "PNG"))
    with serving(library, labels=labels) as app:
        ik = client(app)
        by_size = [item.name for item in ik.assets.list(path="/sizes", sort="ASC_SIZE")]
        assert by_size == ["a.png", "b.png", "c.png"]
        (folder / "a.png").write_bytes(
            encode(scene((120, 120), seed=7), "PNG")
        )  # in place: the folder's time stays
        pages = [ik.assets.list(path="/sizes", sort="ASC_SIZE", skip=k, limit=1)[0] for k in range(3)]
        assert [item.name for item in pages] == ["b.png", "c.png", "a.png"] and pages[2].width == 120
        badge = next(item for item in ik.assets.list(path="/trips"))
        ik.files.update(badge.file_id, tags=["old"])
        (library / "trips" / "badge.png").unlink()
        assert ik.assets.list(path="/trips") == []
        shutil.copy(EXAMPLES / "harbour_small.jpg", library / "trips" / "badge.png")
    with serving(library, labels=labels) as app:
        assert client(app).files.get(badge.file_id).tags is None  # not the removed file's


def test_concurrent_updates_are_kept_whole(library, tmp_path):
    labels = str(tmp_path / "labels.sqlite3")
    with serving(library, labels=labels) as app:
        ik = client(app)
        fid = next(item.file_id for item in ik.assets.list() if getattr(item, "name", "") == "harbour.jpg")
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda k: ik.files.update(fid, custom_metadata={f"k{k}": k}), range(40)))
        in_memory = ik.files.get(fid).custom_metadata
    with serving(library, labels=labels) as app:
        assert client(app).files.get(fid).custom_metadata == in_memory == {f"k{k}": k for k in range(40)}


def test_undo_gives_a_deleted_file_its_labels_back_and_takes_an_upload_s_away(library, tmp_path):
    """A file deleted through the API, then a new upload at its name: ``ikmeta undo`` puts the
    file back with its tags, custom metadata and description (seen by the running server
    and by the next run), and the upload goes with its own."""
    labels = str(tmp_path / "labels.sqlite3")
    png = encode(scene((64, 48)), "PNG")
    with serving(library, labels=labels) as app:
        ik = client(app)
        (harbour,) = [item for item in ik.assets.list() if getattr(item, "name", "") == "harbour.jpg"]
        ik.files.update(harbour.file_id, tags=["sea"], custom_metadata={"by": "ana"}, description="pier")
        ik.files.delete(harbour.file_id)
        new = ik.files.upload(file=png, file_name="harbour.jpg", use_unique_file_name=False, tags=["new"])
        assert new.file_id == harbour.file_id and ik.files.get(new.file_id).tags == ["new"]
        done = run("undo", app.library.journal_path)
        assert done.exit_code == 0, done.stderr
        assert (library / "harbour.jpg").read_bytes() == (EXAMPLES / "harbour.jpg").read_bytes()
        back = ik.files.get(harbour.file_id)
        assert (back.tags, back.custom_metadata) == (["sea"], {"by": "ana"})
    with serving(library, labels=labels) as app:
        again = client(app).files.get(harbour.file_id)
        assert (again.tags, again.custom_metadata) == (["sea"], {"by": "ana"})
    from ikmeta.serve.labels import Labels

    assert Labels.open(labels).get(str(library / "harbour.jpg")).description == "pier"
