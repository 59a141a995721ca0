"""Where picdup keeps its cache: ``$PICDUP_CACHE_DIR``, else the platform's user cache folder."""

from __future__ import annotations

import os

import platformdirs

__all__ = ["default_cache_dir"]


def default_cache_dir() -> str:
    env = os.environ.get("PICDUP_CACHE_DIR")
    return env if env else platformdirs.user_cache_dir("picdup", appauthor=False)
