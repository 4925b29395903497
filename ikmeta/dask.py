"""Hashing and grouping on a Dask cluster, for libraries beyond one machine
(``pip install 'ikmeta[dask]'``).

    >>> from dask.distributed import Client
    >>> client = Client("tcp://scheduler:8786")  # doctest: +SKIP
    >>> table = ikmeta.dask.hash_table(["s3://photos/2024/"])  # doctest: +SKIP
    >>> table.to_parquet("s3://photos-index/hashes/")  # doctest: +SKIP
    >>> table = dask.dataframe.read_parquet("s3://photos-index/hashes/")  # doctest: +SKIP
    >>> ikmeta.dask.find_duplicates(table, 6).compute()  # doctest: +SKIP

Hashing is a map: :func:`hash_table` lists the sources on the client (folders walked,
prefixes listed, or the names given) and hashes them a partition at a time on the workers,
each row the record of ``ikmeta phash --ndjson`` (``source``, ``pHash``, the other views the
matcher uses, what ranks the copies) plus ``error``.

Grouping (:func:`find_groups`, and :func:`find_duplicates` as a table) finds exactly the
groups ``ikmeta dupes --geometry exact`` finds on one machine for the same records:

1. identical hashes collapse: the near-pair search runs over distinct hashes only, so a
   hash copied 20,000 times costs what one does;
2. a banded join finds every pair of distinct hashes within ``max_distance``: the 64 bits
   split into ``max_distance + 1`` bands, so two hashes that close agree exactly on at
   least one band (pigeonhole). Each hash goes to its bucket of each band, shuffled by
   (band, value); inside each bucket the pairs come from :func:`ikmeta.dupes.neighbors.near_pairs`
   (the single machine's kernel), and a pair is kept in the first band it agrees on only, so
   no pair is found twice;
3. only the pairs (two 64-bit hashes each) and the records of the images that have a near
   or identical copy come back to the client, which groups them with
   :func:`ikmeta.dupes.group` (its best-copy rule and both linkages). An image with no near
   copy is in no group, and leaving it out changes no other image's group.

The client therefore holds the near pairs and the images in groups, not the table: at 10%
duplicates, 100 million images send it about 20 million records.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .dupes import LINKAGES, Group
from .errors import HashError, IkmetaError, SourceError
from .hashes import FLAT_HASHES, substring_bounds
from .sources.base import STDIN, is_remote

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd

# The hash table's columns: the record of `ikmeta phash --ndjson`, and error. Every column is
# text or an integer, so that every partition has the same Parquet types: the lists of hashes
# (turned, windows) are the hashes with a space between, and inner (the picture inside a plain
# border) and provenance (what ranks the copy: ikmeta.image.provenance) their JSON objects.
TEXT_COLUMNS = (
    "source",
    "pHash",
    "turned",
    "inner",
    "windows",
    "format",
    "camera",
    "captured",
    "flat",
    "provenance",
    "damage",
    "error",
)
JSON_COLUMNS = ("inner", "provenance")
NUMBER_COLUMNS = ("width", "height", "size", "quality", "mtimeNs")
LIST_COLUMNS = ("turned", "windows")
COLUMNS = (
    "source",
    "pHash",
    "turned",
    "inner",
    "windows",
    "width",
    "height",
    "size",
    "format",
    "quality",
    "camera",
    "captured",
    "mtimeNs",
    "flat",
    "provenance",
    "damage",
    "error",
)
PARTITION_SIZE = 500  # sources hashed in one task
NO_VIDEOS = (
    "a video: hash tables hold images only (a video's fingerprint is many pHashes: 'ikmeta dupes' groups it)"
)
CONNECT_TIMEOUT = "10s"  # how long a scheduler's address is tried before "cannot reach"
GROUP_PARTITION_ROWS = 100_000  # rows a partition of find_duplicates' table


def hash_table(
    sources: Iterable[str | os.PathLike[str] | IkmetaError],
    *,
    partition_size: int = PARTITION_SIZE,
    hidden: bool = False,
    **limits: Any,
) -> dd.DataFrame:
    """A Dask DataFrame with a row per image of ``sources`` (paths, folders, URLs, stored
    objects and prefixes: listed here, hashed on the workers ``partition_size`` at a time):
    the columns of :data:`COLUMNS`, ``error`` the reason an image could not be hashed (its
    other columns then empty). ``limits`` are :func:`ikmeta.hash_records`' (``timeout``,
    ``storage_options``...). Nothing runs until the table is computed or written
    (``table.to_parquet("s3://bucket/hashes/")``).

        >>> table = ikmeta.dask.hash_table(["examples"])
        >>> table[["source", "pHash"]].compute().iloc[1].tolist()
        ['examples/harbour.jpg', '92b66d4de61212ed']
    """
    import dask.dataframe as dd

    from .api import _fetch
    from .sources.walk import image_paths

    if partition_size < 1:
        raise ValueError("partition_size must be at least 1")
    fetch = _fetch(limits)  # type: ignore[arg-type]  # checks them here, on the client
    names = [_name(s) for s in sources]
    if STDIN in names:
        raise ValueError("'-' (standard input) cannot be hashed on a cluster: the workers have their own")
    listed: list[tuple[str, str] | tuple[str, str, str]] = [  # plain data, for the task graph
        _listing_error(s) if isinstance(s, IkmetaError) else _listed(s)
        for s in image_paths(names, hidden=hidden, fetch=fetch)
    ]
    chunks = [listed[k : k + partition_size] for k in range(0, len(listed), partition_size)] or [[]]
    return dd.from_map(_hash_partition, chunks, limits=limits, meta=_frame([]), enforce_metadata=False)


def write_table(
    table: dd.DataFrame, path: str, *, storage_options: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Write a hash table as Parquet to ``path`` (a folder, or a prefix in a store), and give
    back the ``source`` and ``error`` of every row written (what ``phash --dask`` reports).

        >>> ikmeta.dask.write_table(ikmeta.dask.hash_table(["examples"]), "hashes")["error"].isna().all()
        np.True_
    """
    import dask.dataframe as dd
    import fsspec  # type: ignore[import-untyped]

    fs, where = fsspec.core.url_to_fs(path, **(storage_options or {}))
    if fs.exists(where) and (not fs.isdir(where) or fs.ls(where)):
        raise SourceError(path, "exists and is not an empty folder: the table needs a new one")
    table.to_parquet(path, write_index=False, storage_options=storage_options or None)
    return dd.read_parquet(
        path, columns=["source", "error"], storage_options=storage_options or None
    ).compute()


