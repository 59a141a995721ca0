"""Multi-index hashing over 16-bit chunks of 64-bit hashes.

Pigeonhole: if two hashes differ in at most ``r`` bits, then of the 4 disjoint 16-bit chunks at
least one differs in at most ``r // 4`` bits. So for each chunk we index every hash by that chunk's
value in a direct-address table (65,536 buckets: a counting sort, no hashing), and look up each
hash's chunk XOR every 16-bit mask of weight ``<= r // 4``. Each candidate is checked on the full
64 bits, so the answer is exactly the brute force answer.

Cost: ``4 × C(16, <= r//4)`` vectorised passes over the N hashes plus the candidates found, which
on real data (unrelated images spread over the hash space) is about linear in N. Memory is the
hashes, one permutation and the candidate block being checked: linear in N.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from picdup.index.brute import brute_force_pairs

__all__ = ["mih_pairs", "pairs_within"]

_CHUNK_BITS = 16
_CHUNKS = 64 // _CHUNK_BITS
_BUCKETS = 1 << _CHUNK_BITS
# Upper bound on candidate pairs expanded at once, to keep memory flat on clustered data.
_BLOCK_CANDIDATES = 1 << 22
# Below this many hashes the brute force is as fast and simpler.
_BRUTE_FORCE_BELOW = 2000


def _masks(weight: int) -> np.ndarray:
    values = np.arange(_BUCKETS, dtype=np.int64)
    return values[np.bitwise_count(values) <= weight]


def _query_blocks(counts: np.ndarray) -> Iterator[tuple[int, int]]:
    """Split queries into consecutive ranges whose candidate totals stay under the block bound."""
    csum = np.cumsum(counts)
    n = len(counts)
    start = 0
    while start < n:
        base = csum[start - 1] if start else 0
        stop = int(np.searchsorted(csum, base + _BLOCK_CANDIDATES, side="right"))
        stop = max(stop, start + 1)
        yield start, min(stop, n)
        start = stop


def mih_pairs(hashes: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``i < j`` within ``radius``; same contract as :func:`brute_force_pairs`."""
    if not 0 <= radius <= 64:
        raise ValueError(f"radius must be between 0 and 64, got {radius}")
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(h)
    masks = _masks(radius // _CHUNKS)
    found_i: list[np.ndarray] = []
    found_j: list[np.ndarray] = []
    all_idx = np.arange(n, dtype=np.int64)
    for c in range(_CHUNKS):
        keys = ((h >> np.uint64(c * _CHUNK_BITS)) & np.uint64(_BUCKETS - 1)).astype(np.int64)
        order = np.argsort(keys, kind="stable")
        counts = np.bincount(keys, minlength=_BUCKETS)
        starts = np.cumsum(counts) - counts
        for mask in masks:
            q = keys ^ mask
            q_counts = counts[q]
            q_starts = starts[q]
            for lo, hi in _query_blocks(q_counts):
                cnt = q_counts[lo:hi]
                total = int(cnt.sum())
                if total == 0:
                    continue
                qi = np.repeat(all_idx[lo:hi], cnt)
                first = np.repeat(np.cumsum(cnt) - cnt, cnt)
                pos = np.arange(total, dtype=np.int64) - first + np.repeat(q_starts[lo:hi], cnt)
                qj = order[pos]
                keep = qj > qi
                qi, qj = qi[keep], qj[keep]
                close = np.bitwise_count(h[qi] ^ h[qj]) <= radius
                found_i.append(qi[close])
                found_j.append(qj[close])
    if not found_i:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), np.empty(0, dtype=np.uint8)
    pair_keys = np.unique(np.concatenate(found_i) * n + np.concatenate(found_j))
    i = pair_keys // n
    j = pair_keys % n
    d = np.bitwise_count(h[i] ^ h[j]).astype(np.uint8)
    return i, j, d


def pairs_within(
    hashes: np.ndarray, radius: int, *, method: str = "auto"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of hashes within ``radius`` bits, as ``(i, j, distance)`` sorted by ``(i, j)``.

    ``method`` is ``"auto"`` (brute force for small inputs, else multi-index hashing),
    ``"brute"`` or ``"mih"``.
    """
    if method == "brute" or (method == "auto" and len(hashes) < _BRUTE_FORCE_BELOW):
        return brute_force_pairs(hashes, radius)
    if method in ("mih", "auto"):
        return mih_pairs(hashes, radius)
    raise ValueError(f"unknown index method {method!r}")
