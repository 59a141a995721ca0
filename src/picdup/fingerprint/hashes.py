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
    "content_box_of",
    "content_fingerprint",
    "content_signatures",
    "dhash",
    "grey",
    "grey_image",
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
# A picture whose low-frequency AC coefficients are all within this of zero is flat: they are
# rounding noise, which alone would decide every bit (two copies of one plain grey picture came
# out 11 to 32 bits apart), so a flat picture hashes to its DC bit only. Real content puts the
# coefficients tens to hundreds apart.
_PHASH_FLAT = 2.0

# Border trimming: a row or column belongs to a uniform border when at most _TRIM_OUTLIERS of its
# pixels differ from the border colour by more than _TRIM_TOL grey levels. JPEG ringing next to
# the content edge stays inside that tolerance.
_TRIM_TOL = 12.0
_TRIM_OUTLIERS = 0.01
_TRIM_KEEP = 0.1  # never trim an axis to less than this share: a plain image stays whole
# Only dark or light borders are trimmed: letterbox bars and canvases are black or white, while a
# uniform sky, wall or sheet of paper at a photo's edge (which a smoother, smaller copy would lose
# to trimming while the original keeps it) is mid-grey or light grey: light paper at 220 passed
# for a border in a heavily recompressed copy and not in the original, so light starts at 230.
_TRIM_DARK = 40.0
_TRIM_LIGHT = 230.0
# A picture with a white margin of its own on a black letterbox has two borders, one inside the
# other: trimming repeats (at most this often) until nothing changes, so the copy loses both
# borders, as the original loses its own.
_TRIM_PASSES = 3
# The outermost line of a real border is flat to within rounding; a bright sky or a dark corner of
# a photo has sensor noise or a gradient (std of 3 levels and more), and whether it passes for a
# border would differ between a photo and its smoother, smaller copy.
_TRIM_FLAT = 1.5
# A resized picture pasted onto a canvas (a letterbox) meets the bar in one row that is a blend of
# the two; the original has no such row. Left in the content it darkens (or lightens) the
# thumbnail's outer row by a fifth. The row after a border counts as a blend when its mean lies
# this far inside the range between the border colour and the next row's mean.
_BLEND_MIN = 0.25
_BLEND_MAX = 0.75


def grey_image(rgb: Image.Image) -> Image.Image:
    """ITU-R 601 luma of an RGB image as a float ("F") image: Pillow's ``convert("F")``."""
    return rgb.convert("F")


def grey(rgb: np.ndarray) -> np.ndarray:
    """:func:`grey_image` of an (H, W, 3) uint8 array, as a float32 array."""
    out: np.ndarray = np.asarray(grey_image(Image.fromarray(np.ascontiguousarray(rgb))))
    return out


def _median(line: np.ndarray) -> float:
    """``np.median`` of a 1-D float array without NaN, the same number: its first call imports
    ``numpy.ma`` (15 ms in every fingerprinting process)."""
    n = len(line)
    mid = n // 2
    if n % 2:
        return float(np.partition(line, mid)[mid])
    part = np.partition(line, (mid - 1, mid))
    # As np.median takes it: the mean of the middle two, in the array's own precision.
    return float((part[mid - 1] + part[mid]) / part.dtype.type(2))


def _border_run(lines: np.ndarray) -> int:
    """How many leading rows of ``lines`` are a uniform border of the first row's colour."""
    # The spread first: it is the cheaper test, and most photos' edges fail it.
    if float(lines[0].std()) > _TRIM_FLAT:
        return 0
    ref = _median(lines[0])
    if _TRIM_DARK < ref < _TRIM_LIGHT:
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


def _blend_rows(lines: np.ndarray, run: int) -> int:
    """1 when row ``run`` (just after a border of ``run`` rows) blends the border into the
    content, else 0. Only asked after a border, so an unbordered picture never loses a row."""
    if run == 0 or run + 1 >= len(lines):
        return 0
    border = _median(lines[0])
    reach = float(lines[run + 1].mean()) - border
    if abs(reach) <= _TRIM_TOL:
        return 0
    share = (float(lines[run].mean()) - border) / reach
    return 1 if _BLEND_MIN <= share <= _BLEND_MAX else 0


