"""Turning one file into one :class:`~picdup.model.Fingerprint`: read once, digest, decode once."""

from __future__ import annotations

import os
import stat

import xxhash

from picdup.decode import decode_full, decode_reduced, probe
from picdup.errors import DecodeError
from picdup.fingerprint.hashes import content_box, content_signatures, grey
from picdup.model import FileRef, Fingerprint
from picdup.scan.remote import is_url, read_url, read_url_bytes
from picdup.scan.sniff import HEAD_BYTES, IMAGE_EXTENSIONS, sniff

__all__ = ["ALGORITHM_VERSION", "SKIPPED", "content_digest", "fingerprint_file", "pixel_digest"]

# Bump when anything that changes a fingerprint's value changes (hash definitions, thumbnail size,
# trimming, decode size): cached fingerprints of another version are never reused.
ALGORITHM_VERSION = 1

# Prefix of Fingerprint.error for files that are not images at all (counted as skipped, not as
# errors), as opposed to images that could not be decoded.
SKIPPED = "skipped: "


def content_digest(data: bytes) -> str:
    """xxh3-128 of the bytes, as hex: the evidence for an ``exact`` match."""
    return xxhash.xxh3_128_hexdigest(data)


def _read(ref: FileRef) -> tuple[bytes, str | None]:
    """The file's bytes, or only its head and the reason it is not an image.

    The head is sniffed first, so a video or document with any name is never read in full.
    """
    if is_url(ref.path):
        return read_url(ref.path)
    # O_NONBLOCK and the fstat check: a path that became a FIFO or device after the walk must
    # not block the scan or stream endless bytes.
    fd = os.open(ref.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "no longer a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            head = fh.read(HEAD_BYTES)
            kind, reason = sniff(head)
            if kind is None:
                return head, reason
            return head + fh.read(), None
    finally:
        os.close(fd)


def _has_image_extension(path: str) -> bool:
    name = os.path.basename(path)
    return "." in name and name.rpartition(".")[2].lower() in IMAGE_EXTENSIONS


def fingerprint_file(ref: FileRef, *, max_pixels: int, decode: bool = True) -> Fingerprint:
    """Read ``ref`` once and compute everything picdup compares.

    Never raises for a bad file: the reason goes in ``Fingerprint.error``. A file that is not an
    image at all and has no image extension gets an error starting with :data:`SKIPPED`.
    With ``decode=False`` (exact mode) only the digest and the header facts are computed.
    """
    try:
        data, reason = _read(ref)
    except FileNotFoundError:
        return Fingerprint(ref, "", error="file vanished during the scan")
    except OSError as exc:
        return Fingerprint(ref, "", error=f"cannot read: {exc.strerror or exc}")
    if len(data) != ref.size:
        # Changed between the walk and now; record the size that was hashed.
        ref = FileRef(ref.path, len(data), ref.mtime_ns, ref.root, ref.device, ref.inode, ref.etag)
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
    try:
        if not decode:
            return Fingerprint(ref, digest, probe(data, max_pixels=max_pixels))
        decoded = decode_reduced(data, max_pixels=max_pixels)
    except DecodeError as exc:
        return Fingerprint(ref, digest, error=str(exc))
    g = grey(decoded.rgb)
    top, bottom, left, right = content_box(g)
    p_hash, d_hash, thumb, colour = content_signatures(decoded.rgb, g, (top, bottom, left, right))
    rh, rw = g.shape
    info = decoded.info
    return Fingerprint(
        ref,
        digest,
        info,
        phash=p_hash,
        dhash=d_hash,
        thumb=thumb,
        colour=colour,
        content_width=max(1, round((right - left) * info.width / rw)),
        content_height=max(1, round((bottom - top) * info.height / rh)),
    )


def pixel_digest(path: str, *, max_pixels: int) -> str:
    """Digest of the fully decoded, orientation-normalised pixels (the evidence for ``pixel``)."""
    if is_url(path):
        data = read_url_bytes(path)
    else:
        with open(path, "rb") as fh:
            data = fh.read()
    mode, (w, h), raw = decode_full(data, max_pixels=max_pixels)
    hasher = xxhash.xxh3_128()
    hasher.update(f"{mode}:{w}x{h}:".encode())
    hasher.update(raw)
    return hasher.hexdigest()
