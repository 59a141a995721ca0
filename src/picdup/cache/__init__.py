"""Persistent state in the user's cache folder (SQLite, WAL mode)."""

from picdup.cache.paths import default_cache_dir

__all__ = ["default_cache_dir"]