def _trim_run(lines: np.ndarray) -> int:
    """Leading rows of ``lines`` to trim: a uniform border and the blended row after it."""
    run = _border_run(lines)
    return run + _blend_rows(lines, run)


def _trim_once(g: np.ndarray) -> tuple[int, int, int, int]:
    h, w = g.shape
    top = _trim_run(g)
    bottom = h - _trim_run(g[::-1])
    if bottom - top < max(1, int(h * _TRIM_KEEP)):
        top, bottom = 0, h
    band = g[top:bottom]
    left = _trim_run(band.T)
    right = w - _trim_run(band.T[::-1])
    if right - left < max(1, int(w * _TRIM_KEEP)):
        left, right = 0, w
    return top, bottom, left, right


def content_box(g: np.ndarray) -> tuple[int, int, int, int]:
    """The box ``(top, bottom, left, right)`` (exclusive ends) left after trimming uniform borders.

    Letterboxing, pillarboxing and plain canvas margins are removed, so a picture pasted onto a
    phone-screen canvas hashes like the picture itself; so is the one row where a resampled
    picture blends into the bar, and a border inside a border (a white margin on a black bar).
    """
    h, w = g.shape
    top, bottom, left, right = 0, h, 0, w
    for _ in range(_TRIM_PASSES):
        box = _trim_once(g[top:bottom, left:right])
        if box == (0, bottom - top, 0, right - left):
            break
        t, b, lt, rt = box
        if b - t < max(1, int(h * _TRIM_KEEP)) or rt - lt < max(1, int(w * _TRIM_KEEP)):
            break
        top, bottom, left, right = top + t, top + b, left + lt, left + rt
    return top, bottom, left, right


def _edge_may_border(line: Image.Image) -> bool:
    """Whether the outermost row or column ``line`` (a one-pixel crop of a float picture) could
    start a border by :func:`_border_run`'s first test; False only when it provably cannot.

    Pillow's extrema first (a border's median is dark or light, so a line whose every pixel is
    mid-grey is none), then the spread, with a margin: the column's spread is computed here
    from a contiguous copy and in :func:`_border_run` from a strided view, which may differ in
    the last bit.
    """
    low, high = line.getextrema()
    if float(low) > _TRIM_DARK and float(high) < _TRIM_LIGHT:  # type: ignore[arg-type]
        return False
    values = np.asarray(line, dtype=np.float32).ravel()
    if float(values.std()) > _TRIM_FLAT * (1 + 1e-4):
        return False
    ref = _median(values)
    return not _TRIM_DARK < ref < _TRIM_LIGHT


def content_box_of(grey_im: Image.Image) -> tuple[int, int, int, int]:
    """:func:`content_box` of a float ("F") Pillow image, equal to it on every picture.

    Most photos have no border, and :func:`content_box` settles that from the first row and
    column on each side; those four lines are looked at here (crops of the Pillow image, about a
    tenth of the cost of the numpy copy of the whole picture that :func:`content_box` takes),
    and only a picture with a possible border is copied and trimmed.
    """
    w, h = grey_im.size
    edges = ((0, 0, w, 1), (0, h - 1, w, h), (0, 0, 1, h), (w - 1, 0, w, h))
    if any(_edge_may_border(grey_im.crop(edge)) for edge in edges):
        return content_box(np.asarray(grey_im))
    return 0, h, 0, w