def _name(source: Any) -> str | IkmetaError:
    if isinstance(source, IkmetaError):
        return source
    name: str = os.fspath(source)
    return name


def _listed(source: str) -> tuple[str, str]:
    """(name as listed, what a worker reads): a path on this machine as an absolute path (a
    worker's current folder is its own), anything else as it is."""
    return source, source if is_remote(source) else os.path.abspath(source)


def _listing_error(error: IkmetaError) -> tuple[str, str, str]:
    row = _error_row(error)
    return row["source"], "", row["error"]


def _hash_partition(chunk: Sequence[tuple[str, ...]], limits: dict[str, Any]) -> pd.DataFrame:
    """The rows of one partition: each source hashed (in order), or its error; each named
    as it was listed."""
    from .api import hash_records

    def read() -> Iterator[str | IkmetaError]:
        for entry in chunk:
            yield SourceError(entry[0], entry[2]) if len(entry) == 3 else entry[1]

    rows = []
    outcomes = hash_records(read(), jobs=1, on_warning=lambda source, message: None, **limits)
    for entry, outcome in zip(chunk, outcomes, strict=True):
        if isinstance(outcome, IkmetaError):
            rows.append({"source": entry[0], "error": getattr(outcome, "reason", str(outcome))})
        elif outcome.get("frames") is not None:  # its one pHash would be grouped with images'
            rows.append({"source": entry[0], "error": NO_VIDEOS})
        else:
            rows.append(_row({**outcome, "source": entry[0]}))
    return _frame([_storable(row) for row in rows])


