"""Perceptual hashes, content trimming and the verification thumbnail, all in numpy.

Every function here takes the one reduced decode (an RGB uint8 array) or a greyscale float array
derived from it, so nothing is decoded twice.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

__all__ = [
    "COLOUR_SIZE",
    "THUMB_SIZE",
    "colour_signature",
    "content_box",
    "content_fingerprint",
    "content_signatures",
    "dhash",
    "grey",
    "pack_bits",
    "phash",
    "phash_turns",
    "resize_grey",
    "thumbnail",
]

THUMB_SIZE = 128
COLOUR_SIZE = 4
_PHASH_SIZE = 32
_PHASH_LOW = 8

# Border trimming: a row or column belongs to a uniform border when at most _TRIM_OUTLIERS of its
# pixels differ from the border colour by more than _TRIM_TOL grey levels. JPEG ringing next to
# the content edge stays inside that tolerance.
_TRIM_TOL = 12.0
_TRIM_OUTLIERS = 0.01
_TRIM_KEEP = 0.1  # never trim an axis to less than this share: a plain image stays whole
# Only dark or light borders are trimmed: letterbox bars and canvases are black or white, while a
# uniform sky or wall at a photo's edge (which a smoother, smaller copy would lose to trimming
# while the original keeps it) is mid-grey.
_TRIM_DARK = 40.0
_TRIM_LIGHT = 215.0
# The outermost line of a real border is flat to within rounding; a bright sky or a dark corner of
# a photo has sensor noise or a gradient (std of 3 levels and more), and whether it passes for a
# border would differ between a photo and its smoother, smaller copy.
_TRIM_FLAT = 1.5


def grey(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma as float32, the same weights Pillow's ``convert("L")`` uses."""
    # In place, channel by channel: the same float32 operations in the same order as
    # ``r * 0.299 + g * 0.587 + b * 0.114``, without the temporaries.
    result: np.ndarray = rgb[..., 0].astype(np.float32)
    result *= 0.299
    channel = rgb[..., 1].astype(np.float32)
    channel *= 0.587
    result += channel
    np.copyto(channel, rgb[..., 2])
    channel *= 0.114
    result += channel
    return result


def _border_run(lines: np.ndarray) -> int:
    """How many leading rows of ``lines`` are a uniform border of the first row's colour."""
    ref = float(np.median(lines[0]))
    if _TRIM_DARK < ref < _TRIM_LIGHT or float(lines[0].std()) > _TRIM_FLAT:
        return 0
    n = len(lines)
    # Growing blocks: most pictures have no border, so the answer is in the first few lines
    # and the rest of the image need not be looked at.
    start, step = 0, 4
    while start < n:
        block = lines[start : start + step]
        outliers = (np.abs(block - ref) > _TRIM_TOL).mean(axis=1)
        bad = np.flatnonzero(outliers > _TRIM_OUTLIERS)
        if bad.size:
            return start + int(bad[0])
        start += step
        step *= 2
    return n


def content_box(g: np.ndarray) -> tuple[int, int, int, int]:
    """The box ``(top, bottom, left, right)`` (exclusive ends) left after trimming uniform borders.

    Letterboxing, pillarboxing and plain canvas margins are removed, so a picture pasted onto a
    phone-screen canvas hashes like the picture itself.
    """
    h, w = g.shape
    top = _border_run(g)
    bottom = h - _border_run(g[::-1])
    if bottom - top < max(1, int(h * _TRIM_KEEP)):
        top, bottom = 0, h
    band = g[top:bottom]
    left = _border_run(band.T)
    right = w - _border_run(band.T[::-1])
    if right - left < max(1, int(w * _TRIM_KEEP)):
        left, right = 0, w
    return top, bottom, left, right


