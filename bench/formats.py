"""Reduced-decode time per format, as a ratio to JPEG measured in the same run.

Usage:
  python bench/formats.py [--size 4000x3000] [--repeat 5]

One photo-like picture is saved as JPEG, PNG, WebP, AVIF, HEIC, TIFF, BMP, GIF (and JPEG XL when
the plugin is installed, DNG when rawpy is); each file is decoded the way a scan decodes it
(picdup.decode.decode_reduced) and the median time is printed with its ratio to JPEG. For RAW it
also compares the embedded full-size preview with demosaicing the sensor data (same file without
a preview). Timings on a shared machine are noisy; the ratios are what to read.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from imagegen import photo
from picdup.decode import decode_reduced, jxl_available, raw_available

FORMATS = {
    "JPEG": {"quality": 90},
    "PNG": {},
    "WEBP": {"quality": 85},
    "AVIF": {"quality": 70},
    "HEIF": {"quality": 70},
    "TIFF": {},
    "BMP": {},
    "GIF": {},
}


def _encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)  # type: ignore[arg-type]
    return buf.getvalue()


def _median_ms(data: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        decode_reduced(data, max_pixels=500_000_000)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    import pillow_heif

    pillow_heif.register_heif_opener()
    im = photo(1, w, h)
    files = {fmt: _encode(im, fmt, **params) for fmt, params in FORMATS.items()}
    if jxl_available():
        files["JXL"] = _encode(im, "JXL", quality=85)
    rows = [(fmt, len(data), _median_ms(data, args.repeat)) for fmt, data in files.items()]
    base = rows[0][2]
    print(f"reduced decode of one {w}×{h} picture, median of {args.repeat}")
    print(f"{'format':<8}{'MB':>8}{'ms':>10}{'× JPEG':>9}")
    for fmt, size, ms in rows:
        print(f"{fmt:<8}{size / 1e6:>8.2f}{ms:>10.1f}{ms / base:>9.2f}")
    if raw_available():
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from rawgen import make_dng

        rgb = np.asarray(im)
        with_preview = make_dng(rgb, preview=im)
        without = make_dng(rgb)
        p_ms, d_ms = _median_ms(with_preview, args.repeat), _median_ms(without, args.repeat)
        print(
            f"DNG: embedded preview {p_ms:.1f} ms, demosaic at half size {d_ms:.1f} ms "
            f"(preview {d_ms / p_ms:.1f}× faster)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
