"""A minimal camera RAW file (DNG) for tests: a Bayer mosaic of a known picture.

No RAW samples ship with the tests, and no camera is at hand, so this writes the smallest DNG that
LibRaw reads: one uncompressed 16-bit RGGB mosaic whose colour matrix makes the camera space
linear sRGB (so the demosaiced picture looks like the input), and, optionally, a JPEG preview in
a second directory, the way cameras store theirs.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

__all__ = ["make_dng"]

_SHORT, _LONG, _BYTE, _ASCII, _RATIONAL, _SRATIONAL = 3, 4, 1, 2, 5, 10
# XYZ (D65) to linear sRGB: as the DNG colour matrix it makes "camera RGB" equal linear sRGB.
_XYZ_TO_SRGB = (
    (3.2406, -1.5372, -0.4986),
    (-0.9689, 1.8758, 0.0415),
    (0.0557, -0.2040, 1.0570),
)


def _linear(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return np.asarray((lin * 65535).round().astype(np.uint16))


def _ifd(
    entries: list[tuple[int, int, int, bytes]], start: int, blob_at: dict[int, int]
) -> tuple[bytes, bytes]:
    """One directory at offset ``start`` and the out-of-line values after it.

    ``blob_at`` maps a tag to the absolute offset of data stored elsewhere (pixels, preview).
    """
    entries = sorted(entries)
    extra_at = start + 2 + 12 * len(entries) + 4
    extra = bytearray()
    body = bytearray(struct.pack("<H", len(entries)))
    for tag, typ, count, value in entries:
        if tag in blob_at:
            value = struct.pack("<I", blob_at[tag])
        if len(value) <= 4:
            field = value.ljust(4, b"\0")
        else:
            field = struct.pack("<I", extra_at + len(extra))
            extra += value + b"\0" * (len(value) % 2)
        body += struct.pack("<HHI", tag, typ, count) + field
    body += struct.pack("<I", 0)  # no next directory
    return bytes(body), bytes(extra)


def make_dng(rgb: np.ndarray, *, preview: Image.Image | None = None, orientation: int = 1) -> bytes:
    """A DNG of ``rgb`` ((H, W, 3) uint8, even sizes) with an optional JPEG ``preview``."""
    h, w = rgb.shape[:2]
    lin = _linear(rgb)
    mosaic = np.zeros((h, w), dtype=np.uint16)
    mosaic[0::2, 0::2] = lin[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = lin[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = lin[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = lin[1::2, 1::2, 2]
    pixels = mosaic.astype("<u2").tobytes()
    make, model = b"picdup\0", b"picdup test camera\0"
    matrix = b"".join(
        struct.pack("<ii", round(v * 10000), 10000) for row in _XYZ_TO_SRGB for v in row
    )
    raw_entries = [
        (254, _LONG, 1, struct.pack("<I", 0)),
        (256, _LONG, 1, struct.pack("<I", w)),
        (257, _LONG, 1, struct.pack("<I", h)),
        (258, _SHORT, 1, struct.pack("<H", 16)),
        (259, _SHORT, 1, struct.pack("<H", 1)),
        (262, _SHORT, 1, struct.pack("<H", 32803)),
        (271, _ASCII, len(make), make),
        (272, _ASCII, len(model), model),
        (273, _LONG, 1, b""),
        (274, _SHORT, 1, struct.pack("<H", orientation)),
        (277, _SHORT, 1, struct.pack("<H", 1)),
        (278, _LONG, 1, struct.pack("<I", h)),
        (279, _LONG, 1, struct.pack("<I", len(pixels))),
        (284, _SHORT, 1, struct.pack("<H", 1)),
        (33421, _SHORT, 2, struct.pack("<HH", 2, 2)),
        (33422, _BYTE, 4, bytes([0, 1, 1, 2])),
        (50706, _BYTE, 4, bytes([1, 4, 0, 0])),
        (50708, _ASCII, len(model), model),
        (50717, _LONG, 1, struct.pack("<I", 65535)),
        (50721, _SRATIONAL, 9, matrix),
        (50728, _RATIONAL, 3, struct.pack("<II", 1, 1) * 3),
        (50778, _SHORT, 1, struct.pack("<H", 21)),
    ]
    if preview is None:
        ifd0, extra0 = _ifd(raw_entries, 8, {273: 8 + _size(raw_entries)})
        head = b"II*\x00" + struct.pack("<I", 8)
        return head + ifd0 + extra0 + pixels
    buf = io.BytesIO()
    preview.convert("RGB").save(buf, "JPEG", quality=92)
    jpeg = buf.getvalue()
    pw, ph = preview.size
    # The usual DNG layout: IFD0 is the preview and carries the camera tags; the sensor data
    # is in a sub-directory (SubIFDs).
    shared = {271, 272, 274, 50706, 50708, 50721, 50728, 50778}
    top = [e for e in raw_entries if e[0] in shared]
    sensor = [e for e in raw_entries if e[0] not in shared]
    top += [
        (254, _LONG, 1, struct.pack("<I", 1)),
        (256, _LONG, 1, struct.pack("<I", pw)),
        (257, _LONG, 1, struct.pack("<I", ph)),
        (258, _SHORT, 3, struct.pack("<HHH", 8, 8, 8)),
        (259, _SHORT, 1, struct.pack("<H", 7)),
        (262, _SHORT, 1, struct.pack("<H", 6)),
        (273, _LONG, 1, b""),
        (277, _SHORT, 1, struct.pack("<H", 3)),
        (278, _LONG, 1, struct.pack("<I", ph)),
        (279, _LONG, 1, struct.pack("<I", len(jpeg))),
        (330, _LONG, 1, b""),
    ]
    sub_at = 8 + _size(top)
    pixels_at = sub_at + _size(sensor)
    jpeg_at = pixels_at + len(pixels)
    ifd0, extra0 = _ifd(top, 8, {273: jpeg_at, 330: sub_at})
    ifd1, extra1 = _ifd(sensor, sub_at, {273: pixels_at})
    head = b"II*\x00" + struct.pack("<I", 8)
    return head + ifd0 + extra0 + ifd1 + extra1 + pixels + jpeg


def _size(entries: list[tuple[int, int, int, bytes]]) -> int:
    body, extra = _ifd(entries, 0, {tag: 0 for tag, _, _, _ in entries if tag in (273, 330)})
    return len(body) + len(extra)
