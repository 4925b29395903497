"""ikmeta: ImageKit's image metadata object, computed locally, and a near-duplicate finder.

    >>> import ikmeta
    >>> ikmeta.inspect("photo.jpg")["exif"]["exif"]["ISO"]
    100
    >>> groups = ikmeta.find_duplicates([Path.home() / "Pictures"], max_distance=10)
    >>> groups[0].as_object()["files"][0]["source"]
    '/home/me/Pictures/2024/harbour.jpg'

The names in ``__all__`` are the public API (documented in :mod:`ikmeta.api` and the README's
"Python API"); every other module and name is private. They load on first use, so that
``import ikmeta`` (and the command line's start-up) costs nothing until one is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

_PUBLIC = {
    **dict.fromkeys(
        ("inspect", "inspect_many", "phash", "phash_many", "hash_records", "distance", "find_duplicates"),
        "api",
    ),
    **dict.fromkeys(("group", "read_hash_list", "Source", "Limits"), "api"),
    **dict.fromkeys(("Group", "Item"), "dupes"),
    **dict.fromkeys(("IkmetaError", "SourceError", "ImageError", "HashError", "IkmetaWarning"), "errors"),
}
__all__ = [
    "Group",
    "HashError",
    "IkmetaError",
    "IkmetaWarning",
    "ImageError",
    "Item",
    "Limits",
    "Source",
    "SourceError",
    "__version__",
    "distance",
    "find_duplicates",
    "group",
    "hash_records",
    "inspect",
    "inspect_many",
    "phash",
    "phash_many",
    "read_hash_list",
]

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ below
    from .api import (
        Limits,
        Source,
        distance,
        find_duplicates,
        group,
        hash_records,
        inspect,
        inspect_many,
        phash,
        phash_many,
        read_hash_list,
    )
    from .dupes import Group, Item
    from .errors import HashError, IkmetaError, IkmetaWarning, ImageError, SourceError


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (PEP 562)."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'ikmeta' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
