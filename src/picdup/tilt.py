"""Tilted copies: the same picture turned about its centre by an angle that is no quarter turn.

A copy turned by, say, 30° on the same canvas (corners filled with black) shares nothing with
the original that a whole-picture hash or thumbnail sees. What it does share is the disc in the
middle: turning about the centre maps the inscribed disc onto itself. So everything here works
on the square inscribed in that disc, sampled from the stored verification thumbnail (the
thumbnail is squashed to a square; the content's aspect undoes that), and never decodes a file:

1. candidates: the pHash of each picture's middle square turned by each angle of
   :data:`ANGLES` is searched against the plain middle-square pHash of every other picture
   (one index search per angle, as for quarter turns). A tilt moves that hash smoothly, about
   two bits per degree, and the angles are 8° apart, so a tilt anywhere within ±44° lands
   within 4° of one of them;
2. the angle: refined per pair on the middle squares, first in 1° steps, then in 0.1° steps;
3. evidence: the two middle squares at the refined angle, resampled to thumbnail size, are
   measured like any pair (:func:`~picdup.verify.measure_pairs`) and must pass the ``edited``
   tests, text-sensitive ones included; a pair whose best angle is under
   :data:`MIN_TILT` is left to the ordinary comparison.

Only ``--rotations`` in ``edited`` or ``similar`` mode asks for it; a tilted pair is ``edited``.
Cost (measured on 1,760 synth pictures): about 3 ms per picture for the 11 middle hashes
(numpy bilinear sampling), one index search per angle, and about 15 ms per candidate pair for
the angle and the evidence; the caller searches one picture of each set of copies it already
linked, which keeps the candidates to a few hundred there.
"""

from __future__ import annotations

import numpy as np

from picdup.edited import _hash_of
from picdup.fingerprint.hashes import THUMB_SIZE
from picdup.index import closest_per_pair, pairs_across
from picdup.model import MatchClass
from picdup.options import Bounds
from picdup.verify import ThumbStack, classify, measure_pairs, measure_settings

__all__ = ["ANGLES", "MIN_TILT", "middle_hashes", "tilted_pairs"]

# Degrees (counter-clockwise) at which each picture's middle is hashed: 8° apart, so any tilt
# within ±44° is within 4° of one (at most about 8 pHash bits off).
ANGLES: tuple[float, ...] = (-40.0, -32.0, -24.0, -16.0, -8.0, 8.0, 16.0, 24.0, 32.0, 40.0)
# Below this the picture is not tilted: a small turn is within what crops and the ordinary
# half-pixel tolerance cover, and two shots of one scene should not be explained by one.
MIN_TILT = 3.0
# Hamming radius of the turned middle hash against the plain one.
TILT_RADIUS = 10
# Pictures more elongated than this have a middle disc too small to say anything.
_MAX_LOG_ASPECT = float(np.log(3.0))
# A middle square this flat (grey-level standard deviation) matches any other flat one.
_MIN_STD = 6.0
# Half the side of the square inscribed in the middle disc, in units of the short side.
_HALF = 0.5 / np.sqrt(2.0)
# Pairs per block of the angle refinement (bounds the temporaries to a few MB).
_CHUNK = 64


