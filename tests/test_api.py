"""The Python API (ikmeta.api, exported by the package): sources of every kind, errors as
attributes and as values, grouping records made elsewhere, the README's doctests."""

from __future__ import annotations

import doctest
import io
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from PIL import Image

import ikmeta
from ikmeta import api

from .conftest import EXAMPLES, ROOT, encode, run, scene

HARBOUR = str(EXAMPLES / "harbour.jpg")


def _closed():
    with open(HARBOUR, "rb") as handle:
        return handle


FENCE = re.compile(r"^```pycon\n(.*?)^```", re.M | re.S)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.fixture
def in_examples_parent(tmp_path, monkeypatch):
    """A scratch folder holding a copy of examples/, as the current folder."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_python_examples_run_as_doctests(in_examples_parent):
    readme = (ROOT / "README.md").read_text()
    blocks = FENCE.findall(readme.split("## Python API", 1)[1].split("\n## ", 1)[0])
    assert len(blocks) >= 3
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=FLAGS)
    session: dict[str, object] = {}  # the blocks are one session, as a reader types them
    for k, block in enumerate(blocks):
        test = parser.get_doctest(block, session, f"README Python API block {k + 1}", "README.md", 0)
        runner.run(test, clear_globs=False)
        session = test.globs  # (get_doctest ran on a copy)
    assert runner.summarize(verbose=False).failed == 0


def test_api_docstrings_run_as_doctests(in_examples_parent):
    results = doctest.testmod(api, extraglobs={"ikmeta": ikmeta}, optionflags=FLAGS)
    assert results.attempted >= 10 and results.failed == 0


def test_public_names_resolve_and_nothing_else_does():
    assert ikmeta.__all__ == sorted(ikmeta.__all__)
    for name in ikmeta.__all__:
        assert getattr(ikmeta, name) is not None
    assert set(ikmeta.__all__) <= set(dir(ikmeta))
    with pytest.raises(AttributeError, match="no attribute 'scan'"):
        ikmeta.__getattr__("scan")
    assert ikmeta.phash is api.phash  # not the module that computes it (ikmeta.image.perceptual)


def test_import_is_light():
    code = "import sys, ikmeta; print(sorted(m for m in ('numpy', 'PIL', 'ikmeta.api', 'click') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_package_is_typed_and_a_caller_type_checks(tmp_path):
    assert (ROOT / "ikmeta" / "py.typed").is_file()
    script = tmp_path / "caller.py"
    script.write_text(
        "import ikmeta\n"
        "d: int = ikmeta.distance('2d5ad3936d2e015b', '2d6ed293db36a4fb')\n"
        "h: str = ikmeta.phash('a.jpg')\n"
        "m: dict[str, object] = ikmeta.inspect(b'...')\n"
        "for r in ikmeta.inspect_many(['a.jpg']):\n"
        "    if isinstance(r, ikmeta.IkmetaError):\n"
        "        print(r.source, r.reason)\n"
        "groups: list[ikmeta.Group] = ikmeta.group([('a.jpg', '2d5ad3936d2e015b')])\n"
        "wrong: str = ikmeta.distance('a', 'b')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},
    )
    assert proc.stdout.count("error:") == 1, proc.stdout
    assert 'caller.py:9: error: Incompatible types in assignment (expression has type "int"' in proc.stdout


# --- sources of every kind --------------------------------------------------------------------


def test_every_kind_of_source_gives_the_same_hash():
    data = Path(HARBOUR).read_bytes()
    expected = ikmeta.phash(HARBOUR)
    with open(HARBOUR, "rb") as handle:
        from_handle = ikmeta.phash(handle)
    kinds = [Path(HARBOUR), data, bytearray(data), memoryview(data), io.BytesIO(data)]
    assert [ikmeta.phash(kind) for kind in kinds] == [expected] * 5
    assert from_handle == expected
    assert ikmeta.phash(Image.open(HARBOUR)) == expected


def test_sources_are_named_in_the_metadata():
    data = Path(HARBOUR).read_bytes()
    assert ikmeta.inspect(Path(HARBOUR))["source"] == HARBOUR
    assert ikmeta.inspect(data)["source"] == "<bytes>"
    assert ikmeta.inspect(io.BytesIO(data))["source"] == "<stream>"
    with open(HARBOUR, "rb") as handle:
        assert ikmeta.inspect(handle)["source"] == HARBOUR
    assert ikmeta.inspect(data) == {**ikmeta.inspect(HARBOUR), "source": "<bytes>"}


@pytest.mark.parametrize(
    ("source", "error", "reason"),
    [
        ("no/such.jpg", ikmeta.SourceError, "no such file"),
        (b"", ikmeta.SourceError, "no bytes"),
        (b"not an image at all", ikmeta.ImageError, "not an image ikmeta can read"),
        (io.BytesIO(b""), ikmeta.SourceError, "empty stream"),
        (io.StringIO("text"), ikmeta.SourceError, "a text stream; open the file in binary mode"),
        (12345, ikmeta.SourceError, "not a source ikmeta reads (int)"),
        ("ftp://example.com/a.jpg", ikmeta.SourceError, "unsupported URL scheme 'ftp'"),
        (open(HARBOUR, encoding="utf-8"), ikmeta.SourceError, "a text stream; open the file in binary mode"),  # noqa: SIM115
        (_closed(), ikmeta.SourceError, "the file is closed"),
    ],
)
def test_bad_sources_raise_with_source_and_reason(source, error, reason):
    with pytest.raises(error) as caught:
        ikmeta.inspect(source)
    assert caught.value.reason.startswith(reason)
    assert str(caught.value) == f"{caught.value.source}: {caught.value.reason}"
    assert isinstance(caught.value, ikmeta.IkmetaError)


def test_max_bytes_refuses_bytes_and_streams_over_it():
    data = Path(HARBOUR).read_bytes()
    for source in (data, io.BytesIO(data)):
        with pytest.raises(ikmeta.SourceError, match="more than 1000 bytes"):
            ikmeta.inspect(source, max_bytes=1000)


def test_pil_images_hash_as_displayed(write):
    turned = write("turned.jpg", scene((320, 240)), exif=_orientation(6), quality=95)
    upright = scene((320, 240)).rotate(-90, expand=True)
    from_file = ikmeta.phash(turned)
    assert ikmeta.distance(ikmeta.phash(Image.open(turned)), from_file) <= 2
    assert ikmeta.distance(ikmeta.phash(upright), from_file) <= 2
    from PIL import ImageOps

    assert ikmeta.phash(ImageOps.exif_transpose(Image.open(turned))) == ikmeta.phash(Image.open(turned))


def test_pil_images_of_odd_modes():
    for mode in ("L", "RGBA", "P", "1", "I;16", "CMYK"):
        assert re.fullmatch(r"[0-9a-f]{16}", ikmeta.phash(scene().convert(mode)))
    with pytest.raises(ikmeta.ImageError, match="no pixels"):
        ikmeta.phash(Image.new("RGB", (0, 0)))


def _orientation(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


# --- many at once -----------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 4])
def test_many_yield_in_order_with_errors_as_values(jobs):
    sources = [HARBOUR if k % 3 else f"missing-{k}.jpg" for k in range(40)]
    results = list(ikmeta.inspect_many(iter(sources), jobs=jobs))
    assert len(results) == 40
    for source, result in zip(sources, results, strict=True):
        if source == HARBOUR:
            assert result["source"] == HARBOUR
        else:
            assert isinstance(result, ikmeta.SourceError) and result.source == source
    hashes = list(ikmeta.phash_many(sources, jobs=jobs))
    assert [h for h in hashes if isinstance(h, str)] == [ikmeta.phash(HARBOUR)] * 26


def test_many_is_lazy():
    """A million sources stream: only a few are in flight before the first is read (four a
    download thread and four a decoding thread)."""
    drawn = []

    def sources():
        for k in range(1_000_000):
            drawn.append(k)
            yield HARBOUR

    first = next(ikmeta.phash_many(sources(), jobs=2))
    assert first == ikmeta.phash(HARBOUR) and len(drawn) <= (16 + 2) * 4 + 2


def test_warnings_go_to_the_handler_or_are_issued(write):
    cut = write("cut.jpg", encode(scene((640, 480)), "JPEG")[:-2000])
    heard = []
    ikmeta.inspect(cut, on_warning=lambda source, message: heard.append((source, message)))
    assert heard == [(cut, "truncated image data: the pHash is of the part that decodes")]
    with pytest.warns(ikmeta.IkmetaWarning, match="cut.jpg: truncated image data"):
        list(ikmeta.phash_many([cut]))


# --- distance ---------------------------------------------------------------------------------


def test_distance_is_imagekits():
    assert ikmeta.distance("2d5ad3936d2e015b", "2d6ed293db36a4fb") == 17
    assert ikmeta.distance("0x2D5AD3936D2E015B", "2d5ad3936d2e015b") == 0


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("zz", "2d5ad3936d2e015b", "not a pHash (not hexadecimal)"),
        ("", "2d5ad3936d2e015b", "not a pHash (empty hash)"),
        ("2d5a", "2d5ad3936d2e015b", "pHashes differ in length: 4 vs 16 hex digits"),
        (None, "2d5a", "not a pHash"),
    ],
)
def test_distance_of_non_hashes_is_a_hash_error(a, b, reason):
    with pytest.raises(ikmeta.HashError) as caught:
        ikmeta.distance(a, b)
    assert caught.value.reason.startswith(reason)
    assert isinstance(caught.value, ValueError)  # as int("zz", 16) would be


# --- duplicates -------------------------------------------------------------------------------


def test_find_duplicates_is_what_dupes_prints(in_examples_parent):
    printed = json.loads(run("dupes", "examples", "--json", "--no-cache", "-q").stdout)
    groups = ikmeta.find_duplicates(["examples"], cache=False)
    assert [g.as_object() for g in groups] == printed


def test_find_duplicates_reports_errors_progress_and_uses_the_cache(in_examples_parent):
    Path("examples/broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    errors, progress = [], []
    cache = in_examples_parent / "hashes.sqlite3"
    groups = ikmeta.find_duplicates(
        [Path("examples")],
        cache=cache,
        on_error=errors.append,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert len(groups) == 2 and cache.is_file()  # the harbour's copies, the clip's
    assert [e.source for e in errors] == ["examples/broken.jpg"]
    assert progress == [(k, 6) for k in range(7)]  # 3 images, 2 clips, broken.jpg
    with pytest.warns(ikmeta.IkmetaWarning, match="broken.jpg"):
        again = ikmeta.find_duplicates(["examples"], cache=cache)
    assert [g.as_object() for g in again] == [g.as_object() for g in groups]


def test_group_takes_records_pairs_and_items_and_skips_errors(in_examples_parent):
    sources = ["examples/harbour.jpg", "examples/harbour_small.jpg", "examples/missing.jpg"]
    records = list(ikmeta.hash_records(sources))
    assert isinstance(records[2], ikmeta.SourceError)
    from_records = ikmeta.group(records)
    listed = "\n".join(json.dumps(r) for r in records[:2])
    printed = json.loads(run("dupes", "--hashes", "-", "--json", "-q", stdin=listed).stdout)
    assert [g.as_object() for g in from_records] == printed
    pairs = [(r["source"], r["pHash"]) for r in records[:2]]
    from_pairs = ikmeta.group(pairs + pairs)  # a source listed again is one image
    assert [len(g.members) for g in from_pairs] == [2]
    items = [g.reference for g in from_records] + [m for m, _ in from_records[0].members[1:]]
    assert [g.as_object() for g in ikmeta.group(items)] == printed


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"source": "a.jpg"}, 'a record needs "pHash" and "source" strings'),
        ({"source": "a.jpg", "pHash": "xyz"}, "not hexadecimal"),
        ({"source": "a.jpg", "pHash": "2d5a"}, "pHash '2d5a' has 4 hex digits, not 16"),
        (("a.jpg",), "not a record, a (source, pHash) pair nor an Item"),
        (42, "not a record, a (source, pHash) pair nor an Item"),
    ],
)
def test_group_refuses_what_is_not_a_record(value, reason):
    with pytest.raises(ikmeta.HashError, match=re.escape(reason)):
        ikmeta.group([value])


@pytest.mark.parametrize(("option", "value"), [("linkage", "chained"), ("geometry", "rotated")])
def test_group_options_are_checked(option, value):
    with pytest.raises(ValueError, match=option):
        ikmeta.group([], **{option: value})


def test_no_warning_leaks_from_a_clean_run(in_examples_parent):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ikmeta.find_duplicates(["examples"], cache=False)


def test_one_source_where_a_list_is_wanted_is_a_type_error():
    for call in (ikmeta.inspect_many, ikmeta.phash_many, ikmeta.hash_records, ikmeta.find_duplicates):
        with pytest.raises(TypeError, match="wrap it in"):
            list(call("examples"))


@pytest.mark.parametrize(
    ("limits", "error", "message"),
    [
        ({"timeout": 0}, ValueError, "timeout must be over 0.0"),
        ({"timeout": float("nan")}, ValueError, "timeout must be over"),
        ({"timeout": "5"}, TypeError, "timeout must be a number, not str"),
        ({"retries": None}, TypeError, "retries must be an integer"),
        ({"retries": 11}, ValueError, "retries must be at least 0 and at most 10"),
        ({"connections": 0}, ValueError, "connections must be at least 1"),
        ({"max_bytes": 1.5}, TypeError, "max_bytes must be an integer"),
        ({"headers": "abc"}, TypeError, "headers must be a mapping"),
        ({"headers": {"X": "a\r\nB: c"}}, ValueError, "holds a line break"),
        ({"headers": {"X": "€"}}, ValueError, "characters HTTP cannot carry"),
        ({"storage_options": ["anon"]}, TypeError, "storage_options must be a mapping"),
    ],
)
def test_limits_are_checked(limits, error, message):
    with pytest.raises(error, match=re.escape(message)):
        ikmeta.phash(HARBOUR, **limits)


def test_a_huge_memoryview_is_refused_before_it_is_copied():
    view = memoryview(bytearray(50_000_000))
    with pytest.raises(ikmeta.SourceError, match="more than 1000 bytes"):
        ikmeta.phash(view, max_bytes=1000)


def test_phash_hears_warnings_too(write):
    cut = write("cut.jpg", encode(scene((640, 480)), "JPEG")[:-2000])
    heard = []
    ikmeta.phash(cut, on_warning=lambda source, message: heard.append(message))
    assert heard == ["truncated image data: the pHash is of the part that decodes"]


def test_inspect_records_with_unsound_sizes_are_grouped_without_them(tmp_path):
    odd = {"exif": {"image": {"Orientation": 6}}, "pHash": "2d5ad3936d2e015b"}
    records = [
        {**odd, "source": "a.jpg", "width": "wide", "height": 10},
        {
            **odd,
            "source": "b.jpg",
            "width": float("nan"),
            "height": float("inf"),
            "pHash": "2d5ad3936d2e015f",
        },
    ]
    groups = ikmeta.group(records)
    assert [(item.source, item.width, item.height) for item, _ in groups[0].members] == [
        ("a.jpg", 10, None),
        ("b.jpg", None, None),
    ]
    listed = tmp_path / "odd.ndjson"
    listed.write_text(
        "\n".join(json.dumps(r) for r in records).replace("NaN", '"NaN"').replace("Infinity", "1e999")
    )
    result = run("dupes", "--hashes", str(listed), "--json", "--no-cache", "-q")
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 1
