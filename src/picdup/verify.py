"""Pixel-level confirmation of candidate pairs, and the class each confirmed pair gets.

A perceptual hash only nominates candidates. A pair becomes a match on evidence:

- ``exact``: equal content digests (decided before any candidate search);
- ``pixel``: equal digests of the fully decoded, orientation-normalised pixels; only tried for
  pairs whose displayed sizes are equal and whose thumbnails agree to within rounding;
- ``near``: the 64×64 content thumbnails agree both on average and in their worst 8×8 block,
  the trimmed content has a compatible shape, and colour agrees (a greyscale copy of a colour
  photo is an edit, not a near copy). The worst-block test is what keeps apart memes and
  screenshots that share a layout but differ in their text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from picdup.fingerprint.hashes import COLOUR_SIZE, THUMB_SIZE
from picdup.model import Fingerprint, Match, MatchClass
from picdup.options import Bounds

__all__ = ["PairEvidence", "ThumbStack", "measure_pairs", "verify_pairs"]

_BLOCK = 8
# Thumbnails of the same pixels differ only by resampling rounding; beyond this they are not
# worth a full decode to compare pixel digests.
_PIXEL_MEAN_DIFF = 0.75
# Mean colour saturation (max - min channel, in levels) below which a picture counts as greyscale,
# and above which it clearly has colour.
_GREY_CHROMA = 4.0
_COLOUR_CHROMA = 12.0
_COLOUR_DIFF = 24.0
_PAIR_CHUNK = 2048


@dataclass(frozen=True, slots=True)
class ThumbStack:
    """The fingerprints' thumbnails and colour signatures as arrays, for vectorised checks."""

    thumbs: np.ndarray  # (N, THUMB_SIZE, THUMB_SIZE) uint8
    colours: np.ndarray  # (N, COLOUR_SIZE * COLOUR_SIZE * 3) uint8
    log_aspect: np.ndarray  # (N,) float64

    @classmethod
    def of(cls, fps: list[Fingerprint]) -> ThumbStack:
        n = len(fps)
        thumbs = np.zeros((n, THUMB_SIZE, THUMB_SIZE), dtype=np.uint8)
        colours = np.zeros((n, COLOUR_SIZE * COLOUR_SIZE * 3), dtype=np.uint8)
        log_aspect = np.zeros(n, dtype=np.float64)
        for k, fp in enumerate(fps):
            if fp.thumb:
                thumbs[k] = np.frombuffer(fp.thumb, dtype=np.uint8).reshape(THUMB_SIZE, THUMB_SIZE)
            if fp.colour:
                colours[k] = np.frombuffer(fp.colour, dtype=np.uint8)
            if fp.content_width and fp.content_height:
                log_aspect[k] = np.log(fp.content_width / fp.content_height)
        return cls(thumbs, colours, log_aspect)


@dataclass(frozen=True, slots=True)
class PairEvidence:
    """Measurements for a batch of pairs (arrays aligned with the pair indexes)."""

    mean_diff: np.ndarray
    block_diff: np.ndarray
    aspect_diff: np.ndarray
    colour_diff: np.ndarray
    colour_mismatch: np.ndarray  # one side greyscale, the other clearly in colour


def _chroma(colours: np.ndarray) -> np.ndarray:
    rgb = colours.reshape(len(colours), -1, 3).astype(np.int16)
    chroma: np.ndarray = (rgb.max(axis=2) - rgb.min(axis=2)).mean(axis=1)
    return chroma


