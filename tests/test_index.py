"""The Hamming index: pinned answers, the pigeonhole split, and equality with brute force."""

from __future__ import annotations

import numpy as np
import pytest

from picdup.index import brute_force_pairs, closest_per_pair, mih_pairs, pairs_across, pairs_within
from picdup.index.mih import chunk_radii


def clustered_hashes(n: int, seed: int, spread: int = 6) -> np.ndarray:
    """pHash-like data: unrelated originals plus near-copies a few bits away from them."""
    rng = np.random.default_rng(seed)
    originals = rng.integers(0, 2**64 - 1, max(1, n // 3), dtype=np.uint64)
    h = originals[rng.integers(0, len(originals), n)]
    for _ in range(spread):
        bit = rng.integers(0, 64, n).astype(np.uint64)
        h = h ^ ((np.uint64(1) << bit) * (rng.random(n) < 0.5).astype(np.uint64))
    return h


def same(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_brute_force_pinned() -> None:
    h = np.array([0b0000, 0b0001, 0b0011, 0b1111_0000, 0b0001], dtype=np.uint64)
    i, j, d = brute_force_pairs(h, 1)
    assert list(zip(i.tolist(), j.tolist(), d.tolist(), strict=True)) == [
        (0, 1, 1),
        (0, 4, 1),
        (1, 2, 1),
        (1, 4, 0),
        (2, 4, 1),
    ]


def test_mih_pinned_across_chunks() -> None:
    # Differences placed in different 16-bit chunks, including the top bit.
    top = np.uint64(1) << np.uint64(63)
    h = np.array([0, 1 << 16, (1 << 32) | 1, int(top), int(top) | 0xFFFF], dtype=np.uint64)
    i, j, d = mih_pairs(h, 2)
    assert list(zip(i.tolist(), j.tolist(), d.tolist(), strict=True)) == [
        (0, 1, 1),
        (0, 2, 2),
        (0, 3, 1),
        (1, 3, 2),
    ]


@pytest.mark.parametrize(
    ("radius", "expected"),
    [(0, [0, -1, -1, -1]), (3, [0, 0, 0, 0]), (7, [1, 1, 1, 1]), (10, [2, 2, 2, 1])],
)
def test_chunk_radii_pinned(radius: int, expected: list[int]) -> None:
    assert chunk_radii(radius) == expected


@pytest.mark.parametrize("radius", range(0, 33))
def test_chunk_radii_cover_the_radius(radius: int) -> None:
    # Pigeonhole: a pair missed by every chunk differs in at least sum(r_c + 1) > radius bits.
    assert sum(r + 1 for r in chunk_radii(radius)) > radius


@pytest.mark.parametrize("radius", [0, 1, 2, 3, 4, 5, 7, 8, 10, 12, 16, 20])
def test_mih_equals_brute_force(radius: int) -> None:
    h = clustered_hashes(4000, seed=radius)
    expected = brute_force_pairs(h, radius)
    assert same(mih_pairs(h, radius), expected)
    assert same(pairs_within(h, radius), expected)


def test_mih_equals_brute_force_on_skewed_buckets() -> None:
    # Many hashes sharing whole chunks: one huge bucket per chunk.
    rng = np.random.default_rng(5)
    h = rng.integers(0, 1 << 12, 3000, dtype=np.uint64) | (np.uint64(0xABCD) << np.uint64(48))
    assert same(mih_pairs(h, 10), brute_force_pairs(h, 10))


def test_threads_give_the_same_pairs() -> None:
    h = clustered_hashes(20_000, seed=11)
    assert same(mih_pairs(h, 10, threads=2), mih_pairs(h, 10, threads=1))


@pytest.mark.slow
def test_mih_equals_brute_force_large() -> None:
    h = clustered_hashes(30_000, seed=3, spread=8)
    assert same(pairs_within(h, 10, method="mih", threads=2), brute_force_pairs(h, 10))


def test_every_pair_once_and_ordered() -> None:
    h = clustered_hashes(5000, seed=9)
    i, j, d = pairs_within(h, 10)
    assert np.all(i < j)
    keys = i * len(h) + j
    assert np.all(np.diff(keys) > 0)  # sorted by (i, j), no duplicates
    assert np.array_equal(d, np.bitwise_count(h[i] ^ h[j]))


@pytest.mark.parametrize("method", ["brute", "mih", "auto"])
def test_edge_inputs(method: str) -> None:
    for h in (np.empty(0, dtype=np.uint64), np.array([7], dtype=np.uint64)):
        i, j, d = pairs_within(h, 10, method=method)
        assert len(i) == len(j) == len(d) == 0
    same_hash = np.full(50, 12345, dtype=np.uint64)
    i, j, _ = pairs_within(same_hash, 0, method=method)
    assert len(i) == 50 * 49 // 2


def test_radius_over_half_falls_back_and_still_agrees() -> None:
    h = clustered_hashes(600, seed=2)
    assert same(mih_pairs(h, 40), brute_force_pairs(h, 40))


def test_bad_arguments() -> None:
    h = np.zeros(3, dtype=np.uint64)
    with pytest.raises(ValueError, match="radius"):
        mih_pairs(h, 65)
    with pytest.raises(ValueError, match="method"):
        pairs_within(h, 3, method="faiss")


@pytest.mark.parametrize("n", [50, 3000])
def test_pairs_across_equal_a_direct_comparison(n: int) -> None:
    left, right = clustered_hashes(n, 5), clustered_hashes(n, 5) ^ np.uint64(0b1011)
    i, j, d = pairs_across(left, right, 6)
    dist = np.bitwise_count(left[:, None] ^ right[None, :]) if n <= 50 else None
    found = set(zip(i.tolist(), j.tolist(), strict=True))
    assert all(a != b for a, b in found)
    assert np.array_equal(d, np.bitwise_count(left[i] ^ right[j]))
    assert (d <= 6).all()
    if dist is not None:
        expected = {(a, b) for a, b in zip(*np.nonzero(dist <= 6), strict=True) if a != b}
        assert found == expected
    with pytest.raises(ValueError, match="same"):
        pairs_across(left, right[:-1], 6)


def test_closest_per_pair_keeps_the_least_entry_of_each_unordered_pair() -> None:
    i = np.array([0, 1, 0, 2, 1, 2])
    j = np.array([1, 0, 1, 3, 0, 3])
    d = np.array([5, 3, 3, 1, 3, 1])
    t = np.array([0, 2, 1, 4, 0, 0])
    assert sorted(closest_per_pair(i, j, d, t).tolist()) == [4, 5]
    assert sorted(closest_per_pair(i, j, d).tolist()) == [1, 3]  # ties: the earlier entry
