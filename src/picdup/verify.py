"""Pixel-level confirmation of candidate pairs, and the class each confirmed pair gets.

A perceptual hash only nominates candidates. A pair becomes a match on evidence, all of it taken
from the 128×128 greyscale thumbnails of the trimmed content and the 4×4 colour signatures:

- ``exact``: equal content digests (decided before any candidate search);
- ``pixel``: equal digests of the fully decoded, orientation-normalised pixels; only tried for
  pairs whose displayed sizes are equal and whose thumbnails agree to within rounding;
- ``near``: the thumbnails agree on average and in their worst 4×4 block, compared with half a
  pixel of shift tolerance and tolerance for one side being slightly softer (a smaller or more
  compressed copy), the trimmed content has a compatible shape, and colour agrees. The worst-block
  test is what keeps apart memes and screenshots that share a layout but differ in their text;
  so do two ratios for text too faint or thin for it: the worst blocks must not stand out from
  the mean difference, and few interior blocks may differ strongly for so small a mean. When two
  copies' borders were trimmed differently (a light background that one copy's compression made
  flat enough to pass for a border; a picture with a white margin on a black letterbox) the
  same tests are asked again on the frame the two copies share (see :func:`reframe`);
- ``edited``: after the best small crop is found (up to ``Bounds.edited_crop`` of each side, to a
  fraction of a pixel) and the tone curves are matched, the mean difference is small, only a
  small share of blocks differs, no local misalignment is left, and no text stands out outside
  one corner window (a watermark's place); colour may differ (a greyscale copy). The evidence is
  computed in :mod:`picdup.edited`;
- ``similar``: the normalised, crop-aligned mean difference is within a looser bound.

With ``--rotations`` a candidate may pair a picture with a flipped or quarter-turned copy; the
thumbnail and colour signature of one side are turned the same way before any comparison.
"""

from __future__ import annotations

import dataclasses
import mmap
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from picdup._arrays import unique
from picdup.edited import block_means, edited_evidence
from picdup.fingerprint.hashes import COLOUR_SIZE, THUMB_SIZE, turn
from picdup.model import Fingerprint, Match, MatchClass
from picdup.options import Bounds

__all__ = [
    "VERIFY_VERSION",
    "MeasureSettings",
    "PairEvidence",
    "ThumbStack",
    "expect_pairs",
    "floor_bound",
    "frames_needed",
    "mean_floor",
    "measure_frames",
    "measure_pairs",
    "measure_settings",
    "reframe",
    "tolerant_diff_levels",
    "tolerant_diff_numpy",
    "tolerant_diff_reference",
    "verify_pairs",
]

# The version of the evidence :func:`measure_pairs` and :func:`measure_frames` return. Bump it
# with any change that can alter a measured value, or a field or its dtype: cached evidence of
# other versions is never used, and is dropped when the cache is opened (3: frame evidence;
# 4: block means summed in another order, see _blocks; 5: the same for the edited test's
# pooling).
VERIFY_VERSION = 5

_BLOCK = 4
_ODD_BLOCKS = 1
# Thumbnails of the same pixels decoded along different paths (a JPEG's DCT-scaled decode, a PNG's
# box reduction) differ by rounding and by the JPEG's clipped overshoot; beyond this mean they
# are not worth a full decode to compare pixel digests. Measured: up to 0.69 over 118 pictures
# saved as PNG, BMP, TIFF and lossless WebP next to their JPEG (memes and screenshots included).
_PIXEL_MEAN_DIFF = 1.0
# Mean colour saturation (max - min channel, in levels) below which a picture counts as greyscale,
# and above which it clearly has colour.
_GREY_CHROMA = 4.0
_COLOUR_CHROMA = 12.0
_COLOUR_DIFF = 24.0
# Pairs measured at once: each is a few 128×128 float32 arrays, so this bounds memory (~50 MB).
_PAIR_CHUNK = 128
# Changed text is local: two copies of one picture differ a little everywhere (resampling,
# compression) and most at sharp edges, while a different caption leaves the rest equal and
# concentrates the difference in a few blocks. The floors keep pixel-equal pairs (mean about 0)
# from dividing by nothing. See ``Bounds.peak_ratio`` and ``Bounds.text_spread``.
_PEAK_FLOOR = 0.2
_SPREAD_FLOOR = 0.5
_TEXT_LEVEL = 14.0
# Palette quantisation moves a few colours locally, as much as a faint caption does: the peak
# ratio is not asked of such pairs (the worst-block bound still is).
_PALETTE = frozenset({"P", "PA"})


@dataclass(frozen=True, slots=True)
class ThumbStack:
    """The fingerprints' thumbnails and colour signatures as arrays, for vectorised checks."""

    thumbs: np.ndarray  # (N, THUMB_SIZE, THUMB_SIZE) uint8
    colours: np.ndarray  # (N, COLOUR_SIZE, COLOUR_SIZE, 3) uint8
    log_aspect: np.ndarray  # (N,) float64
    palette: np.ndarray  # (N,) bool: colours quantised to a palette (GIF, palette PNG)
    # (N, 4) float64: the trimmed content's (top, bottom, left, right) as shares of the whole
    # image, NaN when unknown; and the whole image's log aspect.
    boxes: np.ndarray
    frame_log_aspect: np.ndarray

    @classmethod
    def of(
        cls,
        fps: list[Fingerprint],
        rows: np.ndarray | None = None,
        thumbs: dict[int, bytes] | None = None,
    ) -> ThumbStack:
        """The stack of ``fps``; with ``rows``, only those thumbnails are filled in; ``thumbs``
        gives the thumbnail of fingerprints that came without one (by index).

        The others stay zero and cost no memory (a large zeroed array is mapped lazily, page by
        page), which is what keeps a scan of many pictures, few of them with a candidate, from
        holding every thumbnail twice (16 KiB each).
        """
        n = len(fps)
        extra = thumbs or {}
        wanted = None if rows is None else set(np.asarray(rows).tolist())
        stacked = (
            np.zeros((n, THUMB_SIZE, THUMB_SIZE), dtype=np.uint8)
            if wanted is None
            else _sparse_rows(n, THUMB_SIZE * THUMB_SIZE).reshape(n, THUMB_SIZE, THUMB_SIZE)
        )
        colours = np.zeros((n, COLOUR_SIZE, COLOUR_SIZE, 3), dtype=np.uint8)
        log_aspect = np.zeros(n, dtype=np.float64)
        boxes = np.full((n, 4), np.nan, dtype=np.float64)
        frame_log_aspect = np.zeros(n, dtype=np.float64)
        palette = np.array([fp.info is not None and fp.info.mode in _PALETTE for fp in fps], bool)
        for k, fp in enumerate(fps):
            thumb = fp.thumb or extra.get(k, b"")
            if len(thumb) == THUMB_SIZE * THUMB_SIZE and (wanted is None or k in wanted):
                stacked[k] = np.frombuffer(thumb, dtype=np.uint8).reshape(THUMB_SIZE, THUMB_SIZE)
            if len(fp.colour) == COLOUR_SIZE * COLOUR_SIZE * 3:
                colours[k] = np.frombuffer(fp.colour, dtype=np.uint8).reshape(
                    COLOUR_SIZE, COLOUR_SIZE, 3
                )
            if fp.content_width and fp.content_height:
                log_aspect[k] = np.log(fp.content_width / fp.content_height)
                info = fp.info
                if info is not None and info.width > 0 and info.height > 0:
                    top, left = fp.content_top / info.height, fp.content_left / info.width
                    bottom = top + fp.content_height / info.height
                    right = left + fp.content_width / info.width
                    boxes[k] = (top, min(bottom, 1.0), left, min(right, 1.0))
                    frame_log_aspect[k] = np.log(info.width / info.height)
        return cls(stacked, colours, log_aspect, palette, boxes, frame_log_aspect)


