"""Turning one file into one :class:`~picdup.model.Fingerprint`: read once, digest, decode once."""

from __future__ import annotations

import dataclasses
import os
import stat
import threading
from collections import OrderedDict

import xxhash

from picdup.decode import JPEG_FORMATS, decode_full, decode_reduced, probe
from picdup.errors import DecodeError
from picdup.fingerprint.hashes import content_box_of, content_fingerprint, grey_image
from picdup.fingerprint.stream import stream_digest
from picdup.model import FileRef, Fingerprint
from picdup.scan.remote import is_url, read_url, read_url_bytes
from picdup.scan.sniff import HEAD_BYTES, IMAGE_EXTENSIONS, sniff

__all__ = [
    "ALGORITHM_VERSION",
    "SKIPPED",
    "Twins",
    "content_digest",
    "fingerprint_file",
    "pixel_digest",
]

# Bump when anything that changes a fingerprint's value changes (hash definitions, thumbnail size,
# trimming, decode size): cached fingerprints of another version are never reused.
ALGORITHM_VERSION = 4

# Prefix of Fingerprint.error for files that are not images at all (counted as skipped, not as
# errors), as opposed to images that could not be decoded.
SKIPPED = "skipped: "


def content_digest(data: bytes) -> str:
    """xxh3-128 of the bytes, as hex: the evidence for an ``exact`` match."""
    return xxhash.xxh3_128_hexdigest(data)


class _Changed(OSError):
    """The file changed while it was being read: its bytes are not one state of the file."""


