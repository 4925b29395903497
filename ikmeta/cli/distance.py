"""``ikmeta distance``: the Hamming distance of two pHashes (the bits that differ), each given
as hex or hashed from an image; with --geometry any, over the ways to turn one onto the other.

    ikmeta distance 2d5ad3936d2e015b 2d6ed293db36a4fb      prints 17
    ikmeta distance --geometry any photo.jpg mirrored.jpg --json
"""

from __future__ import annotations

from typing import Any

import click

from ikmeta.sources.base import FetchOptions

from .options import CONTEXT, fetch_options, geometry_option, output_options
from .sources import Sources, finish, reports
from .terminal import say, warn
from .types import HashOrSource


@click.command(context_settings=CONTEXT)
@click.argument("a", type=HashOrSource(), shell_complete=click.Path().shell_complete)
@click.argument("b", type=HashOrSource(), shell_complete=click.Path().shell_complete)
@output_options(
    "table",
    {
        "json": 'One object: {"a": HASH, "b": HASH, "distance": N}.',
        "ndjson": "The same object, compact, on one line.",
        "table": "The distance alone, a bare integer.",
    },
)
@geometry_option(
    "exact",
    "exact: the distance of the two pHashes as they stand (ImageKit's); any: the smallest over "
    "the ways to turn or mirror one image onto the other, and which (needs an image, not a hash).",
)
@fetch_options
def distance(a: tuple[str, str], b: tuple[str, str], output: str, geometry: str, fetch: FetchOptions) -> None:
    """The Hamming distance of two pHashes (the bits that differ), as ImageKit's SDKs compute it.

    A and B are each a hex pHash (any case, optional 0x, any length as long as both are
    equal) or an image (a path, -, an http(s) URL or a stored object) hashed on the fly; an existing file
    named like hex is the file, a folder so named is the hash. Prints the distance as a
    bare integer.

    \b
    Examples:
      ikmeta distance 2d5ad3936d2e015b 2d6ed293db36a4fb      prints 17
      ikmeta distance photo.jpg copy.jpg
      ikmeta distance --json https://example.com/a.jpg 2d5ad3936d2e015b
      ikmeta distance --geometry any photo.jpg mirrored.jpg --json     and "match": "mirrored"
    """
    from ikmeta.api import distance as hamming

    Sources.check((value for kind, value in (a, b) if kind == "source"), required=False)
    if geometry == "any" and a[0] == b[0] == "hash":
        raise click.UsageError("--geometry any turns images: give at least one image, not two hashes.")
    (hash_a, views_a), (hash_b, views_b) = resolve_hashes([a, b], fetch)
    if len(hash_a) != len(hash_b):  # (the API's HashError says the same)
        raise click.UsageError(f"pHashes differ in length: {len(hash_a)} vs {len(hash_b)} hex digits")
    result: dict[str, Any] = {"a": hash_a, "b": hash_b, "distance": hamming(hash_a, hash_b)}
    if geometry == "any":
        from ikmeta.dupes.views import closest_view

        if len(hash_a) != 16:
            raise click.UsageError("--geometry any needs 64-bit pHashes (16 hex digits)")
        closest, how = closest_view(int(hash_b, 16), views_b, int(hash_a, 16), views_a)
        result.update(distance=closest, match=how)
    if output == "table":
        say(str(result["distance"]))
    else:
        from ikmeta.output import compact, pretty

        say(compact(result) if output == "ndjson" else pretty(result))


def resolve_hashes(
    values: list[tuple[str, str]], fetch: FetchOptions
) -> list[tuple[str, tuple[int, ...] | None]]:
    """(hex hash, its other views or None) of each (kind, value): a hash as given (no other
    view known), or computed from the image; exit 1 on a bad image."""
    sources = [value for kind, value in values if kind == "source"]
    if not sources:
        return [(value, None) for _, value in values]
    from ikmeta.api import hash_records, limits_of

    state = {"failed": 0}
    records = hash_records(sources, jobs=len(sources), on_warning=warn, **limits_of(fetch))
    computed = {obj["source"]: (obj["pHash"], _views(obj)) for obj in reports(records, state)}
    finish(state)
    return [computed[value] if kind == "source" else (value, None) for kind, value in values]


def _views(obj: dict[str, Any]) -> tuple[int, ...] | None:
    """An image's other views (ikmeta.dupes.Item.views) from its phash_blob metadata."""
    from ikmeta.dupes.views import pack, unpack

    inner = obj["inner"]["pHash"] if obj["inner"] else None
    return unpack(pack(obj["pHash"], obj["turned"], inner, obj["windows"]))