def _sample(thumbs: np.ndarray, log_aspect: np.ndarray, angles: np.ndarray, n: int) -> np.ndarray:
    """(P, n, n) float32: the middle square of thumbnail ``p`` turned by ``angles[p]`` degrees.

    Coordinates are in units of the content's short side, centred; the thumbnail covers the
    whole content squashed to THUMB_SIZE², so a point (x, y) of the content is at thumbnail
    pixel ((x / width + 0.5) · THUMB_SIZE − 0.5, …). Bilinear, edges clamped.
    """
    p = len(thumbs)
    aspect = np.exp(log_aspect)
    width = np.maximum(aspect, 1.0)
    height = np.maximum(1.0 / aspect, 1.0)
    t = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    u = (t * _HALF)[None, None, :]
    v = (t * _HALF)[None, :, None]
    rad = np.deg2rad(angles)[:, None, None]
    cos, sin = np.cos(rad), np.sin(rad)
    x = cos * u - sin * v
    y = sin * u + cos * v
    px = np.clip((x / width[:, None, None] + 0.5) * THUMB_SIZE - 0.5, 0.0, THUMB_SIZE - 1.0)
    py = np.clip((y / height[:, None, None] + 0.5) * THUMB_SIZE - 0.5, 0.0, THUMB_SIZE - 1.0)
    x0 = np.minimum(px.astype(np.int64), THUMB_SIZE - 2)
    y0 = np.minimum(py.astype(np.int64), THUMB_SIZE - 2)
    wx = (px - x0).astype(np.float32)
    wy = (py - y0).astype(np.float32)
    flat = thumbs.reshape(p, -1)
    base = y0 * THUMB_SIZE + x0
    rows = np.arange(p)[:, None, None]

    def at(offset: int) -> np.ndarray:
        out: np.ndarray = flat[rows, base + offset].astype(np.float32)
        return out

    top = at(0) * (1 - wx) + at(1) * wx
    bottom = at(THUMB_SIZE) * (1 - wx) + at(THUMB_SIZE + 1) * wx
    result: np.ndarray = top * (1 - wy) + bottom * wy
    return result


def _middles(stack: ThumbStack, idx: np.ndarray, angle: float) -> np.ndarray:
    """(len(idx), 32, 32): the middle squares of ``idx`` turned by ``angle``, box-reduced."""
    fine = _sample(stack.thumbs[idx], stack.log_aspect[idx], np.full(len(idx), angle), 64)
    out: np.ndarray = fine.reshape(len(idx), 32, 2, 32, 2).mean(axis=(2, 4))
    return out


def middle_hashes(stack: ThumbStack) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(usable, plain, turned)``: which pictures can be searched for tilts (not too elongated,
    middle not flat), the pHash of each middle square, and (N, len(ANGLES)) pHashes of it
    turned by each of :data:`ANGLES`."""
    n = len(stack.thumbs)
    everything = np.arange(n)
    plain = np.zeros(n, dtype=np.uint64)
    turned = np.zeros((n, len(ANGLES)), dtype=np.uint64)
    usable = np.abs(stack.log_aspect) <= _MAX_LOG_ASPECT
    for lo in range(0, n, 256):
        part = everything[lo : lo + 256]
        middle = _middles(stack, part, 0.0)
        usable[part] &= middle.reshape(len(part), -1).std(axis=1) >= _MIN_STD
        plain[part] = _hash_of(middle)
        for a, angle in enumerate(ANGLES):
            turned[part, a] = _hash_of(_middles(stack, part, angle))
    return usable, plain, turned


def _candidates(
    stack: ThumbStack, known: set[tuple[int, int]], threads: int, searched: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(i, j, angle)``: pairs whose middles match with ``i`` turned by ``angle``, one per
    unordered pair (the closest hash), among the ``searched`` pictures (default: all), leaving
    out pairs in ``known``."""
    usable, plain, turned = middle_hashes(stack)
    if searched is not None:
        usable &= searched
    ids = np.flatnonzero(usable)
    m = len(ids)
    empty = np.empty(0, dtype=np.int64)
    if m < 2:
        return empty, empty, np.empty(0)
    found_i, found_j, found_d, found_a = [], [], [], []
    for a in range(len(ANGLES)):
        pi, pj, pd = pairs_across(turned[ids, a], plain[ids], TILT_RADIUS, threads=threads)
        found_i.append(ids[pi])
        found_j.append(ids[pj])
        found_d.append(pd.astype(np.int64))
        found_a.append(np.full(len(pi), a, dtype=np.int64))
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    d, a_idx = np.concatenate(found_d), np.concatenate(found_a)
    if len(i) == 0:
        return empty, empty, np.empty(0)
    keep = closest_per_pair(i, j, d)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    keep = keep[[(int(lo[k]), int(hi[k])) not in known for k in keep]]
    angles = np.asarray(ANGLES)[a_idx[keep]]
    return i[keep], j[keep], angles