def _storable(row: dict[str, Any]) -> dict[str, Any]:
    """A row Parquet can hold: a file name that is not UTF-8 (its bytes held through
    surrogateescape) becomes an error row, named with its odd bytes escaped."""
    try:
        row["source"].encode("utf-8")
    except UnicodeEncodeError:
        shown = row["source"].encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return {"source": shown, "error": "the file name is not UTF-8: a Parquet table cannot hold it"}
    return row


def _row(record: dict[str, Any]) -> dict[str, Any]:
    """A record of ``phash --ndjson`` as a row of the table."""
    row = {**record, "error": None}
    for column in JSON_COLUMNS:
        value = record.get(column)
        row[column] = None if value is None else json.dumps(value, separators=(",", ":"))
    for column in LIST_COLUMNS:
        hashes = record.get(column)
        row[column] = None if hashes is None else " ".join(hashes)
    return row


def _error_row(error: IkmetaError) -> dict[str, Any]:
    return {
        "source": getattr(error, "source", None) or str(error),
        "error": getattr(error, "reason", str(error)),
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a DataFrame of :data:`COLUMNS`, with the same dtypes whatever the rows hold."""
    import pandas as pd

    def column(name: str) -> Any:  # integers straight to Int64: through float64, 19 digits would not survive
        values = [row.get(name) for row in rows]
        return pd.array(values, dtype="Int64") if name in NUMBER_COLUMNS else pd.array(values, dtype=object)

    return pd.DataFrame({name: column(name) for name in COLUMNS}, columns=list(COLUMNS))


def find_groups(
    table: dd.DataFrame,
    max_distance: int = 10,
    *,
    linkage: str = "reference",
    on_counts: Callable[[dict[str, int]], None] | None = None,
) -> list[Group]:
    """The groups of near-duplicates among a hash table's images (as :func:`hash_table` makes
    it, or read back with ``dask.dataframe.read_parquet``), best reference first: exactly the
    groups of ``ikmeta.group(records, max_distance, linkage=linkage, geometry="exact")``.
    Rows with an error are skipped. See the module's docstring for how. Like
    :func:`ikmeta.group`, warns (:class:`~ikmeta.errors.IkmetaWarning`) when the table holds
    many pairs near by chance at this ``max_distance``. ``on_counts`` hears
    ``{"images": ..., "flat": ...}``: the images hashed, and the flat ones among them.

        >>> table = ikmeta.dask.hash_table(["examples"])
        >>> [g.reference.source for g in ikmeta.dask.find_groups(table, 6)]
        ['examples/harbour.jpg']
    """
    from dask.base import compute
    from dask.delayed import delayed

    from .api import _items
    from .dupes import group
    from .dupes.chance import chance_warning

    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}")
    if not 0 <= max_distance <= 64:
        raise ValueError("max_distance must be from 0 to 64")
    missing = {"source", "pHash"} - set(table.columns)
    if missing:
        raise ValueError(f"the table has no {', '.join(sorted(missing))} column: not a hash table")
    hashed = table[~table["pHash"].isna()]
    if "error" in table.columns:
        hashed = hashed[hashed["error"].isna()]
    bad = hashed.map_partitions(_bad_hashes, meta=hashed._meta[["source", "pHash"]])
    hashed = hashed.assign(
        value=hashed["pHash"].map(_signed, meta=("value", "int64")),
        named=hashed["source"].map_partitions(_name_keys, meta=("named", "int64")),
    )
    named = hashed.groupby("named").size()
    # One pass finds the near pairs, the hashes and sources several rows share, and the rows
    # whose pHash is not one (their value stands in as 0 meanwhile: nothing is kept if any).
    if max_distance >= BITS:  # every pair is near: every image is in the one group
        found_bad, distinct, repeated_names = compute(bad, hashed["value"].unique(), named[named > 1])
        wanted = distinct.to_numpy(np.int64)
    else:
        pairs = _near_pairs(hashed[["value"]].drop_duplicates(), max_distance)
        shared = hashed.groupby("value").size()
        found_bad, found, shared, repeated_names = compute(bad, pairs, shared[shared > 1], named[named > 1])
        wanted = np.concatenate(
            [found["a"].to_numpy(np.int64), found["b"].to_numpy(np.int64), shared.index.to_numpy(np.int64)]
        )
        del found, shared
    if len(found_bad):
        source, value = found_bad["source"].iloc[0], found_bad["pHash"].iloc[0]
        raise HashError(str(source), f"pHash {value!r} is not 16 hex digits")
    wanted = np.unique(np.concatenate([wanted, np.array([_signed(h) for h in FLAT_HASHES], dtype=np.int64)]))
    # A source listed twice is one image, its first row (as on one machine): every row of it
    # comes back, whatever its hash, and the first one is kept.
    twice = np.unique(repeated_names.index.to_numpy(np.int64))
    chosen = hashed.map_partitions(_chosen, delayed(wanted), delayed(twice), meta=hashed._meta)
    rows, count = compute(chosen.drop(columns=["value", "named"]), hashed["value"].count())
    items = _items(_records(rows))
    flat = sum(1 for item in items if item.flat)
    if on_counts is not None:
        on_counts({"images": int(count), "flat": flat})
    by_chance = chance_warning(int(count) - flat, max_distance)
    if by_chance:
        import warnings

        from .errors import IkmetaWarning

        warnings.warn(by_chance, IkmetaWarning, stacklevel=2)
    return group(items, max_distance, linkage, geometry="exact")


def _chosen(part: pd.DataFrame, wanted: np.ndarray, twice: np.ndarray) -> pd.DataFrame:
    """The rows of a partition whose hash is ``wanted``, whose source's key is listed
    ``twice`` (both sorted), or that are flat."""
    keep = _among(part["value"].to_numpy(np.int64), wanted) | _among(part["named"].to_numpy(np.int64), twice)
    if "flat" in part.columns:
        keep |= part["flat"].notna().to_numpy()
    return part[keep]


def _among(values: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    if len(sorted_values) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    found: np.ndarray = sorted_values[at] == values
    return found


def _name_keys(sources: pd.Series) -> pd.Series:
    """A 64-bit key of each source's name, as :func:`ikmeta.group` compares them (as
    written): rows of the same source share it."""
    import pandas as pd

    keys = pd.util.hash_array(np.array(sources.astype(object), dtype=object)).view(np.int64)
    return pd.Series(keys, index=sources.index)


def _bad_hashes(part: pd.DataFrame) -> pd.DataFrame:
    """The rows of a partition whose pHash is not a 64-bit hash in hex."""
    good = np.array(
        [isinstance(h, str) and HEX16.fullmatch(h) is not None for h in part["pHash"]], dtype=bool
    )
    return part.loc[~good, ["source", "pHash"]] if len(part) else part[["source", "pHash"]]


def find_duplicates(
    table: dd.DataFrame, max_distance: int = 10, *, linkage: str = "reference"
) -> dd.DataFrame:
    """:func:`find_groups` as a Dask DataFrame of ``group`` (0, 1... best reference first),
    ``reference`` (the group's best copy), ``source`` and ``distance`` (its pHash distance to
    the reference; the reference's own row is 0), a row per image in a group.

        >>> table = ikmeta.dask.hash_table(["examples"])
        >>> ikmeta.dask.find_duplicates(table, 6).compute()["source"].tolist()
        ['examples/harbour.jpg', 'examples/harbour_small.jpg']
    """
    import dask.dataframe as dd

    frame = group_frame(find_groups(table, max_distance, linkage=linkage))
    return dd.from_pandas(frame, npartitions=max(1, math.ceil(len(frame) / GROUP_PARTITION_ROWS)))


def group_frame(groups: list[Group]) -> pd.DataFrame:
    """Groups as rows of (group, reference, source, distance)."""
    import pandas as pd

    rows = [
        (number, g.reference.source, item.source, distance)
        for number, g in enumerate(groups)
        for item, distance in g.members
    ]
    frame = pd.DataFrame(rows, columns=["group", "reference", "source", "distance"])
    return frame.astype({"group": "int64", "reference": object, "source": object, "distance": "Int64"})


HEX16 = re.compile(
    r"\s*(?:0[xX])?[0-9a-fA-F]{16}\s*"
)  # a pHash as ikmeta.dupes.hashlist takes one: 16 hex digits
BITS = 64


def _signed(phash: str) -> int:
    """A hex pHash as a signed 64-bit integer (the bits of the unsigned one): Parquet's and
    pandas' integer columns are signed. 0 for what is not a pHash (:func:`_bad_hashes`
    finds those)."""
    try:
        value = int(phash, 16)
    except (TypeError, ValueError):
        return 0
    if not 0 <= value < 1 << 64:
        return 0
    return value - (1 << 64) if value >= 1 << 63 else value


def _near_pairs(distinct: dd.DataFrame, radius: int) -> dd.DataFrame:
    """(a, b): every pair of the distinct values within ``radius`` of each other, each once,
    as signed 64-bit integers, a < b as unsigned values. The banded join of the module's
    docstring."""
    import dask.dataframe as dd
    import pandas as pd

    empty = pd.DataFrame({"a": pd.Series(dtype="int64"), "b": pd.Series(dtype="int64")})
    if radius < 1:  # distinct values: none within 0
        return dd.from_pandas(empty, npartitions=1)
    bands = _bands(radius)
    keyed = dd.concat(
        [distinct.map_partitions(_band_keys, band, bands, meta=_band_meta()) for band in range(len(bands))]
    )
    buckets = keyed.shuffle(on=["band", "key"], npartitions=max(1, keyed.npartitions))
    return buckets.map_partitions(_bucket_pairs, radius, bands, meta=empty)


def _bands(radius: int) -> list[tuple[int, int]]:
    """(low bit, width) of the bands: ``radius + 1`` of them (at most 64, one bit each)."""
    return substring_bounds(min(64, radius + 1))


def _band_meta() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {"value": pd.Series(dtype="int64"), "band": pd.Series(dtype="int64"), "key": pd.Series(dtype="int64")}
    )


def _band_keys(part: pd.DataFrame, band: int, bands: list[tuple[int, int]]) -> pd.DataFrame:
    """Each value, with its bucket of ``band``: the band's bits."""
    import pandas as pd

    values = part["value"].to_numpy(np.int64)
    low, width = bands[band]
    keys = (values.view(np.uint64) >> np.uint64(low)) & np.uint64((1 << width) - 1)
    return pd.DataFrame(
        {"value": values, "band": np.full(len(values), band, dtype=np.int64), "key": keys.astype(np.int64)}
    )


