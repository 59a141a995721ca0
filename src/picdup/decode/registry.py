"""The one decoder registry: which decoder reads which kind of content.

The kind comes from the content (:func:`picdup.scan.sniff.sniff`), never from the name alone; the
name only settles RAW files whose container is a plain TIFF with nothing camera-specific in its
first directory. Optional decoders register themselves at import when installed: pillow-heif
(HEIC/HEIF), the JPEG XL plugin (``pillow-jxl-plugin``) and rawpy (RAW, the ``raw`` extra). A kind
whose decoder is missing fails with an install hint, never with a traceback.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence

from picdup.decode import pillow, raw
from picdup.decode.pillow import REDUCED_SIZE, Decoded
from picdup.errors import DecodeError
from picdup.model import ImageInfo
from picdup.scan.sniff import HEAD_BYTES, RAW_EXTENSIONS, sniff

__all__ = [
    "PILLOW_FORMATS",
    "available_kinds",
    "decode_full",
    "decode_reduced",
    "heif_available",
    "image_kind",
    "jxl_available",
    "probe",
    "raw_available",
]

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
    _HEIF = True
except ImportError:  # a dependency, but a broken wheel must not stop every other format
    _HEIF = False

try:
    import pillow_jxl  # noqa: F401  (registers the JXL format with Pillow on import)

    _JXL = True
except ImportError:  # optional
    _JXL = False

# The Pillow formats each sniffed kind may be opened as.
PILLOW_FORMATS: dict[str, tuple[str, ...]] = {
    "jpeg": ("JPEG", "MPO"),
    "png": ("PNG",),
    "gif": ("GIF",),
    "webp": ("WEBP",),
    "avif": ("AVIF", "HEIF"),
    "heif": ("HEIF",),
    "tiff": ("TIFF",),
    "bmp": ("BMP", "DIB"),
    "pnm": ("PPM",),
    "ico": ("ICO",),
    "jxl": ("JXL",),
    "jpeg2000": ("JPEG2000",),
}

_MISSING = {
    "heif": "HEIC/HEIF image: install pillow-heif to read it (pip install pillow-heif)",
    "jxl": "JPEG XL image: install picdup[jxl] to read it (pip install 'picdup[jxl]')",
    "raw": raw.INSTALL_HINT,
}

_TAG_SUBIFDS = 0x014A
_TAG_MAKE = 0x010F
_TAG_DNG_VERSION = 0xC612
_MAX_IFD_ENTRIES = 4096


def heif_available() -> bool:
    return _HEIF


def jxl_available() -> bool:
    return _JXL


def raw_available() -> bool:
    return raw.raw_available()


def available_kinds() -> dict[str, bool]:
    """Every image kind picdup knows, and whether its decoder is installed here."""
    kinds = {kind: True for kind in PILLOW_FORMATS}
    kinds["heif"] = _HEIF
    kinds["jxl"] = _JXL
    kinds["raw"] = raw.raw_available()
    return kinds


def _tiff_ifd0_tags(data: bytes) -> set[int]:
    """The tag numbers of a TIFF's first directory (empty when it cannot be parsed)."""
    if len(data) < 8:
        return set()
    endian = "<" if data[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack_from(endian + "I", data, 4)
        (count,) = struct.unpack_from(endian + "H", data, offset)
        count = min(count, _MAX_IFD_ENTRIES)
        return {
            struct.unpack_from(endian + "H", data, offset + 2 + 12 * k)[0] for k in range(count)
        }
    except struct.error:
        return set()


def _is_raw_tiff(data: bytes, name: str | None) -> bool:
    """A TIFF container that holds camera RAW data (DNG, CR2, NEF, ARW, PEF …)."""
    if data[8:10] == b"CR":  # Canon CR2
        return True
    tags = _tiff_ifd0_tags(data)
    if _TAG_DNG_VERSION in tags:
        return True
    if name is not None:
        ext = os.path.splitext(name)[1].lstrip(".").lower()
        if ext in RAW_EXTENSIONS:
            return True
    # Cameras write a small preview in IFD0 and the sensor data in a sub-directory.
    return _TAG_SUBIFDS in tags and _TAG_MAKE in tags


def image_kind(data: bytes, name: str | None = None) -> str:
    """The decoder kind for ``data`` (``"jpeg"``, ``"raw"`` …); DecodeError when it is none."""
    kind, reason = sniff(data[:HEAD_BYTES])
    if kind is None:
        raise DecodeError(f"not an image: {reason}")
    if kind == "tiff" and _is_raw_tiff(data, name):
        return "raw"
    return kind


def _ready(kind: str) -> None:
    if not available_kinds().get(kind, False):
        raise DecodeError(_MISSING.get(kind, f"no decoder for {kind} images"))


def _formats(kind: str) -> Sequence[str]:
    return PILLOW_FORMATS.get(kind, ())


def probe(data: bytes, *, max_pixels: int, name: str | None = None) -> ImageInfo:
    """Header facts (format, displayed size, orientation, frames) without decoding pixels."""
    kind = image_kind(data, name)
    _ready(kind)
    if kind == "raw":
        return raw.probe(data, max_pixels=max_pixels)
    return pillow.probe(data, max_pixels=max_pixels, formats=_formats(kind))


def decode_reduced(
    data: bytes, *, size: int = REDUCED_SIZE, max_pixels: int, name: str | None = None
) -> Decoded:
    """Decode once at about ``size`` pixels on the short side, orientation applied.

    Input: the file's bytes; ``name`` (the file name) only helps tell RAW from plain TIFF.
    Output: :class:`Decoded` (facts and an RGB array); first frame of animations and pages.
    Errors: :class:`DecodeError` with a one-line reason for anything unreadable or refused.
    Performance: JPEG decodes at 1/2–1/8 scale (DCT scaling); RAW uses the embedded preview.
    """
    kind = image_kind(data, name)
    _ready(kind)
    if kind == "raw":
        return raw.decode_reduced(data, size=size, max_pixels=max_pixels)
    return pillow.decode_reduced(data, size=size, max_pixels=max_pixels, formats=_formats(kind))


def decode_full(
    data: bytes, *, max_pixels: int, name: str | None = None
) -> tuple[str, tuple[int, int], bytes | memoryview]:
    """Full-size pixels, orientation applied, for a pixel digest: ``(mode, size, bytes)``."""
    kind = image_kind(data, name)
    _ready(kind)
    if kind == "raw":
        return raw.decode_full(data, max_pixels=max_pixels)
    return pillow.decode_full(data, max_pixels=max_pixels, formats=_formats(kind))