def _refine(stack: ThumbStack, i: np.ndarray, j: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """The angle (to 0.1°) that best turns each ``i`` onto its ``j``, near the coarse one."""
    out = np.empty(len(i))
    for lo in range(0, len(i), _CHUNK):
        ci, cj, ca = i[lo : lo + _CHUNK], j[lo : lo + _CHUNK], angles[lo : lo + _CHUNK]
        target = _sample(stack.thumbs[cj], stack.log_aspect[cj], np.zeros(len(cj)), 48)
        best = ca.astype(np.float64)
        for steps in (np.arange(-5.0, 5.5, 1.0), np.arange(-0.9, 0.95, 0.1)):
            errs = np.stack(
                [
                    np.abs(
                        _sample(stack.thumbs[ci], stack.log_aspect[ci], best + s, 48) - target
                    ).mean(axis=(1, 2))
                    for s in steps
                ],
                axis=1,
            )
            best = best + steps[errs.argmin(axis=1)]
        out[lo : lo + _CHUNK] = best
    return out


def _patch_stack(stack: ThumbStack, i: np.ndarray, j: np.ndarray, angles: np.ndarray) -> ThumbStack:
    """A stack of 2·len(i) entries, the turned middle of ``i[k]`` at ``k`` and the middle of
    ``j[k]`` at ``len(i) + k``, each at thumbnail size; colours and palette as the files'."""
    turned = _sample(stack.thumbs[i], stack.log_aspect[i], angles, THUMB_SIZE)
    plain = _sample(stack.thumbs[j], stack.log_aspect[j], np.zeros(len(j)), THUMB_SIZE)
    thumbs = np.rint(np.concatenate([turned, plain])).clip(0, 255).astype(np.uint8)
    sides = np.concatenate([i, j])
    count = len(sides)
    return ThumbStack(
        thumbs,
        stack.colours[sides],
        np.zeros(count),
        stack.palette[sides],
        np.full((count, 4), np.nan),
        np.zeros(count),
    )


def tilted_pairs(
    stack: ThumbStack,
    known: set[tuple[int, int]],
    bounds: Bounds,
    loosest: MatchClass,
    *,
    threads: int = 1,
    searched: np.ndarray | None = None,
) -> list[tuple[int, int, float, float]]:
    """``(i, j, angle, norm_mean)`` for each pair where ``i`` turned by ``angle`` degrees
    (counter-clockwise, at least :data:`MIN_TILT`) is an ``edited`` copy of ``j``.

    ``known`` holds the (low, high) index pairs the ordinary search already matched: they are
    not searched again; ``searched`` (a boolean mask, default all) limits the search to some
    pictures. The shapes must agree as for any pair (``bounds.aspect``).
    """
    i, j, coarse = _candidates(stack, known, threads, searched)
    if len(i) == 0:
        return []
    shape_ok = np.abs(stack.log_aspect[i] - stack.log_aspect[j]) <= bounds.aspect
    i, j, coarse = i[shape_ok], j[shape_ok], coarse[shape_ok]
    angles = _refine(stack, i, j, coarse)
    tilted = np.abs(angles) >= MIN_TILT
    i, j, angles = i[tilted], j[tilted], angles[tilted]
    if len(i) == 0:
        return []
    patches = _patch_stack(stack, i, j, angles)
    how = measure_settings(bounds, MatchClass.EDITED)
    k = np.arange(len(i))
    ev = measure_pairs(
        patches,
        k,
        k + len(i),
        None,
        block_bound=how.block_bound,
        max_crop=how.max_crop,
        normalised=True,
    )
    near, edited, _ = classify(ev, bounds, max(loosest, MatchClass.EDITED, key=lambda c: c.rank))
    ok = np.flatnonzero(near | edited)
    return [(int(i[x]), int(j[x]), round(float(angles[x]), 1), float(ev.norm_mean[x])) for x in ok]
