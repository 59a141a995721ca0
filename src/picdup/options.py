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

MODES = ("exact", "pixel", "near", "edited", "similar")
ENGINES = ("local", "dask")


@dataclass(frozen=True, slots=True)
class Bounds:
    """The evidence a pair needs for each class; the presets below are calibrated values.

    ``radius`` bounds the pHash Hamming distance of candidates (the index search radius).
    Thumbnail bounds are in grey levels (0–255) on the 128×128 verification thumbnail, compared
    with half a pixel and a slight blur of tolerance (a smaller or recompressed copy is softer):
    ``mean_diff`` bounds the mean difference and ``block_diff`` the worst 4×4 block, which is
    what catches changed text in an otherwise equal layout. ``aspect`` bounds
    ``|log(aspect_a / aspect_b)|`` of the trimmed content; it is loose on purpose (a 4:3 photo
    squashed to a square is still the same picture: 0.29).

    Two more ``near`` bounds catch text changed in a small part of an otherwise equal picture
    (a caption in thin light letters, a chat screenshot's lines squashed to a few pixels), whose
    blocks differ by less than ``block_diff``: ``peak_ratio`` bounds the third-worst block over
    the mean difference (plus 0.2), since real copies differ a little everywhere and changed
    text only in a few blocks (not asked when a side is palette-coded, as a GIF: quantisation
    moves a few colours as much); ``text_spread`` bounds the number of interior blocks over 14
    levels over the squared mean difference (plus 0.5).

    The ``edited_*`` bounds apply after the best crop of up to ``edited_crop`` of each side is
    found to a fraction of a pixel and the tone curves are matched (see :mod:`picdup.edited`):
    ``edited_mean`` bounds the mean difference, ``edited_block_share`` the share of 4×4 blocks
    over ``block_diff``, and ``edited_shift`` the local misalignment left (thumbnail pixels; an
    edit moves the whole picture one way, another shot of the scene does not). Outside one corner
    window (a watermark's place), text must not stand out: a pair fails when its third-worst block
    there exceeds ``edited_peak`` × (mean + 0.2) while more interior blocks than ``edited_spread``
    × (mean + 0.5)² differ by over 14 levels, or when that ratio exceeds ``peak_ratio``.
    ``edited_crop_radius`` bounds the distance between the pHash of the middle of one thumbnail
    and the pHash of another (the extra candidate search for cropped copies).
    ``similar_mean`` bounds the normalised mean difference for ``similar``.
    """

    radius: int = 10
    mean_diff: float = 3.5
    block_diff: float = 22.0
    aspect: float = 0.35
    peak_ratio: float = 14.5
    text_spread: float = 2.0
    edited_radius: int = 18
    edited_mean: float = 2.6
    edited_block_share: float = 0.02
    edited_crop: float = 0.1
    edited_peak: float = 9.0
    edited_spread: float = 1.5
    edited_shift: float = 0.3
    edited_crop_radius: int = 14
    similar_radius: int = 22
    similar_mean: float = 16.0

    def __post_init__(self) -> None:
        for name in ("radius", "edited_radius", "edited_crop_radius", "similar_radius"):
            value = getattr(self, name)
            if not 0 <= value <= 32:
                raise ConfigError(f"{name} must be between 0 and 32, got {value}")
        for name in (
            "mean_diff",
            "block_diff",
            "peak_ratio",
            "text_spread",
            "aspect",
            "edited_mean",
            "edited_block_share",
            "edited_crop",
            "edited_peak",
            "edited_spread",
            "edited_shift",
            "similar_mean",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        if self.edited_crop > 0.3:
            raise ConfigError("edited_crop must be at most 0.3 (a share of each side)")

    def search_radius(self, mode: str) -> int:
        """The candidate radius for ``mode``: looser modes look further."""
        if mode == "similar":
            return max(self.radius, self.edited_radius, self.similar_radius)
        if mode == "edited":
            return max(self.radius, self.edited_radius)
        return self.radius


PRESETS: dict[str, Bounds] = {"near": Bounds(), "edited": Bounds(), "similar": Bounds()}


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
    ``rotations`` also finds copies that are flipped or turned by a quarter (90°, 180°, 270°),
    and in ``edited`` or ``similar`` mode copies tilted about the centre by another angle.
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
    rotations: bool = False

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