def resize_grey(g: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average resize of a float greyscale array (Pillow's BOX filter, float precision)."""
    im = Image.fromarray(np.ascontiguousarray(g, dtype=np.float32), mode="F")
    out = im.resize((width, height), Image.Resampling.BOX)
    result: np.ndarray = np.asarray(out, dtype=np.float32)
    return result


@lru_cache(maxsize=4)
def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    result: np.ndarray = m.astype(np.float64)
    return result


def pack_bits(bits: np.ndarray) -> int:
    """Pack a flat boolean array (most significant bit first) into a Python int."""
    return int.from_bytes(np.packbits(bits.astype(np.uint8).ravel()).tobytes(), "big")


def _phash_of(small32: np.ndarray) -> int:
    small = small32.astype(np.float64)
    d = _dct_matrix(_PHASH_SIZE)
    coeffs = d @ small @ d.T
    low = coeffs[:_PHASH_LOW, :_PHASH_LOW]
    return pack_bits(low > np.median(low))


def phash(g: np.ndarray) -> int:
    """64-bit DCT hash: the 8×8 lowest frequencies of a 32×32 greyscale, above their median."""
    return _phash_of(resize_grey(g, _PHASH_SIZE, _PHASH_SIZE))


def _dhash_of(small: np.ndarray) -> int:
    return pack_bits(small[:, 1:] > small[:, :-1])


def turn(a: np.ndarray, code: int) -> np.ndarray:
    """One of the 8 flips and quarter turns of the last two axes of ``a``.

    ``code & 3`` quarter turns counter-clockwise, then a horizontal flip when ``code & 4``.
    Code 0 is the identity.
    """
    out = np.rot90(a, code & 3, axes=(-2, -1))
    return out[..., ::-1] if code & 4 else out


def phash_turns(g: np.ndarray) -> tuple[int, ...]:
    """pHash of the picture and of its 7 flips and quarter turns (codes of :func:`turn`).

    Box resizing commutes with flips and quarter turns, so turning the 32×32 reduction is the
    same as hashing a turned copy of the picture: no second decode, 7 small matrix products.
    """
    small = resize_grey(g, _PHASH_SIZE, _PHASH_SIZE)
    return tuple(_phash_of(np.ascontiguousarray(turn(small, k))) for k in range(8))


def dhash(g: np.ndarray) -> int:
    """64-bit gradient hash: is each of 8×8 pixels brighter than its right neighbour."""
    return _dhash_of(resize_grey(g, 9, 8))


def _thumb_of(small: np.ndarray) -> bytes:
    return bytes(np.rint(small).clip(0, 255).astype(np.uint8).tobytes())


def thumbnail(g: np.ndarray) -> bytes:
    """The verification thumbnail: THUMB_SIZE² greyscale bytes of the trimmed content."""
    return _thumb_of(resize_grey(g, THUMB_SIZE, THUMB_SIZE))


def content_signatures(
    rgb: np.ndarray, g: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[int, int, bytes, bytes]:
    """``(phash, dhash, thumbnail, colour_signature)`` of the content inside ``box``.

    The same values as the four functions applied to the cropped arrays, computed from one
    Pillow image per array (Pillow crops by copying rows, without numpy's strided copy), which
    is what the fingerprinting hot path uses.
    """
    p_hash, d_hash, thumb, colour, _ = _signatures(rgb, g, box, turns=False)
    return p_hash, d_hash, thumb, colour


def content_fingerprint(
    rgb: np.ndarray, g: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[int, int, bytes, bytes, tuple[int, ...]]:
    """:func:`content_signatures` and ``phash_turns(g[box])[1:]`` (the pHash of the 7 flips and
    quarter turns), the turns from the same 32×32 reduction as the pHash instead of a second
    one: the fingerprinting hot path."""
    return _signatures(rgb, g, box, turns=True)


def _signatures(
    rgb: np.ndarray, g: np.ndarray, box: tuple[int, int, int, int], *, turns: bool
) -> tuple[int, int, bytes, bytes, tuple[int, ...]]:
    top, bottom, left, right = box
    h, w = g.shape
    whole = (top, bottom, left, right) == (0, h, 0, w)
    grey_im = Image.fromarray(np.ascontiguousarray(g, dtype=np.float32), mode="F")
    rgb_im = Image.fromarray(np.ascontiguousarray(rgb))
    if not whole:
        grey_im = grey_im.crop((left, top, right, bottom))
        rgb_im = rgb_im.crop((left, top, right, bottom))

    def small(width: int, height: int) -> np.ndarray:
        out = grey_im.resize((width, height), Image.Resampling.BOX)
        return np.asarray(out, dtype=np.float32)

    colour = rgb_im.resize((COLOUR_SIZE, COLOUR_SIZE), Image.Resampling.BOX)
    small32 = small(_PHASH_SIZE, _PHASH_SIZE)
    turned = (
        tuple(_phash_of(np.ascontiguousarray(turn(small32, k))) for k in range(1, 8))
        if turns
        else ()
    )
    return (
        _phash_of(small32),
        _dhash_of(small(9, 8)),
        _thumb_of(small(THUMB_SIZE, THUMB_SIZE)),
        bytes(np.asarray(colour, dtype=np.uint8).tobytes()),
        turned,
    )


def colour_signature(rgb: np.ndarray) -> bytes:
    """COLOUR_SIZE² RGB cell means (48 bytes): enough to tell a greyscale copy from colour."""
    im = Image.fromarray(np.ascontiguousarray(rgb))
    small = im.resize((COLOUR_SIZE, COLOUR_SIZE), Image.Resampling.BOX)
    return bytes(np.asarray(small, dtype=np.uint8).tobytes())
