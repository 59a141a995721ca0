"""A persisted index of an archive's fingerprints, opened in milliseconds and queried by new files.

``scan NEW --against ARCHIVE`` compares a few new files with a large archive that must never be
compared with itself. The archive's fingerprints are written once into a folder of plain numpy
arrays (``*.pdarchive``) and opened memory-mapped, so opening does not depend on the archive's
size and a query reads only the pages it touches:

``meta.json``
    format, version, picdup's fingerprint algorithm version, roots, entry count, format names.
``phash.npy``, ``dhash.npy``, ``digest.npy`` (N×2 uint64), ``size.npy``, ``mtime_ns.npy``,
``dims.npy`` (N×6 int32: width, height, content width, content height, content left, content
top), ``format.npy`` (uint8)
    one value per entry.
``thumbs.npy`` (N×THUMB_SIZE² uint8), ``colours.npy`` (N×48 uint8)
    the verification thumbnails: 4 KiB per entry, read only for candidates.
``paths.bin`` + ``paths.npy``, ``etags.bin`` + ``etags.npy``, ``root.npy``
    UTF-8 strings as one blob with offsets, decoded only for matched entries.
``mih_order.npy`` (4×N), ``mih_starts.npy`` (4×65537)
    multi-index hashing tables: per 16-bit chunk of the pHash, entries sorted by the chunk's
    value and where each value's run starts. A query of a hash within radius ``r`` looks up
    ``4 × C(16, ≤ r//4)`` runs (548 for ``r = 10``), each about ``N / 65536`` entries long, and
    checks the full 64 bits of every entry found: exactly the brute-force answer.
``digest_sorted.npy`` + ``digest_order.npy``
    the first 64 bits of each digest, sorted, for byte-identical lookups by binary search.

Errors: :class:`~picdup.errors.InputError` for a folder that is not an archive index,
:class:`~picdup.errors.ConfigError` for one written by another fingerprint algorithm version.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from picdup._arrays import unique
from picdup.errors import ConfigError, InputError
from picdup.fingerprint.compute import ALGORITHM_VERSION
from picdup.fingerprint.hashes import COLOUR_SIZE, THUMB_SIZE
from picdup.model import FileRef, Fingerprint, ImageInfo

__all__ = [
    "ARCHIVE_SUFFIX",
    "ArchiveArrays",
    "ArchiveIndex",
    "arrays_from_fingerprints",
    "is_archive_index",
    "merge_arrays",
    "write_archive_index",
]

ARCHIVE_SUFFIX = ".pdarchive"
_FORMAT = "picdup-archive"
_VERSION = 1
_CHUNK_BITS = 16
_CHUNKS = 64 // _CHUNK_BITS
_BUCKETS = 1 << _CHUNK_BITS
_THUMB_BYTES = THUMB_SIZE * THUMB_SIZE
_COLOUR_BYTES = COLOUR_SIZE * COLOUR_SIZE * 3
_ARRAYS = (
    "phash",
    "dhash",
    "digest",
    "size",
    "mtime_ns",
    "dims",
    "format",
    "thumbs",
    "colours",
    "root",
    "paths",
    "etags",
    "mih_order",
    "mih_starts",
    "digest_order",
    "digest_sorted",
)
# Rows of thumbnails copied at once while writing an index (64 Ki rows: 256 MiB).
_COPY_ROWS = 1 << 16
# Candidate entries expanded at once during a query: keeps memory flat for large queries.
_QUERY_BLOCK = 1 << 21


def is_archive_index(path: str) -> bool:
    """True when ``path`` is a folder written by :func:`write_archive_index`."""
    return os.path.isfile(os.path.join(path, "meta.json")) and os.path.isfile(
        os.path.join(path, "phash.npy")
    )


class RowStack:
    """Rows of several 2-D arrays, each seen through an index, gathered only when asked.

    An index update keeps most entries of the old index: their thumbnails (4 KiB each) stay in
    the old, memory-mapped files until the new index is written slice by slice, instead of
    being copied into memory first (4 GB for a million entries).
    """

    def __init__(self, parts: Sequence[tuple[Any, np.ndarray | None]], width: int) -> None:
        self.parts = [(src, idx) for src, idx in parts]
        sizes = [len(idx) if idx is not None else len(src) for src, idx in self.parts]
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        self.width = width

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.offsets[-1]), self.width

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.width), dtype=np.uint8)
        part_of = np.searchsorted(self.offsets, rows, side="right") - 1
        for p in unique(part_of):
            sel = part_of == p
            src, idx = self.parts[int(p)]
            local = rows[sel] - self.offsets[p]
            source_rows = idx[local] if idx is not None else local
            # Reading a memory map in ascending order is much faster than at random.
            order = np.argsort(source_rows, kind="stable")
            gathered = np.asarray(src[source_rows[order]])
            block = np.empty_like(gathered)
            block[order] = gathered
            out[sel] = block
        return out


@dataclass
class ArchiveArrays:
    """The archive's entries as arrays in memory (what is written, or merged before writing)."""

    phash: np.ndarray
    dhash: np.ndarray
    digest: np.ndarray  # (N, 2) uint64
    size: np.ndarray
    mtime_ns: np.ndarray
    dims: np.ndarray  # (N, 6) int32
    format: np.ndarray  # uint8, index into formats
    thumbs: np.ndarray | RowStack  # (N, THUMB_SIZE²) uint8
    colours: np.ndarray | RowStack  # (N, 48) uint8
    root: np.ndarray  # uint16, index into roots
    paths: list[str]
    etags: list[str | None]
    formats: list[str]

    def __len__(self) -> int:
        return len(self.phash)

    def take(self, keep: np.ndarray, *, with_thumbs: bool = True) -> ArchiveArrays:
        """The entries selected by the index array or mask ``keep``. Thumbnails and colours
        are not copied: they are seen through the index (left empty without ``with_thumbs``)."""
        idx = np.flatnonzero(keep) if keep.dtype == bool else np.asarray(keep, dtype=np.int64)
        empty_t: list[tuple[Any, np.ndarray | None]] = []
        thumbs = RowStack([(self.thumbs, idx)] if with_thumbs else empty_t, _THUMB_BYTES)
        colours = RowStack([(self.colours, idx)] if with_thumbs else empty_t, _COLOUR_BYTES)
        return ArchiveArrays(
            self.phash[idx],
            self.dhash[idx],
            self.digest[idx],
            self.size[idx],
            self.mtime_ns[idx],
            self.dims[idx],
            self.format[idx],
            thumbs,
            colours,
            self.root[idx],
            [self.paths[k] for k in idx],
            [self.etags[k] for k in idx],
            self.formats,
        )


