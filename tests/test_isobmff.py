"""HEIF/AVIF boxes: the ``iloc`` parser, and files cut short inside their image data.

A HEIC cut short still opens (its header boxes are whole) and its thumbnail, early in the
file, still decodes; the primary image's data is checked against the file, so that the
cut is reported and the pHash comes from what actually decodes (issue 9, item 5).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pillow_heif
import pytest

from ikmeta.image import isobmff
from ikmeta.image.isobmff import Extent, IlocError, Location, parse_iloc

from .conftest import encode, run, scene

WARNING = "warning: truncated image data: the pHash is of the part that decodes"


@pytest.fixture(scope="module", autouse=True)
def heif_writer():
    pillow_heif.register_heif_opener()


# --- boxes made by hand -----------------------------------------------------------------------


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, payload: bytes, flags: int = 0) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def iloc(entries, version: int = 1, sizes: tuple[int, int, int, int] = (4, 4, 0, 0)) -> bytes:
    """An ``iloc`` box. ``entries``: (item ID, construction method, base_offset, extents), an
    extent being (offset, length) or (index, offset, length); an entry of five values ends with
    its data_reference_index. ``sizes``: offset_size, length_size, base_offset_size, index_size
    (written in the header as given; index values only from version 1)."""
    offset_size, length_size, base_size, index_size = sizes
    id_format = ">H" if version < 2 else ">I"

    def number(value: int, size: int) -> bytes:
        return value.to_bytes(size, "big") if size else b""

    out = bytes([offset_size << 4 | length_size, base_size << 4 | index_size])
    out += struct.pack(id_format, len(entries))
    for item, method, base, extents, *reference in entries:
        out += struct.pack(id_format, item)
        if version >= 1:
            out += struct.pack(">H", method)
        out += struct.pack(">H", reference[0] if reference else 0)
        out += number(base, base_size) + struct.pack(">H", len(extents))
        for extent in extents:
            index, offset, length = extent if len(extent) == 3 else (0, *extent)
            out += (number(index, index_size) if version >= 1 else b"") + number(offset, offset_size)
            out += number(length, length_size)
    return full_box(b"iloc", version, out)


def parse(iloc_box: bytes) -> dict[int, Location]:
    return parse_iloc(iloc_box, 8, len(iloc_box))


def infe(item: int, kind: bytes) -> bytes:
    return full_box(b"infe", 2, struct.pack(">HH4s", item, 0, kind) + b"\x00")


def iinf(types: dict[int, bytes]) -> bytes:
    return full_box(
        b"iinf", 0, struct.pack(">H", len(types)) + b"".join(infe(i, k) for i, k in types.items())
    )


def iref(kind: bytes, source: int, targets: list[int]) -> bytes:
    return box(
        kind, struct.pack(">HH", source, len(targets)) + b"".join(struct.pack(">H", t) for t in targets)
    )


FTYP = box(b"ftyp", b"heic" + bytes(4) + b"mif1heic")


def heif_file(
    tiles: list[bytes], grid: bool = True, thumbnail: bytes | None = None, grid_in_idat: bool = True
) -> bytes:
    """A HEIF file of boxes only (its 'HEVC' data is filler): a grid primary item 100 whose
    ``dimg`` tiles are items 1..n (or, not ``grid``, item 1 alone as the primary), its grid
    description in ``idat`` (or in mdat), and item 200 a thumbnail whose data comes first."""
    primary = 100 if grid else 1
    types = {i + 1: b"hvc1" for i in range(len(tiles) if grid else 1)}
    grid_data = bytes([0, 0, 0, len(tiles) - 1]) + struct.pack(">HH", 64 * len(tiles), 64)
    pieces: dict[int, bytes] = {}
    if thumbnail is not None:
        types[200] = b"hvc1"
        pieces[200] = thumbnail
    pieces.update({i + 1: tile for i, tile in enumerate(tiles if grid else tiles[:1])})
    if grid:
        types[100] = b"grid"
        if not grid_in_idat:
            pieces[100] = grid_data
    references = iref(b"dimg", 100, list(range(1, len(tiles) + 1))) if grid else b""
    references += iref(b"thmb", 200, [primary]) if thumbnail is not None else b""

    def head(offsets: dict[int, int]) -> bytes:
        entries = [(i, 0, 0, [(offsets.get(i, 0), len(piece))]) for i, piece in pieces.items()]
        if grid and grid_in_idat:
            entries.append((100, 1, 0, [(0, len(grid_data))]))
        children = full_box(b"pitm", 0, struct.pack(">H", primary)) + iinf(types)
        children += full_box(b"iref", 0, references) + iloc(entries)
        children += box(b"idat", grid_data) if grid and grid_in_idat else b""
        return FTYP + full_box(b"meta", 0, children)

    offsets, at = {}, len(head({})) + 8
    for item, piece in pieces.items():
        offsets[item] = at
        at += len(piece)
    return head(offsets) + box(b"mdat", b"".join(pieces.values()))


# --- the iloc parser --------------------------------------------------------------------------


def test_iloc_version_0():
    locations = parse(iloc([(1, 0, 0, [(100, 50)]), (2, 0, 0, [(150, 7), (300, 9)])], version=0))
    assert locations == {
        1: Location(0, 0, 0, (Extent(100, 50),)),
        2: Location(0, 0, 0, (Extent(150, 7), Extent(300, 9))),
    }
    assert locations[2].spans() == [(150, 157), (300, 309)]


def test_iloc_version_0_ignores_the_reserved_index_size():
    assert parse(iloc([(1, 0, 0, [(10, 5)])], version=0, sizes=(4, 4, 0, 15))) == {
        1: Location(0, 0, 0, (Extent(10, 5),))
    }


def test_iloc_version_1_construction_methods_base_offsets_and_indices():
    entries = [
        (1, 1, 16, [(3, 0, 8)]),  # in idat
        (2, 0, 2**33, [(5, 2**32 + 1, 10), (6, 20, 0)]),  # the second extent runs to the end
        (3, 2, 0, [(1, 0, 4)]),  # built from another item's data
        (4, 0, 0, [(0, 9, 1)], 1),  # in another file
    ]
    locations = parse(iloc(entries, version=1, sizes=(8, 4, 8, 4)))
    assert locations[1] == Location(1, 0, 16, (Extent(0, 8, 3),))
    assert locations[2] == Location(0, 0, 2**33, (Extent(2**32 + 1, 10, 5), Extent(20, 0, 6)))
    assert locations[2].spans() == [(2**33 + 2**32 + 1, 2**33 + 2**32 + 11), (2**33 + 20, None)]
    assert locations[3].construction_method == 2
    assert locations[4].data_reference_index == 1


def test_iloc_version_1_keeps_only_the_method_bits():
    data = bytearray(iloc([(1, 1, 0, [(0, 8)])]))
    data[8 + 8 + 2] = 0xFF  # the 12 reserved bits before construction_method
    assert parse(bytes(data))[1].construction_method == 1


def test_iloc_version_2_has_32_bit_item_ids():
    locations = parse(iloc([(70000, 0, 0, [(1000, 20)]), (2, 1, 0, [(0, 4)])], version=2))
    assert locations[70000] == Location(0, 0, 0, (Extent(1000, 20),))
    assert locations[2].construction_method == 1


def test_iloc_sizes_of_zero_mean_no_field():
    locations = parse(iloc([(1, 0, 0, [(7, 9)])], sizes=(0, 0, 0, 0)))  # no field written: 0, to the end
    assert locations[1] == Location(0, 0, 0, (Extent(0, 0),))
    assert locations[1].spans() == [(0, None)]


def test_iloc_an_item_listed_twice_keeps_its_first_entry():
    assert parse(iloc([(1, 0, 0, [(10, 5)]), (1, 0, 0, [(99, 5)])]))[1].extents == (Extent(10, 5),)


@pytest.mark.parametrize(
    ("built", "message"),
    [
        (iloc([], version=3), "iloc version 3"),
        (iloc([], sizes=(2, 4, 0, 0)), "offset_size 2"),
        (iloc([], sizes=(4, 1, 0, 0)), "length_size 1"),
        (iloc([], sizes=(4, 4, 16 - 1, 0)), "base_offset_size 15"),
        (iloc([], version=1, sizes=(4, 4, 0, 2)), "index_size 2"),
        (iloc([], version=2, sizes=(4, 4, 4, 12)), "index_size 12"),
    ],
)
def test_iloc_refuses_versions_and_sizes_the_standard_does_not_have(built, message):
    with pytest.raises(IlocError, match=message):
        parse(built)


def test_iloc_entries_past_the_end_of_the_box():
    whole = iloc([(1, 0, 0, [(10, 5), (20, 5)]), (2, 0, 0, [(30, 5)])])
    assert len(parse(whole)) == 2
    for cut in (1, 4, 9, 14, len(whole) - 12):  # inside an extent, an entry's header, the count
        with pytest.raises(IlocError, match="inside an entry"):
            parse_iloc(whole, 8, len(whole) - cut)
    more = bytearray(whole)
    more[8 + 6 + 1] = 3  # three entries claimed, two there
    with pytest.raises(IlocError):
        parse(bytes(more))
    with pytest.raises(IlocError):
        parse_iloc(whole, 8, 12)  # not even the field sizes


# --- the primary image's data against the file ------------------------------------------------


def test_a_whole_grid_file_misses_nothing():
    data = heif_file([b"a" * 100, b"b" * 200, b"c" * 300], thumbnail=b"t" * 50)
    items = isobmff.read_items(data)
    assert items is not None and items.primary == 100 and items.types[100] == b"grid"
    assert items.image_items(100) == [100, 1, 2, 3]
    assert items.references[b"thmb"] == {200: [100]}
    assert isobmff.missing_image_data(data) is None


@pytest.mark.parametrize("grid_in_idat", [True, False])
def test_a_grid_cut_inside_its_tiles(grid_in_idat):
    data = heif_file([b"a" * 100, b"b" * 200, b"c" * 300], thumbnail=b"t" * 50, grid_in_idat=grid_in_idat)
    for cut in (1, 299, 300, 301, 550, 600):
        assert isobmff.missing_image_data(data[:-cut]) == (
            f"the image data runs to byte {len(data)}, the file has {len(data) - cut}"
        )


def test_a_file_cut_inside_its_header_boxes_cannot_say():
    data = heif_file([b"a" * 100, b"b" * 200])
    meta_end = data.index(b"mdat") - 4
    for cut in (10, 40, meta_end - 1):
        assert isobmff.missing_image_data(data[:cut]) is None


def test_data_after_the_primary_image_is_not_its_data():
    data = heif_file([b"a" * 100], grid=False) + box(b"free", b"x" * 100)
    assert isobmff.missing_image_data(data[:-50]) is None
    assert isobmff.missing_image_data(data[:-108]) is None  # mdat ends exactly there
    assert isobmff.missing_image_data(data[:-109]) is not None


def test_a_single_image_cut_short():
    data = heif_file([b"a" * 100], grid=False, thumbnail=b"t" * 50)
    assert isobmff.missing_image_data(data) is None
    assert (
        isobmff.missing_image_data(data[:-1])
        == f"the image data runs to byte {len(data)}, the file has {len(data) - 1}"
    )
    # The thumbnail, whose data comes first, is whole: what the file still decodes, but not its image.
    assert isobmff.missing_image_data(data[:-100]) is not None


def test_only_the_primary_item_and_its_tiles_count():
    data = heif_file([b"a" * 100, b"b" * 100])
    items = isobmff.read_items(data)
    assert items is not None
    size = len(data)
    items.locations[7] = Location(0, 0, 0, (Extent(size + 1000, 10),))  # an item nothing refers to
    assert items.missing(size, items.image_items(100)) is None
    assert items.missing(size, [7]) == f"the image data runs to byte {size + 1010}, the file has {size}"
    items.locations[2] = Location(0, 0, size - 5, (Extent(0, 5),))  # base_offset counts
    assert items.missing(size, items.image_items(100)) is None
    items.locations[2] = Location(0, 0, size - 5, (Extent(1, 5),))
    assert items.missing(size, items.image_items(100)) is not None
    items.locations[2] = Location(0, 0, 0, (Extent(size, 0),))  # to the end, from past the end
    assert items.missing(size, items.image_items(100)) is not None
    items.locations[2] = Location(0, 1, 0, (Extent(size * 2, 5),))  # in another file: cannot say
    assert items.missing(size, items.image_items(100)) is None
    items.locations[2] = Location(2, 0, 0, (Extent(size * 2, 5),))  # from other items: cannot say
    assert items.missing(size, items.image_items(100)) is None


def test_idat_extents_are_checked_against_the_idat_box():
    items = isobmff.read_items(heif_file([b"a" * 10, b"b" * 10]))
    assert items is not None and items.idat is not None
    assert items.idat[1] - items.idat[0] == 8
    assert items.missing(10**6, [100]) is None
    items.locations[100] = Location(1, 0, 4, (Extent(0, 5),))
    assert items.missing(10**6, [100]) == "item 100's data runs past its idat box (8 bytes)"
    items.idat = None
    items.locations[100] = Location(1, 0, 0, (Extent(0, 1),))
    assert items.missing(10**6, [100]) == "item 100's data runs past its idat box (0 bytes)"


def test_derived_items_that_refer_to_themselves_end():
    items = isobmff.read_items(heif_file([b"a" * 10]))
    assert items is not None
    items.references[b"dimg"] = {100: [1, 100], 1: [100]}
    assert items.image_items(100) == [100, 1]


def test_a_malformed_iloc_cannot_say():
    data = bytearray(heif_file([b"a" * 10], grid=False))
    at = data.index(b"iloc") + 4
    data[at] = 7  # iloc version 7
    assert isobmff.missing_image_data(bytes(data)[:-1]) is None


def test_an_exif_item_in_idat_is_read():
    tiff = b"MM\x00*\x00\x00\x00\x08" + bytes(6)
    payload = struct.pack(">I", 6) + b"Exif\x00\x00" + tiff
    children = full_box(b"pitm", 0, struct.pack(">H", 1)) + iinf({1: b"hvc1", 2: b"Exif"})
    children += iloc([(1, 0, 0, [(0, 0)]), (2, 1, 0, [(0, 6), (6, len(payload) - 6)])]) + box(
        b"idat", payload
    )
    assert isobmff.exif_block(FTYP + full_box(b"meta", 0, children)) == tiff


# --- files cut short, through the command line ------------------------------------------------


def thumbnail_first(data: bytes) -> bytes:
    """A HEIF file as libheif writes it (ftyp, meta, mdat; the thumbnail's data last) with the
    thumbnail's data moved to the start of mdat, where Apple's cameras put it."""
    top = list(isobmff.boxes(data))
    assert [kind for kind, _, _ in top] == [b"ftyp", b"meta", b"mdat"]
    items = isobmff.read_items(data)
    assert items is not None and b"thmb" in items.references
    (_, _, ftyp_end), (_, meta_start, meta_end) = top[0], top[1]
    thumbnails = list(items.references[b"thmb"])
    in_file = [i for i in thumbnails + list(items.locations) if items.locations[i].construction_method == 0]
    pieces = {i: items.item_data(data, i) or b"" for i in dict.fromkeys(in_file)}
    kept = b""
    for kind, start, end in isobmff.boxes(data, meta_start + 4, meta_end):
        assert data[start - 4 : start] == kind
        kept += data[start - 8 : end] if kind != b"iloc" else b""

    def head(offsets: dict[int, int]) -> bytes:
        entries = [
            (i, 0, 0, [(offsets.get(i, 0), len(pieces[i]))])
            if i in pieces
            else (i, loc.construction_method, loc.base_offset, [(e.offset, e.length) for e in loc.extents])
            for i, loc in items.locations.items()
        ]
        return data[:ftyp_end] + full_box(b"meta", 0, kept + iloc(entries, sizes=(4, 4, 4, 0)))

    offsets, at = {}, len(head({})) + 8
    for item, piece in pieces.items():
        offsets[item] = at
        at += len(piece)
    return head(offsets) + box(b"mdat", b"".join(pieces.values()))


@pytest.fixture(scope="module")
def grid_heic() -> bytes:
    """A 640x480 HEIC of 5x4 tiles with a 256x192 thumbnail whose data comes first, as a camera's."""
    data = thumbnail_first(
        encode(scene((640, 480), seed=3), "HEIF", quality=80, tile_size=128, thumbnails=[256])
    )
    items = isobmff.read_items(data)
    assert items is not None and items.primary is not None and items.types[items.primary] == b"grid"
    assert len(items.image_items(items.primary)) == 21
    return data


def tile_data(data: bytes) -> tuple[int, int]:
    """Where the primary image's tiles are in the file: (start of the second tile, end of the last)."""
    items = isobmff.read_items(data)
    assert items is not None and items.primary is not None
    spans = sorted(span for i in items.image_items(items.primary)[1:] for span in items.locations[i].spans())
    return spans[1][0], max(end or 0 for _, end in spans)


def test_the_made_grid_heic_hashes_from_its_thumbnail(grid_heic, tmp_path):
    path = tmp_path / "whole.heic"
    path.write_bytes(grid_heic)
    result = run("inspect", str(path))
    assert result.exit_code == 0 and result.stderr == ""
    assert (json.loads(result.stdout)["width"], json.loads(result.stdout)["height"]) == (640, 480)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_a_grid_heic_cut_inside_its_tiles_is_hashed_from_what_decodes(grid_heic, tmp_path, fraction):
    whole = tmp_path / "whole.heic"
    whole.write_bytes(grid_heic)
    first, last = tile_data(grid_heic)
    cut = tmp_path / "cut.heic"
    cut.write_bytes(grid_heic[: first + int((last - first) * fraction)])
    result = run("inspect", str(cut))
    assert result.exit_code == 0
    assert result.stderr == f"ikmeta: {cut}: {WARNING}\n"
    full_hash = json.loads(run("inspect", str(whole)).stdout)["pHash"]
    assert json.loads(result.stdout)["pHash"] != full_hash  # not the thumbnail's: the tiles that decode
    result = run("phash", str(cut))
    assert result.exit_code == 0
    assert result.stderr == f"ikmeta: {cut}: {WARNING}\n"


def test_a_heic_cut_one_byte_short_is_still_truncated(grid_heic, tmp_path):
    cut = tmp_path / "cut.heic"
    cut.write_bytes(grid_heic[: tile_data(grid_heic)[1] - 1])
    result = run("phash", str(cut))
    assert result.exit_code == 0
    assert result.stderr == f"ikmeta: {cut}: {WARNING}\n"


def test_a_heic_cut_after_its_image_data_is_whole(grid_heic, tmp_path):
    path = tmp_path / "padded.heic"
    path.write_bytes(grid_heic + box(b"free", bytes(100)))
    cut = tmp_path / "cut.heic"
    cut.write_bytes(grid_heic + box(b"free", bytes(100))[:50])
    assert run("phash", str(cut)).stdout.split()[0] == run("phash", str(path)).stdout.split()[0]
    assert run("phash", str(cut)).stderr == ""


def test_a_heic_whose_thumbnail_is_cut_hashes_its_whole_image_and_warns(tmp_path):
    data = encode(scene((640, 480), seed=3), "HEIF", quality=80, tile_size=128, thumbnails=[256])
    assert tile_data(data)[1] < len(data)  # libheif writes the thumbnail's data last
    whole = tmp_path / "whole.heic"
    whole.write_bytes(data)
    cut = tmp_path / "cut.heic"
    cut.write_bytes(data[: tile_data(data)[1] + 10])
    result = run("phash", str(cut))
    assert result.exit_code == 0 and result.stderr == f"ikmeta: {cut}: {WARNING}\n"
    from_thumbnail = run("phash", str(whole)).stdout[:16]  # the whole file hashes its thumbnail
    assert bin(int(result.stdout[:16], 16) ^ int(from_thumbnail, 16)).count("1") <= 4


def test_a_heic_with_no_tile_that_decodes_is_an_error(grid_heic, tmp_path):
    first, _ = tile_data(grid_heic)
    cut = tmp_path / "cut.heic"
    cut.write_bytes(grid_heic[: first - 100])  # the thumbnail whole, the first tile cut
    result = run("phash", str(cut))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"ikmeta: {cut}: truncated image data (the image data runs to byte ")
    assert result.stdout == ""


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_single_image_cut_short_is_an_error(tmp_path, fmt):
    data = encode(scene((320, 240), seed=1), fmt, quality=80)
    mdat = data.index(b"mdat") + 4
    for length in (len(data) - 1, (mdat + len(data)) // 2, mdat + 1):
        cut = tmp_path / f"cut.{fmt.lower()}"
        cut.write_bytes(data[:length])
        result = run("inspect", str(cut))
        assert result.exit_code == 1
        assert result.stderr == (
            f"ikmeta: {cut}: truncated image data (the image data runs to byte {len(data)}, the file has {length})\n"
        )


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_file_cut_inside_its_header_boxes_is_a_header_error(tmp_path, fmt):
    data = encode(scene((320, 240), seed=1), fmt, quality=80)
    short = "heic" if fmt == "HEIF" else "avif"
    for length in (30, data.index(b"mdat") - 20):
        cut = tmp_path / "cut"
        cut.write_bytes(data[:length])
        result = run("phash", str(cut))
        assert result.exit_code == 1
        assert result.stderr.startswith(f"ikmeta: {cut}: corrupt or truncated {short} header")


# --- the corpus -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iphone(corpus: Path) -> bytes:
    return (corpus / "heic" / "mobile" / "iphone_13_pro_max.HEIC").read_bytes()


def test_corpus_heic_tiles_and_thumbnail(iphone):
    items = isobmff.read_items(iphone)
    assert items is not None and items.primary is not None and items.types[items.primary] == b"grid"
    assert len(items.image_items(items.primary)) == 49  # the grid and its 48 tiles
    thumbnail = next(iter(items.references[b"thmb"]))
    assert max(e or 0 for _, e in items.locations[thumbnail].spans()) < tile_data(iphone)[0]
    assert isobmff.missing_image_data(iphone) is None


@pytest.mark.parametrize("length", [100_000, 500_000, 1_000_000, 2_000_000, 2_100_000, 2_182_706])
def test_corpus_heic_cut_short_warns(iphone, tmp_path, length):
    cut = tmp_path / "cut.heic"
    cut.write_bytes(iphone[:length])
    result = run("inspect", str(cut))
    assert result.exit_code == 0
    assert result.stderr == f"ikmeta: {cut}: {WARNING}\n"
    if length <= 1_000_000:  # most tiles gone: not the whole image's hash, which the thumbnail gives
        assert json.loads(result.stdout)["pHash"] != "b197d089c6d39e68"


def test_corpus_heic_cut_before_a_tile_decodes_is_an_error(iphone, tmp_path):
    cut = tmp_path / "cut.heic"
    cut.write_bytes(iphone[:30_000])  # the thumbnail whole (it ends at 28345), the first tile cut
    result = run("inspect", str(cut))
    assert result.exit_code == 1
    assert result.stderr == (
        f"ikmeta: {cut}: truncated image data (the image data runs to byte 2084929, the file has 30000)\n"
    )


def test_corpus_heic_cut_inside_its_header_boxes(iphone, tmp_path):
    cut = tmp_path / "cut.heic"
    cut.write_bytes(iphone[:3000])  # meta ends at 3749
    result = run("inspect", str(cut))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"ikmeta: {cut}: corrupt or truncated heic header")


def test_corpus_heic_cut_after_the_primary_image_still_warns(iphone):
    """Cut in the depth or gain map stored after the image: the image decodes whole, and the
    file is still reported as truncated (never silently the intact file's answer)."""
    assert isobmff.missing_image_data(iphone[:2_100_000]) is None
    assert isobmff.missing_data(iphone[:2_100_000]) == (
        None,
        "the image data runs to byte 2182707, the file has 2100000",
    )
    assert isobmff.missing_data(iphone) == (None, None)
