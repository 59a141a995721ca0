"""The compiled kernel of the half-pixel tolerant thumbnail difference (numba).

It computes exactly what :func:`picdup.verify.tolerant_diff_reference` computes with numpy, in
one pass per pair instead of 48 array passes: verification of candidate pairs was most of the
matching time on collections with many near copies. Imported only when pairs are verified, so
worker processes never pay for importing numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["tolerant_diff_kernel"]

_HALF = np.float32(0.5)
_QUARTER = np.float32(0.25)
_TWO = np.float32(2.0)


@njit(cache=True, nogil=True, inline="always")
def _soft(x: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:  # pragma: no cover
    h, w = x.shape
    for r in range(h):
        ru, rd = max(r - 1, 0), min(r + 1, h - 1)
        for c in range(w):
            tmp[r, c] = (x[ru, c] + _TWO * x[r, c] + x[rd, c]) * _QUARTER
    for r in range(h):
        for c in range(w):
            cl, cr = max(c - 1, 0), min(c + 1, w - 1)
            out[r, c] = (tmp[r, cl] + _TWO * tmp[r, c] + tmp[r, cr]) * _QUARTER


@njit(cache=True, nogil=True, inline="always")
def _half_shift(x: np.ndarray, y: np.ndarray, r: int, c: int) -> np.float32:  # pragma: no cover
    h, w = x.shape
    xv = x[r, c]
    yv = y[r, c]
    best = abs(xv - yv)
    for dy in range(-1, 2):
        rr = min(max(r + dy, 0), h - 1)
        for dx in range(-1, 2):
            if dy == 0 and dx == 0:
                continue
            cc = min(max(c + dx, 0), w - 1)
            v = abs(xv - (yv + y[rr, cc]) * _HALF)
            if v < best:
                best = v
    return best


@njit(cache=True, nogil=True, inline="always")
def _sym(x: np.ndarray, y: np.ndarray, r: int, c: int) -> np.float32:  # pragma: no cover
    return max(_half_shift(x, y, r, c), _half_shift(y, x, r, c))


@njit(cache=True, nogil=True)
def tolerant_diff_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover
    """``a``, ``b``: (P, H, W) float32. Returns the (P, H, W) float32 tolerant difference."""
    p, h, w = a.shape
    out = np.empty((p, h, w), dtype=np.float32)
    for k in range(p):
        tmp = np.empty((h, w), dtype=np.float32)
        sa = np.empty((h, w), dtype=np.float32)
        sb = np.empty((h, w), dtype=np.float32)
        _soft(a[k], sa, tmp)
        _soft(b[k], sb, tmp)
        ak, bk = a[k], b[k]
        for r in range(h):
            for c in range(w):
                best = _sym(ak, bk, r, c)
                v = _sym(sa, bk, r, c)
                if v < best:
                    best = v
                v = _sym(ak, sb, r, c)
                if v < best:
                    best = v
                out[k, r, c] = best
    return out
