"""The judge of upscales measures local files once, and keeps the measures in the cache."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ikmeta.cache import HashCache
from ikmeta.dupes.model import Item
from ikmeta.dupes.upscales import DetailJudge


def photo(size, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0]), dtype=np.uint8)).convert("RGB")


def test_the_judge_measures_once_and_the_cache_remembers(tmp_path, monkeypatch):
    original = photo((400, 300))
    original.save(tmp_path / "small.png")
    original.resize((600, 450), Image.Resampling.LANCZOS).save(tmp_path / "big.png")
    big = Item(str(tmp_path / "big.png"), "0", 600, 450)
    small = Item(str(tmp_path / "small.png"), "0", 400, 300)
    path = str(tmp_path / "c.sqlite3")
    cache = HashCache.open(path)
    assert DetailJudge(cache, jobs=2)(big, small) is True
    cache.close()
    import ikmeta.image.detail as detail

    def no_decoding(blob):
        raise AssertionError("measured again")

    monkeypatch.setattr(detail, "detail_profile", no_decoding)
    cache = HashCache.open(path)
    assert DetailJudge(cache)(big, small) is True  # from the cache
    cache.close()


def test_remote_sources_and_standard_input_are_not_judged(tmp_path):
    judge = DetailJudge(HashCache.open(None))
    assert judge(Item("https://example.com/a.jpg", "0", 600, 450), Item("-", "0", 400, 300)) is False
