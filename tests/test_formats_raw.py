"""Camera RAW through the optional ``raw`` extra, on DNG files written by ``tests/rawgen.py``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from imagegen import photo
from picdup.decode import decode_full, decode_reduced, image_kind, probe, raw_available
from picdup.errors import DecodeError
from rawgen import make_dng

MAXPX = 50_000_000

pytestmark = pytest.mark.skipif(
    not raw_available(), reason="rawpy is not installed (pip install 'picdup[raw]')"
)


def _mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def _grey_corr(a: np.ndarray, b: np.ndarray) -> float:
    ga, gb = a.astype(np.float64).mean(axis=2).ravel(), b.astype(np.float64).mean(axis=2).ravel()
    return float(np.corrcoef(ga, gb)[0, 1])


def test_dng_is_raw_by_content_and_demosaics_with_orientation() -> None:
    im = photo(200, 640, 480)
    data = make_dng(np.asarray(im), orientation=6)
    assert image_kind(data) == "raw"  # by the DNGVersion tag, without a name
    info = probe(data, max_pixels=MAXPX)
    assert (info.format, info.width, info.height, info.orientation) == ("RAW", 480, 640, 6)
    d = decode_reduced(data, max_pixels=MAXPX)
    assert (d.info.width, d.info.height) == (480, 640)
    upright = np.asarray(im.transpose(Image.Transpose.ROTATE_270).resize(d.rgb.shape[1::-1]))
    assert d.rgb.shape[0] > d.rgb.shape[1]  # portrait, as displayed
    assert _grey_corr(d.rgb, upright) > 0.9
    mode, size, raw = decode_full(data, max_pixels=MAXPX)
    assert (mode, size, len(raw)) == ("RGB", (480, 640), 480 * 640 * 3)


def test_large_embedded_preview_is_used_small_one_is_not() -> None:
    im = photo(201, 640, 480)
    # A preview that differs visibly from the sensor data shows which one was decoded.
    marker = ImageOps.invert(im)
    big = decode_reduced(make_dng(np.asarray(im), preview=marker), max_pixels=MAXPX)
    small = decode_reduced(
        make_dng(np.asarray(im), preview=marker.resize((160, 120))), max_pixels=MAXPX
    )
    inverted = np.asarray(marker.resize(big.rgb.shape[1::-1]))
    assert _mean_diff(big.rgb, inverted) < 8.0
    assert _grey_corr(small.rgb, np.asarray(im.resize(small.rgb.shape[1::-1]))) > 0.9


def test_preview_is_rotated_like_the_raw() -> None:
    im = photo(202, 640, 480)
    d = decode_reduced(make_dng(np.asarray(im), preview=im, orientation=8), max_pixels=MAXPX)
    expected = np.asarray(im.transpose(Image.Transpose.ROTATE_90).resize(d.rgb.shape[1::-1]))
    assert _mean_diff(d.rgb, expected) < 8.0


def test_raw_named_file_with_tiff_container_and_broken_raw() -> None:
    im = photo(203, 64, 48)
    plain_tiff = im.copy()
    import io

    buf = io.BytesIO()
    plain_tiff.save(buf, "TIFF")
    assert image_kind(buf.getvalue()) == "tiff"
    assert image_kind(buf.getvalue(), "IMG_0001.NEF") == "raw"
    data = make_dng(np.asarray(photo(204, 320, 240)))
    with pytest.raises(DecodeError, match="RAW"):
        decode_reduced(data[: len(data) // 3], max_pixels=MAXPX)
    with pytest.raises(DecodeError, match="over the limit"):
        decode_reduced(data, max_pixels=1000)
