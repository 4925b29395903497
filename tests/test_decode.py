"""Limits that hold (issue 24): --max-pixels refuses an image from its header, before decoding,
in one line; below it, the decodes in flight share a budget of pixels (never more at once, an
image larger than the whole budget alone, no deadlock, no starvation)."""

from __future__ import annotations

import json
import threading
import time
import warnings

import pytest
from PIL import Image

import ikmeta
from ikmeta.cache import HashCache
from ikmeta.dupes.scan import scan
from ikmeta.errors import ImageError
from ikmeta.image import decode, metadata
from ikmeta.image.limits import MAX_PIXELS, MemoryGate
from ikmeta.sources.base import Blob

from .conftest import encode, png_claiming, run, scene

SIZE = (400, 300)  # 120,000 pixels
PIXELS = SIZE[0] * SIZE[1]


# --- --max-pixels -----------------------------------------------------------------------------


def test_an_image_over_the_default_is_refused_from_its_header():
    """13000 x 13000 is above Pillow's decompression-bomb limit but below twice it, where Pillow
    itself only warned and ikmeta decoded it (18.8 s and 1.36 GB in the issue)."""
    for read in (metadata.phash_blob, metadata.inspect_blob):
        with pytest.raises(ImageError) as info:
            read(Blob("photo.png", png_claiming(13000, 13000)))
        assert str(info.value) == "photo.png: 169,000,000 pixels, more than --max-pixels 89,478,485"


def test_the_limit_is_the_callers_not_pillows():
    """Pillow's own guard (a warning above 89,478,485 pixels, an error above twice that) is out
    of the way: a higher max_pixels lets an image open, None or 0 sets no limit."""
    blob = Blob("huge.png", png_claiming(20000, 20000))  # 400 MP: Pillow's DecompressionBombError
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no DecompressionBombWarning
        for limit in (None, 0, 400_000_000):
            assert decode.open_image(blob, max_pixels=limit).size == (20000, 20000)
    with pytest.raises(
        ImageError, match=r"^huge.png: 400,000,000 pixels, more than --max-pixels 399,999,999$"
    ):
        decode.open_image(blob, max_pixels=399_999_999)


def test_pillows_limit_set_again_by_a_caller_is_one_clear_line(monkeypatch):
    decode.open_image(Blob("small.png", encode(scene(SIZE), "PNG")))  # ikmeta's settings made
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageError) as info:
        decode.open_image(Blob("a.png", encode(scene(SIZE), "PNG")), max_pixels=None)
    assert info.value.reason == (
        "120,000 pixels, more than Pillow's decompression-bomb limit (2 x Image.MAX_IMAGE_PIXELS) of 2,000"
    )


def test_an_image_at_the_limit_is_read_and_one_pixel_over_is_refused():
    blob = Blob("a.png", encode(scene(SIZE), "PNG"))
    assert metadata.phash_blob(blob, max_pixels=PIXELS).metadata["pHash"]
    assert metadata.inspect_blob(blob, max_pixels=PIXELS).metadata["width"] == SIZE[0]
    with pytest.raises(ImageError, match=r"^a.png: 120,000 pixels, more than --max-pixels 119,999$"):
        metadata.phash_blob(blob, max_pixels=PIXELS - 1)


@pytest.mark.parametrize("command", [["phash"], ["inspect", "--ndjson"], ["dupes", "--json", "--no-cache"]])
def test_the_command_line_refuses_in_one_line_and_goes_on(command, tmp_path):
    (tmp_path / "big.png").write_bytes(encode(scene(SIZE), "PNG"))
    (tmp_path / "small.png").write_bytes(encode(scene((300, 200)), "PNG"))
    result = run(*command, "--max-pixels", str(PIXELS - 1), str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"ikmeta: {tmp_path / 'big.png'}: 120,000 pixels, more than --max-pixels 119,999"
    )
    assert "small.png" in result.stdout or command[0] == "dupes"  # (one image makes no group)
    assert "big.png" not in result.stdout
    passed = run(*command, "--max-pixels", str(PIXELS), str(tmp_path))
    assert passed.exit_code == 0, passed.stderr
    unlimited = run(*command, "--max-pixels", "0", str(tmp_path))
    assert unlimited.exit_code == 0, unlimited.stderr


def test_max_pixels_is_a_count_of_zero_or_more():
    result = run("phash", "--max-pixels", "-1", "x.png")
    assert result.exit_code == 2 and "--max-pixels" in result.stderr
    dask = run("phash", "--dask", "local", "--parquet", "out", "--max-pixels", "5", "x.png")
    assert dask.exit_code == 2 and "not handed to Dask workers" in dask.stderr