def _bucket_pairs(part: pd.DataFrame, radius: int, bands: list[tuple[int, int]]) -> pd.DataFrame:
    """The near pairs inside each bucket of a partition, each kept in the first band its two
    values agree on (so once in all)."""
    import pandas as pd

    found_a, found_b = [], []
    if len(part):
        ordered = part.sort_values(["band", "key", "value"], kind="stable")
        band = ordered["band"].to_numpy(np.int64)
        key = ordered["key"].to_numpy(np.int64)
        values = ordered["value"].to_numpy(np.int64).view(np.uint64)
        starts = np.flatnonzero(np.r_[True, (band[1:] != band[:-1]) | (key[1:] != key[:-1]), True])
        for start, stop in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
            if stop - start < 2:
                continue
            bucket = values[start:stop]
            i, j = _pairs_in_bucket(bucket, radius)
            a, b = bucket[i], bucket[j]
            first = _first_shared_band(a, b, bands)
            keep = first == band[start]
            a, b = a[keep], b[keep]
            low, high = np.minimum(a, b), np.maximum(a, b)
            found_a.append(low.view(np.int64))
            found_b.append(high.view(np.int64))
    a = np.concatenate(found_a) if found_a else np.empty(0, dtype=np.int64)
    b = np.concatenate(found_b) if found_b else np.empty(0, dtype=np.int64)
    return pd.DataFrame({"a": a, "b": b})


