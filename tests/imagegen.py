"""Deterministic, photo-like test images (smooth shading, shapes, texture), and byte surgery.

Random noise is a poor stand-in for a photo: it has no low frequencies for a perceptual hash to
see. These images have large smooth regions, edges and fine texture, like real pictures.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image, ImageDraw

__all__ = [
    "jpeg_with_density",
    "photo",
    "renumbered_components",
    "save",
    "strip_exif",
    "to_bytes",
    "without_jfif",
]


def photo(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A deterministic RGB image that behaves like a photograph under hashing and resizing."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), dtype=np.float32)
    for c in range(3):
        base = rng.uniform(40, 200)
        layer = np.full((height, width), base, dtype=np.float32)
        for _ in range(4):
            fx, fy = rng.uniform(0.5, 4.0, size=2) * 2 * np.pi
            phase = rng.uniform(0, 2 * np.pi)
            layer += rng.uniform(15, 45) * np.sin(fx * xx / width + fy * yy / height + phase)
        img[..., c] = layer
    im = Image.fromarray(img.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(8):
        x0, x1 = sorted(rng.integers(0, width, size=2))
        y0, y1 = sorted(rng.integers(0, height, size=2))
        colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1 + 8, y1 + 8), fill=colour)
        else:
            draw.rectangle((x0, y0, x1 + 8, y1 + 8), fill=colour)
    arr = np.asarray(im).astype(np.float32)
    arr += rng.normal(0, 6, size=arr.shape).astype(np.float32)  # sensor-like grain
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


def save(im: Image.Image, path: object, fmt: str | None = None, **params: object) -> None:
    """Save with sensible defaults (JPEG quality 90)."""
    kind = (fmt or str(path).rsplit(".", 1)[-1]).upper()
    if kind in ("JPG", "JPEG"):
        params.setdefault("quality", 90)
        kind = "JPEG"
    im.save(path, format=kind, **params)  # type: ignore[arg-type]


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """Split a JPEG into (marker, whole segment bytes) up to SOS; the rest as marker 0xDA."""
    assert data[:2] == b"\xff\xd8"
    out: list[tuple[int, bytes]] = [(0xD8, data[:2])]
    pos = 2
    while pos < len(data):
        marker = data[pos + 1]
        if marker == 0xDA:
            out.append((0xDA, data[pos:]))
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        out.append((marker, data[pos : pos + 2 + length]))
        pos += 2 + length
    return out


def strip_exif(data: bytes) -> bytes:
    """The same JPEG without its APP1 (EXIF/XMP) segments: identical pixels, other bytes."""
    return b"".join(seg for marker, seg in _segments(data) if marker != 0xE1)


def jpeg_with_density(data: bytes, dpi: int) -> bytes:
    """The same JPEG with its JFIF density set to ``dpi`` (adds a JFIF header if missing)."""
    segs = _segments(data)
    jfif = (
        b"\xff\xe0"
        + struct.pack(">H", 16)
        + b"JFIF\x00\x01\x01\x01"
        + struct.pack(">HH", dpi, dpi)
        + b"\x00\x00"
    )
    out = [segs[0][1], jfif]
    out += [seg for marker, seg in segs[1:] if marker != 0xE0]
    return b"".join(out)


def renumbered_components(data: bytes, ids: tuple[int, int, int]) -> bytes:
    """``data`` with its three components renumbered (in the frame and in the scan header)."""
    out = bytearray(data)
    sof, sos = data.index(b"\xff\xc0"), data.index(b"\xff\xda")
    for c, new in enumerate(ids):
        assert out[sof + 10 + 3 * c] == out[sos + 5 + 2 * c] == c + 1
        out[sof + 10 + 3 * c] = out[sos + 5 + 2 * c] = new
    return bytes(out)


def without_jfif(data: bytes) -> bytes:
    """``data`` without its JFIF (APP0) segment, which must come first."""
    assert data[2:4] == b"\xff\xe0"
    return data[:2] + data[4 + int.from_bytes(data[4:6], "big") :]


def to_bytes(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    save(im, buf, fmt, **params)
    return buf.getvalue()
