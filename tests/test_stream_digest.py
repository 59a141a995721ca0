"""The JPEG stream digest: equal only for files that decode to the same pixels, and the pixel
copies it confirms without a full decode."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagegen import (
    jpeg_with_density,
    photo,
    renumbered_components,
    save,
    strip_exif,
    to_bytes,
    without_jfif,
)
from picdup.fingerprint.stream import stream_digest
from picdup.options import ScanOptions
from picdup.pipeline import run_scan


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def _with_exif(seed: int, **tags: object) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    for tag, value in tags.items():
        exif[int(tag.removeprefix("t"))] = value
    return to_bytes(photo(seed, 320, 240), "JPEG", exif=exif)


def test_metadata_rewrites_keep_the_digest_and_the_pixels() -> None:
    original = _with_exif(1)
    rewrites = [
        strip_exif(original),
        jpeg_with_density(original, 300),
        without_jfif(original),
        original[:2] + b"\xff\xfe\x00\x07hello" + original[2:],  # a comment
        _with_exif(1, t270="a description"),  # another EXIF block, same coded picture
    ]
    digest = stream_digest(original, 1)
    assert len(digest) == 32
    for data in rewrites:
        assert data != original
        assert stream_digest(data, 1) == digest
        assert np.array_equal(_pixels(data), _pixels(original))


def test_other_pictures_orientations_and_encodings_differ() -> None:
    original = to_bytes(photo(2, 320, 240), "JPEG", quality=90)
    digest = stream_digest(original, 1)
    assert stream_digest(original, 6) != digest  # shown turned: other displayed pixels
    assert stream_digest(to_bytes(photo(2, 320, 240), "JPEG", quality=89), 1) != digest
    assert stream_digest(to_bytes(photo(3, 320, 240), "JPEG", quality=90), 1) != digest
    # Re-encoded as progressive with the same tables: other coded data, so no shortcut (the
    # full decode decides such a pair).
    with Image.open(io.BytesIO(original)) as im:
        progressive = to_bytes(im, "JPEG", quality="keep", progressive=True)
    assert stream_digest(progressive, 1) != digest


def test_the_jfif_marker_counts_where_it_decides_the_colours() -> None:
    plain = to_bytes(photo(4, 96, 64), "JPEG", quality=85)
    # Components numbered R, G, B: libjpeg decodes them as RGB without a JFIF marker and as
    # YCbCr with one, so the two files show other colours and must not share a digest.
    rgb_ids = renumbered_components(plain, (82, 71, 66))
    bare = without_jfif(rgb_ids)
    assert np.abs(_pixels(rgb_ids) - _pixels(bare)).max() > 50
    assert stream_digest(rgb_ids, 1) != stream_digest(bare, 1)
    # Numbered 1, 2, 3 (what cameras write) the marker changes nothing.
    assert np.array_equal(_pixels(plain), _pixels(without_jfif(plain)))
    assert stream_digest(plain, 1) == stream_digest(without_jfif(plain), 1)


def test_an_adobe_segment_is_part_of_the_digest() -> None:
    plain = without_jfif(to_bytes(photo(5, 96, 64), "JPEG", quality=85))
    adobe = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x01"  # transform 1: YCbCr
    as_ycc = plain[:2] + adobe + plain[2:]
    as_rgb = plain[:2] + adobe[:-1] + b"\x00" + plain[2:]  # transform 0: RGB
    assert np.array_equal(_pixels(as_ycc), _pixels(plain))
    assert not np.array_equal(_pixels(as_rgb), _pixels(plain))
    assert stream_digest(as_rgb, 1) != stream_digest(as_ycc, 1)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        b"\xff\xd8\xff\xe1\xff\xff" + b"\x00" * 16,  # a segment longer than the file
        b"\xff\xd8\xff\xe0\x00\x01" + b"\x00" * 16,  # a length below its own two bytes
        b"\xff\xd8\x00\x00" + b"\x00" * 16,  # no marker where one must be
    ],
)
def test_anything_but_a_clean_jpeg_head_gets_no_digest(data: bytes) -> None:
    assert stream_digest(data, 1) == ""


def test_damaged_jpegs_never_raise() -> None:
    data = to_bytes(photo(8, 64, 48), "JPEG", quality=80)
    # A restart marker has no length: a decoder takes the two bytes after it for stray bytes,
    # not for a segment, so the head is not framed as the digest would frame it.
    assert stream_digest(data[:2] + b"\xff\xd0\x00\x02" + data[2:], 1) == ""
    # Every single-byte change of a JPEG's head: a digest or none, never an exception.
    head = data.index(b"\xff\xda") + 16
    for pos in range(head):
        for value in (0x00, 0x01, 0xD0, 0xDA, 0xFF):
            damaged = data[:pos] + bytes([value]) + data[pos + 1 :]
            assert isinstance(stream_digest(damaged, 1), str)
    for cut in range(head):
        assert isinstance(stream_digest(data[:cut], 1), str)


@pytest.mark.parametrize("jobs", [1, 2])
def test_pixel_copies_of_one_stream_are_decoded_once(
    tmp_path: Path, full_decodes: list[str], jobs: int
) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    original = _with_exif(6)
    (root / "a.jpg").write_bytes(original)
    (root / "b-stripped.jpg").write_bytes(strip_exif(original))
    (root / "c-300dpi.jpg").write_bytes(jpeg_with_density(original, 300))
    with Image.open(root / "a.jpg") as im:
        save(im, root / "d-converted.png")
    report = run_scan(
        [str(root)],
        ScanOptions(jobs=jobs, cache_path=str(tmp_path / "cache.sqlite3")),
        progress=None,
        command=[],
    )
    (group,) = report.groups
    assert {Path(m.path).name: m.cls for m in group.members} == {
        "a.jpg": "keeper",
        "b-stripped.jpg": "pixel",
        "c-300dpi.jpg": "pixel",
        "d-converted.png": "pixel",
    }
    # The PNG is compared with one of the three JPEGs, decoded in full once for all three.
    assert sorted(full_decodes) in (
        ["a.jpg", "d-converted.png"],
        ["b-stripped.jpg", "d-converted.png"],
        ["c-300dpi.jpg", "d-converted.png"],
    )
