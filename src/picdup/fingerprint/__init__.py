"""Fingerprints: content digest, pixel digest, perceptual hashes and the verification thumbnail."""

from picdup.fingerprint.compute import (
    ALGORITHM_VERSION,
    SKIPPED,
    Twins,
    content_digest,
    fingerprint_file,
    pixel_digest,
)
from picdup.fingerprint.hashes import THUMB_SIZE, dhash, phash

__all__ = [
    "ALGORITHM_VERSION",
    "SKIPPED",
    "THUMB_SIZE",
    "Twins",
    "content_digest",
    "dhash",
    "fingerprint_file",
    "phash",
    "pixel_digest",
]
