"""ikmeta's Python API: the functions the command line is built on, for scripts and notebooks.

    >>> import ikmeta
    >>> ikmeta.phash("examples/harbour.jpg")
    '92b66d4de61212ed'
    >>> ikmeta.distance("2d5ad3936d2e015b", "2d6ed293db36a4fb")
    17

A *source* is a path (``str`` or ``os.PathLike``), an http(s) URL, an object in a store
(``s3://``, ``gs://``, ``az://``), ``bytes``, or a binary file object (and, for
:func:`phash`, a PIL image). ``"-"`` as a string is standard input,
as on the command line. Errors are :class:`~ikmeta.errors.IkmetaError` subclasses whose
``source`` and ``reason`` attributes say which input failed and why; the ``*_many``
functions yield them in place of a result instead of raising, so one bad file never ends
a run over 100,000.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any, TypedDict, TypeGuard, Union, cast

from .errors import HashError, IkmetaError, IkmetaWarning, SourceError
from .image.limits import MAX_PIXELS
from .sources.base import Blob, FetchOptions
from .sources.read import read_any

if TYPE_CHECKING:
    from PIL import Image
    from typing_extensions import Unpack

    from .dupes import Group, Item
    from .dupes.columns import HashColumns
    from .dupes.rank import Judge
    from .dupes.videos import Blanks, Dense
    from .image.metadata import Report

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]
# What ikmeta calls an error or a warning on: the source (as messages name it) and the reason.
Handler = Callable[[IkmetaError], None]
WarningHandler = Callable[[str, str], None]


def inspect(
    source: Source,
    *,
    on_warning: WarningHandler | None = None,
    **limits: Unpack[Limits],
) -> dict[str, Any]:
    """The metadata object of an image, as ImageKit's Metadata API gives it (and as
    ``ikmeta inspect`` prints it). Raises :class:`~ikmeta.errors.IkmetaError`.

    ``limits`` (:class:`Limits`: ``timeout``, ``max_bytes``, ``headers``, ``retries``,
    ``connections``, ``storage_options``, ``max_pixels``) are the command line's options of those
    names: an image of more than ``max_pixels`` pixels (default 89,478,485, Pillow's
    decompression-bomb limit; None or 0: no limit) raises :class:`~ikmeta.errors.ImageError`
    from its header, before it is decoded. ``on_warning(source,
    message)`` hears caveats (a truncated file), which are otherwise issued as
    :class:`~ikmeta.errors.IkmetaWarning`.

        >>> meta = ikmeta.inspect("examples/harbour.jpg")
        >>> meta["width"], meta["format"], meta["exif"]["exif"]["ISO"]
        (800, 'jpg', 200)
    """
    from .media import inspect_media

    report = inspect_media(read_any(source, _fetch(limits)), _max_pixels(limits))
    _warn(report, on_warning)
    return report.metadata


def inspect_many(
    sources: Iterable[Source | IkmetaError],
    *,
    jobs: int | None = None,
    on_warning: WarningHandler | None = None,
    **limits: Unpack[Limits],
) -> Iterator[dict[str, Any] | IkmetaError]:
    """:func:`inspect` of each source on ``jobs`` threads (default: the CPU count), yielded
    in the sources' order as soon as each is ready; a source that fails yields its
    :class:`~ikmeta.errors.IkmetaError` instead (as does an error value among the sources).

        >>> for meta in ikmeta.inspect_many(["examples/harbour.jpg", "missing.jpg"]):
        ...     print(meta if isinstance(meta, ikmeta.IkmetaError) else meta["pHash"])
        92b66d4de61212ed
        missing.jpg: no such file
    """
    from .media import inspect_media

    work = functools.partial(inspect_media, max_pixels=_max_pixels(limits))
    return _many(work, sources, jobs, _fetch(limits), on_warning)


def phash(
    source: Source | Image.Image, *, on_warning: WarningHandler | None = None, **limits: Unpack[Limits]
) -> str:
    """The 64-bit pHash of an image as displayed (its EXIF orientation applied), as 16 hex
    digits: the ``pHash`` of :func:`inspect`, and imagehash's ``phash`` of the upright picture.

    A PIL image is hashed from its pixels as they are, turned by the EXIF orientation it
    carries (``ImageOps.exif_transpose`` removes the tag, so transposing first is the same);
    an image opened from a file may then differ by a bit or two from the file's hash, which
    is decoded at reduced scale (and is not held to ``max_pixels``: its pixels are the
    caller's). ``on_warning`` and ``limits``: as for :func:`inspect`.

        >>> from PIL import Image
        >>> ikmeta.phash(Image.open("examples/harbour.jpg"))
        '92b66d4de61212ed'
    """
    if _is_pil_image(source):
        return _phash_pixels(source)
    from .media import phash_media

    blob = read_any(cast("Source", source), _fetch(limits))  # not an image: checked above
    report = phash_media(blob, _max_pixels(limits))
    _warn(report, on_warning)
    phashed: str = report.metadata["pHash"]
    return phashed


def phash_many(
    sources: Iterable[Source | IkmetaError],
    *,
    jobs: int | None = None,
    on_warning: WarningHandler | None = None,
    **limits: Unpack[Limits],
) -> Iterator[str | IkmetaError]:
    """:func:`phash` of each source, in order, errors as values (see :func:`inspect_many`).

    >>> list(ikmeta.phash_many(["examples/harbour.jpg", b"not an image"]))
    ['92b66d4de61212ed', ImageError('<bytes>: not an image ikmeta can read (...)')]
    """
    for record in hash_records(sources, jobs=jobs, on_warning=on_warning, **limits):
        yield record if isinstance(record, IkmetaError) else record["pHash"]


def hash_records(
    sources: Iterable[Source | IkmetaError],
    *,
    jobs: int | None = None,
    on_warning: WarningHandler | None = None,
    **limits: Unpack[Limits],
) -> Iterator[dict[str, Any] | IkmetaError]:
    """For each source, in order, the object ``ikmeta phash --ndjson`` prints: ``source``,
    ``pHash``, the other views the matcher uses (``turned``, ``inner``, ``windows``), and what
    ranks copies (``width``, ``height``, ``size``, ``format``, ``quality``, ``camera``,
    ``captured``, ``mtimeNs``, ``flat``); errors as values. :func:`group` takes these records,
    so hashing and grouping can run apart (hash on many machines, group on one).

        >>> record = next(ikmeta.hash_records(["examples/harbour.jpg"]))
        >>> record["pHash"], record["width"], record["camera"]
        ('92b66d4de61212ed', 800, 'ikmeta Sample Camera 1')
    """
    from .media import phash_media

    work = functools.partial(phash_media, max_pixels=_max_pixels(limits))
    return _many(work, sources, jobs, _fetch(limits), on_warning)


def distance(a: str, b: str) -> int:
    """The Hamming distance of two hex pHashes (the bits that differ), as ImageKit's SDKs
    compute it; any case, an optional ``0x``, any length as long as both are equal.
    Raises :class:`~ikmeta.errors.HashError`.

        >>> ikmeta.distance("2d5ad3936d2e015b", "2d6ed293db36a4fb")
        17
    """
    from .hashes import HashFormatError, parse_hash
    from .hashes import distance as hamming

    parsed = []
    for value in (a, b):
        try:
            parsed.append(parse_hash(value))
        except (HashFormatError, TypeError, AttributeError) as exc:
            raise HashError(repr(value), f"not a pHash ({exc})") from None
    try:
        return hamming(*parsed)
    except HashFormatError as exc:
        raise HashError(f"{a} {b}", str(exc)) from None


def find_duplicates(
    paths: Iterable[str | os.PathLike[str]],
    max_distance: int = 10,
    *,
    linkage: str = "reference",
    geometry: str = "any",
    cache: bool | str | os.PathLike[str] = True,
    hidden: bool = False,
    follow_links: bool = False,
    jobs: int | None = None,
    on_error: Handler | None = None,
    on_warning: WarningHandler | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    **limits: Unpack[Limits],
) -> list[Group]:
    """Groups of near-duplicate images among ``paths`` (folders and store prefixes walked
    recursively for image files, files, URLs, stored objects), and of videos (with PyAV, the
    ``video`` extra), as ``ikmeta dupes`` finds them; the group with the best reference
    first, each group's best copy first.

    ``cache``: True for ikmeta's cache of hashes (``$XDG_CACHE_HOME/ikmeta``), a path for
    another, False for none. ``on_error(error)`` hears each file that could not be read
    (else each is issued as an :class:`~ikmeta.errors.IkmetaWarning` and skipped);
    ``on_progress(done, total)`` each file hashed or found in the cache. See :func:`group`
    for ``linkage`` and ``geometry``. Links to folders inside the folders walked are followed
    only with ``follow_links``; a file reached twice (by a link, or a hard link's other name)
    is one image. Each group's reference is its original by :mod:`ikmeta.dupes.rank`, the
    files whose rank depends on it measured for detail (an upscale has none of its own).

        >>> groups = ikmeta.find_duplicates(["examples"], cache=False)
        >>> [(g.reference.source, len(g.members)) for g in groups]
        [('examples/harbour.jpg', 2), ('examples/clip.mp4', 2)]
    """
    from . import video
    from .dupes.scan import scan_paths

    _check_many(paths)
    named = [os.fspath(path) for path in paths]
    jobs = jobs or _default_jobs()
    fetch = _fetch(limits)
    with open_cache(cache, on_warning) as store:
        items, _ = scan_paths(
            named,
            store,
            jobs=jobs,
            fetch=fetch,
            max_pixels=_max_pixels(limits),
            hidden=hidden,
            follow_links=follow_links,
            on_error=on_error or _warn_error,
            on_warning=on_warning or _warn_message,
            on_progress=on_progress,
            videos=video.available(),
        )
        checks = file_checks(store, fetch, _max_pixels(limits), jobs)
        return group(items, max_distance, linkage=linkage, geometry=geometry, jobs=jobs, **checks)


class FileChecks(TypedDict):
    """The keywords of :func:`group` that look at files on this machine beyond their hashes
    (:func:`file_checks` makes them)."""

    judge: Judge | None
    dense: Dense | None
    blanks: Blanks | None


def file_checks(
    store: Any, fetch: FetchOptions | None = None, max_pixels: int | None = MAX_PIXELS, jobs: int = 1
) -> FileChecks:
    """What :func:`group` decodes of local files where hashes cannot decide, as
    :func:`find_duplicates` and ``ikmeta dupes`` use it: the judge of upscales by their
    detail (:class:`ikmeta.dupes.upscales.DetailJudge`), videos' dense fingerprints
    (:class:`ikmeta.dupes.dense.DenseFingerprints`) and blank ends
    (:class:`ikmeta.dupes.dense.BlankEnds`), each measure kept in ``store`` (a cache from
    :func:`open_cache`), read within ``fetch``'s limits and ``max_pixels`` (Pillow's
    decompression-bomb limit by default; None or 0: none), ``jobs`` at a time.

        >>> with ikmeta.api.open_cache(False) as store:  # doctest: +SKIP
        ...     groups = ikmeta.group(records, 10, **ikmeta.api.file_checks(store))
    """
    from .dupes.dense import BlankEnds, DenseFingerprints
    from .dupes.upscales import DetailJudge

    return FileChecks(
        judge=DetailJudge(store, fetch, jobs),
        dense=DenseFingerprints(store, fetch, max_pixels),
        blanks=BlankEnds(store, fetch, max_pixels, jobs),
    )


def group(
    items: Iterable[Item | dict[str, Any] | tuple[str, str] | IkmetaError] | HashColumns,
    max_distance: int = 10,
    *,
    linkage: str = "reference",
    geometry: str = "any",
    jobs: int = 1,
    judge: Judge | None = None,
    dense: Dense | None = None,
    blanks: Blanks | None = None,
) -> list[Group]:
    """Groups of near-duplicates among hashes made elsewhere: records as
    :func:`hash_records` yields them (or ``phash --ndjson`` lines parsed, or rows of a
    table with ``source`` and ``pHash``), ``(source, pHash)`` pairs, or
    :class:`~ikmeta.dupes.Item` values. Error values among them are skipped; a record that
    is not one raises :class:`~ikmeta.errors.HashError`; a source listed again is one image.

    ``linkage``: "reference" (every member within ``max_distance`` of its group's best copy)
    or "connected" (chains). ``geometry``: "any" (copies turned, mirrored, framed, cropped
    or captioned match through the records' other views) or "exact" (as they stand).
    Each :class:`~ikmeta.dupes.Group` has ``reference``, ``members`` (``(item, distance)``,
    reference first), ``match_of(k)``, ``why_of(k)`` (the evidence that placed a member) and
    ``as_object()`` (the JSON of ``ikmeta dupes``). ``judge(big, small)`` tells an upscale from
    the copy it was made from (:data:`ikmeta.dupes.rank.Judge`); without one, only an EXIF
    size that disagrees with the pixels does. Videos (records with ``frames``) group among
    themselves; ``dense(item)`` gives a video's dense fingerprint, which checks a match that
    rests on fewer than three key frames (:class:`ikmeta.dupes.dense.DenseFingerprints`, for
    files on this machine); without it, such a match stands. ``blanks(items)`` gives videos
    with the seconds of one colour at their ends measured, asked where a group's lengths
    differ so that black padding does not make a copy the one to keep
    (:class:`ikmeta.dupes.dense.BlankEnds`); without it, a video's length is its duration.

        >>> groups = ikmeta.group([("a.jpg", "2d5ad3936d2e015b"), ("b.jpg", "2d5ad3936d2e015f"),
        ...                        ("c.jpg", "ffffffff00000000")], max_distance=4)
        >>> [[item.source for item, _ in g.members] for g in groups]
        [['a.jpg', 'b.jpg']]
    """
    from .dupes import group as group_items
    from .dupes.chance import chance_warning
    from .dupes.columns import HashColumns, group_columns

    if isinstance(items, HashColumns):  # a plain hash list, read by ikmeta.dupes.columns
        by_chance = chance_warning(len(items) - items.flat_count(), max_distance)
        if by_chance:
            warnings.warn(by_chance, IkmetaWarning, stacklevel=2)
        return group_columns(items, max_distance, linkage, jobs, geometry)
    listed = _items(items)
    by_chance = chance_warning(sum(1 for item in listed if not item.flat), max_distance)
    if by_chance:
        warnings.warn(by_chance, IkmetaWarning, stacklevel=2)
    return group_items(listed, max_distance, linkage, jobs, geometry, judge=judge, dense=dense, blanks=blanks)


def read_hash_list(
    hash_list: str | os.PathLike[str] | IO[str], *, on_error: Handler | None = None, name: str | None = None
) -> HashColumns:
    """A hash list, ready for :func:`group`: ``HASH  SOURCE`` lines as ``ikmeta phash``
    prints them, or NDJSON records as ``ikmeta phash --ndjson`` prints them (a path, or a
    text stream; ``name`` names the stream in messages). A plain list is held as two
    columns (a list of sources and a numpy array of hashes), so ten million lines fit in
    about a gigabyte; :func:`group` gives them the groups it gives the same lines as Items.
    Each bad line goes to ``on_error`` as a :class:`~ikmeta.errors.SourceError` naming
    it (``hashes.txt:3``), or a warning.

        >>> import io
        >>> listed = ikmeta.read_hash_list(io.StringIO("2d5ad3936d2e015b  a.jpg\\n2d5ad3936d2e015f  b.jpg\\n"))
        >>> [g.reference.source for g in ikmeta.group(listed, max_distance=4)]
        ['a.jpg']
    """
    from .dupes.columns import read_hash_columns

    report = on_error or _warn_error
    if isinstance(hash_list, (str, os.PathLike)):
        path = os.fspath(hash_list)
        try:
            with open(path, encoding="utf-8-sig", errors="surrogateescape") as stream:
                return read_hash_columns(stream, name or path, report)
        except OSError as exc:
            from .errors import os_reason

            raise SourceError(path, f"cannot read the list: {os_reason(exc)}") from None
    return read_hash_columns(hash_list, name or str(getattr(hash_list, "name", "<list>")), report)


def _items(values: Iterable[Item | dict[str, Any] | tuple[str, str] | IkmetaError]) -> list[Item]:
    """Items from what :func:`group` takes, each source once."""
    from .dupes import Item
    from .dupes.hashlist import item_from_record

    items, seen = [], set()
    for value in values:
        if isinstance(value, IkmetaError):
            continue
        if isinstance(value, Item):
            item = value
        else:
            record = value if isinstance(value, dict) else _pair_record(value)
            try:
                item = item_from_record(record)
            except ValueError as exc:
                raise HashError(repr(record.get("source", record))[:200], str(exc)) from None
        if item.source not in seen:
            seen.add(item.source)
            items.append(item)
    return items


def _pair_record(value: Any) -> dict[str, Any]:
    try:
        source, phashed = value
    except (TypeError, ValueError):
        raise HashError(repr(value)[:200], "not a record, a (source, pHash) pair nor an Item") from None
    return {"source": source, "pHash": phashed}


@contextlib.contextmanager
def open_cache(
    cache: bool | str | os.PathLike[str], on_warning: WarningHandler | None = None
) -> Iterator[Any]:
    """The hash cache ``cache`` names (True: ikmeta's own; a path; False: none), closed at
    the end; why it cannot be used goes to ``on_warning`` (or is issued as a warning)."""
    from .cache import HashCache, default_cache_path

    own = cache is True
    path = default_cache_path() if own else None if cache is False else os.fspath(cache)  # type: ignore[arg-type]
    store = HashCache.open(path, replace_foreign=own)
    if store.problem:
        (on_warning or _warn_message)(cache_name(store), store.problem)
    try:
        yield store
    finally:
        store.close()


def cache_name(cache: Any) -> str:
    """How messages name the cache: 'cache PATH'."""
    return f"cache {cache.path}" if cache.path else "cache"


# --- sources --------------------------------------------------------------------------------


class Limits(TypedDict, total=False):
    """The keywords that limit reading and downloading, as the command line's options do."""

    timeout: float  # seconds for the whole request to a URL: connects, reads, retries and their waits (30)
    max_bytes: int  # the largest body downloaded or stream read (100,000,000)
    headers: Mapping[str, str]  # sent with every request, over ikmeta's own (--header)
    retries: int  # times a connection error, 429 or 5xx is tried again (3)
    connections: int  # downloads at once, and connections kept alive a host (16)
    storage_options: Mapping[str, Any]  # for s3://, gs://, az:// sources' library (--storage-option)
    max_pixels: int | None  # the most pixels an image may have (89,478,485); None or 0: no limit


def limits_of(fetch: FetchOptions) -> Limits:
    """The :class:`Limits` keywords of FetchOptions (the command line's options)."""
    return Limits(
        timeout=fetch.timeout,
        max_bytes=fetch.max_bytes,
        headers=dict(fetch.headers),
        retries=fetch.retries,
        connections=fetch.connections,
        storage_options=dict(fetch.storage_options),
    )


def _fetch(limits: Limits) -> FetchOptions:
    """The limits as FetchOptions; a keyword that is not one of :class:`Limits` is a TypeError."""
    unknown = set(limits) - set(Limits.__annotations__)
    if unknown:
        raise TypeError(
            f"unexpected keyword argument {sorted(unknown)[0]!r} (limits: {', '.join(Limits.__annotations__)})"
        )
    options: dict[str, Any] = dict(limits)
    options.pop("max_pixels", None)  # a limit on decoding, not on reading: see _max_pixels
    for name, low, high in (
        ("timeout", 0.0, 86400.0),
        ("max_bytes", 1, 2**63),
        ("retries", 0, 10),
        ("connections", 1, 256),
    ):
        if name in options:
            _check_number(name, options[name], low, high, integer=name != "timeout")
    for name in ("headers", "storage_options"):
        if name in options and not isinstance(options[name], Mapping):
            raise TypeError(f"{name} must be a mapping (a dict), not {type(options[name]).__name__}")
    if "headers" in options:
        options["headers"] = tuple(_checked_header(k, v) for k, v in options["headers"].items())
    if "storage_options" in options:
        options["storage_options"] = tuple(options["storage_options"].items())
    return FetchOptions(**options)


def _max_pixels(limits: Limits) -> int | None:
    """The ``max_pixels`` of ``limits``, checked: the default (Pillow's decompression-bomb limit)
    when it is not given, None for no limit (None or 0).

    >>> _max_pixels({}), _max_pixels({"max_pixels": 0}), _max_pixels({"max_pixels": 10**9})
    (89478485, None, 1000000000)
    """

    value = limits.get("max_pixels", MAX_PIXELS)
    if value is None:
        return None
    _check_number("max_pixels", value, 0, 2**63, integer=True)
    return value or None


def _check_number(name: str, value: Any, low: float, high: float, integer: bool) -> None:
    """A limit's value in its range, else ValueError (TypeError for what is not a number)."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(
            f"{name} must be {'an integer' if integer else 'a number'}, not {type(value).__name__}"
        )
    if not (low < value <= high if name == "timeout" else low <= value <= high):  # (NaN fails both)
        raise ValueError(
            f"{name} must be {'over' if name == 'timeout' else 'at least'} {low} and at most {high}"
        )


def _checked_header(name: Any, value: Any) -> tuple[str, str]:
    from .sources.base import header_problem

    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(f"headers must map names to values, both str (not {name!r}: {value!r})")
    problem = header_problem(name, value)
    if problem:
        raise ValueError(f"headers: {problem}")
    return name, value


def _is_pil_image(source: object) -> TypeGuard[Image.Image]:
    from sys import modules

    image_module = modules.get("PIL.Image")  # no PIL image without PIL loaded
    return image_module is not None and isinstance(source, image_module.Image)


def _phash_pixels(image: Image.Image) -> str:
    """The pHash of a PIL image's pixels, turned by the EXIF orientation it carries."""
    from .errors import ImageError
    from .image.decode import shrink
    from .image.perceptual import greyscale, low_frequencies, phash_of, upright

    name = getattr(image, "filename", None) or "<PIL image>"
    if image.width < 1 or image.height < 1:
        raise ImageError(name, "image has no pixels (width or height is 0)")
    try:
        orientation = image.getexif().get(0x0112)
        grey = greyscale(upright(shrink(image), orientation))
    except (ValueError, OSError) as exc:
        raise ImageError(name, f"cannot hash these pixels ({image.mode}: {exc})") from None
    return phash_of(low_frequencies(grey)[0])


# --- many at once ---------------------------------------------------------------------------


def _default_jobs() -> int:
    from .parallel import default_jobs

    return default_jobs()


def _many(
    work: Callable[[Blob], Report],
    sources: Iterable[Source | IkmetaError],
    jobs: int | None,
    fetch: FetchOptions,
    on_warning: WarningHandler | None,
) -> Iterator[dict[str, Any] | IkmetaError]:
    from .parallel import ordered_map
    from .sources.read import on_bytes, read_ahead

    _check_many(sources)
    one = functools.partial(on_bytes, work, fetch=fetch)
    for outcome in ordered_map(one, read_ahead(sources, fetch), jobs or _default_jobs()):
        if isinstance(outcome, IkmetaError):
            yield outcome
        else:
            _warn(outcome, on_warning)
            yield outcome.metadata


def _check_many(sources: object) -> None:
    """A TypeError for one source given where a list of them is wanted (a string would be
    taken a character at a time)."""
    if isinstance(sources, (str, bytes, bytearray, memoryview, os.PathLike)):
        raise TypeError(f"expected a list of sources, got one ({type(sources).__name__}): wrap it in [...]")


def _warn(report: Report, on_warning: WarningHandler | None) -> None:
    for message in report.warnings:
        (on_warning or _warn_message)(report.source, message)


def _warn_message(source: str, message: str) -> None:
    warnings.warn(f"{source}: {message}", IkmetaWarning, stacklevel=3)


def _warn_error(error: IkmetaError) -> None:
    warnings.warn(str(error), IkmetaWarning, stacklevel=3)
