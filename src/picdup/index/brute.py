"""The reference candidate search: every pair, in chunks, vectorised."""

from __future__ import annotations

import numpy as np

__all__ = ["brute_force_pairs"]

# Elements of the distance block computed at once (~32 MB of uint64): flat memory at any N.
_BLOCK_ELEMENTS = 1 << 22


def brute_force_pairs(hashes: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``i < j`` with ``popcount(h[i] ^ h[j]) <= radius``.

    Returns ``(i, j, distance)`` sorted by ``(i, j)``. Memory is a fixed block plus the pairs,
    never N × N; time is N² / 2 comparisons.
    """
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(h)
    rows_per_block = max(1, min(2048, _BLOCK_ELEMENTS // max(n, 1)))
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    out_d: list[np.ndarray] = []
    for start in range(0, n, rows_per_block):
        block = h[start : start + rows_per_block]
        # Only columns after the block's first row can pair with it (i < j).
        rest = h[start + 1 :]
        dist = np.bitwise_count(block[:, None] ^ rest[None, :])
        cols = np.arange(start + 1, n)[None, :]
        rows = np.arange(start, start + len(block))[:, None]
        mask = (dist <= radius) & (cols > rows)
        bi, bj = np.nonzero(mask)
        out_i.append(bi + start)
        out_j.append(bj + start + 1)
        out_d.append(dist[bi, bj])
    if not out_i:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), np.empty(0, dtype=np.uint8)
    return (
        np.concatenate(out_i).astype(np.int64),
        np.concatenate(out_j).astype(np.int64),
        np.concatenate(out_d).astype(np.uint8),
    )
