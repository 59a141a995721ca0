"""Pillow-based decoding with reduced-size decode, EXIF orientation and bomb limits."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from picdup.errors import DecodeError
from picdup.model import ImageInfo

__all__ = [
    "REDUCED_SIZE",
    "Decoded",
    "decode_full",
    "decode_reduced",
    "heif_available",
    "probe",
]

# The reduced decode asks for at least this many pixels on each side. JPEG's DCT scaling
# (Image.draft) then decodes a 12 MP photo at 1/8 size, about 3x faster than a full decode,
# and every hash and thumbnail picdup needs is far smaller than this.
REDUCED_SIZE = 256

# Transparent pixels are composited onto one fixed colour so a sticker saved with and without
# alpha compares equal wherever the alpha was opaque.
BACKGROUND = (255, 255, 255)

_ORIENTATION_TAG = 0x0112

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
    _HEIF = True
except ImportError:  # optional at run time; the package depends on it, but a broken wheel must not
    _HEIF = False

# picdup checks the pixel count itself and reports a clear reason; Pillow's own warning is noise.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)


def heif_available() -> bool:
    return _HEIF


@dataclass(frozen=True, slots=True)
class Decoded:
    """A reduced decode: ``rgb`` is an (H, W, 3) uint8 array, orientation applied."""

    info: ImageInfo
    rgb: np.ndarray


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused: decompression bomb ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise DecodeError("not a readable image (unknown or corrupt header)") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DecodeError(f"corrupt image header: {exc}") from exc
    w, h = im.size
    if w <= 0 or h <= 0:
        raise DecodeError(f"invalid image size {w}×{h}")
    if w * h > max_pixels:
        raise DecodeError(
            f"refused: {w}×{h} = {w * h:,} pixels is over the limit of {max_pixels:,} "
            "(possible decompression bomb)"
        )
    return im


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any mode to RGB: alpha composited on BACKGROUND, 16-bit scaled down, CMYK converted."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr = np.asarray(im).astype(np.uint32)
        if mode == "I" and arr.max(initial=0) <= 255:
            grey = arr.astype(np.uint8)
        else:
            grey = (arr >> 8).clip(0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        scale = 255.0 if arr.max(initial=0) <= 1.0 else 1.0
        return Image.fromarray((arr * scale).clip(0, 255).astype(np.uint8)).convert("RGB")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (*BACKGROUND, 255))
        return Image.alpha_composite(bg, im).convert("RGB")
    if mode != "RGB":
        return im.convert("RGB")
    return im


def probe(data: bytes, *, max_pixels: int) -> ImageInfo:
    """Header facts only (format, displayed size, orientation, frames), without decoding pixels."""
    im = _open(data, max_pixels)
    w, h = im.size
    orientation = _orientation(im)
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    frames = int(getattr(im, "n_frames", 1) or 1)
    return ImageInfo(im.format or "unknown", w, h, orientation, frames, im.mode)


def decode_reduced(data: bytes, *, size: int = REDUCED_SIZE, max_pixels: int) -> Decoded:
    """Decode ``data`` once, at about ``size`` pixels on the short side where the format allows.

    Raises :class:`DecodeError` with a reason for anything that is not a readable image.
    """
    im = _open(data, max_pixels)
    fmt = im.format or "unknown"
    frames = int(getattr(im, "n_frames", 1) or 1)
    orientation = _orientation(im)
    full_w, full_h = im.size
    try:
        if fmt in ("JPEG", "MPO"):
            im.draft(im.mode, (size, size))
        im.load()
        w, h = im.size
        factor = min(w, h) // size
        if factor >= 2 and im.mode not in ("P", "1"):
            im = im.reduce(factor)
        elif factor >= 2:
            im = im.convert("RGBA").reduce(factor)
        if orientation != 1:
            im = ImageOps.exif_transpose(im)
        rgb = np.asarray(_to_rgb(im))
    except DecodeError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, KeyError) as exc:
        raise DecodeError(f"cannot decode: {exc}") from exc
    except MemoryError as exc:
        raise DecodeError("cannot decode: out of memory") from exc
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.size == 0:
        raise DecodeError("cannot decode: no pixel data")
    if orientation in (5, 6, 7, 8):
        full_w, full_h = full_h, full_w
    info = ImageInfo(fmt, full_w, full_h, orientation, frames, im.mode)
    return Decoded(info, rgb)


def decode_full(data: bytes, *, max_pixels: int) -> tuple[str, tuple[int, int], bytes]:
    """Decode at full size, orientation applied, for a pixel-equality digest.

    Returns ``(mode, size, raw_bytes)`` where mode is RGB, or RGBA when any pixel is not opaque,
    so an opaque PNG and the same pixels as BMP or JPEG-free formats digest equal.
    """
    im = _open(data, max_pixels)
    try:
        im.load()
        # Without an orientation to apply, exif_transpose would only copy the pixels.
        if _orientation(im) != 1:
            im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
            im.mode == "P" and "transparency" in im.info
        ):
            rgba = im.convert("RGBA")
            alpha = rgba.getchannel("A")
            if alpha.getextrema() != (255, 255):
                return "RGBA", rgba.size, rgba.tobytes()
            im = rgba
        if im.mode == "RGB":
            rgb = im  # convert() would only copy it
        elif im.mode not in ("I;16", "I;16L", "I;16B", "I", "F"):
            rgb = im.convert("RGB")
        else:
            rgb = _to_rgb(im)
        return "RGB", rgb.size, rgb.tobytes()
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, KeyError) as exc:
        raise DecodeError(f"cannot decode: {exc}") from exc
