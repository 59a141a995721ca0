"""Camera RAW files through rawpy (LibRaw), the optional ``picdup[raw]`` extra.

Most RAW files carry a full-size or large JPEG preview rendered by the camera. Decoding that
preview is far faster than demosaicing the sensor data and is what the photographer saw, so the
reduced decode uses it whenever it is at least as large as the reduced size asked for and has
the picture's shape; otherwise the sensor data is demosaiced at half size.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from picdup.decode.pillow import (
    DECODE_FAILURES,
    REDUCED_SIZE,
    Decoded,
    check_size,
)
from picdup.decode.pillow import (
    decode_reduced as pillow_decode_reduced,
)
from picdup.errors import DecodeError
from picdup.model import ImageInfo

__all__ = ["INSTALL_HINT", "decode_full", "decode_reduced", "probe", "raw_available"]

INSTALL_HINT = "RAW image: install picdup[raw] to read it (pip install 'picdup[raw]')"

try:
    import rawpy

    _RAWPY: Any = rawpy
except ImportError:  # the optional extra is not installed
    _RAWPY = None

# LibRaw's flip value (0, 3, 5, 6) as an EXIF orientation.
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
# A preview whose shape differs more than this from the sensor image is letterboxed or cropped.
_SHAPE_TOLERANCE = 0.05


def raw_available() -> bool:
    return _RAWPY is not None


def _open(data: bytes, max_pixels: int) -> Any:
    if _RAWPY is None:
        raise DecodeError(INSTALL_HINT)
    try:
        raw = _RAWPY.imread(io.BytesIO(data))
    except (_RAWPY.LibRawError, *DECODE_FAILURES) as exc:
        raise DecodeError(f"cannot decode RAW: {exc}") from exc
    sizes = raw.sizes
    try:
        check_size((int(sizes.width), int(sizes.height)), max_pixels)
    except DecodeError:
        raw.close()
        raise
    return raw


def _displayed(raw: Any) -> tuple[int, int, int]:
    sizes = raw.sizes
    orientation = _FLIP_TO_ORIENTATION.get(int(sizes.flip), 1)
    w, h = int(sizes.width), int(sizes.height)
    if orientation in (6, 8):
        w, h = h, w
    return w, h, orientation


def probe(data: bytes, *, max_pixels: int) -> ImageInfo:
    """Header facts of a RAW file (displayed size and orientation), without demosaicing."""
    raw = _open(data, max_pixels)
    with raw:
        w, h, orientation = _displayed(raw)
        return ImageInfo("RAW", w, h, orientation, 1, "RGB")


def _preview(raw: Any, size: int, max_pixels: int, orientation: int) -> np.ndarray | None:
    """The embedded preview as RGB, orientation applied, when it is large enough; else None."""
    try:
        thumb = raw.extract_thumb()
    except (_RAWPY.LibRawError, *DECODE_FAILURES):
        return None
    sensor_w, sensor_h = int(raw.sizes.width), int(raw.sizes.height)
    if thumb.format == _RAWPY.ThumbFormat.JPEG:
        try:
            decoded = pillow_decode_reduced(
                bytes(thumb.data), size=size, max_pixels=max_pixels, formats=["JPEG"]
            )
        except DecodeError:
            return None
        rgb = decoded.rgb
        # The camera usually leaves the preview unrotated and puts the orientation on the RAW.
        if decoded.info.orientation == 1 and orientation != 1:
            rgb = _orient(rgb, orientation)
        pw, ph = decoded.info.width, decoded.info.height
    else:
        arr = np.asarray(thumb.data)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            return None
        ph, pw = arr.shape[:2]
        rgb = _orient(arr, orientation)
    if min(pw, ph) < size:
        return None
    if orientation in (6, 8):
        sensor_w, sensor_h = sensor_h, sensor_w
    dw, dh = rgb.shape[1], rgb.shape[0]
    if abs(dw / dh - sensor_w / sensor_h) > _SHAPE_TOLERANCE * sensor_w / sensor_h:
        return None
    return rgb


def _orient(rgb: np.ndarray, orientation: int) -> np.ndarray:
    if orientation == 3:
        return rgb[::-1, ::-1]
    if orientation == 6:
        return np.rot90(rgb, k=-1)
    if orientation == 8:
        return np.rot90(rgb, k=1)
    return rgb


def _demosaic(raw: Any, half: bool) -> np.ndarray:
    try:
        rgb = raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8)
    except (_RAWPY.LibRawError, *DECODE_FAILURES) as exc:
        raise DecodeError(f"cannot decode RAW: {exc}") from exc
    except MemoryError as exc:
        raise DecodeError("cannot decode RAW: out of memory") from exc
    return np.asarray(rgb, dtype=np.uint8)


def decode_reduced(data: bytes, *, size: int = REDUCED_SIZE, max_pixels: int) -> Decoded:
    """The embedded preview when large enough, else the sensor data demosaiced at half size."""
    raw = _open(data, max_pixels)
    with raw:
        w, h, orientation = _displayed(raw)
        rgb = _preview(raw, size, max_pixels, orientation)
        if rgb is None:
            rgb = _demosaic(raw, half=True)  # LibRaw applies the orientation itself
        image = Image.fromarray(np.ascontiguousarray(rgb))
        factor = min(rgb.shape[0], rgb.shape[1]) // size
        if factor >= 2:
            image = image.reduce(factor)
        return Decoded(ImageInfo("RAW", w, h, orientation, 1, "RGB"), image)


def decode_full(data: bytes, *, max_pixels: int) -> tuple[str, tuple[int, int], bytes]:
    """The sensor data demosaiced at full size with fixed settings (deterministic)."""
    raw = _open(data, max_pixels)
    with raw:
        rgb = np.ascontiguousarray(_demosaic(raw, half=False))
    return "RGB", (rgb.shape[1], rgb.shape[0]), rgb.tobytes()