def _split_digest(hexdigest: str) -> tuple[int, int]:
    value = int(hexdigest, 16) if hexdigest else 0
    return value >> 64, value & 0xFFFF_FFFF_FFFF_FFFF


def arrays_from_fingerprints(
    fps: Sequence[Fingerprint], roots: Sequence[str], formats: Sequence[str] = ()
) -> ArchiveArrays:
    """Arrays of readable fingerprints (``fp.ok``) of files under ``roots``."""
    fps = [fp for fp in fps if fp.ok]
    n = len(fps)
    names = list(formats)
    root_ix = {r: k for k, r in enumerate(roots)}
    fmt = np.zeros(n, dtype=np.uint8)
    digest = np.zeros((n, 2), dtype=np.uint64)
    dims = np.zeros((n, 6), dtype=np.int32)
    thumbs = np.zeros((n, _THUMB_BYTES), dtype=np.uint8)
    colours = np.zeros((n, _COLOUR_BYTES), dtype=np.uint8)
    for k, fp in enumerate(fps):
        info = fp.info
        name = info.format if info is not None else ""
        if name not in names:
            names.append(name)
        fmt[k] = names.index(name)
        digest[k] = _split_digest(fp.digest)
        if info is not None:
            dims[k] = (
                info.width,
                info.height,
                fp.content_width,
                fp.content_height,
                fp.content_left,
                fp.content_top,
            )
        if fp.thumb:
            thumbs[k] = np.frombuffer(fp.thumb, dtype=np.uint8)
        if fp.colour:
            colours[k] = np.frombuffer(fp.colour, dtype=np.uint8)
    if len(names) > 255:
        raise ConfigError("more than 255 image formats in one archive index")
    return ArchiveArrays(
        phash=np.fromiter((fp.phash for fp in fps), dtype=np.uint64, count=n),
        dhash=np.fromiter((fp.dhash for fp in fps), dtype=np.uint64, count=n),
        digest=digest,
        size=np.fromiter((fp.ref.size for fp in fps), dtype=np.int64, count=n),
        mtime_ns=np.fromiter((fp.ref.mtime_ns for fp in fps), dtype=np.int64, count=n),
        dims=dims,
        format=fmt,
        thumbs=thumbs,
        colours=colours,
        root=np.fromiter((root_ix.get(fp.ref.root, 0) for fp in fps), dtype=np.uint16, count=n),
        paths=[fp.ref.path for fp in fps],
        etags=[fp.ref.etag for fp in fps],
        formats=names,
    )


