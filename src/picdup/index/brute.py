"""The reference candidate search: every pair, in chunks, vectorised."""

from __future__ import annotations

import numpy as np

__all__ = ["brute_force_pairs"]

_CHUNK = 2048


def brute_force_pairs(hashes: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``i < j`` with ``popcount(h[i] ^ h[j]) <= radius``.

    Returns ``(i, j, distance)`` sorted by ``(i, j)``. Memory is O(chunk × N), never N × N.
    """
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(h)
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    out_d: list[np.ndarray] = []
    for start in range(0, n, _CHUNK):
        block = h[start : start + _CHUNK]
        dist = np.bitwise_count(block[:, None] ^ h[None, :])
        rows = np.arange(start, start + len(block))[:, None]
        mask = (dist <= radius) & (np.arange(n)[None, :] > rows)
        bi, bj = np.nonzero(mask)
        out_i.append(bi + start)
        out_j.append(bj)
        out_d.append(dist[bi, bj])
    if not out_i:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), np.empty(0, dtype=np.uint8)
    return (
        np.concatenate(out_i).astype(np.int64),
        np.concatenate(out_j).astype(np.int64),
        np.concatenate(out_d).astype(np.uint8),
    )
