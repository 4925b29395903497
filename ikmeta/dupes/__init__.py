"""Near-duplicate groups: hashes to groups to the report.

    >>> from ikmeta.dupes import Item, group
    >>> items = [Item("a.jpg", "f06830ca9f1e3e90", 4000, 3000, 2_400_000),
    ...          Item("a_small.jpg", "f06830ca9f1e3e91", 800, 600, 90_000)]
    >>> [(m.source, d) for m, d in group(items, 10)[0].members]
    [('a.jpg', 0), ('a_small.jpg', 1)]

The stage's modules, in the order the data flows: :mod:`.scan` (sources to items, cached),
:mod:`.hashlist` and :mod:`.columns` (hash lists read back), :mod:`.model` (``Item``,
``Group``), :mod:`.grouping` (``group``: linkages, flat images, references), :mod:`.pairs`
and :mod:`.neighbors` (near pairs, in plain Python and in numpy), :mod:`.views` (turned,
framed and cropped copies), :mod:`.rank` (the best-copy rule), :mod:`.chance` (pairs near
by chance) and :mod:`.report` (the report written and read back). This face imports only
the model and the grouping, neither of which imports numpy.
"""

from __future__ import annotations

from .grouping import GEOMETRIES, LINKAGES, group
from .model import Group, Item

__all__ = ["GEOMETRIES", "LINKAGES", "Group", "Item", "group"]