def _blob(strings: Sequence[str | None]) -> tuple[bytes, np.ndarray]:
    """Strings as one UTF-8 blob and N+1 offsets; ``None`` is stored as an offset of -1."""
    parts: list[bytes] = []
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    missing = np.zeros(len(strings), dtype=bool)
    pos = 0
    for k, s in enumerate(strings):
        if s is None:
            missing[k] = True
            raw = b""
        else:
            raw = s.encode("utf-8", "surrogateescape")
        parts.append(raw)
        pos += len(raw)
        offsets[k + 1] = pos
    offsets[:-1][missing] = -1 - offsets[:-1][missing]
    return b"".join(parts), offsets


def _mih_tables(phash: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(phash)
    dtype = np.int32 if n < 2**31 else np.int64
    order = np.zeros((_CHUNKS, n), dtype=dtype)
    starts = np.zeros((_CHUNKS, _BUCKETS + 1), dtype=np.int64)
    for c in range(_CHUNKS):
        keys = ((phash >> np.uint64(c * _CHUNK_BITS)) & np.uint64(_BUCKETS - 1)).astype(np.int64)
        order[c] = np.argsort(keys, kind="stable")
        starts[c, 1:] = np.cumsum(np.bincount(keys, minlength=_BUCKETS))
    return order, starts


def write_archive_index(
    arrays: ArchiveArrays,
    path: str,
    *,
    roots: Sequence[str],
    decoded: bool = True,
    rejects: Sequence[FileRef] = (),
) -> None:
    """Write ``arrays`` as an archive index folder at ``path``, replacing any old one whole.

    The new index is written beside the target and renamed into place, so a reader sees the
    old index or the new one, never half of one.
    """
    target = os.path.abspath(path)
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        raise InputError(f"the archive index's folder does not exist: {parent}")
    if os.path.exists(target) and not is_archive_index(target):
        raise InputError(f"refusing to replace {path}: it exists and is not an archive index")
    tmp = tempfile.mkdtemp(prefix=".picdup-archive-", dir=parent)
    try:
        _write_arrays(arrays, tmp, roots, decoded, rejects)
        old = None
        if os.path.exists(target):
            old = tempfile.mkdtemp(prefix=".picdup-archive-old-", dir=parent)
            os.rmdir(old)
            os.rename(target, old)
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_arrays(
    arrays: ArchiveArrays,
    folder: str,
    roots: Sequence[str],
    decoded: bool,
    rejects: Sequence[FileRef],
) -> None:
    def save(name: str, value: np.ndarray) -> None:
        np.save(os.path.join(folder, name + ".npy"), value, allow_pickle=False)

    # Entries sorted by pHash: near copies sit together, so a query's reads are local.
    order = np.argsort(arrays.phash, kind="stable")
    # The thumbnails (4 KiB an entry) are copied in slices, never all at once: memory stays
    # flat whatever the archive's size, and the source may itself be memory-mapped.
    for name, rows in (("thumbs", arrays.thumbs), ("colours", arrays.colours)):
        out = np.lib.format.open_memmap(
            os.path.join(folder, name + ".npy"), mode="w+", dtype=np.uint8, shape=rows.shape
        )
        for lo in range(0, len(order), _COPY_ROWS):
            out[lo : lo + _COPY_ROWS] = rows[order[lo : lo + _COPY_ROWS]]
        out.flush()
        del out
    a = arrays.take(order, with_thumbs=False)
    save("phash", a.phash)
    save("dhash", a.dhash)
    save("digest", a.digest)
    save("size", a.size)
    save("mtime_ns", a.mtime_ns)
    save("dims", a.dims)
    save("format", a.format)
    save("root", a.root)
    for name, strings in (("paths", a.paths), ("etags", a.etags)):
        blob, offsets = _blob(strings)
        with open(os.path.join(folder, name + ".bin"), "wb") as fh:
            fh.write(blob)
        save(name, offsets)
    mih_order, mih_starts = _mih_tables(a.phash)
    save("mih_order", mih_order)
    save("mih_starts", mih_starts)
    digest_order = np.argsort(a.digest[:, 0], kind="stable")
    save("digest_order", digest_order)
    save("digest_sorted", a.digest[digest_order, 0])
    meta = {
        "format": _FORMAT,
        "version": _VERSION,
        "algorithm": ALGORITHM_VERSION,
        "decoded": decoded,
        "count": len(a),
        "roots": list(roots),
        "formats": a.formats,
        # Files of the archive that are not images (or not readable): remembered with their
        # size and mtime so an update does not read them again while they are unchanged.
        "rejects": [[r.path, r.size, r.mtime_ns, r.etag] for r in rejects],
    }
    with open(os.path.join(folder, "meta.json"), "w", encoding="utf-8") as meta_file:
        json.dump(meta, meta_file, indent=1)


class ArchiveIndex:
    """An archive index opened memory-mapped (see the module's text for the layout)."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        meta_path = os.path.join(self.path, "meta.json")
        try:
            with open(meta_path, encoding="utf-8") as fh:
                meta = json.load(fh)
        except FileNotFoundError as exc:
            raise InputError(f"not an archive index (no meta.json): {path}") from exc
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read archive index {path}: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise InputError(f"not a picdup archive index: {path}")
        if meta.get("version") != _VERSION or meta.get("algorithm") != ALGORITHM_VERSION:
            raise ConfigError(
                f"archive index {path} was written by another picdup version; "
                f"rebuild it with: picdup archive build ROOTS... -o {path}"
            )
        self.meta: dict[str, Any] = meta
        self.roots: list[str] = list(meta["roots"])
        self.formats: list[str] = list(meta["formats"])
        self.decoded = bool(meta.get("decoded", True))
        try:
            self._arrays = {
                name: np.load(os.path.join(self.path, name + ".npy"), mmap_mode="r")
                for name in _ARRAYS
            }
            self._blobs = {
                name: np.memmap(os.path.join(self.path, name + ".bin"), dtype=np.uint8, mode="r")
                if os.path.getsize(os.path.join(self.path, name + ".bin"))
                else np.zeros(0, dtype=np.uint8)
                for name in ("paths", "etags")
            }
        except (OSError, ValueError) as exc:
            raise InputError(f"damaged archive index {path}: {exc}") from exc
        if len(self._arrays["phash"]) != meta["count"]:
            raise InputError(f"damaged archive index {path}: entry count does not match")

    def __len__(self) -> int:
        return int(self.meta["count"])

    @property
    def rejects(self) -> dict[str, tuple[int, int, str | None]]:
        """Files that were not indexed, by path: (size, mtime_ns, etag) when last looked at."""
        return {
            str(p): (int(size), int(mtime), None if etag is None else str(etag))
            for p, size, mtime, etag in self.meta.get("rejects", [])
        }

    def array(self, name: str) -> np.ndarray:
        """One of the per-entry arrays, memory-mapped."""
        return self._arrays[name]

    def _string(self, name: str, k: int) -> str | None:
        offsets = self._arrays[name]
        start, end = int(offsets[k]), int(offsets[k + 1])
        if start < 0:
            return None
        if end < 0:  # the next string is missing: its offset is stored as -1 - offset
            end = -1 - end
        return bytes(self._blobs[name][start:end]).decode("utf-8", "surrogateescape")

    def path_of(self, k: int) -> str:
        return self._string("paths", k) or ""

    def etag_of(self, k: int) -> str | None:
        return self._string("etags", k)

    def entries(self) -> ArchiveArrays:
        """Every entry, arrays still memory-mapped (``take`` copies only what it selects)."""
        a = self._arrays
        n = len(self)
        return ArchiveArrays(
            a["phash"],
            a["dhash"],
            a["digest"],
            a["size"],
            a["mtime_ns"],
            a["dims"],
            a["format"],
            a["thumbs"],
            a["colours"],
            a["root"],
            [self.path_of(k) for k in range(n)],
            [self.etag_of(k) for k in range(n)],
            list(self.formats),
        )

    def near(self, hashes: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (query, entry) pair whose pHashes are within ``radius`` bits.

        Returns ``(query index, entry index, distance)`` sorted by query then entry; identical
        to a brute-force comparison of every query with every entry.
        """
        if not 0 <= radius <= 64:
            raise ValueError(f"radius must be between 0 and 64, got {radius}")
        q = np.ascontiguousarray(hashes, dtype=np.uint64)
        entries = self._arrays["phash"]
        if len(q) == 0 or len(entries) == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), np.empty(0, dtype=np.uint8)
        weights = np.bitwise_count(np.arange(_BUCKETS, dtype=np.int64))
        masks = np.flatnonzero(weights <= radius // _CHUNKS)
        order = self._arrays["mih_order"]
        starts = self._arrays["mih_starts"]
        found_q: list[np.ndarray] = []
        found_e: list[np.ndarray] = []
        qidx = np.arange(len(q), dtype=np.int64)
        for c in range(_CHUNKS):
            keys = ((q >> np.uint64(c * _CHUNK_BITS)) & np.uint64(_BUCKETS - 1)).astype(np.int64)
            buckets = (keys[:, None] ^ masks[None, :]).ravel()
            owners = np.repeat(qidx, len(masks))
            lo = starts[c][buckets]
            counts = starts[c][buckets + 1] - lo
            keep = counts > 0
            owners, lo, counts = owners[keep], lo[keep], counts[keep]
            csum = np.cumsum(counts)
            begin = 0
            while begin < len(counts):
                base = csum[begin - 1] if begin else 0
                stop = int(np.searchsorted(csum, base + _QUERY_BLOCK, side="right"))
                stop = min(max(stop, begin + 1), len(counts))
                cnt = counts[begin:stop]
                total = int(cnt.sum())
                first = np.repeat(np.cumsum(cnt) - cnt, cnt)
                pos = np.arange(total, dtype=np.int64) - first + np.repeat(lo[begin:stop], cnt)
                ent = np.asarray(order[c][pos], dtype=np.int64)
                own = np.repeat(owners[begin:stop], cnt)
                close = np.bitwise_count(q[own] ^ entries[ent]) <= radius
                found_q.append(own[close])
                found_e.append(ent[close])
                begin = stop
        if not found_q:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), np.empty(0, dtype=np.uint8)
        n = len(entries)
        pair_keys = unique(np.concatenate(found_q) * n + np.concatenate(found_e))
        qi = pair_keys // n
        ej = pair_keys % n
        d = np.bitwise_count(q[qi] ^ entries[ej]).astype(np.uint8)
        return qi, ej, d

    def same_digest(self, digests: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every (query, entry) pair with byte-identical content (equal 128-bit digests)."""
        sorted_hi = self._arrays["digest_sorted"]
        order = self._arrays["digest_order"]
        full = self._arrays["digest"]
        out_q: list[int] = []
        out_e: list[int] = []
        for k, text in enumerate(digests):
            if not text:
                continue
            hi, lo = _split_digest(text)
            left = int(np.searchsorted(sorted_hi, np.uint64(hi), side="left"))
            right = int(np.searchsorted(sorted_hi, np.uint64(hi), side="right"))
            for pos in range(left, right):
                e = int(order[pos])
                if int(full[e, 1]) == lo:
                    out_q.append(k)
                    out_e.append(e)
        return np.asarray(out_q, dtype=np.int64), np.asarray(out_e, dtype=np.int64)

    def fingerprint(self, k: int) -> Fingerprint:
        """Entry ``k`` as a fingerprint (for verification and the report)."""
        a = self._arrays
        w, h, cw, ch, cl, ct = (int(v) for v in a["dims"][k])
        root_ix = int(a["root"][k])
        root = self.roots[root_ix] if root_ix < len(self.roots) else ""
        ref = FileRef(
            self.path_of(k), int(a["size"][k]), int(a["mtime_ns"][k]), root, etag=self.etag_of(k)
        )
        hi, lo = (int(v) for v in a["digest"][k])
        digest = format((hi << 64) | lo, "032x")
        return Fingerprint(
            ref,
            digest,
            ImageInfo(self.formats[int(a["format"][k])], w, h),
            phash=int(a["phash"][k]),
            dhash=int(a["dhash"][k]),
            thumb=bytes(a["thumbs"][k]) if self.decoded else b"",
            colour=bytes(a["colours"][k]) if self.decoded else b"",
            content_width=cw,
            content_height=ch,
            content_left=cl,
            content_top=ct,
        )

    def close(self) -> None:
        """Drop the memory maps (Windows cannot replace a mapped file)."""
        self._arrays.clear()
        self._blobs.clear()


def merge_arrays(parts: Sequence[ArchiveArrays]) -> ArchiveArrays:
    """One array set of several (an old index's unchanged entries and newly read files)."""
    formats: list[str] = []
    remapped: list[np.ndarray] = []
    for part in parts:
        for name in part.formats:
            if name not in formats:
                formats.append(name)
        lut = np.array([formats.index(n) for n in part.formats] or [0], dtype=np.uint8)
        remapped.append(lut[part.format] if len(part) else part.format)
    return ArchiveArrays(
        np.concatenate([p.phash for p in parts]),
        np.concatenate([p.dhash for p in parts]),
        np.concatenate([p.digest for p in parts]).reshape(-1, 2),
        np.concatenate([p.size for p in parts]),
        np.concatenate([p.mtime_ns for p in parts]),
        np.concatenate([p.dims for p in parts]).reshape(-1, 6),
        np.concatenate(remapped).astype(np.uint8),
        RowStack([(p.thumbs, None) for p in parts], _THUMB_BYTES),
        RowStack([(p.colours, None) for p in parts], _COLOUR_BYTES),
        np.concatenate([p.root for p in parts]),
        [s for p in parts for s in p.paths],
        [s for p in parts for s in p.etags],
        formats,
    )
