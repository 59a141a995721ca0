"""Pillow-based decoding with reduced-size decode, EXIF orientation and bomb limits.

Every raster format picdup reads that is not RAW goes through here: Pillow reads JPEG (also CMYK
and progressive), PNG, GIF, WebP and AVIF (Pillow ≥ 11), TIFF, BMP, MPO, the PNM family, ICO and
JPEG 2000; pillow-heif adds HEIC/HEIF and an optional plugin adds JPEG XL (both registered by
:mod:`picdup.decode.registry`). Callers pass the Pillow format names the sniffed content allows,
so Pillow never guesses a format from bytes that did not look like it.
"""

from __future__ import annotations

import io
import re
import struct
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from picdup.decode.turbo import JPEG_MODES, jpeg_pixels, oriented
from picdup.errors import DecodeError
from picdup.model import ImageInfo

__all__ = [
    "BACKGROUND",
    "JPEG_FORMATS",
    "REDUCED_SIZE",
    "Decoded",
    "decode_full",
    "decode_reduced",
    "probe",
    "quiet",
]

# The reduced decode asks for at least this many pixels on each side. JPEG's DCT scaling
# (Image.draft) then decodes a 12 MP photo at 1/8 size, about 3x faster than a full decode,
# and every hash and thumbnail picdup needs is far smaller than this.
REDUCED_SIZE = 256

# Transparent pixels are composited onto one fixed colour so a sticker saved with and without
# alpha compares equal wherever the alpha was opaque.
BACKGROUND = (255, 255, 255)

_ORIENTATION_TAG = 0x0112

# Everything a broken or hostile file can make Pillow (or a plugin) raise while decoding. Listed,
# not `Exception`, so a genuine bug in picdup still shows as one.
DECODE_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    TypeError,
    KeyError,
    ZeroDivisionError,
    OverflowError,
    RuntimeError,  # pillow-heif and the JPEG XL plugin report decoder failures this way
    struct.error,
)

_QUIET_LOCK = threading.Lock()
_quiet_users = 0


@contextmanager
def quiet() -> Iterator[None]:
    """Warnings off while decoding: decoders warn about odd but readable files.

    ``warnings.catch_warnings`` swaps the process-wide filter list, so two threads decoding at
    once (the local engine's start-up threads) could leave warnings off for good: one restores
    the list the other saved inside its own block. Instead one "ignore" filter goes first
    while any thread is inside, and out when the last one leaves.
    """
    global _quiet_users
    with _QUIET_LOCK:
        if _quiet_users == 0:
            warnings.filterwarnings("ignore")
        _quiet_users += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_users -= 1
            if _quiet_users == 0:
                with suppress(ValueError):  # someone reset the filters meanwhile
                    warnings.filters.remove(("ignore", None, Warning, None, 0))  # type: ignore[attr-defined]
                # What filterwarnings does after a change: cached "already shown" marks are
                # void.
                mutated = getattr(warnings, "_filters_mutated", None)
                if mutated is not None:
                    mutated()


# picdup checks the pixel count itself and reports a clear reason; Pillow's own warning is noise.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)

# Longest side of the reduced decode, in multiples of the short side asked for.
_MAX_ASPECT = 8

