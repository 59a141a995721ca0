"""The compiled tolerant-difference kernel equals its numpy reference bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from imagegen import photo
from picdup._tolerant import tolerant_diff_kernel
from picdup.verify import tolerant_diff_reference


def _pairs(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = np.empty((n, size, size), dtype=np.float32)
    b = np.empty_like(a)
    for k in range(n):
        im = photo(seed * 1000 + k, 160, 120).convert("L")
        a[k] = np.asarray(im.resize((size, size), Image.Resampling.BOX), dtype=np.float32)
        shifted = im.resize((size + 1, size + 1), Image.Resampling.BILINEAR).crop(
            (1, 1, size + 1, size + 1)
        )
        b[k] = np.asarray(shifted, dtype=np.float32) + rng.normal(0, 3, (size, size))
    return a, b.astype(np.float32)


@pytest.mark.parametrize("size", [128, 64, 17])
def test_kernel_equals_reference(size: int) -> None:
    a, b = _pairs(12, size, seed=size)
    expected = tolerant_diff_reference(a, b)
    got = tolerant_diff_kernel(a, b)
    assert got.dtype == np.float32
    assert np.array_equal(got, expected)
    # Symmetric, and zero for identical inputs.
    assert np.array_equal(tolerant_diff_kernel(b, a), got)
    assert not tolerant_diff_kernel(a, a).any()


def test_kernel_equals_reference_on_extremes() -> None:
    rng = np.random.default_rng(3)
    a = rng.choice(np.array([0.0, 255.0], dtype=np.float32), size=(5, 32, 32))
    b = rng.uniform(-40, 300, size=(5, 32, 32)).astype(np.float32)
    assert np.array_equal(tolerant_diff_kernel(a, b), tolerant_diff_reference(a, b))
