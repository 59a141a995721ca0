"""The fingerprint cache: one SQLite file (WAL mode) in the user's cache folder.

A row is served only when the file's path, size and mtime_ns and the *algorithm key* (the
algorithm version, every parameter that changes a fingerprint's value, and the layout of the
:class:`~picdup.model.Fingerprint` dataclass) all equal what is asked, so a changed file or a
changed algorithm is never served stale. Rows are written in batches while the scan runs, each
batch its own transaction, so an interrupted scan keeps what it did and the next run resumes.

A file that is not a SQLite database, or one SQLite reports as damaged, is deleted and rebuilt
with a warning on the ``picdup`` logger: the cache only ever holds what can be computed again.

Fingerprints are stored generically (every dataclass field except ``ref``: scalars as JSON, bytes
fields appended raw), so a field added to the dataclass flows through without edits here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import os
import sqlite3
import struct
import time
import typing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from picdup.cache.paths import default_cache_dir
from picdup.errors import CacheError
from picdup.fingerprint import ALGORITHM_VERSION, SKIPPED, THUMB_SIZE
from picdup.model import FileRef, Fingerprint

__all__ = [
    "CACHE_FILE",
    "SCHEMA_VERSION",
    "CacheInfo",
    "FingerprintCache",
    "algorithm_key",
    "cache_info",
    "clear_cache",
    "decode_fingerprint",
    "default_cache_path",
    "encode_fingerprint",
    "evidence_context_prefix",
    "pixel_key",
]

log = logging.getLogger("picdup.cache")

CACHE_FILE = "fingerprints.sqlite3"
SCHEMA_VERSION = 2
# Paths per SELECT ... IN (...): well under SQLite's bound on host parameters.
_LOOKUP_CHUNK = 500
# Rows per write transaction; a killed scan loses at most this many fingerprints.
_BATCH = 256
_BATCH_SECONDS = 2.0

# Each entry upgrades the schema from version k to k + 1 (index k - 1); version 0 is "empty".
_MIGRATIONS: list[tuple[str, ...]] = [
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE fingerprints ("
        " path BLOB NOT NULL, algo TEXT NOT NULL, size INTEGER NOT NULL,"
        " mtime_ns INTEGER NOT NULL, stored_ns INTEGER NOT NULL, data BLOB NOT NULL,"
        " PRIMARY KEY (path, algo)) WITHOUT ROWID",
        # Pixel digests come from a full decode, asked for only for candidate pairs; they are
        # worth keeping as much as the fingerprints, so a rescan decodes nothing.
        "CREATE TABLE pixel_digests ("
        " path BLOB NOT NULL, algo TEXT NOT NULL, size INTEGER NOT NULL,"
        " mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL,"
        " PRIMARY KEY (path, algo)) WITHOUT ROWID",
    ),
    (
        # Verification evidence of candidate pairs, keyed by the two files' content digests
        # (not paths: a renamed or copied file keeps its evidence), the turn, and a context:
        # the verification and fingerprint versions and the measuring settings. The context
        # string lives once in evidence_contexts, so a row costs about 110 bytes.
        "CREATE TABLE evidence_contexts (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)",
        "CREATE TABLE evidence ("
        " digest_a BLOB NOT NULL, digest_b BLOB NOT NULL, ctx INTEGER NOT NULL,"
        " turn INTEGER NOT NULL, used_day INTEGER NOT NULL, data BLOB NOT NULL,"
        " PRIMARY KEY (digest_a, digest_b, ctx, turn)) WITHOUT ROWID",
    ),
]
# Evidence rows not used for this many days are dropped (checked once a day): pairs of files
# that were deleted or changed would otherwise stay forever. A row in use is re-stamped when
# its stamp is older than _EVIDENCE_TOUCH_DAYS, so a warm rescan rarely writes.
_EVIDENCE_KEEP_DAYS = 90
_EVIDENCE_TOUCH_DAYS = 7

EvidenceKey = tuple[str, str, int]  # (digest a, digest b, turn)


def default_cache_path() -> str:
    """The cache file used when no ``--cache`` is given."""
    return os.path.join(default_cache_dir(), CACHE_FILE)


@functools.cache
def _layout() -> str:
    """The fingerprint's field layout: a new or retyped field makes older rows unusable."""
    hints = typing.get_type_hints(Fingerprint)
    parts = [f"{f.name}:{hints[f.name]}" for f in dataclasses.fields(Fingerprint)]
    return hashlib.sha256(";".join(parts).encode()).hexdigest()[:12]


