"""Decoding images: once, at reduced size, orientation applied.

One registry (:mod:`picdup.decode.registry`) for every format: Pillow reads JPEG, PNG, GIF, WebP,
AVIF, TIFF, BMP, MPO, ICO, JPEG 2000 and the PNM family; pillow-heif adds HEIC/HEIF, the optional
JPEG XL plugin adds JXL and the optional ``raw`` extra (rawpy) adds camera RAW files.
"""

from picdup.decode.pillow import JPEG_FORMATS, REDUCED_SIZE, Decoded
from picdup.decode.registry import (
    available_kinds,
    decode_full,
    decode_reduced,
    heif_available,
    image_kind,
    jxl_available,
    probe,
    raw_available,
)

__all__ = [
    "JPEG_FORMATS",
    "REDUCED_SIZE",
    "Decoded",
    "available_kinds",
    "decode_full",
    "decode_reduced",
    "heif_available",
    "image_kind",
    "jxl_available",
    "probe",
    "raw_available",
]
