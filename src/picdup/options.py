"""Typed options for each stage, and the presets behind ``--mode``.

Options are validated when they are built, so a bad value fails before any file is read
(fail fast on options, degrade per file). No click here: the CLI and the Python API both build
these objects.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from picdup.errors import ConfigError
from picdup.model import MatchClass

__all__ = ["PRESETS", "Bounds", "ScanOptions"]

MODES = ("exact", "pixel", "near")
ENGINES = ("local", "dask")


@dataclass(frozen=True, slots=True)
class Bounds:
    """The evidence a pair needs to count as a ``near`` duplicate.

    ``radius`` bounds the pHash Hamming distance of candidates (the index search radius);
    the thumbnail bounds are in grey levels (0–255) on the 64×64 verification thumbnail:
    ``mean_diff`` for the mean absolute difference over the whole thumbnail and ``block_diff``
    for the worst 8×8 block, which is what catches changed text in an otherwise equal layout.
    ``aspect`` bounds ``|log(aspect_a / aspect_b)|`` of the trimmed content; it is loose on
    purpose (a 4:3 photo squashed to a square is still the same picture: 0.29), because the
    thumbnails, compared at one fixed size, carry the real evidence.
    """

    radius: int = 10
    mean_diff: float = 6.0
    block_diff: float = 18.0
    aspect: float = 0.35

    def __post_init__(self) -> None:
        if not 0 <= self.radius <= 32:
            raise ConfigError(f"hash radius must be between 0 and 32, got {self.radius}")
        for name in ("mean_diff", "block_diff", "aspect"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")


PRESETS: dict[str, Bounds] = {"near": Bounds()}


def _default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Everything that decides what ``scan`` finds.

    ``mode`` is the loosest class that counts as a duplicate. ``separate`` deduplicates each root
    on its own. ``jobs`` is the number of worker processes (default: all cores). ``pairs``
    treats a RAW file and the JPEG beside it, or a Live Photo's still and video, as one asset.
    ``engine`` is where fingerprints are computed: ``local`` processes or ``dask`` (on the
    cluster whose scheduler is at ``scheduler``, else on a LocalCluster of ``jobs`` workers).
    ``use_cache`` reads and writes the fingerprint cache at ``cache_path`` (default: the file
    in the user cache folder, or ``$PICDUP_CACHE_DIR``); none of these four changes what is
    found.
    """

    mode: str = "near"
    separate: bool = False
    jobs: int = field(default_factory=_default_jobs)
    follow_symlinks: bool = False
    include_hidden: bool = False
    bounds: Bounds = field(default_factory=Bounds)
    max_pixels: int = 300_000_000
    engine: str = "local"
    scheduler: str | None = None
    use_cache: bool = True
    cache_path: str | None = None
    pairs: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if not isinstance(self.jobs, int) or self.jobs < 1:
            raise ConfigError(f"--jobs must be a positive integer, got {self.jobs!r}")
        if self.max_pixels < 1:
            raise ConfigError("max_pixels must be positive")
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        if self.scheduler is not None and self.engine != "dask":
            raise ConfigError("--scheduler only applies to --engine dask")
        if self.cache_path is not None and os.path.isdir(self.cache_path):
            raise ConfigError(f"--cache must be a file, not a folder: {self.cache_path}")

    @property
    def loosest(self) -> MatchClass:
        return MatchClass(self.mode)

    def to_dict(self) -> dict[str, Any]:
        """The options as recorded in the report (where and how the work ran is left out: jobs,
        engine, scheduler and cache never change results)."""
        out = asdict(self)
        for name in ("jobs", "engine", "scheduler", "use_cache", "cache_path"):
            out.pop(name)
        return out
