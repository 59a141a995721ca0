"""Persistent state in the user's cache folder: the fingerprint cache (SQLite, WAL mode)."""

from picdup.cache.paths import default_cache_dir
from picdup.cache.store import (
    CACHE_FILE,
    CacheInfo,
    FingerprintCache,
    algorithm_key,
    cache_info,
    clear_cache,
    default_cache_path,
    pixel_key,
)

__all__ = [
    "CACHE_FILE",
    "CacheInfo",
    "FingerprintCache",
    "algorithm_key",
    "cache_info",
    "clear_cache",
    "default_cache_dir",
    "default_cache_path",
    "pixel_key",
]
