"""JPEG pixels by one TurboJPEG call: the same as Pillow's decode bit for bit, on every kind of
JPEG, at every DCT scale and orientation; anything else is left to Pillow."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

import picdup.decode.pillow as pillow
from imagegen import photo, renumbered_components, to_bytes, without_jfif
from picdup.decode.turbo import jpeg_pixels, oriented
from picdup.errors import DecodeError

MAX_PIXELS = 50_000_000


def _oriented_jpeg(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return to_bytes(photo(7, 203, 131), "JPEG", exif=exif)


def _mpo() -> bytes:
    buf = io.BytesIO()
    photo(8, 160, 120).save(buf, "MPO", save_all=True, append_images=[photo(9, 160, 120)])
    return buf.getvalue()


_plain = to_bytes(photo(1, 333, 251), "JPEG", quality=85)
_adobe = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00"
KINDS: dict[str, bytes] = {
    "baseline 4:2:0": _plain,
    "4:4:4": to_bytes(photo(2, 333, 251), "JPEG", subsampling=0),
    "4:2:2": to_bytes(photo(3, 333, 251), "JPEG", subsampling=1),
    "progressive": to_bytes(photo(4, 333, 251), "JPEG", progressive=True),
    "optimised": to_bytes(photo(4, 333, 251), "JPEG", optimize=True),
    "restart markers": to_bytes(photo(5, 333, 251), "JPEG", restart_marker_blocks=3),
    "greyscale": to_bytes(photo(6, 333, 251).convert("L"), "JPEG"),
    "RGB-coded": without_jfif(renumbered_components(_plain, (82, 71, 66))),
    "Adobe RGB transform": without_jfif(_plain)[:2] + _adobe + b"\x00" + without_jfif(_plain)[2:],
    "Adobe YCbCr transform": without_jfif(_plain)[:2] + _adobe + b"\x01" + without_jfif(_plain)[2:],
    "MPO": _mpo(),
    **{f"orientation {o}": _oriented_jpeg(o) for o in range(1, 9)},
}


@pytest.fixture
def turbo_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each TurboJPEG call the decoders made gave the pixels (False: left to Pillow)."""
    calls: list[bool] = []
    real = pillow.jpeg_pixels

    def spy(data: bytes, mode: str, size: tuple[int, int]) -> np.ndarray | None:
        out = real(data, mode, size)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(pillow, "jpeg_pixels", spy)
    return calls


def _by_pillow_alone(monkeypatch: pytest.MonkeyPatch, decode: Callable[[], object]) -> object:
    with monkeypatch.context() as m:
        m.setattr(pillow, "_turbo", lambda data, im: None)
        return decode()


def _reduced(data: bytes, size: int) -> tuple[object, bytes]:
    decoded = pillow.decode_reduced(data, size=size, max_pixels=MAX_PIXELS)
    return decoded.info, decoded.image.tobytes()


def _full(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    mode, size, raw = pillow.decode_full(data, max_pixels=MAX_PIXELS)
    return mode, size, bytes(raw)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_full_decode_equals_pillows(
    kind: str, turbo_calls: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = KINDS[kind]
    ours = _full(data)
    assert turbo_calls == [True], "TurboJPEG did not decode this kind"
    assert ours == _by_pillow_alone(monkeypatch, lambda: _full(data))


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("size", [256, 120, 60, 30])  # DCT scales 1, 1/2, 1/4 and 1/8
def test_reduced_decode_equals_pillows(
    kind: str, size: int, turbo_calls: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = KINDS[kind]
    ours = _reduced(data, size)
    assert turbo_calls == [True], "TurboJPEG did not decode this kind"
    assert ours == _by_pillow_alone(monkeypatch, lambda: _reduced(data, size))


def test_the_scales_are_the_ones_pillow_drafts() -> None:
    sizes = []
    for size in (256, 120, 60, 30):
        with Image.open(io.BytesIO(_plain)) as im:
            im.draft("RGB", (size, size))
            sizes.append(im.size)
    assert sizes == [(333, 251), (167, 126), (84, 63), (42, 32)]


def test_damaged_and_cmyk_jpegs_are_left_to_pillow(
    turbo_calls: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    cut = _plain[: len(_plain) // 2]
    assert jpeg_pixels(cut, "RGB", (333, 251)) is None  # the library warns: Pillow decides
    for decode in (lambda: _reduced(cut, 256), lambda: _full(cut)):
        try:
            ours: object = decode()
        except DecodeError as exc:
            ours = str(exc)
        try:
            theirs: object = _by_pillow_alone(monkeypatch, decode)
        except DecodeError as exc:
            theirs = str(exc)
        assert ours == theirs
    cmyk = to_bytes(photo(10, 64, 48).convert("CMYK"), "JPEG")
    assert _full(cmyk) == _by_pillow_alone(monkeypatch, lambda: _full(cmyk))
    assert turbo_calls == [False, False]  # the cut file twice; CMYK is never asked for
    assert jpeg_pixels(_plain, "RGB", (84, 64)) is None  # not a size the decoder makes


def test_orientation_views_are_pillows_transposes() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    im = Image.fromarray(pixels)
    for orientation, method in pillow._TRANSPOSE.items():
        assert np.array_equal(oriented(pixels, orientation), np.asarray(im.transpose(method)))
    assert oriented(pixels, 1) is pixels
    assert oriented(pixels, 9) is pixels
