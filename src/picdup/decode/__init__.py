"""Decoding images: once, at reduced size, orientation applied.

One registry for every format: Pillow reads JPEG, PNG, GIF, WebP, AVIF, TIFF, BMP, MPO and the
PNM family; pillow-heif adds HEIC/HEIF when it is installed (registered here, at import).
"""

from picdup.decode.pillow import (
    REDUCED_SIZE,
    Decoded,
    decode_full,
    decode_reduced,
    heif_available,
    probe,
)

__all__ = ["REDUCED_SIZE", "Decoded", "decode_full", "decode_reduced", "heif_available", "probe"]
