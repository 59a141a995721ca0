"""Pinned hash values and the value semantics of ImageHash."""

from __future__ import annotations

import numpy as np
import pytest

from imagegen import photo
from picdup.fingerprint.hashes import content_box, dhash, grey, phash, thumbnail
from picdup.model import ImageHash


@pytest.fixture(scope="module")
def grey_photo() -> np.ndarray:
    return grey(np.asarray(photo(7, 320, 240)))


def test_phash_is_pinned(grey_photo: np.ndarray) -> None:
    # Equal to imagehash.phash on the same greyscale pixels (checked when this was pinned).
    assert phash(grey_photo) == 0xF1FC6A7A7806CC81


def test_dhash_is_pinned(grey_photo: np.ndarray) -> None:
    assert dhash(grey_photo) == 0x2738D83A1A3A4FD2


def test_phash_agrees_with_imagehash(grey_photo: np.ndarray) -> None:
    imagehash = pytest.importorskip("imagehash")
    from PIL import Image

    im = Image.fromarray(np.rint(grey_photo).astype(np.uint8))
    assert str(imagehash.phash(im)) == str(ImageHash(phash(grey_photo)))


def test_hash_survives_resize(grey_photo: np.ndarray) -> None:
    from PIL import Image

    half = Image.fromarray(grey_photo, mode="F").resize((160, 120), Image.Resampling.BOX)
    small = np.asarray(half, dtype=np.float32)
    assert (phash(grey_photo) ^ phash(small)).bit_count() <= 4


def test_image_hash_value_semantics() -> None:
    a = ImageHash(0xF1FC6A7A7806CC81)
    b = ImageHash.from_hex(str(a))
    assert a == b and hash(a) == hash(b)
    assert str(a) == "f1fc6a7a7806cc81"
    assert a - ImageHash(0xF1FC6A7A7806CC80) == 1
    assert ImageHash(0) - ImageHash((1 << 64) - 1) == 64
    with pytest.raises(ValueError):
        _ = a - ImageHash(1, bits=16)
    with pytest.raises(ValueError):
        ImageHash(1 << 64)


def test_content_box_trims_letterbox(grey_photo: np.ndarray) -> None:
    canvas = np.zeros((400, 320), dtype=np.float32)
    canvas[80:320] = grey_photo
    top, bottom, left, right = content_box(canvas)
    assert (top, bottom, left, right) == (80, 320, 0, 320)
    assert thumbnail(canvas[top:bottom, left:right]) == thumbnail(grey_photo)


def test_content_box_keeps_plain_images_whole() -> None:
    plain = np.full((100, 80), 200.0, dtype=np.float32)
    assert content_box(plain) == (0, 100, 0, 80)
