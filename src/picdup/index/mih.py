"""Multi-index hashing over four 16-bit chunks of 64-bit hashes, compiled with numba.

Pigeonhole, in the refined form of Norouzi, Punjani and Fleet (Fast Search in Hamming Space with
Multi-Index Hashing, CVPR 2012): write the radius as ``r = 4a + b`` with ``0 <= b < 4``. If two
hashes differ in at most ``r`` bits, then one of the first ``b + 1`` chunks differs in at most
``a`` bits, or one of the others in at most ``a - 1``. So each chunk gets a direct-address table
(65,536 buckets, filled by a counting sort) and every hash probes the buckets of its own chunk
value XOR each 16-bit mask of weight up to that chunk's radius. Each candidate is checked on
the full 64 bits, so the answer is exactly the brute-force answer.

Every pair is produced exactly once, without a deduplication pass: a pair is taken only from the
lower of its two buckets (or, within one bucket, from its lower index), and only in the first
chunk in which it is close enough to be found.

Cost: about ``N × 428`` table probes at radius 10 (tables of 256 KiB stay in cache) and
``N × 428 × N / 65536 / 2`` candidate checks on spread-out hashes, each a load from a hash array
kept in bucket order, so the loads are sequential. On 1M pHash-like hashes at radius 10 that is
a few seconds on one core; numpy could not do it in under a minute (every probe is a full pass),
which is the measured reason for numba. Memory is linear: the hashes in four bucket orders
(32 bytes per hash), four permutations (32 bytes per hash), and the pairs found.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from picdup.index.brute import brute_force_pairs

__all__ = ["chunk_radii", "closest_per_pair", "mih_pairs", "pairs_across", "pairs_within"]

_CHUNK_BITS = 16
_CHUNKS = 64 // _CHUNK_BITS
_BUCKETS = 1 << _CHUNK_BITS
# Slices of the bucket range handed to threads: small enough to balance skewed buckets.
_SLICES = 64
# Below this many hashes the brute force is as fast, and needs no compiled kernel.
_BRUTE_FORCE_BELOW = 2000


def chunk_radii(radius: int) -> list[int]:
    """Per-chunk search radius for a total ``radius`` (-1: the chunk need not be searched)."""
    a, b = divmod(radius, _CHUNKS)
    return [a if c <= b else a - 1 for c in range(_CHUNKS)]


def _masks(weight: int) -> np.ndarray:
    """Every 16-bit mask of at most ``weight`` bits, lightest first."""
    values = np.arange(_BUCKETS, dtype=np.int64)
    pop = np.bitwise_count(values)
    keep = values[pop <= weight]
    return keep[np.argsort(pop[keep], kind="stable")].astype(np.uint32)


def mih_pairs(
    hashes: np.ndarray, radius: int, *, threads: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``i < j`` within ``radius``; same contract as :func:`brute_force_pairs`.

    ``threads`` compiled threads share the work (each takes slices of the bucket range).
    """
    if not 0 <= radius <= 64:
        raise ValueError(f"radius must be between 0 and 64, got {radius}")
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(h)
    if radius >= 4 * _CHUNK_BITS // 2:
        # Chunk radii of 8+ bits probe most of every table: brute force is no slower.
        return brute_force_pairs(h, radius)
    radii = np.array(chunk_radii(radius), dtype=np.int64)
    masks = _masks(int(radii.max()))
    pop = np.bitwise_count(masks.astype(np.int64))
    mask_counts = np.array([int((pop <= r).sum()) if r >= 0 else 0 for r in radii], np.int64)
    orders = np.empty((_CHUNKS, n), dtype=np.int64)
    sorted_h = np.empty((_CHUNKS, n), dtype=np.uint64)
    starts = np.zeros((_CHUNKS, _BUCKETS + 1), dtype=np.int64)
    for c in range(_CHUNKS):
        keys = ((h >> np.uint64(c * _CHUNK_BITS)) & np.uint64(_BUCKETS - 1)).astype(np.int64)
        orders[c] = np.argsort(keys, kind="stable")
        sorted_h[c] = h[orders[c]]
        np.cumsum(np.bincount(keys, minlength=_BUCKETS), out=starts[c, 1:])
    from picdup.index._kernel import mih_kernel

    args = (radius, radii, masks, mask_counts, orders, sorted_h, starts)
    if threads <= 1:
        parts = [mih_kernel(0, _BUCKETS, *args)]
    else:
        # The kernel releases the GIL; slices of the bucket range are independent.
        step = _BUCKETS // _SLICES
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [
                pool.submit(mih_kernel, lo, lo + step, *args) for lo in range(0, _BUCKETS, step)
            ]
            parts = [f.result() for f in futures]
    i = np.concatenate([p[0] for p in parts])
    j = np.concatenate([p[1] for p in parts])
    d = np.concatenate([p[2] for p in parts])
    order = np.lexsort((j, i))
    return i[order], j[order], d[order]


def pairs_within(
    hashes: np.ndarray, radius: int, *, method: str = "auto", threads: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of hashes within ``radius`` bits, as ``(i, j, distance)`` sorted by ``(i, j)``.

    ``method`` is ``"auto"`` (brute force for small inputs, else multi-index hashing),
    ``"brute"`` or ``"mih"``; ``threads`` is the number of cores multi-index hashing may use.
    """
    if method not in ("auto", "brute", "mih"):
        raise ValueError(f"unknown index method {method!r}")
    if method == "brute" or (method == "auto" and len(hashes) < _BRUTE_FORCE_BELOW):
        return brute_force_pairs(hashes, radius)
    return mih_pairs(hashes, radius, threads=threads)


def pairs_across(
    left: np.ndarray, right: np.ndarray, radius: int, *, threads: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ``(a, b, distance)`` with ``left[a]`` within ``radius`` bits of ``right[b]`` and
    ``a != b``, where both arrays hash the same pictures in two ways (a turned, cropped or
    middle variant against the plain hash): one search over both sets, keeping the pairs that
    cross them."""
    n = len(left)
    if len(right) != n:
        raise ValueError(f"left and right must hash the same {n} pictures, got {len(right)}")
    pi, pj, pd = pairs_within(np.concatenate([left, right]), radius, threads=threads)
    cross = (pi < n) & (pj >= n) & (pj - n != pi)
    return pi[cross], pj[cross] - n, pd[cross]


def closest_per_pair(i: np.ndarray, j: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Indexes into ``(i, j)`` keeping one entry per unordered pair: the least by ``keys``
    (most significant first), ties to the earlier entry."""
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    order = np.lexsort((*reversed(keys), hi, lo))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])
    out: np.ndarray = order[first]
    return out
