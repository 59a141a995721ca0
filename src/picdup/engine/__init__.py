"""Executors that turn file references into fingerprints: local processes (default)."""

from picdup.engine.local import LocalEngine, fingerprint_all, pixel_digest_all

__all__ = ["LocalEngine", "fingerprint_all", "pixel_digest_all"]
