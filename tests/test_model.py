"""The values the Python API hands out read well: an Item's repr shows what is known of it."""

from __future__ import annotations

from ikmeta.dupes import Group, Item
from ikmeta.dupes.model import Provenance
from ikmeta.dupes.views import VIEWS


def test_an_items_repr_shows_what_is_known_and_no_bytes():
    item = Item(
        "photos/a.jpg",
        "f06830ca9f1e3e90",
        4000,
        3000,
        2_400_000,
        format="jpg",
        views=bytes(range(8 * VIEWS)),
        provenance=Provenance(software="GIMP 2.10"),
    )
    text = repr(item)
    assert text == (
        "Item(source='photos/a.jpg', phash='f06830ca9f1e3e90', width=4000, height=3000, "
        f"size=2400000, format='jpg', views=<{VIEWS} views>, provenance=Provenance(software='GIMP 2.10'))"
    )
    assert "\\x" not in text and "b'" not in text
    assert repr(Item("b.png", "0000000000000001")) == "Item(source='b.png', phash='0000000000000001')"
    assert "views=<" in repr(Group(item, [(item, 0)]))  # and so in a group's
