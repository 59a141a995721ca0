"""Hamming-distance candidate search behind one function.

:func:`pairs_within` returns every pair of 64-bit hashes within a radius. Two implementations give
identical results: a chunked brute force (the reference, quadratic) and multi-index hashing
(about linear on real data). Tests check the second against the first.
"""

from picdup.index.brute import brute_force_pairs
from picdup.index.mih import mih_pairs, pairs_within

__all__ = ["brute_force_pairs", "mih_pairs", "pairs_within"]