def _version_prefix() -> str:
    return f"v{ALGORITHM_VERSION};layout={_layout()};"


def pixel_key(*, max_pixels: int) -> str:
    """The key of a pixel digest: what decides it besides the file."""
    return f"{_version_prefix()}pixels;max_pixels={max_pixels}"


def algorithm_key(*, max_pixels: int, decode: bool) -> str:
    """Everything besides the file itself that decides a fingerprint's value."""
    from picdup.decode import REDUCED_SIZE

    return (
        f"{_version_prefix()}reduced={REDUCED_SIZE};thumb={THUMB_SIZE};"
        f"max_pixels={max_pixels};decode={int(decode)}"
    )


def _nested_types() -> dict[str, type]:
    """Dataclass types that appear in Fingerprint's fields (ImageInfo), by name."""
    out: dict[str, type] = {}
    for hint in typing.get_type_hints(Fingerprint).values():
        for arg in (hint, *typing.get_args(hint)):
            if dataclasses.is_dataclass(arg) and isinstance(arg, type):
                out[arg.__name__] = arg
    return out


_NESTED = _nested_types()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$type": type(value).__name__, "fields": fields}
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _unplain(value: Any) -> Any:
    if isinstance(value, dict) and "$type" in value:
        cls = _NESTED[value["$type"]]
        return cls(**{k: _unplain(v) for k, v in value["fields"].items()})
    return value


def encode_fingerprint(fp: Fingerprint) -> bytes:
    """Every field but ``ref`` as one blob: a JSON header, then the bytes fields, raw."""
    scalars: dict[str, Any] = {}
    raw: list[bytes] = []
    lengths: dict[str, int] = {}
    for f in dataclasses.fields(fp):
        if f.name == "ref":
            continue
        value = getattr(fp, f.name)
        if isinstance(value, bytes | bytearray | memoryview):
            lengths[f.name] = len(value)
            raw.append(bytes(value))
        else:
            scalars[f.name] = _plain(value)
    header = json.dumps({"s": scalars, "b": lengths}, separators=(",", ":")).encode()
    return struct.pack("<I", len(header)) + header + b"".join(raw)


def decode_fingerprint(blob: bytes, ref: FileRef, *, thumb: bool = True) -> Fingerprint:
    """The inverse of :func:`encode_fingerprint`, for the file ``ref``; with ``thumb=False``
    the verification thumbnail is left out (empty), and :meth:`FingerprintCache.thumbs` reads
    it when it is needed."""
    (n,) = struct.unpack_from("<I", blob)
    head = json.loads(blob[4 : 4 + n])
    kwargs: dict[str, Any] = {k: _unplain(v) for k, v in head["s"].items()}
    pos = 4 + n
    for name, length in head["b"].items():
        kwargs[name] = blob[pos : pos + length] if thumb or name != "thumb" else b""
        pos += length
    return Fingerprint(ref=ref, **kwargs)


def cacheable(fp: Fingerprint) -> bool:
    """Whether a fingerprint depends only on the file's content (not on a passing read error)."""
    return bool(fp.digest) or (fp.error or "").startswith(SKIPPED)


def _today() -> int:
    return int(time.time() // 86400)


def evidence_context_prefix() -> str:
    """The start of every evidence context of this picdup: verification and fingerprint
    versions. Contexts with another start are deleted when the cache is opened."""
    from picdup.verify import VERIFY_VERSION

    return f"verify={VERIFY_VERSION};{_version_prefix()}"


_evidence_prefix = evidence_context_prefix


def _digest_key(digest: str) -> bytes:
    """A content digest as stored: its raw bytes when it is hex (half the size)."""
    try:
        return bytes.fromhex(digest)
    except ValueError:
        return b"\x00" + digest.encode("utf-8", "surrogateescape")


def _path_key(path: str) -> bytes:
    """The path as stored: its bytes on disk, so names that are not valid UTF-8 round-trip."""
    return os.fsencode(path)


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("not a database", "malformed", "corrupt", "disk image"))


def _remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + suffix)


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """What ``picdup cache info`` shows."""

    path: str
    exists: bool
    bytes: int
    rows: int
    current_rows: int
    schema: int
    evidence_rows: int = 0