def _half_shift_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pixel, the smallest ``|a - b'|`` over ``b`` shifted by up to half a pixel each way.

    Trimming and resampling at different resolutions misalign two copies by a fraction of a
    thumbnail pixel, which on a sharp edge looks like a large difference. Half a pixel of
    tolerance absorbs that while changed text or content (several pixels wide) still shows.
    """
    pb = np.pad(b, ((0, 0), (1, 1), (1, 1)), mode="edge")
    best = np.abs(a - b)
    n = THUMB_SIZE
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            shifted = (b + pb[:, 1 + dy : 1 + dy + n, 1 + dx : 1 + dx + n]) * 0.5
            np.minimum(best, np.abs(a - shifted), out=best)
    return best


def measure_pairs(stack: ThumbStack, i: np.ndarray, j: np.ndarray) -> PairEvidence:
    """Thumbnail, shape and colour evidence for pairs ``(i[k], j[k])``, in chunks."""
    means: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    nb = THUMB_SIZE // _BLOCK
    for lo in range(0, len(i), _PAIR_CHUNK):
        a = stack.thumbs[i[lo : lo + _PAIR_CHUNK]].astype(np.float32)
        b = stack.thumbs[j[lo : lo + _PAIR_CHUNK]].astype(np.float32)
        # Symmetric: tolerate misalignment in either direction, never in one only.
        diff = np.maximum(_half_shift_diff(a, b), _half_shift_diff(b, a))
        per_block = diff.reshape(len(diff), nb, _BLOCK, nb, _BLOCK).mean(axis=(2, 4))
        means.append(diff.mean(axis=(1, 2)))
        blocks.append(per_block.reshape(len(diff), -1).max(axis=1))
    mean_diff = np.concatenate(means) if means else np.empty(0, dtype=np.float32)
    block_diff = np.concatenate(blocks) if blocks else np.empty(0, dtype=np.float32)
    aspect_diff = np.abs(stack.log_aspect[i] - stack.log_aspect[j])
    ci = stack.colours[i].astype(np.int16)
    cj = stack.colours[j].astype(np.int16)
    colour_diff = np.abs(ci - cj).mean(axis=1) if len(i) else np.empty(0)
    chroma_i = _chroma(stack.colours[i])
    chroma_j = _chroma(stack.colours[j])
    mismatch = ((chroma_i < _GREY_CHROMA) & (chroma_j > _COLOUR_CHROMA)) | (
        (chroma_j < _GREY_CHROMA) & (chroma_i > _COLOUR_CHROMA)
    )
    return PairEvidence(mean_diff, block_diff, aspect_diff, colour_diff, mismatch)


def verify_pairs(
    fps: list[Fingerprint],
    stack: ThumbStack,
    i: np.ndarray,
    j: np.ndarray,
    distance: np.ndarray,
    bounds: Bounds,
    loosest: MatchClass,
    pixel_digest: Callable[[int], str | None],
) -> list[Match]:
    """Confirm candidate pairs and classify them; pairs without enough evidence are dropped.

    ``pixel_digest(k)`` returns the pixel digest of fingerprint ``k`` (computed lazily, memoised
    by the caller), or None when it cannot be computed.
    """
    if len(i) == 0:
        return []
    ev = measure_pairs(stack, i, j)
    score = 1.0 - ev.mean_diff / 255.0
    near_ok = (
        (ev.mean_diff <= bounds.mean_diff)
        & (ev.block_diff <= bounds.block_diff)
        & (ev.aspect_diff <= bounds.aspect)
        & (ev.colour_diff <= _COLOUR_DIFF)
        & ~ev.colour_mismatch
    )
    pixel_try = ev.mean_diff <= _PIXEL_MEAN_DIFF
    matches: list[Match] = []
    for k in np.flatnonzero(near_ok | pixel_try):
        a, b = int(i[k]), int(j[k])
        fa, fb = fps[a], fps[b]
        if fa.info is None or fb.info is None:
            continue
        cls: MatchClass | None = None
        if (
            pixel_try[k]
            and (fa.info.width, fa.info.height) == (fb.info.width, fb.info.height)
            and distance[k] <= 2
        ):
            da, db = pixel_digest(a), pixel_digest(b)
            if da is not None and da == db:
                cls = MatchClass.PIXEL
        if cls is None and near_ok[k]:
            cls = MatchClass.NEAR
        if cls is not None and cls.within(loosest):
            matches.append(Match(a, b, cls, int(distance[k]), round(float(score[k]), 4)))
    return matches