def _reduce(grey_im: Image.Image) -> Image.Image:
    """The thumbnail's reduction of a float picture: THUMB_SIZE² by area.

    The dHash's 9×8 grid is taken from it (:func:`_smaller`) rather than from the picture
    (0.13 ms of a photo's 1.5 ms of signatures). The pHash's 32×32 is not: Pillow's box filter
    weighs whole pixels by where their centres fall, so a reduction of a reduction moves a
    few coefficients across the median, and on a synthetic set that cost a quarter-size copy
    its group. The dHash only goes into index archives.
    """
    return grey_im.resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BOX)


def _smaller(im: Image.Image, width: int, height: int) -> np.ndarray:
    out = im.resize((width, height), Image.Resampling.BOX)
    return np.asarray(out, dtype=np.float32)


def _float_image(g: np.ndarray) -> Image.Image:
    """A greyscale array as a float ("F") Pillow image."""
    return Image.fromarray(np.ascontiguousarray(g, dtype=np.float32), mode="F")


def _reduced(g: np.ndarray) -> Image.Image:
    return _reduce(_float_image(g))


def resize_grey(g: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average resize of a float greyscale array (Pillow's BOX filter, float precision)."""
    return _smaller(_float_image(g), width, height)


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


def _bits_of(lows: np.ndarray) -> list[int]:
    """The pHash bits of each (L, L) block of low DCT coefficients in ``lows`` (B, L, L).

    Each coefficient above the block's median (of an even count: the mean of the middle two,
    as ``np.median`` takes it) is a 1; a flat block (no AC coefficient beyond rounding noise)
    has its DC bit only. All blocks in one pass: this runs once per file with the GIL held.
    """
    flat = lows.reshape(len(lows), -1)
    mid = flat.shape[1] // 2
    part = np.partition(flat, (mid - 1, mid), axis=1)
    bits = flat > ((part[:, mid - 1] + part[:, mid]) / 2)[:, None]
    plain = np.abs(flat[:, 1:]).max(axis=1) <= _PHASH_FLAT
    if plain.any():
        bits[plain] = False
        bits[plain, 0] = flat[plain, 0] > _PHASH_FLAT
    return [int.from_bytes(row.tobytes(), "big") for row in np.packbits(bits, axis=1)]


def _low_dct(small32: np.ndarray) -> np.ndarray:
    d = _dct_matrix(_PHASH_SIZE)
    coeffs = d @ small32.astype(np.float64) @ d.T
    out: np.ndarray = coeffs[:_PHASH_LOW, :_PHASH_LOW]
    return out


def _phash_of(small32: np.ndarray) -> int:
    return _bits_of(_low_dct(small32)[None])[0]


@lru_cache(maxsize=1)
def _turn_signs() -> np.ndarray:
    """(8, L, L) signs such that the low DCT block of ``turn(x, code)`` is that of ``x``,
    transposed when ``code`` is odd, times ``_turn_signs()[code]``.

    A flip of one axis negates the odd frequencies along it and a transpose transposes the
    coefficients; every turn is made of those. The signs are read off one fixed block with no
    zero coefficient (a golden-ratio sequence: ``numpy.random`` would cost a scan 9 ms to
    import), the same for every picture.
    """
    x = (np.arange(_PHASH_SIZE * _PHASH_SIZE) * 0.6180339887498949 % 1.0).reshape(
        _PHASH_SIZE, _PHASH_SIZE
    )
    base = _low_dct(x)
    out = np.empty((8, _PHASH_LOW, _PHASH_LOW))
    for code in range(8):
        turned = _low_dct(np.ascontiguousarray(turn(x, code)))
        out[code] = np.sign(turned / (base.T if code & 1 else base))
    return out


def _turned_hashes(small32: np.ndarray) -> tuple[int, ...]:
    """pHash of ``small32`` under each of the 8 codes of :func:`turn`, from one DCT.

    Equal to hashing each turned block except where rounding decides a coefficient's side of
    the median (the derived coefficient is the same number, not recomputed).
    """
    low = _low_dct(small32)
    odd = (np.arange(8) & 1).astype(bool)[:, None, None]
    return tuple(_bits_of(np.where(odd, low.T, low) * _turn_signs()))


def phash(g: np.ndarray) -> int:
    """64-bit DCT hash: the 8×8 lowest frequencies of a 32×32 greyscale, above their median.

    The same bits as imagehash's pHash, except for a flat picture (no low-frequency coefficient
    beyond rounding noise), which gets its DC bit only, so that its copies hash alike.
    """
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
    same as hashing a turned copy of the picture, and turning the reduction only moves and
    negates its DCT coefficients: no second decode, one DCT.
    """
    return _turned_hashes(resize_grey(g, _PHASH_SIZE, _PHASH_SIZE))


def dhash(g: np.ndarray) -> int:
    """64-bit gradient hash: is each of 8×8 pixels brighter than its right neighbour (a 9×8
    grid taken from the thumbnail's reduction)."""
    return _dhash_of(_smaller(_reduced(g), 9, 8))


def _thumb_of(small: np.ndarray) -> bytes:
    return bytes(np.rint(small).clip(0, 255).astype(np.uint8).tobytes())


def thumbnail(g: np.ndarray) -> bytes:
    """The verification thumbnail: THUMB_SIZE² greyscale bytes of the trimmed content."""
    return _thumb_of(np.asarray(_reduced(g), dtype=np.float32))


def content_signatures(
    rgb: np.ndarray, g: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[int, int, bytes, bytes]:
    """``(phash, dhash, thumbnail, colour_signature)`` of the content inside ``box``.

    The same values as the four functions applied to the cropped arrays, computed the way the
    fingerprinting hot path does (:func:`content_fingerprint`).
    """
    rgb_im = Image.fromarray(np.ascontiguousarray(rgb))
    grey_im = _float_image(g)
    p_hash, d_hash, thumb, colour, _ = _signatures(rgb_im, grey_im, box, turns=False)
    return p_hash, d_hash, thumb, colour


def content_fingerprint(
    rgb: Image.Image, grey: Image.Image, box: tuple[int, int, int, int]
) -> tuple[int, int, bytes, bytes, tuple[int, ...]]:
    """:func:`content_signatures` of an RGB image and its :func:`grey_image`, and
    ``phash_turns(g[box])[1:]`` (the pHash of the 7 flips and quarter turns), all from the same
    32×32 reduction: the fingerprinting hot path, on Pillow images without numpy copies."""
    return _signatures(rgb, grey, box, turns=True)


def _signatures(
    rgb_im: Image.Image, grey_im: Image.Image, box: tuple[int, int, int, int], *, turns: bool
) -> tuple[int, int, bytes, bytes, tuple[int, ...]]:
    top, bottom, left, right = box
    w, h = grey_im.size
    if (top, bottom, left, right) != (0, h, 0, w):
        # Pillow crops by copying rows, without numpy's strided copy.
        grey_im = grey_im.crop((left, top, right, bottom))
        rgb_im = rgb_im.crop((left, top, right, bottom))

    thumb_im = _reduce(grey_im)
    colour = rgb_im.resize((COLOUR_SIZE, COLOUR_SIZE), Image.Resampling.BOX)
    small32 = _smaller(grey_im, _PHASH_SIZE, _PHASH_SIZE)
    hashes = _turned_hashes(small32) if turns else (_phash_of(small32),)
    return (
        hashes[0],
        _dhash_of(_smaller(thumb_im, 9, 8)),
        _thumb_of(np.asarray(thumb_im, dtype=np.float32)),
        bytes(np.asarray(colour, dtype=np.uint8).tobytes()),
        hashes[1:],
    )


def colour_signature(rgb: np.ndarray) -> bytes:
    """COLOUR_SIZE² RGB cell means (48 bytes): enough to tell a greyscale copy from colour."""
    im = Image.fromarray(np.ascontiguousarray(rgb))
    small = im.resize((COLOUR_SIZE, COLOUR_SIZE), Image.Resampling.BOX)
    return bytes(np.asarray(small, dtype=np.uint8).tobytes())