class FingerprintCache:
    """An open cache file. Use as a context manager, or call :meth:`close`.

    Input: ``path`` of the SQLite file (created with its folder when missing).

    Errors: :class:`~picdup.errors.CacheError` when the file cannot be created or opened (for
    example a folder that is not writable) or was written by a newer picdup; a damaged file is
    rebuilt with a warning instead.

    Performance: lookups go 500 paths per query on the ``(path, algo)`` primary key; writes
    are batched, one transaction per batch.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self._pending: list[tuple[bytes, str, int, int, int, bytes]] = []
        self._last_flush = time.monotonic()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise CacheError(f"cannot open the cache {self.path}: {exc}") from exc
            self._rebuild(exc)
        except sqlite3.Error as exc:
            raise CacheError(f"cannot open the cache {self.path}: {exc}") from exc

    def _rebuild(self, exc: BaseException) -> None:
        """Replace a damaged file with an empty cache: it only held what can be recomputed."""
        log.warning("the cache file %s was damaged (%s); rebuilding it", self.path, exc)
        db = getattr(self, "_db", None)
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        _remove_db(self.path)
        try:
            self._db = self._open()
        except sqlite3.Error as exc2:
            raise CacheError(f"cannot rebuild the cache {self.path}: {exc2}") from exc2

    def _open(self) -> sqlite3.Connection:
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"cannot create the cache folder {folder}: {exc}") from exc
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            self._migrate(db)
            self._db = db
            self._prune_other_versions()
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(_MIGRATIONS):
            raise CacheError(
                f"the cache was written by a newer picdup (schema {version}); "
                "use --cache with another file or --no-cache"
            )
        if version == len(_MIGRATIONS):
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            for step in range(version, len(_MIGRATIONS)):
                for sql in _MIGRATIONS[step]:
                    db.execute(sql)
            db.execute(f"PRAGMA user_version = {len(_MIGRATIONS)}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def __enter__(self) -> FingerprintCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Write what is pending and close the file."""
        if getattr(self, "_db", None) is None:
            return
        try:
            self.flush()
        finally:
            self._db.close()
            self._db = None  # type: ignore[assignment]

    def lookup(
        self, refs: Sequence[FileRef], keys: Sequence[str], *, thumbs: bool = True
    ) -> tuple[list[Fingerprint], list[FileRef]]:
        """Split ``refs`` into cached fingerprints (hits) and refs still to compute (misses).

        A hit needs equal path, size and mtime_ns and an algorithm key in ``keys`` (earlier
        keys preferred). Hits are built with the ref given here; with ``thumbs=False`` without
        their thumbnails (16 KiB each), which :meth:`thumbs` reads for the few that need one.
        """
        if not keys:
            raise ValueError("lookup needs at least one algorithm key")
        rank = {k: r for r, k in enumerate(keys)}
        key_marks = ",".join("?" * len(keys))
        hits: list[Fingerprint] = []
        misses: list[FileRef] = []
        for lo in range(0, len(refs), _LOOKUP_CHUNK):
            part = refs[lo : lo + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(part))
            try:
                rows = self._db.execute(
                    f"SELECT path, algo, size, mtime_ns, data FROM fingerprints "
                    f"WHERE path IN ({marks}) AND algo IN ({key_marks})",
                    [_path_key(r.path) for r in part] + list(keys),
                ).fetchall()
            except sqlite3.DatabaseError as exc:
                if not _is_damage(exc):
                    raise CacheError(f"cannot read the cache {self.path}: {exc}") from exc
                self._rebuild(exc)
                return [], list(refs)
            best: dict[bytes, tuple[int, int, int, bytes]] = {}
            for path, algo, size, mtime_ns, data in rows:
                r = rank[algo]
                if path not in best or r < best[path][0]:
                    best[path] = (r, size, mtime_ns, data)
            for ref in part:
                row = best.get(_path_key(ref.path))
                if row is not None and row[1] == ref.size and row[2] == ref.mtime_ns:
                    hits.append(decode_fingerprint(row[3], ref, thumb=thumbs))
                else:
                    misses.append(ref)
        return hits, misses

    def thumbs(self, refs: Sequence[FileRef], keys: Sequence[str]) -> dict[str, bytes]:
        """The stored thumbnails of ``refs`` (by path), where a fingerprint of the file as it
        is (same size and mtime_ns) is stored under one of ``keys``; others are left out."""
        self.flush()
        found: dict[str, bytes] = {}
        hits, _ = self.lookup(refs, keys)
        for fp in hits:
            if fp.thumb:
                found[fp.ref.path] = fp.thumb
        return found

    def add(self, fp: Fingerprint, key: str) -> None:
        """Queue one fingerprint; written with the next batch (at most ~2 s or 256 rows later)."""
        if not cacheable(fp):
            return
        ref = fp.ref
        self._pending.append(
            (
                _path_key(ref.path),
                key,
                ref.size,
                ref.mtime_ns,
                time.time_ns(),
                encode_fingerprint(fp),
            )
        )
        if len(self._pending) >= _BATCH or time.monotonic() - self._last_flush > _BATCH_SECONDS:
            self.flush()

    def add_many(self, fps: Iterable[Fingerprint], key: str) -> None:
        for fp in fps:
            self.add(fp, key)
        self.flush()

    def flush(self) -> None:
        """Write the queued fingerprints in one transaction."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        self._write(
            "INSERT OR REPLACE INTO fingerprints "
            "(path, algo, size, mtime_ns, stored_ns, data) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _write(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Many rows in one transaction; a file found damaged is rebuilt and written once more."""
        for attempt in (1, 2):
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
                return
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                if attempt == 1 and isinstance(exc, sqlite3.DatabaseError) and _is_damage(exc):
                    self._rebuild(exc)
                    continue
                raise CacheError(f"cannot write the cache {self.path}: {exc}") from exc

    def pixel_digests(self, refs: Sequence[FileRef], key: str) -> dict[str, str]:
        """Cached pixel digests of the unchanged files among ``refs``, by path."""
        out: dict[str, str] = {}
        for lo in range(0, len(refs), _LOOKUP_CHUNK):
            part = refs[lo : lo + _LOOKUP_CHUNK]
            wanted = {_path_key(r.path): (r.size, r.mtime_ns) for r in part}
            marks = ",".join("?" * len(part))
            try:
                rows = self._db.execute(
                    f"SELECT path, size, mtime_ns, digest FROM pixel_digests "
                    f"WHERE path IN ({marks}) AND algo = ?",
                    [*wanted, key],
                ).fetchall()
            except sqlite3.DatabaseError as exc:
                if not _is_damage(exc):
                    raise CacheError(f"cannot read the cache {self.path}: {exc}") from exc
                self._rebuild(exc)
                return {}
            for path, size, mtime_ns, digest in rows:
                if wanted.get(path) == (size, mtime_ns):
                    out[os.fsdecode(path)] = digest
        return out

    def add_pixel_digests(self, items: Sequence[tuple[FileRef, str]], key: str) -> None:
        """Store pixel digests, one transaction."""
        rows = [(_path_key(r.path), key, r.size, r.mtime_ns, d) for r, d in items]
        if rows:
            self._write(
                "INSERT OR REPLACE INTO pixel_digests (path, algo, size, mtime_ns, digest) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def _prune_other_versions(self) -> None:
        """Drop rows of other algorithm versions once per version change: they can never hit.
        Evidence rows unused for long are dropped too, at most once a day."""
        prefix = _version_prefix()
        vprefix = _evidence_prefix()
        today = _today()
        marks = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        stale_version = marks.get("version") != prefix or marks.get("evidence") != vprefix
        if not stale_version and marks.get("evidence_pruned") == str(today):
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if stale_version:
                for table in ("fingerprints", "pixel_digests"):
                    self._db.execute(
                        f"DELETE FROM {table} WHERE substr(algo, 1, ?) != ?",
                        (len(prefix), prefix),
                    )
                old = [
                    ctx
                    for ctx, key in self._db.execute("SELECT id, key FROM evidence_contexts")
                    if not key.startswith(vprefix)
                ]
                for ctx in old:
                    self._db.execute("DELETE FROM evidence WHERE ctx = ?", (ctx,))
                    self._db.execute("DELETE FROM evidence_contexts WHERE id = ?", (ctx,))
            self._db.execute(
                "DELETE FROM evidence WHERE used_day < ?", (today - _EVIDENCE_KEEP_DAYS,)
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("version", prefix), ("evidence", vprefix), ("evidence_pruned", str(today))],
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _context(self, key: str, create: bool) -> int | None:
        row = self._db.execute("SELECT id FROM evidence_contexts WHERE key = ?", (key,)).fetchone()
        if row is not None or not create:
            return None if row is None else int(row[0])
        self._db.execute("INSERT OR IGNORE INTO evidence_contexts (key) VALUES (?)", (key,))
        row = self._db.execute("SELECT id FROM evidence_contexts WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def evidence(self, context: str, digests: Iterable[str]) -> dict[EvidenceKey, bytes]:
        """Stored evidence, in ``context``, of pairs whose two files both have a digest among
        ``digests``: ``{(digest a, digest b, turn): data}``.

        Input: ``context`` must hold everything besides the two files and the turn that
        decides the evidence; it must start with :func:`evidence_context_prefix`.
        Performance: one query per 500 digests on the primary key; rows whose stamp is older
        than a week are re-stamped (one small write), so rows in use are never pruned.
        """
        wanted = {_digest_key(d): d for d in digests}
        try:
            ctx = self._context(context, create=False)
            if ctx is None:
                return {}
            out: dict[EvidenceKey, bytes] = {}
            old: list[tuple[bytes, bytes, int]] = []
            touch_before = _today() - _EVIDENCE_TOUCH_DAYS
            keys = list(wanted)
            for lo in range(0, len(keys), _LOOKUP_CHUNK):
                part = keys[lo : lo + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    "SELECT digest_a, digest_b, turn, used_day, data FROM evidence "
                    f"WHERE ctx = ? AND digest_a IN ({marks})",
                    [ctx, *part],
                ).fetchall()
                for da, db, turn, used_day, data in rows:
                    other = wanted.get(db)
                    if other is None:
                        continue
                    out[(wanted[da], other, int(turn))] = data
                    if used_day < touch_before:
                        old.append((da, db, int(turn)))
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise CacheError(f"cannot read the cache {self.path}: {exc}") from exc
            self._rebuild(exc)
            return {}
        if old:
            self._write(
                "UPDATE evidence SET used_day = ? "
                "WHERE digest_a = ? AND digest_b = ? AND ctx = ? AND turn = ?",
                [(_today(), da, db, ctx, turn) for da, db, turn in old],
            )
        return out

    def add_evidence(self, context: str, items: Sequence[tuple[EvidenceKey, bytes]]) -> None:
        """Store evidence rows ``((digest a, digest b, turn), data)`` in ``context``, one
        transaction."""
        if not items:
            return
        try:
            ctx = self._context(context, create=True)
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise CacheError(f"cannot write the cache {self.path}: {exc}") from exc
            self._rebuild(exc)
            ctx = self._context(context, create=True)
        day = _today()
        self._write(
            "INSERT OR REPLACE INTO evidence "
            "(digest_a, digest_b, ctx, turn, used_day, data) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (_digest_key(a), _digest_key(b), ctx, turn, day, data)
                for (a, b, turn), data in items
            ],
        )

    def evidence_count(self) -> int:
        """Stored evidence rows (pairs measured), all contexts."""
        return int(self._db.execute("SELECT count(*) FROM evidence").fetchone()[0])

    def count(self) -> tuple[int, int]:
        """Rows in total, and rows of the current algorithm version."""
        prefix = _version_prefix()
        total = int(self._db.execute("SELECT count(*) FROM fingerprints").fetchone()[0])
        current = int(
            self._db.execute(
                "SELECT count(*) FROM fingerprints WHERE substr(algo, 1, ?) = ?",
                (len(prefix), prefix),
            ).fetchone()[0]
        )
        return total, current

    def paths(self) -> Iterator[str]:
        for (path,) in self._db.execute("SELECT DISTINCT path FROM fingerprints ORDER BY path"):
            yield os.fsdecode(path)


def _file_bytes(path: str) -> int:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            total += os.path.getsize(path + suffix)
    return total


def cache_info(path: str | None = None) -> CacheInfo:
    """Size and row counts of the cache at ``path`` (default: :func:`default_cache_path`)."""
    path = os.path.abspath(os.path.expanduser(path or default_cache_path()))
    if not os.path.exists(path):
        return CacheInfo(path, False, 0, 0, 0, SCHEMA_VERSION)
    with FingerprintCache(path) as cache:
        total, current = cache.count()
        pairs = cache.evidence_count()
    return CacheInfo(path, True, _file_bytes(path), total, current, SCHEMA_VERSION, pairs)


def clear_cache(path: str | None = None) -> int:
    """Delete the cache file at ``path``; returns the bytes freed (0 when there was none)."""
    path = os.path.abspath(os.path.expanduser(path or default_cache_path()))
    freed = _file_bytes(path)
    try:
        _remove_db(path)
    except OSError as exc:
        raise CacheError(f"cannot delete the cache {path}: {exc}") from exc
    return freed
