"""Evidence for the ``edited`` class: crop alignment, tone matching and the watermark allowance.

An edited copy is the same picture after a small border crop, a brightness/contrast change, a
small watermark in a corner, or a greyscale conversion. Everything here works on the 128×128
greyscale verification thumbnails of both sides:

1. **Crop alignment.** One side may show a slightly smaller region of the other (up to
   ``max_crop`` of each side). A coarse search on 32×32 reductions compares row and column mean
   profiles over a grid of margins (both directions: ``a`` inside ``b`` or ``b`` inside ``a``);
   Lucas–Kanade (Gauss–Newton) steps on softened 64×64 and then 128×128 images refine the scale
   and offset of each axis to a fraction of a thumbnail pixel. A crop found only to the nearest
   grid step (2 % of a side, about 2.5 thumbnail pixels) leaves edges misaligned by more than
   the half pixel the tolerant difference forgives, which is why a coarse search alone missed
   about half of all 3–8 % crops.
2. **Tone matching.** Brightness and contrast are normalised (mean and spread), then one side's
   histogram is matched to the other's (33 quantiles), which also absorbs the clipped highlights
   of a brightened copy that an affine normalisation leaves, while a caption (few pixels) hardly
   moves the quantiles and so is not explained away.
3. **The watermark allowance is text-sensitive.** The difference left after 1 and 2 may be
   large only inside one corner window (a quarter of the height, half the width): outside it
   the same two ratios that keep ``near`` memes and screenshots apart must hold: the
   third-worst 4×4 block over the mean difference, and the number of interior blocks over 14
   levels over the squared mean. A caption (centred), a chat screenshot's lines (everywhere) or
   changed digits in the middle of a picture fail them; a copyright line in a corner does not.
4. **No local misalignment.** An edit moves the whole picture one way; a second shot of the same
   scene (a tripod series, a burst) differs by perspective and movement that no global crop
   explains. The translation that would best align each of 4×4 tiles is measured once the crop
   is found; its RMS must stay small.

Pairs whose coarse alignment is far off (``_GATE``) skip the refinement: they cannot be edited
copies, and most candidate pairs are such pairs, so the refinement's cost (about a dozen
128×128 resamplings per pair) is paid only where it can matter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from picdup.fingerprint.hashes import THUMB_SIZE
from picdup.index import pairs_across

__all__ = ["EditedEvidence", "crop_hashes", "edited_evidence", "with_cropped_candidates"]

_N = THUMB_SIZE
_BLOCK = 4
_NORM_MEAN = 128.0
_NORM_STD = 50.0
# A side whose grey levels spread less than this share of the other's (which spreads more than
# _FLAT_STD levels) is a flat picture against one with content: no edit does that.
_FLAT_STD = 4.0
_FLAT_RATIO = 0.1
# Coarse search: a 32×32 reduction and margins on an 11-step grid from 0 to max_crop.
_COARSE = 32
_GRID_STEPS = 11
# A pair whose coarse-aligned 32×32 reductions differ by more than this (levels, normalised)
# is no edited copy; true crops, brightness and watermark copies stay below about 17.
_GATE = 24.0
# Gauss-Newton steps per resolution, and the largest step (scale or margin share) per update.
_LK_STEPS = ((64, 3), (128, 3))
_LK_MAX_STEP = 0.02
# Tone matching: quantiles of each side's grey levels that are matched.
_TONE_QUANTILES = 33
# The watermark window, in 4×4 blocks of the 32×32 block grid: rows × columns, in a corner.
_WINDOW_ROWS = 8
_WINDOW_COLS = 16
_PEAK_FLOOR = 0.2
# Local misalignment: tiles per side, and the regulariser (squared levels per pixel) that lets a
# flat tile, whose shift is undefined, count as aligned.
_SHIFT_TILES = 4
_SHIFT_REG = 0.5
_SPREAD_FLOOR = 0.5
_TEXT_LEVEL = 14.0
# The crop the candidate search assumes (a share of each side): the middle of the 3–8 % range
# that matters most; a crop hash at this margin is within a few bits of a copy cropped anywhere
# in that range, where the plain pHash of such a copy is often 20 bits away.
_CROP_HASH_MARGIN = 0.055


@dataclass(frozen=True, slots=True)
class EditedEvidence:
    """Per pair: the evidence the ``edited`` class reads."""

    mean: np.ndarray  # mean tolerant difference after alignment and tone matching
    share: np.ndarray  # share of 4×4 blocks over the block bound
    peak: np.ndarray  # outside the watermark window: third-worst block / (mean + floor)
    spread: np.ndarray  # outside the window: interior blocks over 14 levels / (mean + floor)²
    shift: np.ndarray  # thumbnail pixels: RMS of what is left of local misalignment
    cropped: np.ndarray  # bool: the alignment found a crop


def block_means(x: np.ndarray, f: int) -> np.ndarray:
    """The mean of each ``f`` × ``f`` block of each (n, n) picture of ``x`` (P, n/f, n/f).

    Rows of a block are added first, then the columns of those sums, by whole-array additions:
    a tenth of the cost of ``mean(axis=(2, 4))`` over a 5-D view (a strided reduction). The
    order of the additions differs from numpy's, which can move the last bit of a float sum
    (VERIFY_VERSION 4 for verification's blocks, 5 for the edited test's pooling).
    """
    p, n, _ = x.shape
    m = n // f
    band = x.reshape(p, m, f, n)
    rows = band[:, :, 0] + band[:, :, 1]
    for r in range(2, f):
        rows += band[:, :, r]
    cells = rows.reshape(p, m, m, f)
    out: np.ndarray = cells[..., 0] + cells[..., 1]
    for c in range(2, f):
        out += cells[..., c]
    out /= out.dtype.type(f * f)
    return out


def _normalise(a: np.ndarray) -> np.ndarray:
    mean = a.mean(axis=(1, 2), keepdims=True)
    std = a.std(axis=(1, 2), keepdims=True)
    out: np.ndarray = (a - mean) / np.maximum(std, 4.0) * _NORM_STD + _NORM_MEAN
    return out


def _soften(a: np.ndarray) -> np.ndarray:
    """A [1, 2, 1] / 4 blur on both axes, edges repeated (smooths the alignment error)."""
    p = np.pad(a, ((0, 0), (1, 1), (0, 0)), mode="edge")
    a = (p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]) * 0.25
    p = np.pad(a, ((0, 0), (0, 0), (1, 1)), mode="edge")
    out: np.ndarray = (p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]) * 0.25
    return out


def _positions(scale: np.ndarray, first: np.ndarray, n: int) -> np.ndarray:
    """(P, n) pixel positions sampled on an n-pixel axis: region ``[first, first + scale]``."""
    v = np.arange(n, dtype=np.float32)
    out: np.ndarray = scale[:, None] * (v + 0.5) + first[:, None] * n - 0.5
    return out


def _sample(
    x: np.ndarray, rows: np.ndarray, cols: np.ndarray, *, gradients: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear samples of each (n, n) image of ``x`` on a grid of row and column positions,
    and (when asked) the image's row and column gradients there."""
    p, n, _ = x.shape
    rows = np.clip(rows, 0, n - 1)
    cols = np.clip(cols, 0, n - 1)
    y0 = np.minimum(np.floor(rows).astype(np.int64), n - 2)
    x0 = np.minimum(np.floor(cols).astype(np.int64), n - 2)
    wy = (rows - y0)[:, :, None].astype(np.float32)
    wx = (cols - x0)[:, None, :].astype(np.float32)
    # The four neighbours by one flat index and its offsets: indexing with three broadcast
    # index arrays builds the flat index anew for each neighbour, which took half the time.
    at = (np.arange(p) * (n * n))[:, None, None] + (y0 * n)[:, :, None] + x0[:, None, :]
    flat = x.reshape(-1)
    a00, a01 = flat.take(at), flat.take(at + 1)
    a10, a11 = flat.take(at + n), flat.take(at + (n + 1))
    top = a00 + (a01 - a00) * wx
    bottom = a10 + (a11 - a10) * wx
    out = top + (bottom - top) * wy
    if not gradients:
        return out, out, out
    gx = (a01 - a00) * (1 - wy) + (a11 - a10) * wy
    return out, bottom - top, gx


