"""The review page: the groups of a scan or a report side by side in the browser, where the
user chooses what to keep and downloads the choice as a report for ``ikmeta apply``.

    >>> from ikmeta.cache import HashCache
    >>> groups = [{"reference": "a.jpg", "files": [{"source": "a.jpg"}, {"source": "b.jpg"}]}]
    >>> made = write_review(groups, "review.html", origin={"report": "report.json"}, cache=HashCache.open(None))
    >>> made.size > 0, made.without_preview
    (True, [('a.jpg', 'no such file'), ('b.jpg', 'no such file')])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ikmeta.cache import HashCache
from ikmeta.errors import IkmetaError
from ikmeta.sources.base import FetchOptions

from .page import NotAPage, is_review_page, page_chunks, same_files, write_page
from .thumbnails import Thumbnail, make_thumbnails

__all__ = ["NotAPage", "ReviewError", "ReviewPage", "is_review_page", "write_review"]


class ReviewError(IkmetaError):
    """The groups cannot be reviewed as given (one file listed under two names)."""


@dataclass
class ReviewPage:
    """What :func:`write_review` made: the page's size in bytes, and the files shown without a
    thumbnail with the reason (unreadable, gone)."""

    size: int
    without_preview: list[tuple[str, str]] = field(default_factory=list)


def write_review(
    groups: Sequence[Mapping[str, Any]],
    path: str,
    *,
    origin: Mapping[str, Any],
    cache: HashCache,
    jobs: int = 1,
    fetch: FetchOptions | None = None,
    on_thumbnail: Callable[[], None] = lambda: None,
    on_total: Callable[[int], None] = lambda count: None,
) -> ReviewPage:
    """Write the review page of ``groups`` (as ``dupes --json`` writes them) to ``path``,
    whole or not at all; thumbnails are made on ``jobs`` threads, or taken from ``cache``.

    ``origin`` says what the groups come from (see :func:`~ikmeta.review.page.page_chunks`);
    ``on_total`` is told how many files need a thumbnail, ``on_thumbnail`` called as each is
    ready. Raises :class:`ReviewError` for groups that name one file twice, :class:`NotAPage`
    when ``path`` holds another file, and OSError when the page cannot be written.
    """
    twice = same_files(groups)
    if twice:
        raise ReviewError(twice[1], f"the same file as {twice[0]}, listed again: not a report to review")
    sources = list(dict.fromkeys(obj["source"] for group in groups for obj in group["files"]))
    on_total(len(sources))
    thumbs: dict[str, Thumbnail | IkmetaError] = {}
    for source, thumb in make_thumbnails(sources, cache, jobs, fetch):
        thumbs[source] = thumb
        on_thumbnail()
    size = write_page(page_chunks(groups, origin, thumbs), path)
    missing = [(s, t.reason) for s, t in thumbs.items() if isinstance(t, IkmetaError)]
    return ReviewPage(size, missing)