def _sparse_rows(n: int, width: int) -> np.ndarray:
    """A zeroed (n, width) uint8 array whose memory is taken only by the rows written to.

    numpy asks for transparent huge pages on large arrays, and then one 16 KiB row written
    brings in 2 MiB: a few thousand rows spread over a million made the whole array resident.
    An anonymous mapping without huge pages is zero-filled and allocated 4 KiB at a time.
    """
    if n * width == 0:
        return np.zeros((n, width), dtype=np.uint8)
    area = mmap.mmap(-1, n * width)
    no_huge = getattr(mmap, "MADV_NOHUGEPAGE", None)
    if no_huge is not None:
        area.madvise(no_huge)
    return np.frombuffer(area, dtype=np.uint8).reshape(n, width)


@dataclass(frozen=True, slots=True)
class PairEvidence:
    """Measurements for a batch of pairs (arrays aligned with the pair indexes)."""

    mean_diff: np.ndarray
    block_diff: np.ndarray
    peak_ratio: np.ndarray  # third-worst block over the mean difference (plus a floor)
    text_spread: np.ndarray  # interior blocks over _TEXT_LEVEL per squared mean (plus a floor)
    norm_mean: np.ndarray  # brightness/contrast normalised, best crop applied
    norm_share: np.ndarray  # share of 4×4 blocks over Bounds.block_diff, same alignment
    edit_peak: np.ndarray  # outside the watermark window: third-worst block over the mean
    edit_spread: np.ndarray  # outside the watermark window: text_spread's count and mean
    edit_shift: np.ndarray  # local misalignment left after the crop alignment (pixels)
    cropped: np.ndarray  # bool: the best alignment is a crop, not the whole picture
    aspect_diff: np.ndarray
    colour_diff: np.ndarray
    colour_mismatch: np.ndarray  # one side greyscale, the other clearly in colour
    # The frame evidence of :func:`reframe`, NaN until :func:`measure_frames` measures it (only
    # the pairs and parts some bounds need): the profile error of the best frame both copies
    # share (infinite when none applies), and the thumbnail statistics on that frame.
    frame_err: np.ndarray
    frame_mean_diff: np.ndarray
    frame_block_diff: np.ndarray
    frame_peak_ratio: np.ndarray
    frame_text_spread: np.ndarray

    def floored(self) -> np.ndarray:
        """Pairs whose ``mean_diff`` is only a floor (see :func:`measure_pairs`)."""
        out: np.ndarray = np.isnan(self.block_diff)
        return out

    def take(self, idx: np.ndarray) -> PairEvidence:
        """The evidence of the pairs at ``idx``, in that order."""
        return PairEvidence(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


@dataclass(frozen=True, slots=True)
class MeasureSettings:
    """What :func:`measure_pairs` takes besides the pairs: with the thumbnails and the turn,
    all that decides the evidence (so also what a cache of evidence must be keyed by)."""

    block_bound: float
    max_crop: float
    normalised: bool


def measure_settings(bounds: Bounds, loosest: MatchClass) -> MeasureSettings:
    """The settings :func:`verify_pairs` measures with, for these bounds and loosest class."""
    loose = loosest.rank >= MatchClass.EDITED.rank
    return MeasureSettings(
        block_bound=bounds.block_diff,
        max_crop=bounds.edited_crop if loose else 0.0,
        normalised=loose,
    )


def _chroma(colours: np.ndarray) -> np.ndarray:
    rgb = colours.reshape(len(colours), -1, 3).astype(np.int16)
    chroma: np.ndarray = (rgb.max(axis=2) - rgb.min(axis=2)).mean(axis=1)
    return chroma


def _soften(a: np.ndarray) -> np.ndarray:
    """A [1, 2, 1] / 4 blur on both axes (about a 0.7-pixel Gaussian), edges repeated."""
    p = np.pad(a, ((0, 0), (1, 1), (0, 0)), mode="edge")
    a = (p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]) * 0.25
    p = np.pad(a, ((0, 0), (0, 0), (1, 1)), mode="edge")
    out: np.ndarray = (p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]) * 0.25
    return out


