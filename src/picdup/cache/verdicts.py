"""Pairs a person said are *not* duplicates, remembered so later scans never report them again.

A verdict is keyed by both files' paths and content digests: the same two files, unchanged,
stay apart; edit or replace either file and the verdict no longer applies (the new content has
not been judged). The store is one small SQLite table, ``verdicts.sqlite3`` in the cache folder,
separate from the fingerprint cache so either can be deleted on its own.
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from picdup.cache.paths import default_cache_dir
from picdup.errors import CacheError
from picdup.model import Fingerprint, Match

__all__ = ["VERDICTS_FILE", "VerdictStore", "drop_not_duplicates"]

VERDICTS_FILE = "verdicts.sqlite3"

FileKey = tuple[str, str]  # (path, content digest)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS not_duplicates (
    path_a BLOB NOT NULL, digest_a TEXT NOT NULL,
    path_b BLOB NOT NULL, digest_b TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (path_a, digest_a, path_b, digest_b)
) WITHOUT ROWID
"""


def _ordered(a: FileKey, b: FileKey) -> tuple[FileKey, FileKey]:
    return (a, b) if a <= b else (b, a)


def _db_path(path: str) -> bytes:
    """Paths are stored as the file system's bytes, so names that are not UTF-8 survive."""
    return os.fsencode(path)


class VerdictStore:
    """The ``not_duplicates`` table. Use as a context manager, or call :meth:`close`.

    Errors: :class:`CacheError` when the database cannot be opened or written.
    """

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None) -> None:
        folder = os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()
        self.path = os.path.join(folder, VERDICTS_FILE)
        try:
            os.makedirs(folder, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"cannot open the verdict store {self.path}: {exc}") from exc

    def __enter__(self) -> VerdictStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def mark(self, a: FileKey, b: FileKey, not_duplicate: bool = True) -> None:
        """Remember (or, with ``not_duplicate=False``, forget) that ``a`` and ``b`` differ."""
        (pa, da), (pb, db) = _ordered(a, b)
        row = (_db_path(pa), da, _db_path(pb), db)
        try:
            if not_duplicate:
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                self._db.execute(
                    "INSERT OR IGNORE INTO not_duplicates VALUES (?, ?, ?, ?, ?)", (*row, stamp)
                )
            else:
                self._db.execute(
                    "DELETE FROM not_duplicates"
                    " WHERE path_a = ? AND digest_a = ? AND path_b = ? AND digest_b = ?",
                    row,
                )
        except sqlite3.Error as exc:
            raise CacheError(f"cannot write the verdict store {self.path}: {exc}") from exc

    def pairs(self) -> set[tuple[FileKey, FileKey]]:
        """Every stored pair, each ordered smaller first, paths as picdup holds them."""
        try:
            rows = self._db.execute(
                "SELECT path_a, digest_a, path_b, digest_b FROM not_duplicates"
            ).fetchall()
        except sqlite3.Error as exc:
            raise CacheError(f"cannot read the verdict store {self.path}: {exc}") from exc
        out: set[tuple[FileKey, FileKey]] = set()
        for pa, da, pb, db in rows:
            a = (os.fsdecode(pa), da)
            b = (os.fsdecode(pb), db)
            out.add(_ordered(a, b))
        return out

    def is_not_duplicate(self, a: FileKey, b: FileKey) -> bool:
        return _ordered(a, b) in self.pairs()


def drop_not_duplicates(
    fps: Sequence[Fingerprint],
    matches: Iterable[Match],
    mates: dict[int, list[int]] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> list[Match]:
    """``matches`` without the pairs a person marked as not duplicates.

    Input: the scope's fingerprints, verified matches between indexes into ``fps``, and the
    byte-identical copies of each index (``mates``): byte copies are the same picture, so a
    verdict on any copy applies to all of them.
    Output: the matches that no stored verdict contradicts, in their order.
    Performance: nothing is opened when the store does not exist; otherwise one read of the
    (small) table and a set lookup per pair of copies.
    """
    matches = list(matches)
    folder = os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()
    if not matches or not os.path.exists(os.path.join(folder, VERDICTS_FILE)):
        return matches
    with VerdictStore(folder) as store:
        verdicts = store.pairs()
    if not verdicts:
        return matches
    judged: dict[FileKey, list[FileKey]] = defaultdict(list)
    for a, b in verdicts:
        judged[a].append(b)
        judged[b].append(a)
    copies = mates or {}

    def keys(k: int) -> list[FileKey]:
        return [(fps[i].ref.path, fps[i].digest) for i in (k, *copies.get(k, []))]

    def contradicted(m: Match) -> bool:
        others = {key for a in keys(m.a) for key in judged.get(a, ())}
        return bool(others) and any(b in others for b in keys(m.b))

    return [m for m in matches if not contradicted(m)]
