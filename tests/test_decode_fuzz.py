"""Mutated image bytes never make a decoder raise anything but DecodeError (property test).

The seeds are small valid files of every format picdup reads; hypothesis flips bits, overwrites,
inserts, deletes and truncates bytes. Every call must either return a well-formed result or raise
:class:`DecodeError`. A longer run of the same idea: ``python bench/fuzz.py --seconds 600``.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from imagegen import photo
from picdup.decode import decode_full, decode_reduced, jxl_available, probe, raw_available
from picdup.errors import DecodeError
from picdup.fingerprint import fingerprint_file
from picdup.model import FileRef
from rawgen import make_dng

MAXPX = 4_000_000


def _save(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)  # type: ignore[arg-type]
    return buf.getvalue()


@cache
def seeds() -> dict[str, bytes]:
    """One small valid file per format and variant."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    im = photo(300, 64, 48)
    frames = [im, photo(301, 64, 48)]
    rgba = im.convert("RGBA")
    rgba.putalpha(128)
    out = {
        "jpeg": _save(im, "JPEG", quality=80),
        "jpeg-progressive": _save(im, "JPEG", quality=80, progressive=True),
        "jpeg-cmyk": _save(im.convert("CMYK"), "JPEG"),
        "png": _save(im, "PNG"),
        "png-palette": _save(im.quantize(16), "PNG"),
        "png-rgba": _save(rgba, "PNG"),
        "png-16": _save(
            Image.fromarray(np.asarray(im.convert("L")).astype(np.uint16) * 257), "PNG"
        ),
        "gif-animated": _save(im, "GIF", save_all=True, append_images=frames[1:]),
        "webp": _save(im, "WEBP", quality=70),
        "webp-animated": _save(im, "WEBP", save_all=True, append_images=frames[1:]),
        "avif": _save(im, "AVIF", quality=60),
        "heif": _save(im, "HEIF", quality=60),
        "tiff": _save(im, "TIFF", save_all=True, append_images=frames[1:]),
        "tiff-deflate": _save(im, "TIFF", compression="tiff_adobe_deflate"),
        "bmp": _save(im, "BMP"),
        "ppm": _save(im, "PPM"),
        "pgm": _save(im.convert("L"), "PPM"),
        "ico": _save(im, "ICO"),
        "mpo": _save(im, "MPO", save_all=True, append_images=frames[1:]),
    }
    exif = Image.Exif()
    exif[0x0112] = 6
    out["jpeg-exif"] = _save(im, "JPEG", exif=exif.tobytes())
    if raw_available():
        out["dng"] = make_dng(np.asarray(photo(302, 32, 24)), preview=im)
    if jxl_available():
        out["jxl"] = _save(im, "JXL")
    return out


def _check(data: bytes) -> None:
    """Decode every way picdup does; only DecodeError may come out."""
    try:
        info = probe(data, max_pixels=MAXPX)
        assert info.width > 0 and info.height > 0
    except DecodeError as exc:
        assert str(exc)
    try:
        decoded = decode_reduced(data, max_pixels=MAXPX)
        assert decoded.rgb.ndim == 3 and decoded.rgb.shape[2] == 3
        assert decoded.rgb.dtype == np.uint8
    except DecodeError as exc:
        assert str(exc)
    try:
        mode, (w, h), raw = decode_full(data, max_pixels=MAXPX)
        assert len(raw) == w * h * len(mode)
    except DecodeError as exc:
        assert str(exc)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(sorted(seeds())))
    data = bytearray(seeds()[name])
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "byte", "insert", "delete", "truncate", "dup"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[pos] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, draw(st.integers(0, 255))]))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[pos:]
        else:
            end = min(len(data), pos + draw(st.integers(1, 256)))
            data[pos:pos] = data[pos:end]
    return bytes(data)


def test_every_seed_decodes() -> None:
    for name, data in seeds().items():
        decoded = decode_reduced(data, max_pixels=MAXPX)
        assert decoded.rgb.size > 0, name


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_mutated_bytes_never_raise_anything_but_decode_error(data: bytes) -> None:
    _check(data)


@pytest.mark.parametrize("name", ["jpeg", "png", "heif", "tiff"])
def test_every_truncation_point_of_small_files(name: str) -> None:
    data = seeds()[name]
    step = max(1, len(data) // 200)
    for cut in range(0, len(data), step):
        _check(data[:cut])


def test_fingerprint_of_mutated_file_records_an_error(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    path = folder / "broken.png"
    data = seeds()["png"]
    path.write_bytes(data[: len(data) // 2])
    st_ = path.stat()
    fp = fingerprint_file(
        FileRef(str(path), st_.st_size, st_.st_mtime_ns, str(folder)), max_pixels=MAXPX
    )
    assert fp.error is not None and not fp.ok
    assert fp.digest  # the bytes were read and digested; only decoding failed
