"""The --dask paths of ``phash`` and ``dupes``: a client for the scheduler, the hash table
written as Parquet, its groups found on the cluster; every failure of Dask, pyarrow or a
store is one line on stderr and exit status 1.

    ikmeta phash --dask local --parquet hashes/ photos/
    ikmeta dupes --dask local --hashes hashes/ --max 6
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator
from typing import Any

from ikmeta.errors import IkmetaError, IkmetaWarning, SourceError
from ikmeta.sources.base import FetchOptions

from .sources import Sources
from .terminal import abort, fail, note


def dask_client(address: str, jobs: int) -> Any:
    """A Dask client (ikmeta.dask.client_for); exit 1 with a message when Dask is not
    installed or the scheduler cannot be reached."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        abort(f"--dask needs Dask: pip install 'ikmeta[dask]' ({exc.name} is not installed)")
    from ikmeta import dask as on_dask

    try:
        return on_dask.client_for(address, jobs)
    except IkmetaError as error:
        abort(error)


@contextlib.contextmanager
def dask_failures(name: str, doing: str) -> Iterator[None]:
    """Exit 1 with one line when Dask, pyarrow or a store fails at ``doing`` (``name``: the
    table's folder or prefix): an IkmetaError as it is, anything else named by its kind."""
    from ikmeta.output import one_line

    try:
        yield
    except IkmetaError as error:
        abort(error)
    except Exception as exc:  # noqa: BLE001 - Dask, pyarrow and the stores raise their own kinds: one line
        abort(f"{one_line(name)}: cannot {doing}: {dask_reason(exc)}")


def dask_reason(exc: BaseException) -> str:
    """An exception from Dask or a library under it as one line: its first line, named."""
    from ikmeta.output import one_line

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return one_line(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def hash_on_dask(
    names: Sources, address: str, parquet: str, hidden: bool, jobs: int, fetch: FetchOptions
) -> None:
    """phash --dask: the hash table of the sources, written as Parquet to ``parquet``; each
    source that failed named on stderr (exit 1), and a summary line."""
    from ikmeta.api import limits_of
    from ikmeta.output import one_line

    client = dask_client(address, jobs)
    from ikmeta import dask as on_dask

    try:
        with dask_failures(parquet, "write the hash table"):
            table = on_dask.hash_table(names, hidden=hidden, **limits_of(fetch))
            rows = on_dask.write_table(table, parquet, storage_options=dict(fetch.storage_options))
    finally:
        on_dask.close_client(client)
    failed = rows[rows["error"].notna()]
    for source, reason in zip(failed["source"], failed["error"], strict=True):
        fail(SourceError(source, reason))
    note(
        f"ikmeta: wrote {len(rows) - len(failed)} hashes to {one_line(parquet)}"
        + (f", {len(failed)} unreadable" if len(failed) else "")
    )
    if len(failed):
        abort()


@dataclasses.dataclass
class Counted:
    """What a summary says of images grouped elsewhere (on Dask): how many, how many flat."""

    images: int
    flat: int

    def __len__(self) -> int:
        return self.images

    def flat_count(self) -> int:
        return self.flat


def group_on_dask(
    table: str, address: str, max_distance: int, linkage: str, jobs: int, fetch: FetchOptions
) -> tuple[Counted, list[Any]]:
    """dupes --dask: the groups of a Parquet hash table (ikmeta.dask.find_groups); exit 1
    with a message when it cannot be read."""

    client = dask_client(address, jobs)
    from ikmeta import dask as on_dask

    counts: dict[str, int] = {}
    try:
        import dask.dataframe as dd

        storage = dict(fetch.storage_options)
        with dask_failures(table, "read the hash table"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IkmetaWarning)
            hashes = dd.read_parquet(table, storage_options=storage or None)
            groups = on_dask.find_groups(hashes, max_distance, linkage=linkage, on_counts=counts.update)
    finally:
        on_dask.close_client(client)
    for warning in caught:
        if issubclass(warning.category, IkmetaWarning):
            note(f"ikmeta: warning: {warning.message}")
    return Counted(counts.get("images", 0), counts.get("flat", 0)), groups
