"""Why a copy ranks where it does, in words: the evidence of :mod:`ikmeta.dupes.rank` that a
file carries, as reports, tables and the review page show it.

    >>> from ikmeta.dupes.model import Item, Provenance
    >>> evidence_of(Item("s_copy.jpg", "0", 960, 720, provenance=Provenance(exif_size=(640, 480))))
    ['upscaled ~1.5x (EXIF says 640x480)']
"""

from __future__ import annotations

from ikmeta.image.exif_values import parse_captured

from .model import Item
from .rank import exif_pixels_added, exif_upscale

EDITED_AFTER = 60.0  # seconds between capture and ModifyDate that tell an edit or export


def evidence_of(item: Item, pixels: str | None = None, tables_matter: bool = False) -> list[str]:
    """The evidence that places ``item`` after an original: damage, invented pixels
    (``pixels``: what the group's ranking found, e.g. "upscaled ~1.5x"), a band or frame
    added, an edit or export after capture, EXIF dimensions that are not the pixels', an
    encoder's JPEG tables (when ``tables_matter``: another copy has a camera's own), a
    truncated copy's file.

    >>> from ikmeta.dupes.model import Provenance
    >>> evidence_of(Item("a.jpg", "0", 640, 480, provenance=Provenance(damage="truncated")))
    ['truncated']
    """
    provenance = item.provenance
    found = []
    if provenance.damage:
        found.append(
            provenance.damage if not provenance.prefix_of else f"truncated copy of {provenance.prefix_of}"
        )
    factor = exif_upscale(item)
    if factor is not None:
        width, height = provenance.exif_size or (0, 0)
        found.append(f"upscaled ~{factor:.2g}x (EXIF says {width}x{height})")
    elif pixels:
        found.append(pixels)
    if provenance.band is not None:
        found.append(f"band along the {provenance.band[0]} ({provenance.band[1]:.0%})")
    if item.inner_pixels is not None:
        found.append("framed")
    edited = _edited(item)
    if edited:
        found.append(edited)
    if factor is None and provenance.exif_size and item.width and item.height:
        width, height = provenance.exif_size
        if exif_pixels_added(item) is not None:
            found.append(f"pixels added around it (EXIF says {width}x{height})")
        elif {width, height} != {item.width, item.height}:
            found.append(f"EXIF says {width}x{height}")
    if provenance.tables == "libjpeg" and tables_matter:
        found.append("encoder's JPEG tables")
    return found


def _edited(item: Item) -> str | None:
    """ "edited 2026-01-02T03:04:05 (Software: X)" when EXIF ModifyDate is after the capture."""
    provenance = item.provenance
    if not provenance.modified or not item.captured:
        return None
    modified, captured = parse_captured(provenance.modified), parse_captured(item.captured)
    if modified is None or captured is None or modified - captured <= EDITED_AFTER:
        return None
    by = f" (Software: {provenance.software})" if provenance.software else ""
    return f"modified {provenance.modified}{by}"
