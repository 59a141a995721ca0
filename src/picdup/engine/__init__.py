"""Executors that turn file references into fingerprints: local processes (default)."""

from picdup.engine.local import fingerprint_all, pixel_digest_all

__all__ = ["fingerprint_all", "pixel_digest_all"]
