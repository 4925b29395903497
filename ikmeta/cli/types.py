"""Click parameter types: what an option's or argument's text means, or why it is a usage error."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from typing import Any, ClassVar

import click

from ikmeta.sources.base import STDIN, is_remote


class ByteSize(click.ParamType[int]):
    """A size in bytes: 1000000, 500k, 100MB, 2MiB, 1G."""

    name = "size"
    UNITS: ClassVar[dict[str, int]] = {
        "": 1,
        "b": 1,
        "k": 10**3,
        "kb": 10**3,
        "m": 10**6,
        "mb": 10**6,
        "g": 10**9,
        "gb": 10**9,
        "kib": 2**10,
        "mib": 2**20,
        "gib": 2**30,
    }

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(value))
        unit = match[2].lower() if match else None
        if not match or unit not in self.UNITS or float(match[1]) * self.UNITS[unit] < 1:
            self.fail(f"{value!r} is not a size (examples: 5000000, 500k, 100MB, 2MiB)", param, ctx)
        return int(float(match[1]) * self.UNITS[unit])


class Seconds(click.FloatRange):
    """A positive, finite number of seconds, at most a day."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=0, max=86400, min_open=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if math.isnan(number):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return super().convert(value, param, ctx)


class HeaderType(click.ParamType[Any]):
    """An HTTP header, 'Name: value', as curl -H takes it."""

    name = "header"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ikmeta.sources.base import header_problem

        if isinstance(value, tuple):
            return value
        name, colon, text = str(value).partition(":")
        if not colon or not name.strip():
            self.fail(f"{value!r} is not 'Name: value' (example: 'Authorization: Bearer abc123')", param, ctx)
        problem = header_problem(name.strip(), text.strip())
        if problem:
            self.fail(problem, param, ctx)
        return (name.strip(), text.strip())


class StorageOptionType(click.ParamType[Any]):
    """KEY=VALUE for an object store's library (fsspec's storage_options)."""

    name = "option"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        key, equals, text = str(value).partition("=")
        if not equals or not key.strip().isidentifier():
            self.fail(f"{value!r} is not KEY=VALUE (example: endpoint_url=http://127.0.0.1:9000)", param, ctx)
        return (key.strip(), storage_value(text, lambda message: self.fail(message, param, ctx)))


def storage_value(text: str, fail: Callable[[str], Any]) -> Any:
    """A --storage-option value: true or false, a number (written plainly: no leading zero,
    at most 18 digits), a JSON object or a "quoted" JSON string, else the text itself.

    >>> storage_value("true", print), storage_value("3", print), storage_value("0123", print)
    (True, 3, '0123')
    """
    import json

    bare = text.strip()
    if bare.lower() in ("true", "false"):
        return bare.lower() == "true"
    if re.fullmatch(r"-?(0|[1-9]\d{0,17})", bare):
        return int(bare)
    if re.fullmatch(r"-?(0|[1-9]\d{0,17})\.\d{1,18}", bare):
        return float(bare)
    if bare.startswith(("{", '"')):
        try:
            parsed = json.loads(bare)
        except (ValueError, RecursionError) as exc:
            fail(f"{bare[:60]!r} is not a JSON {'object' if bare.startswith('{') else 'string'} ({exc})")
        if not isinstance(parsed, (dict, str)):
            fail(f"{bare[:60]!r} is not a JSON object or string")
        return parsed
    return text


# A list of names or hashes: UTF-8 (a leading BOM skipped), and bytes that are not UTF-8 kept
# as the file names they stand for (surrogateescape), never a decoding error.
LIST_FILE = click.File("r", encoding="utf-8-sig", errors="surrogateescape", lazy=False)


class HashesType(click.File):
    """--hashes: a hash list (opened as LIST_FILE opens it), or a Parquet hash table's folder
    or prefix in a store (kept as its name, for --dask)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ikmeta.sources.base import object_scheme

        if isinstance(value, str) and (object_scheme(value) or (value != STDIN and os.path.isdir(value))):
            return value
        return super().convert(value, param, ctx)


HASHES = HashesType("r", encoding="utf-8-sig", errors="surrogateescape", lazy=False)


class HashOrSource(click.ParamType[Any]):
    """A hex pHash, or an image to hash (a path, -, a URL or a stored object). An existing file wins over hex."""

    name = "hash-or-source"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ikmeta.hashes import HashFormatError, is_hash, parse_hash
        from ikmeta.sources.base import foreign_scheme

        if value == STDIN or is_remote(value) or (os.path.exists(value) and not os.path.isdir(value)):
            return ("source", value)
        if _hidden(value) and not is_hash(value):  # in a folder it may not enter: "permission denied"
            return ("source", value)
        if os.path.isdir(value) and not is_hash(value):
            self.fail(f"{value!r} is a folder; distance compares two images or hashes", param, ctx)
        if foreign_scheme(value):
            self.fail(
                f"unsupported URL scheme in {value!r} (ikmeta reads http://, https://, s3://, gs:// and az://)",
                param,
                ctx,
            )
        try:
            return ("hash", parse_hash(value))
        except HashFormatError:
            self.fail(f"not a hexadecimal pHash and no such file: {value!r}", param, ctx)


class KeepRuleType(click.ParamType[Any]):
    name = "rule"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ikmeta.actions import parse_keep_rule

        if not isinstance(value, str):
            return value
        try:
            return parse_keep_rule(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _hidden(path: str) -> bool:
    """Whether ``path`` cannot be looked at for want of permission (a folder on its way may
    not be entered), rather than being absent."""
    try:
        os.lstat(path)
    except PermissionError:
        return True
    except (OSError, ValueError):
        return False
    return False
