"""Hamming-distance candidate search behind one function.

:func:`pairs_within` returns every pair of 64-bit hashes within a radius. Two implementations give
identical results: a chunked brute force (the reference, quadratic) and multi-index hashing
(about linear on real data). Tests check the second against the first. :func:`pairs_across`
searches a variant of every hash (turned, cropped) against the plain ones, and
:func:`closest_per_pair` keeps one candidate per pair of pictures.
"""

from picdup.index.brute import brute_force_pairs
from picdup.index.mih import closest_per_pair, mih_pairs, pairs_across, pairs_within

__all__ = ["brute_force_pairs", "closest_per_pair", "mih_pairs", "pairs_across", "pairs_within"]