_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A reduced decode: ``image`` is an RGB Pillow image, orientation applied.

    Kept as the Pillow image the decoder made: the fingerprint's grey conversion and resizes
    are Pillow operations, and a numpy round trip would copy the pixels twice for nothing.
    """

    info: ImageInfo
    image: Image.Image

    @property
    def rgb(self) -> np.ndarray:
        """The pixels as an (H, W, 3) uint8 array (a copy)."""
        out: np.ndarray = np.asarray(self.image)
        return out


def _open(data: bytes, max_pixels: int, formats: Sequence[str] | None) -> Image.Image:
    try:
        # Plugins warn about odd but readable files (bad EXIF, unknown chunks); not an error.
        with quiet():
            im = Image.open(io.BytesIO(data), formats=list(formats) if formats else None)
    except Image.DecompressionBombError as exc:
        raise DecodeError(_bomb_message(str(exc))) from exc
    except UnidentifiedImageError as exc:
        raise DecodeError("not a readable image (unknown or corrupt header)") from exc
    except DECODE_FAILURES as exc:
        raise DecodeError(f"corrupt image header: {exc}") from exc
    except MemoryError as exc:
        raise DecodeError("corrupt image header: out of memory") from exc
    check_size(im.size, max_pixels)
    return im


def _bomb_message(pillow_text: str) -> str:
    """Pillow's own bomb refusal (its limit is global and may be lower than ``max_pixels``),
    in the same words as :func:`check_size`."""
    numbers = [int(n) for n in re.findall(r"\d+", pillow_text)]
    if len(numbers) >= 2:
        return (
            f"refused: {numbers[0]:,} pixels is over the limit of {numbers[1]:,} "
            "(possible decompression bomb)"
        )
    return f"refused: possible decompression bomb ({pillow_text})"


def check_size(size: tuple[int, int], max_pixels: int) -> None:
    """Refuse an invalid size, or one over ``max_pixels``, before any pixel is decoded."""
    w, h = size
    if w <= 0 or h <= 0:
        raise DecodeError(f"invalid image size {w}×{h}")
    if w * h > max_pixels:
        raise DecodeError(
            f"refused: {w}×{h} = {w * h:,} pixels is over the limit of {max_pixels:,} "
            "(possible decompression bomb)"
        )


def _orientation(im: Image.Image) -> int:
    try:
        with quiet():  # "Corrupt EXIF data": reported as orientation 1
            value = im.getexif().get(_ORIENTATION_TAG, 1)
    except DECODE_FAILURES:  # a corrupt EXIF block does not make the picture unreadable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _transposed(im: Image.Image, orientation: int | None = None) -> Image.Image:
    """``ImageOps.exif_transpose`` without its last step, which writes the EXIF block of the
    turned copy back to bytes (a third of a millisecond per turned photo, and picdup never reads
    that metadata again). The pixels are the same.

    ``orientation`` is given for pixels Pillow did not decode (no EXIF of their own); else it is
    read from ``im`` once loaded, because Pillow's TIFF reader turns the picture itself while
    loading, and leaves no orientation to apply.
    """
    if orientation is None:
        orientation = im.getexif().get(_ORIENTATION_TAG, 1)
    method = _TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


def _displayed_size(im: Image.Image, orientation: int) -> tuple[int, int]:
    """The size as shown, EXIF orientation applied, read before any pixel is decoded."""
    w, h = im.size
    if im.format == "TIFF":
        # Pillow's TIFF reader applies the orientation itself (and reports the shown size):
        # go back to the stored size, so the swap below is right with old and new Pillow alike.
        tags = getattr(im, "tag_v2", {})
        stored = (tags.get(256), tags.get(257))
        if all(isinstance(v, int) and v > 0 for v in stored):
            w, h = stored  # type: ignore[assignment]
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _frames(im: Image.Image) -> int:
    try:
        with quiet():
            return max(1, int(getattr(im, "n_frames", 1) or 1))
    except DECODE_FAILURES:  # a broken later frame: the first one is still usable
        return 1


def _wide_to_grey(im: Image.Image) -> Image.Image:
    """16-bit and 32-bit greyscale to 8-bit, by the top byte of the 16-bit range."""
    if im.mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        arr = np.nan_to_num(arr, nan=0.0, posinf=255.0, neginf=0.0)
        scale = 255.0 if arr.max(initial=0) <= 1.0 else 1.0
        return Image.fromarray((arr * scale).clip(0, 255).astype(np.uint8))
    arr64 = np.asarray(im).astype(np.int64)
    if im.mode == "I" and arr64.max(initial=0) <= 255:
        return Image.fromarray(arr64.clip(0, 255).astype(np.uint8))
    return Image.fromarray((arr64 >> 8).clip(0, 255).astype(np.uint8))


def to_rgb(im: Image.Image) -> Image.Image:
    """Any mode to RGB: alpha composited on BACKGROUND, 16-bit scaled down, CMYK converted."""
    mode = im.mode
    if mode in _WIDE_MODES:
        return _wide_to_grey(im).convert("RGB")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in _ALPHA_MODES:
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (*BACKGROUND, 255))
        return Image.alpha_composite(bg, im).convert("RGB")
    if mode != "RGB":
        return im.convert("RGB")
    return im


# Pillow's formats of JPEG files (an MPO is a JPEG with more pictures after the first).
JPEG_FORMATS = frozenset({"JPEG", "MPO"})


def _turbo(data: bytes, im: Image.Image) -> np.ndarray | None:
    """The pixels of JPEG (or MPO: its first picture leads the file) ``im`` at the size it is
    opened at (after ``draft``), by one TurboJPEG call (:mod:`picdup.decode.turbo`); None when
    Pillow is to decode it. ``im`` is on its first frame."""
    if im.mode not in JPEG_MODES:
        return None
    return jpeg_pixels(data, im.mode, im.size)


def _reducible(im: Image.Image) -> Image.Image:
    """A mode ``Image.reduce`` averages correctly: palette and 1-bit images are expanded first
    (averaging palette indexes would be meaningless), to the smallest mode that holds them."""
    if im.mode == "1":
        return im.convert("L")
    if im.mode == "P":
        return im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in _WIDE_MODES:
        return _wide_to_grey(im)
    if im.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return im.convert("RGB")
    return im


def probe(data: bytes, *, max_pixels: int, formats: Sequence[str] | None = None) -> ImageInfo:
    """Header facts only (format, displayed size, orientation, frames), without decoding pixels."""
    im = _open(data, max_pixels, formats)
    orientation = _orientation(im)
    w, h = _displayed_size(im, orientation)
    return ImageInfo(im.format or "unknown", w, h, orientation, _frames(im), im.mode)


def decode_reduced(
    data: bytes,
    *,
    size: int = REDUCED_SIZE,
    max_pixels: int,
    formats: Sequence[str] | None = None,
) -> Decoded:
    """Decode ``data`` once, at about ``size`` pixels on the short side where the format allows.

    Animated images and multi-page files give their first frame; the frame count is recorded.
    Raises :class:`DecodeError` with a reason for anything that is not a readable image.
    """
    im = _open(data, max_pixels, formats)
    fmt = im.format or "unknown"
    frames = _frames(im)
    if frames > 1:
        try:
            im.seek(0)
        except DECODE_FAILURES as exc:
            raise DecodeError(f"cannot decode the first frame: {exc}") from exc
    orientation = _orientation(im)
    full_w, full_h = _displayed_size(im, orientation)
    try:
        with quiet():
            mode = im.mode
            pixels = None
            if fmt in JPEG_FORMATS:
                im.draft(mode, (size, size))
                pixels = _turbo(data, im)
            if pixels is None:
                im.load()
            else:
                im = Image.fromarray(pixels)
            w, h = im.size
            # Also bounded by the long side, so a thin strip (a 1×50,000,000 "image") is not
            # carried through every later step at full length.
            factor = max(min(w, h) // size, max(w, h) // (size * _MAX_ASPECT))
            if factor >= 2:
                im = _reducible(im).reduce(factor)
            if orientation != 1:
                im = _transposed(im, None if pixels is None else orientation)
            rgb = to_rgb(im)
    except DECODE_FAILURES as exc:
        raise DecodeError(f"cannot decode: {exc}") from exc
    except MemoryError as exc:
        raise DecodeError("cannot decode: out of memory") from exc
    if rgb.mode != "RGB" or 0 in rgb.size:
        raise DecodeError("cannot decode: no pixel data")
    info = ImageInfo(fmt, full_w, full_h, orientation, frames, mode)
    return Decoded(info, rgb)


def decode_full(
    data: bytes, *, max_pixels: int, formats: Sequence[str] | None = None
) -> tuple[str, tuple[int, int], bytes | memoryview]:
    """Decode at full size, orientation applied, for a pixel-equality digest.

    Returns ``(mode, size, raw_bytes)`` where mode is RGB, or RGBA when any pixel is not opaque,
    so an opaque PNG and the same pixels as BMP or JPEG-free formats digest equal.
    """
    im = _open(data, max_pixels, formats)
    try:
        with quiet():
            if _frames(im) > 1:
                im.seek(0)
            pixels = _turbo(data, im) if im.format in JPEG_FORMATS else None
            if pixels is not None:
                shown = oriented(pixels, _orientation(im))
                out = shown
                if shown.ndim == 2 or not shown.flags.c_contiguous:
                    out = np.empty((*shown.shape[:2], 3), dtype=np.uint8)
                    # A greyscale JPEG to RGB as Pillow's convert("RGB") makes it: each level
                    # thrice.
                    out[...] = shown[:, :, None] if shown.ndim == 2 else shown
                return "RGB", (out.shape[1], out.shape[0]), out.reshape(-1).data
            im.load()
            # Without an orientation to apply, exif_transpose would only copy the pixels.
            if _orientation(im) != 1:
                im = _transposed(im)
            if im.mode in _ALPHA_MODES or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                alpha = rgba.getchannel("A")
                if alpha.getextrema() != (255, 255):
                    return "RGBA", rgba.size, rgba.tobytes()
                im = rgba
            if im.mode == "RGB":
                rgb = im  # convert() would only copy it
            else:
                rgb = to_rgb(im) if im.mode in _WIDE_MODES else im.convert("RGB")
            return "RGB", rgb.size, rgb.tobytes()
    except DECODE_FAILURES as exc:
        raise DecodeError(f"cannot decode: {exc}") from exc
    except MemoryError as exc:
        raise DecodeError("cannot decode: out of memory") from exc
