"""Shared fixtures: the reference corpus, the reference tools, and images drawn on the fly.

Tests that need ../shared/corpus or exiftool/ImageMagick skip when those are absent,
except in CI (CI=true), where their absence is a failure.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# Tests never touch the user's home: every XDG folder (and so the default hash cache, journal
# and trash) points into a fresh temporary folder for the whole run, subprocesses included.
REAL_HOME = Path(os.path.expanduser("~")).resolve()
_ISOLATED = Path(tempfile.mkdtemp(prefix="ikmeta-tests-"))
for _name in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
    os.environ[_name] = str(_ISOLATED / _name.lower())
os.environ["HOME"] = str(_ISOLATED / "home")  # and ~ itself (send2trash looks at its device)
(_ISOLATED / "home").mkdir()
# moto's request recorder (tests/test_storage.py counts GETs with it) writes its file into the
# current folder unless told otherwise: not into the clone.
os.environ["MOTO_RECORDER_FILEPATH"] = str(_ISOLATED / "moto_recording")


@pytest.fixture(scope="session", autouse=True)
def _remove_isolated_home() -> Iterator[None]:
    yield
    shutil.rmtree(_ISOLATED, ignore_errors=True)


def run(*args: str, stdin: str | bytes | None = None) -> Any:
    """``ikmeta ARGS...`` in this process (Click's CliRunner), stdout and stderr apart."""
    from click.testing import CliRunner

    from ikmeta.cli import cli

    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


# A Python program that kills itself (SIGKILL) at its STOP_AT'th link, unlink, rename,
# replace or remove, then runs the code that follows it: a run stopped at any point.
KILLED_AT_NTH_CALL = """
import os, signal, sys
count = {"n": 0}
def killing(real):
    def call(*args, **kwargs):
        count["n"] += 1
        if count["n"] == int(os.environ["STOP_AT"]):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call
for name in ("link", "unlink", "rename", "replace", "remove"):
    setattr(os, name, killing(getattr(os, name)))
"""


def corpus_root() -> Path:
    return Path(os.environ.get("IKMETA_CORPUS") or ROOT.parent / "shared" / "corpus").resolve()


def need(condition: bool, what: str) -> None:
    """Skip outside CI when ``condition`` is false; fail in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but missing")
    pytest.skip(f"{what} not available")


def need_module(name: str, what: str) -> Any:
    """``import name``; skipped outside CI when it is missing, a failure in CI (where the test
    extra installs it): unlike ``pytest.importorskip``, never a silent skip of every test."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        need(False, what)


def need_unprivileged(why: str) -> None:
    """A user who is not root (``why``: what root could do anyway). CI runs the tests as one
    (.ci/run); as root, these tests skip outside CI and fail in it."""
    need(os.geteuid() != 0, f"a user who is not root ({why})")


@pytest.fixture
def unprivileged() -> None:
    """For tests of what a user may not do (read, enter or change a folder): root may."""
    need_unprivileged("root reads, enters and changes any folder")


def need_moto_server() -> None:
    """moto's standalone S3 server (``moto[server]`` of the test extra)."""
    need_module("moto.server", "moto's server (pip install 'moto[server]', in the test extra)")


LABELLED_SET = ("--seed", "1", "--variants", "6")  # the classic set the quality test and the page use


def labelled_set(corpus: Path, base: Path, *args: str) -> Path:
    """The shared tool's labelled near-duplicate set of the corpus
    (``make_dupes_set.py CORPUS OUT ARGS...``), built once a run whichever test or pytest-xdist
    worker asks first (a lock file in ``base``, the run's temporary folder the workers share);
    read-only to the tests that use it."""
    import fcntl
    import subprocess
    import sys

    tool = corpus.parent.parent / "tools" / "make_dupes_set.py"
    need(tool.is_file(), f"the shared tools ({tool})")
    out = base / ("labelled-" + "-".join(a.strip("-") for a in args))
    with open(base / "labelled.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "truth.json").is_file():
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run(
                [sys.executable, str(tool), str(corpus), str(out), *args], check=True, capture_output=True
            )
    return out


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder every pytest-xdist worker of this run shares (alone: the run's own)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def corpus() -> Path:
    root = corpus_root()
    need((root / "exif-samples").is_dir(), f"the corpus ({root})")
    return root / "exif-samples"


@pytest.fixture(scope="session")
def exiftool() -> str:
    need(shutil.which("exiftool") is not None, "exiftool (libimage-exiftool-perl)")
    return shutil.which("exiftool")


@pytest.fixture(scope="session")
def identify() -> str:
    need(shutil.which("identify") is not None, "ImageMagick's identify")
    return shutil.which("identify")


# --- moto's S3 server ---------------------------------------------------------------------------


@contextlib.contextmanager
def moto_server(enforce_auth_after: float = float("inf")) -> Iterator[tuple[Any, str]]:
    """moto's standalone server on 127.0.0.1 (ThreadedMotoServer, as s3fs's own tests run it),
    its state reset (moto keeps it per process, whichever server serves it), and its endpoint.
    ``enforce_auth_after``: requests after which every one must be signed by an IAM user
    (moto's INITIAL_NO_AUTH_ACTION_COUNT); restored on exit."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    ActionAuthenticatorMixin.request_count = 0
    settings.INITIAL_NO_AUTH_ACTION_COUNT = enforce_auth_after
    try:
        yield server, endpoint
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
        server.stop()


# --- images drawn for tests -------------------------------------------------------------------


def scene(size: tuple[int, int] = (320, 240), seed: int = 0) -> Image.Image:
    """A deterministic picture with structure at several scales (so its pHash means something)."""
    w, h = size
    im = Image.new("RGB", size, (30 + seed * 20 % 200, 90, 160))
    draw = ImageDraw.Draw(im)
    for i in range(12):
        x0 = (i * 53 + seed * 31) % w
        y0 = (i * 37 + seed * 17) % h
        colour = ((i * 70 + seed * 13) % 256, (i * 40 + 90) % 256, (i * 90 + seed * 7) % 256)
        draw.rectangle([x0, y0, x0 + w // 4, y0 + h // 5], fill=colour)
    draw.ellipse([w * 0.55, h * 0.1, w * 0.9, h * 0.6], fill=(250, 220, 90))
    draw.line([(0, h - 1), (w - 1, 0)], fill=(0, 0, 0), width=max(2, w // 60))
    return im


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels and which holds almost no data:
    decoding it would fail, so a refusal that names its size came from the header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def exif_with(**tags) -> Image.Exif:
    """An Exif object with IFD0 tags given by ID as ``t0x010F="Make"``-style keyword arguments."""
    exif = Image.Exif()
    for key, value in tags.items():
        exif[int(key[1:], 16)] = value
    return exif


@pytest.fixture
def write(tmp_path):
    """write(name, bytes_or_image, fmt=None, **save_params) -> path of a file in tmp_path."""

    def _write(name: str, content, fmt: str | None = None, **params) -> str:
        path = tmp_path / name
        if isinstance(content, Image.Image):
            content = encode(content, fmt or Image.registered_extensions()[path.suffix.lower()], **params)
        path.write_bytes(content)
        return str(path)

    return _write


class TiffBuilder:
    """Builds TIFF-structured EXIF blocks by hand, for exact control of types and offsets.

    >>> b = TiffBuilder("<"); b.ifd([(0x010F, 2, 1, b"Canon\\0")]); b.build()
    """

    TYPE_SIZES: ClassVar[dict[int, int]] = {
        1: 1,
        2: 1,
        3: 2,
        4: 4,
        5: 8,
        6: 1,
        7: 1,
        8: 2,
        9: 4,
        10: 8,
        11: 4,
        12: 8,
        13: 4,
    }

    def __init__(self, endian: str = "<") -> None:
        self.endian = endian
        self.ifds: list[list[tuple[int, int, int, bytes]]] = []

    def ifd(self, entries: list[tuple[int, int, int, bytes]]) -> int:
        """Add an IFD of (tag, type, count, raw value bytes); returns its index."""
        self.ifds.append(entries)
        return len(self.ifds) - 1

    def build(self, links: dict[tuple[int, int], int] | None = None, chain: tuple[int, ...] = (0,)) -> bytes:
        """Lay the IFDs out. ``links[(ifd, tag)] = target`` fills a pointer tag with IFD ``target``'s
        offset; ``chain`` lists the IFDs linked by next-IFD pointers (IFD0 -> IFD1)."""
        links = links or {}
        e = self.endian
        header = (b"II*\x00" if e == "<" else b"MM\x00*") + struct.pack(e + "I", 8)
        # First pass: offsets of each IFD and its data area.
        offsets, pos = [], 8
        for entries in self.ifds:
            offsets.append(pos)
            pos += 2 + 12 * len(entries) + 4
            pos += sum(len(raw) for *_, raw in entries if len(raw) > 4)
        out = bytearray(header)
        for index, entries in enumerate(self.ifds):
            data_at = offsets[index] + 2 + 12 * len(entries) + 4
            table, data = bytearray(struct.pack(e + "H", len(entries))), bytearray()
            for tag, typ, count, stored in entries:
                raw = struct.pack(e + "I", offsets[links[(index, tag)]]) if (index, tag) in links else stored
                if len(raw) > 4:
                    field = struct.pack(e + "I", data_at + len(data))
                    data += raw
                else:
                    field = raw.ljust(4, b"\x00")
                table += struct.pack(e + "HHI", tag, typ, count) + field
            following = 0
            if index in chain and chain.index(index) + 1 < len(chain):
                following = offsets[chain[chain.index(index) + 1]]
            table += struct.pack(e + "I", following)
            out += table + data
        return bytes(out)


# Containers a test clip is written in: (PyAV's muxer, video encoder, audio encoder).
CLIP_KINDS: dict[str, tuple[str, str, str]] = {
    "mp4": ("mp4", "libx264", "aac"),
    "mov": ("mov", "libx264", "aac"),
    "m4v": ("ipod", "libx264", "aac"),
    "3gp": ("3gp", "libx264", "aac"),
    "webm": ("webm", "libvpx-vp9", "libopus"),
    "mkv": ("matroska", "libx265", "libmp3lame"),
    "avi": ("avi", "mpeg4", "libmp3lame"),
    "ts": ("mpegts", "libx264", "aac"),
    "m2ts": ("mpegts", "libx264", "aac"),  # with mpegts_m2ts_mode
}


def make_clip(
    path: Path,
    kind: str = "mp4",
    size: tuple[int, int] = (320, 240),
    seconds: float = 2.0,
    fps: int = 25,
    rotation: int = 0,
    sound: bool = True,
    tags: dict[str, str] | None = None,
    seed: int = 0,
    faststart: bool = False,
    gop: int | None = None,
    letterbox: bool = False,
    start: float = 0.0,
    colour: tuple[int, int, int] | None = None,
    picture: tuple[int, int] | None = None,
    of: float | None = None,
    dark: int = 0,
    options: dict[str, str] | None = None,
    dark_end: int = 0,
) -> Path:
    """A small clip made with PyAV: a picture (``scene``) that drifts slowly across the frame, with a
    tone; ``rotation`` stored as the container's display matrix (degrees clockwise), ``tags``
    as the container's metadata. ``gop``: frames from one key frame to the next;
    ``letterbox``: the picture squeezed between black bars; ``start``: seconds of the drift
    left out at the start (a trimmed copy); ``colour``: every frame of that one colour;
    ``picture``: the size the drift is filmed at, each frame then scaled to ``size`` (copies
    of one clip at several sizes); ``of``: the length of the clip this one is a part of
    (default: ``start`` + ``seconds``); ``dark``: that many black frames first (a fade in);
    ``options``: the video encoder's; ``dark_end``: that many black frames last (padding)."""
    av = need_module("av", "PyAV (the video extra)")
    import numpy as np

    muxer, video_codec, audio_codec = CLIP_KINDS[kind]
    base = picture or size
    drawn = np.asarray(scene((base[0] * 2, base[1] * 2), seed=seed))
    flags = ("+faststart" if faststart else "") + (
        "+use_metadata_tags" if tags and muxer in ("mp4", "mov") else ""
    )
    muxing = {"movflags": flags} if flags and muxer in ("mp4", "mov", "ipod", "3gp") else {}
    if kind == "m2ts":
        muxing = {"mpegts_m2ts_mode": "1"}
    with av.open(str(path), "w", format=muxer, options=muxing) as out:
        out.metadata.update(tags or {})
        encoder = {"x265-params": "log-level=error"} if video_codec == "libx265" else {}
        video = out.add_stream(video_codec, rate=fps, options={**encoder, **(options or {})})
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        if gop:
            video.codec_context.gop_size = gop
        if rotation:
            video.set_display_rotation(-rotation)  # FFmpeg's matrix turns counter-clockwise
        audio = (
            out.add_stream(audio_codec, rate=48000 if audio_codec == "libopus" else 44100) if sound else None
        )
        frames, skipped, whole = int(seconds * fps), int(start * fps), int((of or seconds + start) * fps)
        for i in range(skipped, skipped + frames):
            x, y = i * base[0] // (8 * whole), i * base[1] // (8 * whole)  # a slow pan, as filmed
            shown = np.ascontiguousarray(drawn[y : y + base[1], x : x + base[0]])
            if letterbox:
                bar = size[1] // 6
                squeezed = Image.fromarray(shown).resize((size[0], size[1] - 2 * bar))
                shown = np.zeros((size[1], size[0], 3), np.uint8)
                shown[bar : size[1] - bar] = np.asarray(squeezed)
            elif base != size:
                shown = np.asarray(Image.fromarray(shown).resize(size))
            if colour is not None or i - skipped < dark or i >= skipped + frames - dark_end:
                shown = np.full_like(shown, colour or 0)
            frame = av.VideoFrame.from_ndarray(shown, format="rgb24")
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if audio is not None:
            rate = audio.codec_context.sample_rate
            step = audio.codec_context.frame_size or 1024
            t = np.arange(int(seconds * rate)) / rate
            tone = (0.2 * np.sin(2 * np.pi * (440 + 40 * seed) * t)).astype(np.float32)
            for start in range(0, len(tone) - step + 1, step):
                chunk = tone[start : start + step].reshape(1, -1)
                block = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                block.sample_rate, block.pts = rate, start
                out.mux(audio.encode(block))
            out.mux(audio.encode())
    return path


def probed(ffprobe: str, path: Path) -> dict:
    """What ffprobe says of a file, in the fields of ikmeta's object."""
    out = subprocess.run(
        [ffprobe, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(out.stdout)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    turn = next((d.get("rotation", 0) for d in video.get("side_data_list", []) if "rotation" in d), 0)
    width, height = (
        (video["height"], video["width"]) if int(turn) % 180 else (video["width"], video["height"])
    )
    return {
        "width": width,
        "height": height,
        "duration": float(info["format"]["duration"]),
        "bitRate": int(info["format"]["bit_rate"]) / 1000,
        "videoCodec": video["codec_name"],
        "audioCodec": audio[0]["codec_name"] if audio else None,
        "rotation": (-int(turn)) % 360,
    }


def agrees(meta: dict, reference: dict) -> list[str]:
    """The fields where ikmeta and ffprobe disagree (bit rate: by more than 1%)."""
    wrong = [
        k for k in ("width", "height", "videoCodec", "audioCodec", "rotation") if meta[k] != reference[k]
    ]
    if meta["duration"] != int(reference["duration"] + 0.5):
        wrong.append("duration")
    if abs(meta["bitRate"] - reference["bitRate"]) > max(1, reference["bitRate"] / 100):
        wrong.append("bitRate")
    return wrong


@pytest.fixture(scope="session")
def ffprobe() -> str:
    need(shutil.which("ffprobe") is not None, "ffprobe (Debian's ffmpeg)")
    return shutil.which("ffprobe") or ""


@contextlib.contextmanager
def serving(library: Path, private_key: str | None = "private_test_key", **options: Any) -> Iterator[Any]:
    """``ikmeta serve`` of ``library`` on a free port of 127.0.0.1, on a thread of this process
    (uvicorn, as the command runs it); yields the app, whose ``base_url`` is where it listens.
    The library is indexed before the first request unless ``index=False`` is given."""
    import threading

    need_module("uvicorn", "uvicorn (the serve extra, in the test extra)")
    from ikmeta.serve import create_app
    from ikmeta.serve.server import address_of, bind, server_for

    indexed = threading.Event()
    told = options.get("on_indexed")

    def on_indexed(count: int, seconds: float) -> None:
        if told is not None:
            told(count, seconds)
        indexed.set()

    options["on_indexed"] = on_indexed
    app = create_app(str(library), private_key, **options)
    if options.get("index", True):
        assert indexed.wait(60), "the library was not indexed within 60 s"
    sock = bind("127.0.0.1", 0)
    server = server_for(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    app.base_url = address_of(sock)
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(10)
        app.library.close()
        sock.close()