def test_the_python_api_takes_max_pixels(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(encode(scene(SIZE), "PNG"))
    with pytest.raises(ImageError, match="more than --max-pixels 119,999"):
        ikmeta.phash(path, max_pixels=PIXELS - 1)
    with pytest.raises(ImageError, match="more than --max-pixels 119,999"):
        ikmeta.inspect(path, max_pixels=PIXELS - 1)
    assert ikmeta.phash(path, max_pixels=0) == ikmeta.phash(path, max_pixels=None) == ikmeta.phash(path)
    [refused] = ikmeta.phash_many([str(path)], max_pixels=PIXELS - 1)
    assert isinstance(refused, ImageError)
    [record] = ikmeta.hash_records([str(path)], max_pixels=PIXELS)
    assert record["width"] == SIZE[0]
    heard = []
    ikmeta.find_duplicates([tmp_path], cache=False, max_pixels=PIXELS - 1, on_error=heard.append)
    assert [e.reason for e in heard] == ["120,000 pixels, more than --max-pixels 119,999"]
    with pytest.raises(ValueError, match="max_pixels"):
        ikmeta.phash(path, max_pixels=-1)
    with pytest.raises(TypeError, match="max_pixels"):
        list(ikmeta.inspect_many([path], max_pixels="many"))


def test_a_cached_image_over_the_limit_is_refused_as_a_new_one_is(tmp_path):
    """A hash cached by a run with a higher limit is no way round a lower one."""
    path = tmp_path / "a.png"
    path.write_bytes(encode(scene(SIZE), "PNG"))
    cache = HashCache.open(str(tmp_path / "cache.sqlite3"))
    try:
        [first] = scan([str(path)], cache, jobs=1, max_pixels=None)
        assert first.phash
        [again] = scan([str(path)], cache, jobs=1, max_pixels=PIXELS - 1)
        assert isinstance(again, ImageError) and again.reason.endswith("more than --max-pixels 119,999")
        [allowed] = scan([str(path)], cache, jobs=1, max_pixels=PIXELS)
        assert allowed == first
    finally:
        cache.close()


# --- the budget of decoded pixels ------------------------------------------------------------


def run_threads(targets, timeout: float = 10.0) -> None:
    """Run each callable on a thread of its own; fail (rather than hang) if any is still
    running after ``timeout`` seconds: a deadlock."""
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a hold never ended: deadlock or starvation"


def test_the_gate_never_lets_more_than_its_budget_be_held():
    gate, lock = MemoryGate(100), threading.Lock()
    held, peak = [0], [0]

    def work(sizes):
        def loop():
            for size in sizes:
                with gate.hold(size):
                    with lock:
                        held[0] += min(size, 100)
                        peak[0] = max(peak[0], held[0])
                    time.sleep(0.001)
                    with lock:
                        held[0] -= min(size, 100)

        return loop

    run_threads([work([10, 45, 30, 60, 5, 100, 35] * 10) for _ in range(6)])
    assert peak[0] <= 100 and gate.used == 0


def test_work_bigger_than_the_budget_waits_for_the_rest_then_runs_alone():
    gate = MemoryGate(100)
    small_in, big_in, big_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def small():
        with gate.hold(60):
            small_in.set()
            time.sleep(0.05)
            seen["big ran beside the small one"] = big_in.is_set()

    def big():
        small_in.wait(5)
        with gate.hold(250):
            big_in.set()
            seen["held while big runs"] = gate.used
            time.sleep(0.05)
        big_out.set()

    def later():
        big_in.wait(5)
        with gate.hold(1):
            seen["later ran beside the big one"] = not big_out.is_set()

    run_threads([small, big, later])
    assert seen == {
        "big ran beside the small one": False,
        "held while big runs": 100,
        "later ran beside the big one": False,
    }


def test_a_huge_image_is_not_starved_by_a_stream_of_small_ones():
    """First come, first served: small holds that keep overlapping never keep the budget busy
    for ever in front of one that needs all of it."""
    gate, done = MemoryGate(100), threading.Event()

    def small():
        while not done.is_set():
            with gate.hold(40):
                time.sleep(0.002)

    def big():
        time.sleep(0.02)  # the small ones are going
        with gate.hold(100):
            pass
        done.set()

    run_threads([small, small, small, small, big], timeout=5)


@pytest.fixture
def counted_decodes(monkeypatch):
    """Each full decode for a hash counted while it runs (and made to last 30 ms): returns
    (the most that ran at once, a function setting the budget of decoded pixels)."""
    lock, running, most = threading.Lock(), [0], [0]
    real = metadata.load_reduced

    def load_reduced(*args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.03)
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(metadata, "load_reduced", load_reduced)
    return most, lambda budget: monkeypatch.setattr(decode, "pixel_memory", MemoryGate(budget))


def test_four_jobs_decode_at_most_what_the_budget_holds(counted_decodes, tmp_path):
    most, set_budget = counted_decodes
    for k in range(8):
        (tmp_path / f"{k}.png").write_bytes(encode(scene(SIZE, seed=k), "PNG"))
    set_budget(2 * PIXELS)
    result = run("phash", "--ndjson", "-j", "4", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 8
    assert most[0] == 2  # two fit, never three (and the four jobs did run side by side)


def test_images_bigger_than_the_budget_are_decoded_one_at_a_time(counted_decodes, tmp_path):
    most, set_budget = counted_decodes
    for k in range(6):
        (tmp_path / f"{k}.png").write_bytes(encode(scene(SIZE, seed=k), "PNG"))
    set_budget(PIXELS // 2)
    records = list(ikmeta.hash_records(sorted(str(p) for p in tmp_path.iterdir()), jobs=4))
    assert [r["width"] for r in records] == [SIZE[0]] * 6
    assert most[0] == 1


def test_a_budget_share_is_held_for_each_decode_and_given_back(monkeypatch):
    gate = MemoryGate(decode.DECODE_BUDGET)
    monkeypatch.setattr(decode, "pixel_memory", gate)
    held = []
    real = metadata.load_reduced
    monkeypatch.setattr(metadata, "load_reduced", lambda *a, **k: held.append(gate.used) or real(*a, **k))
    metadata.phash_blob(Blob("a.png", encode(scene(SIZE), "PNG")))
    metadata.phash_blob(Blob("a.jpg", encode(scene((800, 640)), "JPEG")))
    assert held == [PIXELS, 800 * 640 // 64]  # a JPEG decodes at 1/8 scale a side
    assert gate.used == 0


def test_the_default_budget_holds_about_two_images_at_the_default_limit():
    assert decode.DECODE_BUDGET == 2 * MAX_PIXELS


# --- what a decode holds -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "I;16"])
def test_a_flat_images_colour_comes_from_its_one_decode(mode, monkeypatch):
    """A flat PNG is decoded once (its mean colour read from the pixels it was hashed from), and
    the colour is the one a second decode gave."""
    im = Image.new("RGB", SIZE, (52, 101, 164))
    im = im.convert(mode) if mode != "I;16" else Image.new("I;16", SIZE, 3000)
    blob = Blob("flat.png", encode(im, "PNG"))
    expected = metadata.mean_colour(blob)
    decodes = []
    real = metadata.load_reduced
    monkeypatch.setattr(metadata, "load_reduced", lambda *a, **k: decodes.append(1) or real(*a, **k))
    assert metadata.phash_blob(blob).metadata["flat"] == expected
    assert len(decodes) == 1


def test_a_flat_jpeg_is_decoded_again_in_colour():
    blob = Blob("flat.jpg", encode(Image.new("RGB", SIZE, (200, 30, 30)), "JPEG", quality=95))
    assert metadata.phash_blob(blob).metadata["flat"] == "#c81e1e"


def test_pillow_blocks_are_large_enough_to_be_given_back(monkeypatch):
    """Pillow's blocks above glibc's largest mmap threshold, so that memory freed by one
    thread's decode is returned, not kept in that thread's arena (bench/pixels.py measures it)."""
    from PIL import _imaging

    monkeypatch.delenv("PILLOW_BLOCK_SIZE", raising=False)
    decode.open_image(Blob("a.png", encode(scene(SIZE), "PNG")))
    assert _imaging.get_block_size() >= decode.BLOCK_SIZE > 32 * 2**20
    assert Image.MAX_IMAGE_PIXELS is None


def test_the_budget_counts_pixels_in_json_records_unchanged(tmp_path):
    """The records do not change with the budget or the limit: the same hash either way."""
    path = tmp_path / "a.png"
    path.write_bytes(encode(scene(SIZE), "PNG"))
    plain = json.loads(run("phash", "--ndjson", str(path)).stdout)
    assert json.loads(run("phash", "--ndjson", "--max-pixels", str(PIXELS), str(path)).stdout) == plain
