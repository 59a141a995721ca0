"""Small JPEG thumbnails for people to look at (the review page and the HTML report).

These are not the verification thumbnails of the fingerprint: they are colour, keep the aspect
ratio, and are only ever shown. They go through the one decoder registry (HEIC included), so
every format picdup can read can be previewed.
"""

from __future__ import annotations

import hashlib
import io
import os

from PIL import Image

from picdup._atomic import atomic_write_bytes
from picdup.decode import decode_reduced
from picdup.errors import DecodeError

__all__ = ["THUMB_PX", "cached_thumbnail", "make_preview", "make_thumbnail", "thumb_cache_key"]

THUMB_PX = 256
# Bump when the thumbnail recipe changes, so stale cached files are never shown.
_RECIPE = 1
_MAX_PIXELS = 300_000_000


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise DecodeError(f"cannot read {path!r}: {exc.strerror or exc}") from exc


def make_thumbnail(path: str, px: int = THUMB_PX, quality: int = 80) -> bytes:
    """A JPEG no larger than ``px`` on its long side, orientation applied.

    Errors: :class:`DecodeError` when the file cannot be read or decoded.
    Performance: one reduced decode (JPEG DCT scaling), about 5–20 ms for a camera photo.
    """
    decoded = decode_reduced(_read(path), size=max(16, px), max_pixels=_MAX_PIXELS)
    im = decoded.image
    im.thumbnail((px, px), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def make_preview(path: str, long_side: int = 4096) -> bytes:
    """A PNG of the whole image for formats a browser cannot show (HEIC, TIFF, PNM …)."""
    decoded = decode_reduced(_read(path), size=long_side, max_pixels=_MAX_PIXELS)
    im = decoded.image
    im.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def thumb_cache_key(path: str, size: int, mtime_ns: int, px: int) -> str:
    """Names the thumbnail of one version of one file: a changed file gets a new thumbnail."""
    h = hashlib.blake2b(digest_size=16)
    for part in (os.fsencode(path), str(size).encode(), str(mtime_ns).encode()):
        h.update(part)
        h.update(b"\0")
    h.update(f"{px}:{_RECIPE}".encode())
    return h.hexdigest()


def cached_thumbnail(path: str, cache_dir: str, px: int = THUMB_PX) -> bytes:
    """:func:`make_thumbnail`, kept on disk under ``cache_dir/thumbs`` by path, size and mtime.

    Errors: :class:`DecodeError` when the file is gone or unreadable. A cache folder that cannot
    be written only costs speed: the thumbnail is still returned.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise DecodeError(f"cannot read {path!r}: {exc.strerror or exc}") from exc
    key = thumb_cache_key(path, st.st_size, st.st_mtime_ns, px)
    target = os.path.join(cache_dir, "thumbs", key[:2], key + ".jpg")
    try:
        with open(target, "rb") as fh:
            return fh.read()
    except OSError:
        pass
    data = make_thumbnail(path, px)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        atomic_write_bytes(target, data)
    except OSError:
        pass  # a read-only cache must not stop the review
    return data