def _half_shift_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pixel, the smallest ``|a - b'|`` over ``b`` shifted by up to half a pixel each way.

    Trimming and resampling at different resolutions misalign two copies by a fraction of a
    thumbnail pixel, which on a sharp edge looks like a large difference. Half a pixel of
    tolerance absorbs that while changed text or content (several pixels wide) still shows.
    """
    pb = np.pad(b, ((0, 0), (1, 1), (1, 1)), mode="edge")
    best = np.abs(a - b)
    n = a.shape[-1]
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            shifted = (b + pb[:, 1 + dy : 1 + dy + n, 1 + dx : 1 + dx + n]) * 0.5
            np.minimum(best, np.abs(a - shifted), out=best)
    return best


def tolerant_diff_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Symmetric half-pixel tolerant difference that also forgives one side being softer.

    The numpy reference; :func:`_tolerant_diff` runs a compiled kernel that is bit-for-bit
    equal to it (a test checks) when there are enough pairs to pay for loading the kernel.
    """

    def sym(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.maximum(_half_shift_diff(x, y), _half_shift_diff(y, x))

    best = sym(a, b)
    np.minimum(best, sym(_soften(a), b), out=best)
    np.minimum(best, sym(a, _soften(b)), out=best)
    return best


_SHIFTS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
# Pairs per block of the numpy path: its dozens of temporaries then stay in the CPU cache, which
# more than doubles its speed over whole 128-pair chunks.
_NUMPY_BLOCK = 4


def _half_shifts_to(
    y: np.ndarray, xs: list[np.ndarray], *, levels: bool = False
) -> list[np.ndarray]:
    """``[_half_shift_diff(x, y) for x in xs]``, each shifted mean of ``y`` computed once.

    With ``levels`` (integer values, see :func:`tolerant_diff_levels`) the sum of ``y`` and its
    shifted copy is not halved, each ``x`` is doubled instead: twice the result, exactly.
    """
    n = y.shape[-1]
    py = np.pad(y, ((0, 0), (1, 1), (1, 1)), mode="edge")
    if levels:
        xs = [x + x for x in xs]
        bests = [np.abs(x - (y + y)) for x in xs]
    else:
        bests = [np.abs(x - y) for x in xs]
    avg = np.empty_like(y)
    temps = [np.empty_like(best) for best in bests]  # each in the dtype ``x - avg`` has
    for dy, dx in _SHIFTS:
        np.add(y, py[:, 1 + dy : 1 + dy + n, 1 + dx : 1 + dx + n], out=avg)
        if not levels:
            np.multiply(avg, 0.5, out=avg)
        for x, best, tmp in zip(xs, bests, temps, strict=True):
            np.subtract(x, avg, out=tmp)
            np.abs(tmp, out=tmp)
            np.minimum(best, tmp, out=best)
    return bests


def tolerant_diff_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`tolerant_diff_reference`, bit for bit (a test checks), about twice as fast.

    The same float operations in the same order per pixel, but in blocks of a few pairs (so the
    temporaries stay in cache) and with each shifted mean of a side computed once for both
    comparisons that use it.
    """
    out = np.empty(a.shape, dtype=np.result_type(a, b))
    for lo in range(0, len(a), _NUMPY_BLOCK):
        x, y = a[lo : lo + _NUMPY_BLOCK], b[lo : lo + _NUMPY_BLOCK]
        out[lo : lo + _NUMPY_BLOCK] = _tolerant_block(x, y, _soften(x), _soften(y))
    return out


def _tolerant_block(
    x: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray, *, levels: bool = False
) -> np.ndarray:
    """:func:`tolerant_diff_reference` of ``x`` and ``y`` from their softened ``sx``, ``sy``:
    the worse of both directions, for the plain pair and with either side softened, the best of
    those three (``levels``: see :func:`_half_shifts_to`)."""
    xy, sxy = _half_shifts_to(y, [x, sx], levels=levels)
    yx, syx = _half_shifts_to(x, [y, sy], levels=levels)
    (ysx,) = _half_shifts_to(sx, [y], levels=levels)
    (xsy,) = _half_shifts_to(sy, [x], levels=levels)
    best = np.maximum(xy, yx)
    np.minimum(best, np.maximum(sxy, ysx), out=best)
    np.minimum(best, np.maximum(xsy, syx), out=best)
    return best


def _soften_levels(x: np.ndarray) -> np.ndarray:
    """:func:`_soften` of grey levels without the division: 16 times the softened value."""
    p = np.pad(x, ((0, 0), (1, 1), (0, 0)), mode="edge")
    y = p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]
    p = np.pad(y, ((0, 0), (0, 0), (1, 1)), mode="edge")
    out: np.ndarray = p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]
    return out


def tolerant_diff_levels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`tolerant_diff_reference` of two uint8 stacks (plain thumbnails), bit for bit (a
    test checks), as float32, about twice as fast as :func:`tolerant_diff_numpy`.

    On grey levels every value the reference computes is a multiple of 1/32 below 256 (a
    softening divides by 16, a half shift by 2), which float32 holds exactly; so the same
    arithmetic on 32-times values in int16 (at most 2 × 16 × 255 = 8,160) gives the same
    numbers, with half the memory traffic.
    """
    out = np.empty(a.shape, dtype=np.float32)
    for lo in range(0, len(a), _NUMPY_BLOCK):
        raw_x = a[lo : lo + _NUMPY_BLOCK].astype(np.int16)
        raw_y = b[lo : lo + _NUMPY_BLOCK].astype(np.int16)
        x, y = raw_x * np.int16(16), raw_y * np.int16(16)
        sx, sy = _soften_levels(raw_x), _soften_levels(raw_y)
        best = _tolerant_block(x, y, sx, sy, levels=True)
        np.multiply(best, np.float32(1 / 32), out=out[lo : lo + _NUMPY_BLOCK], casting="unsafe")
    return out


# Loading the compiled kernel costs about 0.7 s in a process where numba has not run yet (its
# import and start-up), and 20 ms where it has (the multi-index search of a large collection
# runs numba); the numpy path costs about 2 ms per pair, the kernel a third of that.
_KERNEL_PAIRS = 256
_KERNEL_LOAD_PAIRS = 1000


def _numba_running() -> bool:
    """Whether numba already compiled or loaded a kernel in this process (start-up is paid)."""
    index_kernel = sys.modules.get("picdup.index._kernel")
    return index_kernel is not None and bool(index_kernel.mih_kernel.signatures)


def expect_pairs(count: int) -> None:
    """Tell verification that about ``count`` pairs are going to be measured: the compiled
    kernel is loaded when it pays for itself (results are bit-equal either way)."""
    if count >= _KERNEL_LOAD_PAIRS or (count > 0 and _numba_running()):
        import picdup._tolerant  # noqa: F401


def _tolerant_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    loaded = "picdup._tolerant" in sys.modules
    if a.dtype == np.uint8 and b.dtype == np.uint8:
        if not loaded or len(a) < _KERNEL_PAIRS:
            return tolerant_diff_levels(a, b)
        a, b = a.astype(np.float32), b.astype(np.float32)
    if (len(a) < _KERNEL_PAIRS and not loaded) or a.dtype != b.dtype or a.dtype != np.float32:
        return tolerant_diff_numpy(a, b)
    from picdup._tolerant import tolerant_diff_kernel

    out: np.ndarray = tolerant_diff_kernel(np.ascontiguousarray(a), np.ascontiguousarray(b))
    return out


def _blocks(diff: np.ndarray) -> np.ndarray:
    """The mean of each _BLOCK × _BLOCK block of each (n, n) difference, flattened per pair
    (:func:`~picdup.edited.block_means`). On plain thumbnails every difference is a multiple of
    1/32 and the sums are exact, so the order of additions does not matter; on resampled ones it
    can move the last bit."""
    return block_means(diff, _BLOCK).reshape(len(diff), -1)


def _sample_positions(margins: np.ndarray) -> np.ndarray:
    """Sample positions (in pixels of a THUMB_SIZE axis) of the region between two margins."""
    n = THUMB_SIZE
    t = (np.arange(n) + 0.5) / n
    start = margins[..., 0:1]
    span = 1.0 - margins[..., 0:1] - margins[..., 1:2]
    pos: np.ndarray = (start + span * t) * n - 0.5
    return np.clip(pos, 0.0, n - 1.0)


def _interp_profiles(profiles: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Linear interpolation of (P, n) profiles at (P, K, n) positions."""
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, THUMB_SIZE - 1)
    w = pos - lo
    p = profiles[:, None, :]
    a = np.take_along_axis(np.broadcast_to(p, pos.shape), lo, axis=2)
    b = np.take_along_axis(np.broadcast_to(p, pos.shape), hi, axis=2)
    out: np.ndarray = a * (1 - w) + b * w
    return out


def _warp(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Resample each (n, n) image of ``x`` on its region given by row and column margins."""
    ry = _sample_positions(rows)  # (P, n)
    cx = _sample_positions(cols)
    y0 = np.floor(ry).astype(np.int64)
    x0 = np.floor(cx).astype(np.int64)
    y1 = np.minimum(y0 + 1, THUMB_SIZE - 1)
    x1 = np.minimum(x0 + 1, THUMB_SIZE - 1)
    wy = (ry - y0)[:, :, None]
    wx = (cx - x0)[:, None, :]
    p = np.arange(len(x))[:, None, None]

    def at(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        out: np.ndarray = x[p, yy[:, :, None], xx[:, None, :]]
        return out

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    result: np.ndarray = top * (1 - wy) + bottom * wy
    return result


def _near_stats(
    a: np.ndarray, b: np.ndarray, palette: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(mean_diff, block_diff, peak_ratio, text_spread)`` of thumbnails ``a``, ``b``: uint8
    grey levels (plain thumbnails) or float32 (resampled ones), the same numbers either way."""
    diff = _tolerant_diff(a, b)
    per_block = _blocks(diff)
    mean: np.ndarray = diff.mean(axis=(1, 2))
    # The third-worst block: one or two odd blocks (a palette colour that GIF quantisation
    # moved, a JPEG artefact on an edge) are noise, while changed text spans several.
    worst = np.partition(per_block, (-3, -2), axis=1)
    block: np.ndarray = worst[:, -_ODD_BLOCKS - 1]
    peak: np.ndarray = worst[:, -3] / (mean + _PEAK_FLOOR)
    peak[palette] = 0.0
    # Interior blocks only: a letterboxed copy's trim boundary misaligns the outer ring,
    # while the lines of a chat screenshot fill the inside.
    side = THUMB_SIZE // _BLOCK
    inner = per_block.reshape(len(a), side, side)[:, 1:-1, 1:-1]
    changed = (inner > _TEXT_LEVEL).sum(axis=(1, 2))
    spread: np.ndarray = (changed / np.square(mean + _SPREAD_FLOOR)).astype(np.float32)
    return mean, block, peak, spread


def _window(x: np.ndarray, op: np.ufunc) -> np.ndarray:
    """``op`` (np.minimum or np.maximum) of each pixel's 3×3 neighbourhood in a (P, n, n) stack,
    the edges repeated (as the tolerant difference pads them)."""
    rows = x.copy()
    op(rows[:, 1:], x[:, :-1], out=rows[:, 1:])
    op(rows[:, :-1], x[:, 1:], out=rows[:, :-1])
    out = rows.copy()
    op(out[:, :, 1:], rows[:, :, :-1], out=out[:, :, 1:])
    op(out[:, :, :-1], rows[:, :, 1:], out=out[:, :, :-1])
    return out


def mean_floor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair of uint8 thumbnails, a lower bound of the ``mean_diff`` :func:`measure_pairs`
    gives them, at about a tenth of the cost.

    Every value the tolerant difference compares at a pixel, on either side, is a pixel of that
    side, its softened value, or the mean of two such: all within the side's 3×3 neighbourhood
    range. Of the two directions each of the three comparisons takes the worse of, one sets a
    value of one side against the other's range (the softened one is never shifted), so every
    comparison, and so their best, is at least the gap between the two ranges. The gaps are
    averaged the same way as the differences (same shape, dtype and order), and float addition
    is monotone, so the bound holds for the computed mean too, not only the exact one.
    """
    lo_a, hi_a = _window(a, np.minimum), _window(a, np.maximum)
    lo_b, hi_b = _window(b, np.minimum), _window(b, np.maximum)
    gap = lo_a - np.minimum(lo_a, hi_b)  # uint8 without wrapping: max(lo_a - hi_b, 0)
    gap += lo_b - np.minimum(lo_b, hi_a)  # at most one of the two is not zero
    out: np.ndarray = gap.astype(np.float32).mean(axis=(1, 2))
    return out


def _plain_stats(
    a: np.ndarray, b: np.ndarray, palette: np.ndarray, mean_bound: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_near_stats` of plain thumbnails, except for pairs whose :func:`mean_floor` is
    over ``mean_bound``: they get that floor as the mean and NaN (not measured) for the rest."""
    if mean_bound == np.inf:
        return _near_stats(a, b, palette)
    floor = mean_floor(a, b)
    keep = np.flatnonzero(floor <= mean_bound)
    if len(keep) == len(a):
        return _near_stats(a, b, palette)
    mean = floor
    block, peak, spread = (np.full(len(a), np.nan, dtype=np.float32) for _ in range(3))
    if len(keep):
        for out, value in zip(
            (mean, block, peak, spread), _near_stats(a[keep], b[keep], palette[keep]), strict=True
        ):
            out[keep] = value
    return mean, block, peak, spread


def floor_bound(bounds: Bounds) -> float:
    """The ``mean_bound`` of :func:`measure_pairs` for verification under ``bounds``: over it a
    pair is neither ``near`` nor worth a full decode for ``pixel``."""
    return max(bounds.mean_diff, _PIXEL_MEAN_DIFF)


def measure_pairs(
    stack: ThumbStack,
    i: np.ndarray,
    j: np.ndarray,
    turns: np.ndarray | None = None,
    *,
    block_bound: float = 22.0,
    max_crop: float = 0.0,
    normalised: bool = True,
    mean_bound: float = np.inf,
) -> PairEvidence:
    """Thumbnail, shape and colour evidence for pairs ``(i[k], j[k])``, in chunks.

    ``turns[k]`` (a code of :func:`~picdup.fingerprint.hashes.turn`) is applied to the thumbnail
    and colour signature of ``i[k]`` first. ``block_bound`` is the level above which a 4×4 block
    counts as changed for ``norm_share``; ``max_crop`` > 0 enables the crop search.
    ``normalised=False`` skips the brightness-normalised evidence (``norm_mean``, ``norm_share``
    are then infinite): only the ``edited`` and ``similar`` classes read it, and it is half the
    cost of a pair. A pair whose thumbnails provably differ by more than ``mean_bound`` on
    average (:func:`mean_floor`) cannot be ``near`` or ``pixel`` under it, and its thumbnail
    statistics are not measured: ``mean_diff`` holds the floor, the other three are NaN
    (:meth:`PairEvidence.floored`). Most candidates of a series of similar shots are such.
    """
    n = len(i)
    if turns is None:
        turns = np.zeros(n, dtype=np.int64)
    means, blocks, peaks, spreads = [], [], [], []
    nmeans, nshares, epeaks, espreads, eshifts, crops = [], [], [], [], [], []
    for lo in range(0, n, _PAIR_CHUNK):
        ci, cj, ct = (
            i[lo : lo + _PAIR_CHUNK],
            j[lo : lo + _PAIR_CHUNK],
            turns[lo : lo + _PAIR_CHUNK],
        )
        levels_a = stack.thumbs[ci]
        for code in unique(ct[ct != 0]):
            sel = ct == code
            levels_a[sel] = turn(levels_a[sel], int(code))
        levels_b = stack.thumbs[cj]
        # Plain grey levels: the near statistics take the exact integer path.
        mean, block, peak, spread = _plain_stats(
            levels_a, levels_b, stack.palette[ci] | stack.palette[cj], mean_bound
        )
        a, b = levels_a.astype(np.float32), levels_b.astype(np.float32)
        means.append(mean)
        blocks.append(block)
        peaks.append(peak)
        spreads.append(spread)
        if not normalised:
            nmeans.append(np.full(len(ci), np.inf, dtype=np.float32))
            nshares.append(np.full(len(ci), np.inf, dtype=np.float32))
            epeaks.append(np.full(len(ci), np.inf, dtype=np.float32))
            espreads.append(np.full(len(ci), np.inf, dtype=np.float32))
            eshifts.append(np.full(len(ci), np.inf, dtype=np.float32))
            crops.append(np.zeros(len(ci), dtype=bool))
            continue
        edit = edited_evidence(a, b, _tolerant_diff, max_crop=max_crop, block_bound=block_bound)
        nmeans.append(edit.mean)
        nshares.append(edit.share)
        epeaks.append(edit.peak)
        espreads.append(edit.spread)
        eshifts.append(edit.shift)
        crops.append(edit.cropped)

    def cat(parts: list[np.ndarray], dtype: type = np.float32) -> np.ndarray:
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

    la = stack.log_aspect[i].copy()
    la[(turns & 1) == 1] *= -1  # a quarter turn swaps width and height
    aspect_diff = np.abs(la - stack.log_aspect[j])
    col_i = stack.colours[i].astype(np.int16)
    for code in unique(turns[turns != 0]):
        sel = turns == code
        col_i[sel] = np.moveaxis(turn(np.moveaxis(col_i[sel], 3, 1), int(code)), 1, 3)
    col_j = stack.colours[j].astype(np.int16)
    colour_diff = np.abs(col_i - col_j).reshape(n, -1).mean(axis=1) if n else np.empty(0)
    chroma_i = _chroma(stack.colours[i])
    chroma_j = _chroma(stack.colours[j])
    mismatch = ((chroma_i < _GREY_CHROMA) & (chroma_j > _COLOUR_CHROMA)) | (
        (chroma_j < _GREY_CHROMA) & (chroma_i > _COLOUR_CHROMA)
    )
    return PairEvidence(
        mean_diff=cat(means),
        block_diff=cat(blocks),
        peak_ratio=cat(peaks),
        text_spread=cat(spreads),
        norm_mean=cat(nmeans),
        norm_share=cat(nshares),
        edit_peak=cat(epeaks),
        edit_spread=cat(espreads),
        edit_shift=cat(eshifts),
        cropped=cat(crops, bool),
        aspect_diff=aspect_diff,
        colour_diff=colour_diff,
        colour_mismatch=mismatch,
        frame_err=np.full(n, np.nan, dtype=np.float64),
        # In the dtypes _near_stats gives them, so the reframed evidence is theirs bit for bit.
        frame_mean_diff=np.full(n, np.nan, dtype=np.float32),
        frame_block_diff=np.full(n, np.nan, dtype=np.float32),
        frame_peak_ratio=np.full(n, np.nan, dtype=np.float32),
        frame_text_spread=np.full(n, np.nan, dtype=np.float32),
    )


_THUMB_FIELDS = ("mean_diff", "block_diff", "peak_ratio", "text_spread")
_FRAME_STATS = tuple(f"frame_{name}" for name in _THUMB_FIELDS)


def _thumbs_agree(ev: PairEvidence, bounds: Bounds) -> np.ndarray:
    """The thumbnail tests of ``near``: mean, worst blocks and the two text ratios."""
    out: np.ndarray = (
        (ev.mean_diff <= bounds.mean_diff)
        & (ev.block_diff <= bounds.block_diff)
        & (ev.peak_ratio <= bounds.peak_ratio)
        & (ev.text_spread <= bounds.text_spread)
    )
    return out


# Reframing (near mode): two frames are taken to show the same picture when their aspects agree
# to within 3% (a resize rounds each side to whole pixels), and the shared region must keep at
# least half of each thumbnail axis (less would be judged on too few pixels).
_FRAME_ASPECT = 0.03
_FRAME_MIN = 0.5
# Contents whose aspects differ by less than this (a pixel of rounding) are not searched for lost
# rows or columns.
_FRAME_SLACK = 0.004
# Only frames whose row plus column mean profiles differ by at most this many times
# ``Bounds.mean_diff`` are measured.
_PROFILE_FACTOR = 4.0
_WHOLE = np.array([0.0, 1.0, 0.0, 1.0])


def _within(inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """``inner`` boxes (top, bottom, left, right) as shares of the ``outer`` boxes."""
    h = outer[:, 1] - outer[:, 0]
    w = outer[:, 3] - outer[:, 2]
    out: np.ndarray = np.stack(
        [
            (inner[:, 0] - outer[:, 0]) / h,
            (inner[:, 1] - outer[:, 0]) / h,
            (inner[:, 2] - outer[:, 2]) / w,
            (inner[:, 3] - outer[:, 2]) / w,
        ],
        axis=1,
    )
    return out


@dataclass(frozen=True, slots=True)
class _Sides:
    """Both sides of a chunk of pairs as compared: side ``i`` turned as the pair says."""

    a: np.ndarray  # (P, n, n) uint8 thumbnails of i, turned
    b: np.ndarray  # (P, n, n) uint8 thumbnails of j
    box_a: np.ndarray  # (P, 4) content boxes, i's turned
    box_b: np.ndarray
    frame_a: np.ndarray  # (P,) whole-image log aspects, i's turned
    frame_b: np.ndarray
    content_a: np.ndarray  # (P,) content log aspects, i's turned
    content_b: np.ndarray

    @classmethod
    def of(
        cls,
        stack: ThumbStack,
        i: np.ndarray,
        j: np.ndarray,
        turns: np.ndarray,
        *,
        thumbs: bool = True,
    ) -> _Sides:
        """The sides of pairs ``(i[k], j[k])``; with ``thumbs=False`` only their boxes and
        aspects (``a`` and ``b`` are empty), which is all :func:`_shared_frames` reads."""
        a = stack.thumbs[i].copy() if thumbs else np.empty((0, 0, 0), dtype=np.uint8)
        box = stack.boxes[i].copy()
        for code in unique(turns[turns != 0]):
            sel = turns == code
            if thumbs:
                a[sel] = turn(a[sel], int(code))
            box[sel] = _turn_boxes(box[sel], int(code))
        odd = np.where((turns & 1) == 1, -1.0, 1.0)  # a quarter turn swaps width and height
        return cls(
            a,
            stack.thumbs[j] if thumbs else a,
            box,
            stack.boxes[j],
            stack.frame_log_aspect[i] * odd,
            stack.frame_log_aspect[j],
            stack.log_aspect[i] * odd,
            stack.log_aspect[j],
        )


def _turn_boxes(box: np.ndarray, code: int) -> np.ndarray:
    """(top, bottom, left, right) shares turned like :func:`~picdup.fingerprint.hashes.turn`."""
    t, b, left, right = box[:, 0], box[:, 1], box[:, 2], box[:, 3]
    for _ in range(code & 3):  # a quarter turn counter-clockwise: (y, x) -> (1 - x, y)
        t, b, left, right = 1.0 - right, 1.0 - left, t, b
    if code & 4:
        left, right = 1.0 - right, 1.0 - left
    out: np.ndarray = np.stack([t, b, left, right], axis=1)
    return out


def _shared_frames(sides: _Sides) -> list[np.ndarray]:
    """Per other frame, a (P, 2, 4) array: the region of each side's thumbnail that shows the
    frame the two copies share (NaN where that frame does not apply).

    Each thumbnail shows a side's trimmed content. Other frames tried: the two whole images
    (one copy's border trimmed, the other's kept: their intersection is compared); one side's
    content as the other's whole image, both ways (a letterbox whose bar was trimmed but not the
    picture's own white margin); and, when the trimmed contents' aspects differ a little, the
    rows (or columns) that one side lost at either end or both (a picture whose dark edge went
    with the black bar, where no box tells how much).
    """
    bi, bj = sides.box_a, sides.box_b
    fi, fj = sides.frame_a, sides.frame_b
    ci, cj = sides.content_a, sides.content_b
    whole = np.broadcast_to(_WHOLE, bi.shape)
    shared = np.stack(
        [
            np.maximum(bi[:, 0], bj[:, 0]),
            np.minimum(bi[:, 1], bj[:, 1]),
            np.maximum(bi[:, 2], bj[:, 2]),
            np.minimum(bi[:, 3], bj[:, 3]),
        ],
        axis=1,
    )
    frames = [
        (np.abs(fi - fj), _within(shared, bi), _within(shared, bj)),
        (np.abs(ci - fj), bj, whole),  # i's content is j's whole image
        (np.abs(fi - cj), whole, bi),  # j's content is i's whole image
    ]
    frames += _aspect_frames(ci - cj)
    out = []
    for gap, ri, rj in frames:
        regions = np.stack([ri, rj], axis=1)
        spans = np.concatenate(
            [regions[..., 1] - regions[..., 0], regions[..., 3] - regions[..., 2]], axis=1
        )
        moved = np.abs(regions - _WHOLE).max(axis=(1, 2)) > 0.5 / THUMB_SIZE
        ok = (gap <= _FRAME_ASPECT) & (spans.min(axis=1) >= _FRAME_MIN) & moved
        regions[~ok] = np.nan
        out.append(regions)
    return out


def _aspect_frames(gap: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Frames implied by a small difference ``gap`` of the contents' log aspects (i minus j).

    A relatively wider ``i`` lost rows that ``j`` kept, or ``j`` lost columns that ``i`` kept;
    the lost share is at the start, the end, or split evenly.
    """
    size = np.abs(gap)
    keep = np.exp(-size)
    gate = np.where(size > _FRAME_SLACK, 0.0, np.inf)  # equal aspects need no search
    whole = np.broadcast_to(_WHOLE, (len(gap), 4))
    wider = (gap > 0)[:, None]
    frames = []
    for start in (0.0, 0.5, 1.0):
        lo = (1.0 - keep) * start
        rows = np.stack([lo, lo + keep, np.zeros_like(lo), np.ones_like(lo)], axis=1)
        cols = np.stack([np.zeros_like(lo), np.ones_like(lo), lo, lo + keep], axis=1)
        # i wider: i's rows are a part of j's, or j's columns a part of i's; else the reverse.
        frames.append((size + gate, np.where(wider, whole, rows), np.where(wider, rows, whole)))
        frames.append((size + gate, np.where(wider, cols, whole), np.where(wider, whole, cols)))
    return frames


def _reframe_todo(ev: PairEvidence, bounds: Bounds) -> np.ndarray:
    """The pairs :func:`reframe` tries on other frames: thumbnails that disagree as trimmed
    (greyscale/colour pairs are never ``near``)."""
    out: np.ndarray = np.flatnonzero(~_thumbs_agree(ev, bounds) & ~ev.colour_mismatch)
    return out


def frames_needed(ev: PairEvidence, bounds: Bounds) -> np.ndarray:
    """The pairs of ``ev`` whose frame evidence :func:`reframe` needs under ``bounds`` and that
    is not measured yet: the profile error of pairs whose thumbnails disagree, and the
    statistics of those whose best frame's profiles are close enough to agree."""
    todo = _reframe_todo(ev, bounds)
    err = ev.frame_err[todo]
    unknown = np.isnan(err) | (
        (err <= _PROFILE_FACTOR * bounds.mean_diff) & np.isnan(ev.frame_mean_diff[todo])
    )
    out: np.ndarray = todo[unknown]
    return out


def measure_frames(
    stack: ThumbStack,
    i: np.ndarray,
    j: np.ndarray,
    turns: np.ndarray,
    ev: PairEvidence,
    bounds: Bounds,
) -> PairEvidence:
    """``ev`` with the frame evidence of the pairs :func:`frames_needed` names measured.

    What is measured depends only on the thumbnails and the turn, never on the bounds; the
    bounds only say which pairs need it. So frame evidence measured under some bounds is the
    evidence of any others, and is kept (cached) with the rest of the pair's evidence.

    Per pair: the frames of :func:`_shared_frames` are ranked on row and column mean profiles
    (cheap), and only the best, if its profiles are close enough to agree at all, is resampled
    and measured: a pair costs at most one more measurement. Chunked like
    :func:`measure_pairs`.
    """
    need = frames_needed(ev, bounds)
    if len(need) == 0:
        return ev
    out = {name: np.array(getattr(ev, name), copy=True) for name in ("frame_err", *_FRAME_STATS)}
    # The frames come from the boxes alone. Most pairs have none at all (same aspect, nothing
    # trimmed): their thumbnails are not read.
    frames = _shared_frames(_Sides.of(stack, i[need], j[need], turns[need], thumbs=False))
    out["frame_err"][need] = np.inf
    framed = np.flatnonzero(np.logical_or.reduce([np.isfinite(f[:, 0, 0]) for f in frames]))
    for lo in range(0, len(framed), _PAIR_CHUNK):
        at = framed[lo : lo + _PAIR_CHUNK]
        part = need[at]
        sides = _Sides.of(stack, i[part], j[part], turns[part])
        regions, err = _best_frames(sides, [f[at] for f in frames])
        out["frame_err"][part] = err
        # Row and column means of two agreeing thumbnails differ by less than their pixels do
        # (twice the mean difference at most, plus the tolerance): a worse profile cannot agree.
        sel = np.flatnonzero(err <= _PROFILE_FACTOR * bounds.mean_diff)
        if len(sel) == 0:
            continue
        ks, ri, rj = part[sel], regions[sel, 0], regions[sel, 1]
        a = _warp(sides.a[sel].astype(np.float32), _margins(ri[:, :2]), _margins(ri[:, 2:]))
        b = _warp(sides.b[sel].astype(np.float32), _margins(rj[:, :2]), _margins(rj[:, 2:]))
        palette = stack.palette[i[ks]] | stack.palette[j[ks]]
        stats = _near_stats(a.astype(np.float32), b.astype(np.float32), palette)
        for name, value in zip(_FRAME_STATS, stats, strict=True):
            out[name][ks] = value
    return dataclasses.replace(ev, **out)


def reframe(
    stack: ThumbStack,
    i: np.ndarray,
    j: np.ndarray,
    turns: np.ndarray,
    ev: PairEvidence,
    bounds: Bounds,
) -> PairEvidence:
    """``ev`` with the thumbnail evidence of pairs whose thumbnails disagree replaced by that
    of a frame both copies share, where that evidence agrees (:func:`_shared_frames`).

    Trimming is a threshold decision per file, and a copy's compression or a canvas around it
    can move it: the same picture then shows as two thumbnails of different regions. Both
    thumbnails are resampled on the shared region and the ``near`` tests asked again; the
    aspect evidence becomes that of the shared frames. The 4×4 colour signature covers each
    side's own trimmed content, so for a reframed pair only the colour/greyscale mismatch is
    kept. A turned pair is reframed with side ``i`` turned (thumbnail, box and aspects);
    greyscale/colour pairs (never ``near``) are not reframed.

    Cost: nothing for pairs that agree as they are, have no other frame, or whose frame
    evidence ``ev`` already holds (cached); the rest is measured by :func:`measure_frames`.
    """
    ev = measure_frames(stack, i, j, turns, ev, bounds)
    todo = _reframe_todo(ev, bounds)
    stats = [getattr(ev, name)[todo] for name in _FRAME_STATS]
    # Statistics measured for looser bounds are there too: only a close enough profile counts.
    agree = (
        (ev.frame_err[todo] <= _PROFILE_FACTOR * bounds.mean_diff)
        & (stats[0] <= bounds.mean_diff)
        & (stats[1] <= bounds.block_diff)
        & (stats[2] <= bounds.peak_ratio)
        & (stats[3] <= bounds.text_spread)
    )
    ks = todo[agree]
    fields = {
        name: np.array(getattr(ev, name), copy=True)
        for name in (*_THUMB_FIELDS, "aspect_diff", "colour_diff")
    }
    for name, value in zip(_THUMB_FIELDS, stats, strict=True):
        fields[name][ks] = value[agree]
    fields["aspect_diff"][ks] = 0.0
    fields["colour_diff"][ks] = 0.0
    return dataclasses.replace(ev, **fields)


def _best_frames(sides: _Sides, frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the (2, 4) regions of ``frames`` (:func:`_shared_frames` of ``sides``) whose
    row and column mean profiles agree best, and that profile error (infinite when no other
    frame applies)."""
    a, b = sides.a, sides.b
    rows_a, cols_a = a.mean(axis=2), a.mean(axis=1)
    rows_b, cols_b = b.mean(axis=2), b.mean(axis=1)
    err = np.full((len(a), len(frames)), np.inf)
    for f, regions in enumerate(frames):
        sel = np.flatnonzero(~np.isnan(regions[:, 0, 0]))
        if len(sel) == 0:
            continue
        r = regions[sel]

        def profile(p: np.ndarray, span: np.ndarray) -> np.ndarray:
            out: np.ndarray = _interp_profiles(p, _sample_positions(_margins(span))[:, None, :])
            return out[:, 0]

        err[sel, f] = np.abs(
            profile(rows_a[sel], r[:, 0, :2]) - profile(rows_b[sel], r[:, 1, :2])
        ).mean(axis=1) + np.abs(
            profile(cols_a[sel], r[:, 0, 2:]) - profile(cols_b[sel], r[:, 1, 2:])
        ).mean(axis=1)
    best = err.argmin(axis=1)
    out: np.ndarray = np.stack(frames, axis=1)[np.arange(len(a)), best]
    return out, err.min(axis=1)


def _margins(span: np.ndarray) -> np.ndarray:
    """(first, last) margins of a (start, end) span of shares."""
    out: np.ndarray = np.stack([span[:, 0], 1.0 - span[:, 1]], axis=1)
    return out


def classify(ev: PairEvidence, bounds: Bounds, loosest: MatchClass) -> tuple[np.ndarray, ...]:
    """Boolean arrays ``(near, edited, similar)``: which pairs the evidence supports."""
    shape_ok = ev.aspect_diff <= bounds.aspect
    colour_ok = (ev.colour_diff <= _COLOUR_DIFF) & ~ev.colour_mismatch
    near = _thumbs_agree(ev, bounds) & shape_ok & colour_ok
    none = np.zeros_like(near)
    if loosest.rank < MatchClass.EDITED.rank:
        return near, none, none
    edited = (
        (ev.norm_mean <= bounds.edited_mean)
        & (ev.norm_share <= bounds.edited_block_share)
        # Text outside the watermark window: worst blocks that stand out from the mean and
        # spread over the picture, or that stand out as far as near mode allows at most.
        & ((ev.edit_peak <= bounds.edited_peak) | (ev.edit_spread <= bounds.edited_spread))
        & (ev.edit_peak <= bounds.peak_ratio)
        & (ev.edit_shift <= bounds.edited_shift)
        & shape_ok
    )
    if loosest.rank < MatchClass.SIMILAR.rank:
        return near, edited, none
    similar = (ev.norm_mean <= bounds.similar_mean) & (ev.aspect_diff <= 2 * bounds.aspect)
    return near, edited, similar


def _same_reduced_decode(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether the two files' reduced decodes took the same path (decoder, mode, orientation).

    Along one path the reduced decode is a function of the stored pixels (of the DCT
    coefficients for a JPEG, which no real re-save changes without changing pixels), so the
    same pixels give the same thumbnail: a pair of such files whose thumbnails differ at all is
    not worth two full decodes. This is what keeps a burst of tripod shots, which agree to a
    fraction of a level, from costing a full decode each.
    """
    ia, ib = a.info, b.info
    if ia is None or ib is None:
        return False
    return (
        _DECODE_FAMILY.get(ia.format, "full") == _DECODE_FAMILY.get(ib.format, "full")
        and ia.mode == ib.mode
        and ia.orientation == ib.orientation
    )


# Formats decoded at reduced size by the decoder itself; every other one is decoded in full and
# then reduced the same way.
_DECODE_FAMILY = {"JPEG": "dct", "MPO": "dct"}


def verify_pairs(
    fps: list[Fingerprint],
    stack: ThumbStack,
    i: np.ndarray,
    j: np.ndarray,
    distance: np.ndarray,
    bounds: Bounds,
    loosest: MatchClass,
    same_pixels: Callable[[int, int], bool],
    turns: np.ndarray | None = None,
    evidence: PairEvidence | None = None,
) -> list[Match]:
    """Confirm candidate pairs and classify them; pairs without enough evidence are dropped.

    ``same_pixels(a, b)`` tells whether fingerprints ``a`` and ``b`` decode to the same pixels
    (pixel digests of full decodes, memoised by the caller; False when either cannot be
    computed). It is asked only for pairs whose size and thumbnails leave that possible, and not
    for a pair of equal :attr:`~picdup.model.Fingerprint.stream_digest`, which are pixel copies
    without it. ``turns`` gives, per pair, the flip or quarter turn of ``i[k]`` that the
    candidate search matched (0: none). ``evidence``, when given, is what :func:`measure_pairs`
    returns for these pairs with :func:`measure_settings` (measured earlier, or cached); else it
    is measured here. Frame evidence it holds (:func:`measure_frames`) is used as it is; what
    these bounds need besides is measured here.
    """
    if len(i) == 0:
        return []
    if turns is None:
        turns = np.zeros(len(i), dtype=np.int64)
    if evidence is None:
        how = measure_settings(bounds, loosest)
        evidence = measure_pairs(
            stack,
            i,
            j,
            turns,
            block_bound=how.block_bound,
            max_crop=how.max_crop,
            normalised=how.normalised,
            mean_bound=floor_bound(bounds),
        )
    # Measures only the frame evidence ``evidence`` lacks (none when it came from a warm cache).
    ev = reframe(stack, i, j, turns, evidence, bounds)
    near, edited, similar = classify(ev, bounds, loosest)
    # The same pixels, decoded along two paths, give colour signatures a rounding apart: one
    # side greyscale and the other clearly in colour (a greyscale copy, whose thumbnail is the
    # original's) cannot be pixel-identical, and is not worth two full decodes.
    pixel_try = (ev.mean_diff <= _PIXEL_MEAN_DIFF) & (turns == 0) & ~ev.colour_mismatch
    matches: list[Match] = []
    for k in np.flatnonzero(near | edited | similar | pixel_try):
        a, b = int(i[k]), int(j[k])
        fa, fb = fps[a], fps[b]
        if fa.info is None or fb.info is None:
            continue
        cls: MatchClass | None = None
        if (
            pixel_try[k]
            and (fa.info.width, fa.info.height) == (fb.info.width, fb.info.height)
            and distance[k] <= 2
            and (ev.mean_diff[k] == 0.0 or not _same_reduced_decode(fa, fb))
        ):
            if fa.stream_digest and fa.stream_digest == fb.stream_digest:
                cls = MatchClass.PIXEL  # the same coded picture: no full decode needed
            elif same_pixels(a, b):
                cls = MatchClass.PIXEL
        if cls is None:
            if near[k]:
                cls = MatchClass.NEAR
            elif edited[k]:
                cls = MatchClass.EDITED
            elif similar[k]:
                cls = MatchClass.SIMILAR
        if cls is None or not cls.within(loosest):
            continue
        used = ev.mean_diff[k] if cls.rank <= MatchClass.NEAR.rank else ev.norm_mean[k]
        score = round(1.0 - float(used) / 255.0, 4)
        matches.append(Match(a, b, cls, int(distance[k]), score))
    return matches
