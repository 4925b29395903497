"""Agreement with the reference tools: exiftool and ImageMagick, through ../shared/tools/exif_oracle.py.

The floors: at least 99.5% of all compared fields agree, and at least 99% of each top-level
field (width, height, size, format, hasColorProfile, quality, density, hasTransparency,
and the EXIF tags together). README "Agreement" shows the current figures.
"""
from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from PIL import Image

from ikmeta.quality import estimate_quality

from .conftest import ROOT, encode, need, scene

pytestmark = pytest.mark.reference
ORACLE = ROOT.parent / "shared" / "tools" / "exif_oracle.py"
FIELD_LINE = re.compile(r"^  (\w[\w ]*?)\s+(\d+)/(\d+)\s*$")


def run_oracle(*paths) -> tuple[str, float, dict[str, tuple[int, int]]]:
    command = f"{sys.executable} -m ikmeta inspect --ndjson"
    out = subprocess.run([sys.executable, str(ORACLE), "--ikmeta", command, *map(str, paths)],
                         capture_output=True, text=True, check=True).stdout
    fields = {m[1]: (int(m[2]), int(m[3])) for m in map(FIELD_LINE.match, out.splitlines()) if m}
    overall = float(re.search(r"^agreement: ([\d.]+)%", out, re.M)[1])
    return out, overall, fields


def test_oracle_agreement_on_the_corpus(corpus, exiftool, identify):
    need(ORACLE.exists(), str(ORACLE))
    out, overall, fields = run_oracle(corpus)
    assert overall >= 99.5, out
    assert {"width", "height", "size", "format", "exif tags"} <= set(fields), out
    for field, (agreed, compared) in fields.items():
        assert compared and agreed / compared >= 0.99, f"{field}: {agreed}/{compared}\n{out}"
    assert "ikmeta objects: 0" not in out


def test_oracle_agreement_on_the_shipped_examples(exiftool, identify):
    need(ORACLE.exists(), str(ORACLE))
    out, overall, _ = run_oracle(ROOT / "examples")
    assert overall == 100.0, out


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_quality_equals_imagemagick_at_every_setting(mode, identify):
    im = scene((64, 48)).convert(mode)
    for q in range(1, 101):
        data = encode(im, "JPEG", quality=q)
        ours = estimate_quality(Image.open(io.BytesIO(data)).quantization)
        theirs = int(subprocess.run([identify, "-format", "%Q", "-"], input=data, capture_output=True).stdout)
        assert ours == theirs == q


def test_tag_table_is_up_to_date(exiftool):
    from ikmeta.exif_tags import EXIFTOOL_VERSION

    installed = subprocess.run([exiftool, "-ver"], capture_output=True, text=True).stdout.strip()
    if installed != EXIFTOOL_VERSION:
        pytest.skip(f"table made from ExifTool {EXIFTOOL_VERSION}, {installed} installed: "
                    "run tools/gen_exif_tags.py to move to it")
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_exif_tags.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
