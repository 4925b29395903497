"""What clients say of a served library's files (tags, custom metadata, a description), kept
between runs: ImageKit keeps them with the file, and ikmeta never writes into the user's
pictures, so they live in a small SQLite file of their own, by the file's absolute path
(``$XDG_STATE_HOME/ikmeta/serve-labels.sqlite3``: not the cache, which users delete).

    >>> labels = Labels.open(None)  # in memory only
    >>> labels.put("/photos/a.jpg", Label(tags=["sea"]))
    >>> labels.under("/photos")["/photos/a.jpg"].tags
    ['sea']
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

FILE_NAME = "serve-labels.sqlite3"
# A path is kept as its bytes (os.fsencode): a name that is not UTF-8 is one too.
TABLE = (
    "CREATE TABLE IF NOT EXISTS labels (path BLOB PRIMARY KEY, tags TEXT, custom TEXT NOT NULL, "
    "description TEXT)"
)


@dataclass
class Label:
    """A file's tags (None: none set), custom metadata and description."""

    tags: list[str] | None = None
    custom_metadata: dict[str, Any] = field(default_factory=dict)
    description: str | None = None

    @property
    def empty(self) -> bool:
        return self.tags is None and not self.custom_metadata and self.description is None


def default_labels_path() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "ikmeta", FILE_NAME)


class Labels:
    """Labels by absolute path, in SQLite (use :meth:`open`); every method is safe to call
    from many threads. Without a file (or when it cannot be used: ``problem`` says why) they
    are kept in memory for the run."""

    def __init__(
        self, connection: sqlite3.Connection | None, problem: str | None = None, path: str | None = None
    ) -> None:
        self.connection = connection
        self.problem = problem
        self.path = path  # the file they are kept in (None: in memory only)
        self.memory: dict[str, Label] = {}
        self.lock = threading.Lock()

    @classmethod
    def open(cls, path: str | None) -> Labels:
        """The labels at ``path`` (made there when missing); None: in memory only."""
        if path is None:
            return cls(None)
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            connection = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(TABLE)
        except (OSError, sqlite3.Error) as exc:
            return cls(None, f"{path}: {exc}; tags and custom metadata are kept for this run only")
        return cls(connection, path=os.path.abspath(path))

    def under(self, root: str) -> dict[str, Label]:
        """The labels of the files below the folder ``root``, by path."""
        prefix = root.rstrip(os.sep) + os.sep
        with self.lock:
            if self.connection is None:
                return {path: label for path, label in self.memory.items() if path.startswith(prefix)}
            key = os.fsencode(prefix)
            try:
                rows = self.connection.execute(
                    "SELECT path, tags, custom, description FROM labels WHERE substr(path, 1, ?) = ?",
                    (len(key), key),
                ).fetchall()
            except sqlite3.Error:
                return {}
        return {
            os.fsdecode(path): label
            for path, *values in rows
            if isinstance(path, bytes) and (label := _label(*values)) is not None
        }

    def get(self, path: str) -> Label:
        """The label of the file at ``path`` (an empty one when it has none)."""
        with self.lock:
            if self.connection is None:
                return self.memory.get(path) or Label()
            try:
                row = self.connection.execute(
                    "SELECT tags, custom, description FROM labels WHERE path = ?", (os.fsencode(path),)
                ).fetchone()
            except sqlite3.Error:
                return Label()
        return (_label(*row) if row else None) or Label()

    def put(self, path: str, label: Label) -> None:
        """Keep ``label`` for the file at ``path`` (an empty one: forget it)."""
        with self.lock:
            if self.connection is None:
                if label.empty:
                    self.memory.pop(path, None)
                else:
                    self.memory[path] = label
                return
            key = os.fsencode(path)
            try:
                if label.empty:
                    self.connection.execute("DELETE FROM labels WHERE path = ?", (key,))
                else:
                    self.connection.execute(
                        "INSERT OR REPLACE INTO labels (path, tags, custom, description) VALUES (?, ?, ?, ?)",
                        (
                            key,
                            None if label.tags is None else json.dumps(label.tags),
                            json.dumps(label.custom_metadata),
                            label.description,
                        ),
                    )
            except (sqlite3.Error, ValueError):
                pass  # (a label is worth less than the request: it is kept in the entry for this run)

    def close(self) -> None:
        with self.lock:
            if self.connection is not None:
                self.connection.close()
                self.connection = None


def journaled(label: Label) -> dict[str, Any]:
    """A label as a journal keeps it (JSON), for ``ikmeta undo`` to give back (:func:`from_journal`).

    >>> from_journal(journaled(Label(["sea"], {"by": "ana"}))) == Label(["sea"], {"by": "ana"})
    True
    """
    return {"tags": label.tags, "customMetadata": label.custom_metadata, "description": label.description}


def from_journal(value: Any) -> Label | None:
    """The label a journal kept (:func:`journaled`); None for anything else."""
    if not isinstance(value, dict):
        return None
    try:
        return _label(
            None if value.get("tags") is None else json.dumps(value["tags"]),
            json.dumps(value.get("customMetadata", {})),
            value.get("description"),
        )
    except (TypeError, ValueError, RecursionError):
        return None


def _label(tags: Any, custom: Any, description: Any) -> Label | None:
    """A row as a Label; None for a damaged one."""
    try:
        tag_list = None if tags is None else json.loads(tags)
        custom_object = json.loads(custom)
    except (TypeError, ValueError, RecursionError):
        return None
    if tag_list is not None and not (
        isinstance(tag_list, list) and all(isinstance(t, str) for t in tag_list)
    ):
        return None
    if not isinstance(custom_object, dict) or not (description is None or isinstance(description, str)):
        return None
    return Label(tag_list, custom_object, description)
