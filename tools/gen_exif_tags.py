#!/usr/bin/env python3
"""Generate ikmeta/image/exif_tags.py, the EXIF and GPS tag-name table, from ExifTool.

    python3 tools/gen_exif_tags.py            # rewrite ikmeta/image/exif_tags.py
    python3 tools/gen_exif_tags.py --check    # exit 1 when the committed table is stale

Names come from `exiftool -listx -EXIF:All` and `exiftool -listx -GPS:All` (tables
Exif::Main and GPS::Main: tag ID and name). -listx leaves out the tags ExifTool
treats as sub-directories (ExifOffset, GPSInfo, InteropOffset, ICC_Profile, ...);
their names and kinds are read from the same ExifTool tables through Perl.

Where ExifTool gives one ID several names, the name for an IFD is the one ExifTool
picks there in an ordinary JPEG: the first variant whose Condition holds, evaluated by
ExifTool's own Perl with the directory's name set (0x0201 is ThumbnailOffset in IFD1 and
OtherImageStart in IFD0, 0x014A SubIFD rather than Sony's A100DataOffset). IDs without
conditions take the variant whose family-1 group is that IFD, else the first listed.

Needs exiftool (Debian: libimage-exiftool-perl). Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ikmeta", "image", "exif_tags.py")
IFD_GROUPS = ("IFD0", "IFD1", "ExifIFD", "InteropIFD")

# Prints "ID<TAB>NAME<TAB>pointer|embedded" for each sub-directory tag of Exif::Main.
PERL_SUBDIRS = r"""
use Image::ExifTool;
use Image::ExifTool::Exif;
my $t = Image::ExifTool::GetTagTable('Image::ExifTool::Exif::Main');
for my $id (sort { $a <=> $b } grep { /^\d+$/ } keys %$t) {
    my @infos = ref $t->{$id} eq 'ARRAY' ? @{$t->{$id}} : ($t->{$id});
    for my $i (@infos) {
        next unless ref $i eq 'HASH' and $i->{SubDirectory};
        my $start = $i->{SubDirectory}{Start} // '';
        print join("\t", $id, $i->{Name}, $start eq '$val' ? 'pointer' : 'embedded'), "\n";
    }
}
"""


# Prints "ID<TAB>IFD<TAB>NAME": the variant ExifTool picks for each multi-name tag of
# Exif::Main in each IFD of an ordinary JPEG (conditions evaluated as ExifTool does).
PERL_PICKS = r"""
use Image::ExifTool;
use Image::ExifTool::Exif;
no warnings;
my $t = Image::ExifTool::GetTagTable('Image::ExifTool::Exif::Main');
for my $dir (qw(IFD0 IFD1 ExifIFD InteropIFD)) {
    for my $id (sort { $a <=> $b } grep { /^\d+$/ and ref $t->{$_} eq 'ARRAY' } keys %$t) {
        my $self = Image::ExifTool->new;
        @$self{qw(DIR_NAME FILE_TYPE TIFF_TYPE)} = ($dir, 'JPEG', '');
        $$self{PATH} = ['JPEG', 'APP1', $dir];
        my $val = ''; my $valPt = \$val; my $format = 'int32u'; my $count = 1;
        for my $info (grep { ref $_ eq 'HASH' } @{$t->{$id}}) {
            my $cond = $info->{Condition};
            if (not defined $cond or eval $cond) { print join("\t", $id, $dir, $info->{Name}), "\n"; last; }
        }
    }
}
"""


def json_name(name: str) -> str:
    """ExifTool's name as a JSON key the schema accepts (IPTC-NAA -> IPTC_NAA)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def listx_table(group: str, table_name: str) -> dict[int, list[tuple[str, str | None]]]:
    xml = subprocess.run(["exiftool", "-listx", f"-{group}:All"], capture_output=True, check=True).stdout
    names: dict[int, list[tuple[str, str | None]]] = {}
    for table in ET.fromstring(xml).iter("table"):
        if table.get("name") != table_name:
            continue
        for tag in table.iter("tag"):
            names.setdefault(int(tag.get("id")), []).append((tag.get("name"), tag.get("g1")))
    return names