def _profile_search(
    x: np.ndarray, y: np.ndarray, max_crop: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair, the (scale, first margin) of profile ``x`` whose region best matches ``y``."""
    p, n = x.shape
    steps = np.linspace(0.0, max_crop, _GRID_STEPS)
    first, last = (m.ravel() for m in np.meshgrid(steps, steps, indexing="ij"))
    scale = 1.0 - first - last
    pos = np.clip(scale[:, None] * (np.arange(n) + 0.5) + first[:, None] * n - 0.5, 0, n - 1)
    lo = np.minimum(np.floor(pos).astype(np.int64), n - 2)
    w = (pos - lo)[None]
    values = x[:, lo] * (1 - w) + x[:, lo + 1] * w  # (P, K, n)
    err = np.abs(values - y[:, None, :]).mean(axis=2)
    best = err.argmin(axis=1)
    return (
        scale[best].astype(np.float32),
        first[best].astype(np.float32),
        err[np.arange(p), best],
    )


def _refine(
    x: np.ndarray,
    y: np.ndarray,
    params: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    steps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gauss–Newton steps on (row scale, row margin, column scale, column margin) so that
    ``x`` sampled on the region matches ``y`` up to a gain and an offset (least squares)."""
    p, n, _ = x.shape
    sy, cy, sx, cx = params
    t = (np.arange(n, dtype=np.float32) + 0.5) / n
    rows_t, cols_t = t[None, :, None], t[None, None, :]
    eye = np.eye(4) * 1e-2
    for _ in range(steps):
        w, gy, gx = _sample(x, _positions(sy, cy, n), _positions(sx, cx, n), gradients=True)
        wc = w - w.mean(axis=(1, 2), keepdims=True)
        yc = y - y.mean(axis=(1, 2), keepdims=True)
        gain = (wc * yc).sum(axis=(1, 2)) / np.maximum((wc * wc).sum(axis=(1, 2)), 1e-3)
        err = (gain[:, None, None] * wc - yc).reshape(p, -1)
        gyn = gy * (n * gain)[:, None, None]
        gxn = gx * (n * gain)[:, None, None]
        jac = np.stack([gyn * rows_t, gyn, gxn * cols_t, gxn], axis=1).reshape(p, 4, -1)
        jac64 = jac.astype(np.float64)
        hess = np.einsum("pkm,plm->pkl", jac64, jac64) + eye
        rhs = -np.einsum("pkm,pm->pk", jac64, err)
        step = np.linalg.solve(hess, rhs[..., None])[..., 0]
        step = np.clip(step, -_LK_MAX_STEP, _LK_MAX_STEP).astype(np.float32)
        sy, cy, sx, cx = sy + step[:, 0], cy + step[:, 1], sx + step[:, 2], cx + step[:, 3]
    return sy, cy, sx, cx


def _tone_quantiles(x: np.ndarray) -> np.ndarray:
    """(P, _TONE_QUANTILES) evenly spaced quantiles of the levels of each picture of ``x``.

    Quantiles depend only on the sorted values, and np.quantile partitions sorted rows in a
    fraction of the time it takes on raw ones (66 partition points along a strided axis):
    sorting first gives the same numbers in about half the time.
    """
    q = np.linspace(0.0, 1.0, _TONE_QUANTILES)
    out: np.ndarray = np.quantile(np.sort(x.reshape(len(x), -1), axis=1), q, axis=1).T
    return out


def _tone_match(x: np.ndarray, qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
    """``x`` with its grey levels mapped so that its histogram matches the one whose
    :func:`_tone_quantiles` are ``qy`` (``qx``: those of ``x``).

    A piecewise-linear map between the two sides' quantiles: any monotone tone change
    (brightness, contrast, gamma, clipped highlights) is undone, while a caption or a line of
    text, which covers few pixels, hardly moves the quantiles and so is not explained away.
    """
    out = np.empty_like(x, dtype=np.float32)
    for k in range(len(x)):
        # Equal quantiles (a flat region) would make the map jump: keep the first of each run.
        keep = np.concatenate([[True], np.diff(qx[k]) > 1e-3])
        out[k] = np.interp(x[k], qx[k][keep], qy[k][keep])
    return out


def _local_shift(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """RMS over 4×4 tiles of the translation (thumbnail pixels) that would best align each
    tile of ``x`` to ``y``, after the worst two tiles are dropped.

    One Gauss–Newton step per tile (regularised, so flat tiles say 0). An edit moves the whole
    picture one way (a crop is a global scale and offset), leaving no local misalignment once
    that is found; two shots of one scene differ by perspective, lens and movement, which no
    global crop explains. The two worst tiles are left out: a watermark disturbs its own.
    """
    p, n, _ = x.shape
    t = n // _SHIFT_TILES
    xs, ys = _soften(_soften(x)), _soften(_soften(y))
    # Gradients of the mean of both sides: swapping the sides only flips the sign of the shift,
    # so the statistic is the same bit for bit in either order.
    both = (xs + ys) * 0.5
    gy = np.gradient(both, axis=1)
    gx = np.gradient(both, axis=2)
    e = xs - ys

    def tiles(z: np.ndarray) -> np.ndarray:
        out: np.ndarray = z.reshape(p, _SHIFT_TILES, t, _SHIFT_TILES, t).sum(axis=(2, 4))
        return out

    reg = _SHIFT_REG * t * t
    hyy, hxx, hxy = tiles(gy * gy) + reg, tiles(gx * gx) + reg, tiles(gx * gy)
    by, bx = tiles(gy * e), tiles(gx * e)
    det = hyy * hxx - hxy * hxy
    dy = (hxx * by - hxy * bx) / det
    dx = (hyy * bx - hxy * by) / det
    sq = np.sort((dy * dy + dx * dx).reshape(p, -1), axis=1)[:, :-2]
    out: np.ndarray = np.sqrt(sq.mean(axis=1))
    return out


def _corner_window(blocks: np.ndarray) -> np.ndarray:
    """Per pair, the mask of the corner window holding the most block difference."""
    n = blocks.shape[1]
    windows = np.zeros((4, n, n), dtype=bool)
    windows[0, :_WINDOW_ROWS, :_WINDOW_COLS] = True
    windows[1, :_WINDOW_ROWS, n - _WINDOW_COLS :] = True
    windows[2, n - _WINDOW_ROWS :, :_WINDOW_COLS] = True
    windows[3, n - _WINDOW_ROWS :, n - _WINDOW_COLS :] = True
    sums = np.einsum("pij,wij->pw", blocks, windows.astype(blocks.dtype))
    out: np.ndarray = windows[sums.argmax(axis=1)]
    return out


def edited_evidence(
    a: np.ndarray,
    b: np.ndarray,
    diff: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    max_crop: float,
    block_bound: float,
) -> EditedEvidence:
    """:class:`EditedEvidence` for thumbnail pairs ``(a[k], b[k])`` (float32, (P, 128, 128)).

    ``diff(x, y)`` is the tolerant per-pixel difference of the near test (half a pixel of
    shift, one side softer). ``max_crop`` is the largest crop searched (a share of each side;
    0 disables the search).

    Performance: about 15 ms per pair on one core for pairs that pass the coarse gate (two
    directions of profile search, six Gauss–Newton steps, histogram matching), a few ms for the
    others; memory is a few 128×128 float arrays per pair, so callers pass chunks.
    """
    p = len(a)
    # Normalising a flat picture (a blank page, a plain colour) blows up its noise; against a
    # picture with content, tone matching would then map anything onto anything.
    std_a, std_b = a.std(axis=(1, 2)), b.std(axis=(1, 2))
    lopsided = (np.maximum(std_a, std_b) > _FLAT_STD) & (
        np.minimum(std_a, std_b) < _FLAT_RATIO * np.maximum(std_a, std_b)
    )
    na, nb = _normalise(a), _normalise(b)
    outer_a = np.ones(p, dtype=bool)
    ones = np.ones(p, dtype=np.float32)
    zeros = np.zeros(p, dtype=np.float32)
    sy, cy, sx, cx = ones.copy(), zeros.copy(), ones.copy(), zeros.copy()
    cropped = np.zeros(p, dtype=bool)
    if max_crop > 0 and p:
        f = _N // _COARSE
        a32, b32 = block_means(na, f), block_means(nb, f)
        found = []
        for x, y in ((a32, b32), (b32, a32)):  # x holds the region that is all of y
            csx, ccx, ecx = _profile_search(x.mean(axis=1), y.mean(axis=1), max_crop)
            csy, ccy, ecy = _profile_search(x.mean(axis=2), y.mean(axis=2), max_crop)
            found.append((csy, ccy, csx, ccx, ecx + ecy))
        outer_a = found[0][4] <= found[1][4]
        sy, cy, sx, cx = (np.where(outer_a, found[0][k], found[1][k]) for k in range(4))
        x = np.where(outer_a[:, None, None], na, nb)
        y = np.where(outer_a[:, None, None], nb, na)
        x32, y32 = block_means(x, f), block_means(y, f)
        w32, _, _ = _sample(x32, _positions(sy, cy, _COARSE), _positions(sx, cx, _COARSE))
        coarse = np.abs(_normalise(w32) - _normalise(y32)).mean(axis=(1, 2))
        near = np.flatnonzero(coarse <= _GATE)
        if near.size:
            params = (sy[near], cy[near], sx[near], cx[near])
            for size, steps in _LK_STEPS:
                g = _N // size
                xs = _soften(block_means(x[near], g) if g > 1 else x[near])
                ys = _soften(block_means(y[near], g) if g > 1 else y[near])
                params = _refine(xs, ys, params, steps)
            # Keep the region inside the picture and each margin within max_crop: a crop never
            # shows more than the original, and a larger one is not an edit this class allows.
            rsy, rcy, rsx, rcx = params
            rcy = np.clip(rcy, 0.0, max_crop)
            rcx = np.clip(rcx, 0.0, max_crop)
            rsy = np.clip(rsy, 1.0 - rcy - max_crop, 1.0 - rcy)
            rsx = np.clip(rsx, 1.0 - rcx - max_crop, 1.0 - rcx)
            sy[near], cy[near], sx[near], cx[near] = rsy, rcy, rsx, rcx
        # A crop of less than half a thumbnail pixel is no crop: resampling would only blur.
        cropped = (np.maximum(1 - sy, 1 - sx) * _N > 0.5) | (np.maximum(cy, cx) * _N > 0.25)
        warped, _, _ = _sample(x, _positions(sy, cy, _N), _positions(sx, cx, _N))
        warped = np.where(cropped[:, None, None], warped, x)
        na = np.where(outer_a[:, None, None], warped, y)
        nb = np.where(outer_a[:, None, None], y, warped)
        na, nb = _normalise(na), _normalise(nb)
    # Histogram matching is one-way: clipped highlights (many levels made one) can be mapped
    # onto the clipped side but not back. Map whichever side ends closer to the other.
    qa, qb = _tone_quantiles(na), _tone_quantiles(nb)
    ta, tb = _tone_match(na, qa, qb), _tone_match(nb, qb, qa)
    a_to_b = np.abs(ta - nb).mean(axis=(1, 2)) <= np.abs(tb - na).mean(axis=(1, 2))
    na = np.where(a_to_b[:, None, None], ta, na)
    nb = np.where(a_to_b[:, None, None], nb, tb)
    d = diff(na.astype(np.float32), nb.astype(np.float32))
    shift = _local_shift(na, nb)
    blocks = block_means(d, _BLOCK)
    mean = d.mean(axis=(1, 2))
    share = (blocks > block_bound).reshape(p, -1).mean(axis=1)
    window = _corner_window(blocks)
    outside = np.where(window, 0.0, blocks)
    mean_out = outside.sum(axis=(1, 2)) / (~window).sum(axis=(1, 2))
    third = np.partition(outside.reshape(p, -1), -3, axis=1)[:, -3]
    changed = (outside[:, 1:-1, 1:-1] > _TEXT_LEVEL).sum(axis=(1, 2))
    mean = np.where(lopsided, np.inf, mean)
    return EditedEvidence(
        mean=mean.astype(np.float32),
        share=share.astype(np.float32),
        peak=(third / (mean_out + _PEAK_FLOOR)).astype(np.float32),
        spread=(changed / np.square(mean_out + _SPREAD_FLOOR)).astype(np.float32),
        shift=shift.astype(np.float32),
        cropped=cropped,
    )


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def _hash_of(small: np.ndarray) -> np.ndarray:
    """64-bit pHash words of (P, 32, 32) reductions (the fingerprint's pHash definition)."""
    d = _dct_matrix(small.shape[-1])
    low = (d[:8] @ small.astype(np.float64) @ d[:8].T).reshape(len(small), 64)
    bits = low > np.median(low, axis=1, keepdims=True)
    packed = np.packbits(bits, axis=1)  # (P, 8) bytes, most significant first
    out: np.ndarray = packed.view(">u8")[:, 0].astype(np.uint64)
    return out


def _box_matrix(first: float, size: int, n: int = _N) -> np.ndarray:
    """(size, n) weights that area-average the region ``[first, 1 - first]`` of an n-pixel axis
    into ``size`` cells (Pillow's BOX filter on a sub-region)."""
    edges = (first + (1 - 2 * first) * np.arange(size + 1) / size) * n
    lo, hi = edges[:-1, None], edges[1:, None]
    pix = np.arange(n)[None, :]
    overlap = np.clip(np.minimum(hi, pix + 1) - np.maximum(lo, pix), 0.0, None)
    out: np.ndarray = overlap / overlap.sum(axis=1, keepdims=True)
    return out


def crop_hashes(thumbs: np.ndarray, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """``(plain, cropped)`` pHash words of each thumbnail and of its middle region.

    Both come from the 128×128 thumbnail, so they are comparable with each other (not with the
    fingerprint's pHash of the full decode, though within a few bits of it). ``cropped`` hashes
    the region without ``_CROP_HASH_MARGIN`` of each side: the hash a copy cropped by about that
    much would have. Cost: two area-average reductions to 32×32 (small matrix products) and two
    32×32 DCTs per picture, about 0.1 ms; nothing is stored in the fingerprint.
    """
    n = len(thumbs)
    plain = np.zeros(n, dtype=np.uint64)
    cropped = np.zeros(n, dtype=np.uint64)
    whole = _box_matrix(0.0, 32).astype(np.float32)
    middle = _box_matrix(_CROP_HASH_MARGIN, 32).astype(np.float32)
    for lo in range(0, n, chunk):
        x = thumbs[lo : lo + chunk].astype(np.float32)
        p = len(x)
        plain[lo : lo + p] = _hash_of(whole @ x @ whole.T)
        cropped[lo : lo + p] = _hash_of(middle @ x @ middle.T)
    return plain, cropped


def with_cropped_candidates(
    thumbs: np.ndarray,
    hashes: np.ndarray,
    radius: int,
    found: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add candidate pairs ``(a, b)`` where ``b`` may be a border crop of ``a``.

    A 3–8 % crop moves the plain pHash by 14 bits in the median and often by more than 18, so
    the plain search misses many such copies. The pHash of the middle of ``a``'s thumbnail
    (:func:`crop_hashes`) is within ``radius`` of the thumbnail pHash of almost
    every such ``b``. One more index search over both hash sets, keeping pairs across them;
    pairs already found keep their entry. ``found`` is ``(i, j, distance, turn)``; a new pair
    gets turn 0 and its plain pHash distance from ``hashes``.
    """
    n = len(thumbs)
    if n < 2:
        return found
    plain, cropped = crop_hashes(thumbs)
    a, b, _ = pairs_across(cropped, plain, radius, threads=threads)
    i, j, d, t = found
    known = set(zip(np.minimum(i, j).tolist(), np.maximum(i, j).tolist(), strict=True))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    new = np.array([(x, y) not in known for x, y in zip(lo.tolist(), hi.tolist(), strict=True)])
    if not new.any():
        return found
    lo, hi = np.unique(np.stack([lo[new], hi[new]], axis=1), axis=0).T
    dist = np.bitwise_count(hashes[lo] ^ hashes[hi]).astype(d.dtype)
    return (
        np.concatenate([i, lo.astype(i.dtype)]),
        np.concatenate([j, hi.astype(j.dtype)]),
        np.concatenate([d, dist]),
        np.concatenate([t, np.zeros(len(lo), dtype=t.dtype)]),
    )
