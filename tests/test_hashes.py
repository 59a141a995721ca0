"""Pinned hash values and the value semantics of ImageHash."""

from __future__ import annotations

import numpy as np
import pytest

from imagegen import photo
from picdup.fingerprint.hashes import content_box, content_box_of, dhash, grey, phash, thumbnail
from picdup.model import ImageHash


@pytest.fixture(scope="module")
def grey_photo() -> np.ndarray:
    return grey(np.asarray(photo(7, 320, 240)))


def test_phash_is_pinned(grey_photo: np.ndarray) -> None:
    # Equal to imagehash.phash on the same greyscale pixels (checked when this was pinned).
    assert phash(grey_photo) == 0xF1FC6A7A7806CC81


def test_dhash_is_pinned(grey_photo: np.ndarray) -> None:
    # Its 9×8 grid comes from the 128×128 reduction since algorithm version 4: one bit away
    # from the direct reduction's 0x2738D83A1A3A4FD2.
    assert dhash(grey_photo) == 0x2738D83A3A3A4FD2


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


def test_content_box_drops_the_row_blending_bar_and_picture(grey_photo: np.ndarray) -> None:
    # A resampled picture pasted onto a bar meets it in one row that is half bar, half picture;
    # left in, it darkens the thumbnail's outer row by a fifth.
    canvas = np.zeros((400, 320), dtype=np.float32)
    canvas[80:320] = grey_photo
    canvas[79] = grey_photo[0] * 0.5
    canvas[320] = grey_photo[-1] * 0.4
    assert content_box(canvas) == (80, 320, 0, 320)


def test_content_box_keeps_the_first_row_of_an_unbordered_picture(grey_photo: np.ndarray) -> None:
    # The blend test is only asked after a border: a dark first row of a photo stays.
    pic = grey_photo.copy()
    pic[0] *= 0.5
    assert content_box(pic) == (0, 240, 0, 320)


def test_content_box_trims_a_border_inside_a_border(grey_photo: np.ndarray) -> None:
    # A picture with a white margin of its own, letterboxed on black: both borders go, as the
    # white margin goes from the picture alone.
    framed = np.full((280, 360), 255.0, dtype=np.float32)
    framed[20:260, 20:340] = grey_photo
    top, bottom, left, right = content_box(framed)
    # This photo's first row lies between white and its second row: it may go as a blend.
    assert (top in (20, 21), bottom, left, right) == (True, 260, 20, 340)
    canvas = np.zeros((600, 360), dtype=np.float32)
    canvas[100:380] = framed
    assert content_box(canvas) == (100 + top, 100 + bottom, left, right)


def test_light_grey_paper_is_not_a_border(grey_photo: np.ndarray) -> None:
    # A flat sheet of light paper (220) at a photo's edge is part of the photo: whether its
    # noise passes for flat differs between the photo and a recompressed copy.
    pic = grey_photo.copy()
    pic[:30] = 220.0
    assert content_box(pic) == (0, 240, 0, 320)


def _edge_cases(grey_photo: np.ndarray) -> list[np.ndarray]:
    """Pictures whose edges pass or fail each of the border tests in turn."""
    rng = np.random.default_rng(3)
    letterbox = np.zeros((400, 320), dtype=np.float32)
    letterbox[80:320] = grey_photo
    pillarbox = np.full((240, 420), 255.0, dtype=np.float32)
    pillarbox[:, 50:370] = grey_photo
    dark_noisy = grey_photo.copy()
    dark_noisy[:, :3] = rng.normal(20, 5, (240, 3))  # dark but not flat: no border
    dark_flat_line = grey_photo.copy()
    dark_flat_line[:, -1] = 10.0  # a flat dark line one pixel wide: a border run of 1
    mid_flat = grey_photo.copy()
    mid_flat[-20:] = 128.0  # flat but mid-grey: no border
    one_outlier = grey_photo.copy()
    one_outlier[0] = 250.0
    one_outlier[0, 7] = 0.0  # light, one pixel off: the spread decides
    return [
        grey_photo,
        letterbox,
        pillarbox,
        dark_noisy,
        dark_flat_line,
        mid_flat,
        one_outlier,
        np.full((100, 80), 200.0, dtype=np.float32),
        np.zeros((50, 60), dtype=np.float32),
        np.full((1, 40), 255.0, dtype=np.float32),
    ]


def test_content_box_of_a_pillow_image_equals_content_box(grey_photo: np.ndarray) -> None:
    from PIL import Image

    boxes = set()
    for pic in _edge_cases(grey_photo):
        expected = content_box(pic)
        assert content_box_of(Image.fromarray(pic, mode="F")) == expected
        boxes.add(expected == (0, pic.shape[0], 0, pic.shape[1]))
    assert boxes == {True, False}  # both kinds were checked


@pytest.mark.parametrize("level", [0.0, 137.0, 255.0])
def test_flat_picture_hashes_to_its_dc_bit_whatever_the_noise(level: float) -> None:
    # Every AC coefficient of a flat picture is rounding noise: without a floor it decided
    # every bit, and two copies of one plain grey picture came out up to 32 bits apart.
    rng = np.random.default_rng(5)
    expected = 0 if level == 0.0 else 1 << 63
    for shape in [(240, 320), (400, 800), (54, 90)]:
        flat = np.full(shape, level, dtype=np.float32)
        assert phash(flat) == expected
        noisy = (flat + rng.normal(0, 0.02, shape)).astype(np.float32)
        assert phash(noisy) == expected