def subdirectory_tags() -> dict[int, list[tuple[str, str]]]:
    out = subprocess.run(["perl", "-e", PERL_SUBDIRS], capture_output=True, text=True, check=True).stdout
    tags: dict[int, list[tuple[str, str]]] = {}
    for line in out.splitlines():
        tag_id, name, kind = line.split("\t")
        tags.setdefault(int(tag_id), []).append((name, kind))
    return tags


def exiftool_picks() -> dict[tuple[int, str], str]:
    out = subprocess.run(["perl", "-e", PERL_PICKS], capture_output=True, text=True, check=True).stdout
    picks = {}
    for line in out.splitlines():
        tag_id, ifd, name = line.split("\t")
        picks[(int(tag_id), ifd)] = json_name(name)
    return picks


def name_for(variants: list[tuple[str, str | None]], group: str) -> str:
    for name, g1 in variants:
        if g1 == group:
            return json_name(name)
    return json_name(variants[0][0])


def build() -> str:
    version = subprocess.run(["exiftool", "-ver"], capture_output=True, text=True, check=True).stdout.strip()
    exif = listx_table("EXIF", "Exif::Main")
    gps = listx_table("GPS", "GPS::Main")
    subdirs = subdirectory_tags()
    for tag_id, variants in subdirs.items():
        exif.setdefault(tag_id, [(name, None) for name, _ in variants])
    embedded = sorted(i for i, v in subdirs.items() if any(kind == "embedded" for _, kind in v))

    picks = exiftool_picks()
    default = {i: picks.get((i, "IFD0")) or json_name(v[0][0]) for i, v in sorted(exif.items())}
    by_group = {g: {} for g in IFD_GROUPS}
    for tag_id, variants in sorted(exif.items()):
        for g in IFD_GROUPS:
            name = picks.get((tag_id, g)) or name_for(variants, g)
            if name != default[tag_id]:
                by_group[g][tag_id] = name

    def mapping(d: dict[int, str], indent: str = "    ") -> str:
        return "".join(f"{indent}0x{i:04X}: {n!r},\n" for i, n in sorted(d.items()))

    lines = [
        (
            f'"""EXIF and GPS tag names by tag ID, as ExifTool {version} names them.\n\n'
            "Generated by tools/gen_exif_tags.py from `exiftool -listx`; do not edit by hand.\n"
            '"""\n'
        ),
        f"EXIFTOOL_VERSION = {version!r}\n\n",
        "# Exif::Main: IFD0, IFD1, the Exif IFD and the Interoperability IFD.\n",
        "EXIF_TAGS = {\n",
        mapping(default),
        "}\n\n",
        "# Names that differ by IFD (ExifTool family-1 group) from EXIF_TAGS.\n",
        "EXIF_TAGS_BY_IFD = {\n",
    ]
    for g in IFD_GROUPS:
        lines += [f"    {g!r}: {{\n", mapping(by_group[g], " " * 8), "    },\n"]
    lines += [
        "}\n\n",
        "# GPS::Main.\n",
        "GPS_TAGS = {\n",
        mapping({i: name_for(v, "GPS") for i, v in gps.items()}),
        "}\n\n",
        "# Tags whose value is an embedded block in another format (MakerNote, ICC profile,\n",
        "# XMP, IPTC, Photoshop...), which ExifTool reads as a directory of its own.\n",
        "EMBEDDED_TAGS = frozenset({\n",
        "".join(f"    0x{i:04X},\n" for i in embedded),
        "})\n",
    ]
    return "".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when the committed table differs")
    args = ap.parse_args()
    text = build()
    if args.check:
        with open(OUT, encoding="utf-8") as fh:
            stale = fh.read() != text
        print(f"{OUT}: {'stale' if stale else 'up to date'}")
        return 1 if stale else 0
    with open(OUT, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