BUCKET_BRUTE = 1024  # up to this many hashes a bucket, every pair is checked (XOR and popcount)
BUCKET_SUBSTRINGS = 4  # past it, a multi-index of 4 substrings...
BUCKET_INDEX_RADIUS = 10  # ... up to this radius (past it, its look-ups cost more than every pair)


def _pairs_in_bucket(bucket: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of a bucket within ``radius``. Its hashes all agree on the bucket's band, so
    a multi-index whose substring is that band would find every pair a candidate there: few
    hashes are checked pair by pair, more through 4 substrings (the band is part of one)."""
    from .dupes.neighbors import brute_pairs, index_pairs

    if len(bucket) <= BUCKET_BRUTE or radius > BUCKET_INDEX_RADIUS:
        return brute_pairs(bucket, radius)
    return index_pairs(bucket, radius, BUCKET_SUBSTRINGS)


def _first_shared_band(a: np.ndarray, b: np.ndarray, bands: list[tuple[int, int]]) -> np.ndarray:
    """For each pair, the first band on which the two values agree exactly (len(bands) if none)."""
    first = np.full(len(a), len(bands), dtype=np.int64)
    for number in range(len(bands) - 1, -1, -1):
        low, width = bands[number]
        mask = np.uint64(((1 << width) - 1) << low)
        first[((a ^ b) & mask) == 0] = number
    return first


def _records(rows: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """A hash table's rows as records of ``phash --ndjson`` (what ikmeta.group takes)."""
    columns = list(rows.columns)
    for values in rows.itertuples(index=False, name=None):
        record = {c: _plain(v) for c, v in zip(columns, values, strict=True)}
        for column in JSON_COLUMNS:
            if isinstance(record.get(column), str):
                try:
                    record[column] = json.loads(record[column])
                except (ValueError, RecursionError):  # not an object ikmeta wrote: as if none were known
                    record[column] = None
        for column in LIST_COLUMNS:
            if isinstance(record.get(column), str):
                record[column] = record[column].split()
        yield record


def _plain(value: Any) -> Any:
    """A cell as JSON would hold it: None for missing, Python ints and lists."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas comes with dask[dataframe]
        pass
    return value


def client_for(address: str, workers: int) -> Any:
    """A ``dask.distributed`` client: of the scheduler at ``address``, or for ``local`` of a
    cluster of ``workers`` processes on this machine (closed with the client).
    Raises :class:`~ikmeta.errors.SourceError` when the scheduler cannot be reached."""
    from dask.distributed import Client, LocalCluster

    if address == "local":
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        )
        client = Client(cluster)
        client._ikmeta_cluster = cluster  # type: ignore[attr-defined]
        return client
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise SourceError(address, f"cannot reach the Dask scheduler: {exc}") from None
    except ValueError as exc:  # not an address Dask knows
        raise SourceError(address, f"not a Dask scheduler's address: {exc}") from None


def close_client(client: Any) -> None:
    """Close a client of :func:`client_for` (and its local cluster)."""
    cluster = getattr(client, "_ikmeta_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()