def _read_all(fd: int, size: int) -> bytes:
    """The whole file from its start: one read of the known size, unless the file changed size
    (or is beyond what one read returns), then on to its end.

    Read again from offset 0 rather than joining the rest to the sniffed head: the head is in
    the page cache, and joining would copy every byte once more (a tenth of a millisecond for a
    4 MB photo). A file that changed size is caught by the caller's second stat.
    """
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, size + 1)
    if len(data) == size:
        return data
    parts = [data]
    while chunk := os.read(fd, 1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def _read(ref: FileRef) -> tuple[FileRef, bytes, str | None]:
    """The file as it is now: its ref (size and mtime from the open file), its bytes, or only
    its head and the reason it is not an image.

    The head is sniffed first, so a video or document with any name is never read in full.
    """
    if is_url(ref.path):
        data, reason = read_url(ref.path)
        if reason is None and len(data) != ref.size:
            ref = dataclasses.replace(ref, size=len(data))  # rewritten since the listing
        return ref, data, reason
    # O_NONBLOCK and the fstat check: a path that became a FIFO or device after the walk must
    # not block the scan or stream endless bytes. O_NOFOLLOW is not used: the walk decided
    # whether links are followed, and a link it listed is meant to be read.
    fd = os.open(ref.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise OSError(0, "no longer a regular file (it was replaced during the scan)")
        head = os.read(fd, HEAD_BYTES)
        kind, reason = sniff(head)
        data = head if kind is None else _read_all(fd, before.st_size)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or (
        kind is not None and len(data) != after.st_size
    ):
        raise _Changed(0, "file changed while it was being read")
    # The walk's size and mtime may be stale: record the state whose bytes were read, so a
    # later action that re-checks the file compares against what was fingerprinted.
    fresh = FileRef(ref.path, after.st_size, after.st_mtime_ns, ref.root, ref.device, ref.inode)
    return fresh, data, reason


def _read_regular(path: str) -> bytes:
    """All bytes of ``path``; OSError when it is no longer a regular file (never blocks)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "no longer a regular file (it was replaced during the scan)")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)


def _has_image_extension(path: str) -> bool:
    name = os.path.basename(path)
    return "." in name and name.rpartition(".")[2].lower() in IMAGE_EXTENSIONS


class Twins:
    """The fingerprints of the last few files read, by content digest, so a byte-identical copy
    (the commonest duplicate of all) is not decoded again: everything in a fingerprint but the
    file's ref and stat is a function of its bytes (and of ``max_pixels`` and ``decode``, the
    same for a whole scan), so the copy's is the other's with its own ref.

    Only files whose size another file of the scan shares are kept (``shared_sizes``), at most
    ``limit`` of them, the oldest dropped first: a thumbnail is 16 KiB, so 512 fingerprints hold
    about 8 MiB. The engine's work order (:func:`~picdup.engine.local.work_order`) brings a copy
    soon after its twin; one that comes while its twin is still being fingerprinted on another
    thread waits for that fingerprint rather than decoding the same bytes beside it. Safe to
    share between threads.
    """

    def __init__(self, shared_sizes: set[int], limit: int = 512) -> None:
        self._sizes = shared_sizes
        self._limit = limit
        self._known: OrderedDict[tuple[str, str], Fingerprint] = OrderedDict()
        self._busy: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()
        self.reused = 0

    def wanted(self, size: int) -> bool:
        """Whether a file of ``size`` bytes can have a copy among the scan's files."""
        return size in self._sizes

    @staticmethod
    def _key(digest: str, ref: FileRef) -> tuple[str, str]:
        # The name's extension takes part in one decision (a TIFF-based RAW file is told from a
        # plain TIFF by it), so only copies under the same extension share a fingerprint.
        return digest, os.path.splitext(ref.path)[1].lower()

    def claim(self, digest: str, ref: FileRef) -> Fingerprint | None:
        """The fingerprint of an earlier file with these bytes, as ``ref``'s (waiting for it if
        another thread is computing it); None when the caller is to compute it and then
        :meth:`settle` it."""
        key = self._key(digest, ref)
        while True:
            with self._lock:
                known = self._known.get(key)
                if known is not None:
                    self._known.move_to_end(key)
                    self.reused += 1
                    return dataclasses.replace(known, ref=ref)
                busy = self._busy.get(key)
                if busy is None:
                    self._busy[key] = threading.Event()
                    return None
            busy.wait()

    def settle(self, digest: str, ref: FileRef, fp: Fingerprint | None) -> None:
        """The fingerprint the caller of :meth:`claim` computed for ``ref`` (None: it failed,
        and a waiting copy computes its own)."""
        key = self._key(digest, ref)
        with self._lock:
            if fp is not None:
                self._known[key] = fp
                self._known.move_to_end(key)
                while len(self._known) > self._limit:
                    self._known.popitem(last=False)
            busy = self._busy.pop(key, None)
        if busy is not None:
            busy.set()


def fingerprint_file(
    ref: FileRef, *, max_pixels: int, decode: bool = True, twins: Twins | None = None
) -> Fingerprint:
    """Read ``ref`` once and compute everything picdup compares.

    Never raises for a bad file: the reason goes in ``Fingerprint.error``. A file that is not an
    image at all and has no image extension gets an error starting with :data:`SKIPPED`.
    With ``decode=False`` (exact mode) only the digest and the header facts are computed.
    With ``twins``, a file byte-identical to one fingerprinted before takes its fingerprint
    (see :class:`Twins`).
    """
    try:
        ref, data, reason = _read(ref)
    except FileNotFoundError:
        return Fingerprint(ref, "", error="file vanished during the scan")
    except _Changed as exc:
        return Fingerprint(ref, "", error=f"{exc.strerror}; scan again to include it")
    except OSError as exc:
        return Fingerprint(ref, "", error=f"cannot read: {exc.strerror or exc}")
    except MemoryError:
        return Fingerprint(ref, "", error="cannot read: out of memory")
    if reason is not None:
        # A file named like an image that is not one is a problem worth reporting; any other
        # non-image (notes.txt, a video) is simply not picdup's business and is only counted.
        if not _has_image_extension(ref.path):
            return Fingerprint(ref, "", error=SKIPPED + reason)
        if reason == "not an image":
            reason = "not an image: the content matches no image format (corrupt or mislabelled)"
        elif reason != "empty file":
            reason = f"not an image: the content is a {reason}"
        return Fingerprint(ref, "", error=reason)
    digest = content_digest(data)
    if twins is None or not twins.wanted(ref.size):
        return _fingerprint_bytes(ref, data, digest, max_pixels=max_pixels, decode=decode)
    known = twins.claim(digest, ref)
    if known is not None:
        return known
    fp = None
    try:
        fp = _fingerprint_bytes(ref, data, digest, max_pixels=max_pixels, decode=decode)
    finally:
        twins.settle(digest, ref, fp)
    return fp


def _fingerprint_bytes(
    ref: FileRef, data: bytes, digest: str, *, max_pixels: int, decode: bool
) -> Fingerprint:
    """:func:`fingerprint_file` of the image bytes ``data`` of ``ref``, whose digest is known."""
    try:
        if not decode:
            return Fingerprint(ref, digest, probe(data, max_pixels=max_pixels, name=ref.path))
        decoded = decode_reduced(data, max_pixels=max_pixels, name=ref.path)
    except DecodeError as exc:
        return Fingerprint(ref, digest, error=str(exc))
    grey_im = grey_image(decoded.image)
    top, bottom, left, right = content_box_of(grey_im)
    p_hash, d_hash, thumb, colour, turned = content_fingerprint(
        decoded.image, grey_im, (top, bottom, left, right)
    )
    rw, rh = grey_im.size
    info = decoded.info
    return Fingerprint(
        ref,
        digest,
        info,
        phash=p_hash,
        phash_turns=b"".join(t.to_bytes(8, "big") for t in turned),
        dhash=d_hash,
        thumb=thumb,
        colour=colour,
        content_width=max(1, round((right - left) * info.width / rw)),
        content_height=max(1, round((bottom - top) * info.height / rh)),
        content_left=round(left * info.width / rw),
        content_top=round(top * info.height / rh),
        stream_digest=stream_digest(data, info.orientation) if info.format in JPEG_FORMATS else "",
    )


def pixel_digest(path: str, *, max_pixels: int) -> str:
    """Digest of the fully decoded, orientation-normalised pixels (the evidence for ``pixel``)."""
    data = read_url_bytes(path) if is_url(path) else _read_regular(path)
    mode, (w, h), raw = decode_full(data, max_pixels=max_pixels, name=path)
    hasher = xxhash.xxh3_128()
    hasher.update(f"{mode}:{w}x{h}:".encode())
    hasher.update(raw)
    return hasher.hexdigest()
