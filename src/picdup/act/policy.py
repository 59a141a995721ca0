"""Which file of a group to keep: keep policies, ranked in the order the user gives them.

A policy is a name and a sort key (smaller is better); the keeper is the member with the
smallest tuple of keys, with the path as the last tie-breaker so the choice never depends on
order or chance. Each policy also says in words why it chose, for the plan.

The quality estimate (policy ``quality``):

* JPEG: the IJG quality factor (1–100) recovered from the luminance quantisation table, the
  way ``identify -verbose`` and libjpeg's scaling do it: the table's sum relative to the
  standard table gives the scale ``s`` (percent), and quality is ``(200 - s) / 2`` for
  ``s <= 100``, else ``5000 / s``.
* Lossless formats (PNG, BMP, TIFF, PNM, GIF is not: it drops colours): 100.
* Anything else (WebP, HEIC, AVIF, GIF …): unknown, ranked below any known quality.
* Ties, and files of unknown quality, are ranked by stored bytes per displayed pixel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from picdup.act.fileops import FileOps
from picdup.errors import ConfigError
from picdup.model import Member

__all__ = [
    "DEFAULT_KEEP",
    "POLICIES",
    "check_keep",
    "jpeg_quality",
    "quality_estimate",
    "rank_members",
    "under",
]

POLICIES: dict[str, str] = {
    "suggested": "the report's suggested keeper",
    "resolution": "largest resolution",
    "size": "largest file",
    "quality": "best quality estimate",
    "oldest": "oldest",
    "newest": "newest",
    "shortest-path": "shortest path",
}
DEFAULT_KEEP: tuple[str, ...] = (
    "suggested",
    "resolution",
    "size",
    "quality",
    "oldest",
    "shortest-path",
)

_LOSSLESS = {"PNG", "BMP", "TIFF", "PPM", "PGM", "PBM", "PNM", "QOI"}

# The standard luminance table of the JPEG specification (Annex K), natural order.
_STD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


def jpeg_quality(luma: Sequence[int]) -> int:
    """The IJG quality factor that produces a luminance table like ``luma`` (order does not
    matter: only the sum is used)."""
    scale = 100.0 * sum(luma) / sum(_STD_LUMA)
    quality = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return max(1, min(100, round(quality)))


def quality_estimate(path: str, fmt: str, ops: FileOps) -> int | None:
    """1–100, or ``None`` when it cannot be known without decoding (see the module's notes)."""
    kind = fmt.upper()
    if kind in _LOSSLESS:
        return 100
    if kind not in ("JPEG", "MPO"):
        return None
    try:
        with ops.open_read(path) as fh, Image.open(fh) as im:
            tables = getattr(im, "quantization", None)
            if not tables:
                return None
            return jpeg_quality(tables[min(tables)])
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return None


def under(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or inside it (compared as absolute, normalised paths)."""
    p = os.path.normpath(os.path.abspath(path))
    f = os.path.normpath(os.path.abspath(folder))
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)


@dataclass(frozen=True, slots=True)
class _Criterion:
    name: str
    key: Callable[[Member], object]
    says: Callable[[Member], str]


def _criteria(
    keep: Sequence[str],
    prefer: Sequence[str],
    suggested: str,
    suggested_why: str,
    ops: FileOps,
) -> list[_Criterion]:
    qualities: dict[str, int | None] = {}

    def quality(m: Member) -> int | None:
        if m.path not in qualities:
            qualities[m.path] = quality_estimate(m.path, m.format, ops)
        return qualities[m.path]

    def bpp(m: Member) -> float:
        return m.size / max(1, m.width * m.height)

    def q_text(m: Member) -> str:
        q = quality(m)
        if q is None:
            known = "quality unknown"
        elif m.format.upper() in _LOSSLESS:
            known = "lossless"
        else:
            known = f"JPEG quality ≈{q}"
        return f"best quality estimate ({known}, {bpp(m):.2f} B/px)"

    out: list[_Criterion] = []
    if prefer:
        out.append(
            _Criterion(
                "prefer",
                lambda m: not any(under(m.path, d) for d in prefer),
                lambda m: (
                    "under a preferred folder (" + next(d for d in prefer if under(m.path, d)) + ")"
                ),
            )
        )
    table: dict[str, _Criterion] = {
        "suggested": _Criterion(
            "suggested",
            lambda m: m.path != suggested,
            lambda m: (
                "the report's suggested keeper" + (f": {suggested_why}" if suggested_why else "")
            ),
        ),
        "resolution": _Criterion(
            "resolution",
            lambda m: -m.width * m.height,
            lambda m: f"largest resolution ({m.width}×{m.height})",
        ),
        "size": _Criterion("size", lambda m: -m.size, lambda m: f"largest file ({m.size:,} bytes)"),
        "quality": _Criterion(
            "quality",
            lambda m: (-(q if (q := quality(m)) is not None else -1), -bpp(m)),
            q_text,
        ),
        "oldest": _Criterion("oldest", lambda m: m.mtime_ns, lambda m: f"oldest ({m.mtime})"),
        "newest": _Criterion("newest", lambda m: -m.mtime_ns, lambda m: f"newest ({m.mtime})"),
        "shortest-path": _Criterion(
            "shortest-path", lambda m: len(m.path), lambda m: "shortest path"
        ),
    }
    out += [table[name] for name in keep]
    return out


def check_keep(keep: Sequence[str]) -> tuple[str, ...]:
    """Validate policy names (fail fast); duplicates are dropped, order kept."""
    names = tuple(dict.fromkeys(k.strip() for k in keep if k.strip()))
    bad = [k for k in names if k not in POLICIES]
    if bad:
        raise ConfigError(
            f"unknown keep policy {bad[0]!r}; choose from {', '.join(POLICIES)} "
            "(comma-separated, in order of priority)"
        )
    if "oldest" in names and "newest" in names:
        raise ConfigError("keep policies 'oldest' and 'newest' contradict each other; pick one")
    return names


def rank_members(
    members: Sequence[Member],
    *,
    keep: Sequence[str],
    prefer: Sequence[str],
    suggested: str,
    suggested_why: str = "",
    ops: FileOps,
) -> tuple[list[Member], str]:
    """Members best first, and why the first one beats the runner-up, in words."""
    criteria = _criteria(keep, prefer, suggested, suggested_why, ops)

    def key(m: Member) -> tuple[object, ...]:
        return (*(c.key(m) for c in criteria), m.path)

    ranked = sorted(members, key=key)
    if len(ranked) < 2:
        return ranked, "only candidate"
    best, *rest = ranked
    # Every criterion that told the keeper apart from some other member, strongest first.
    deciding: set[int] = set()
    ties = 0
    for other in rest:
        for k, c in enumerate(criteria):
            if c.key(best) != c.key(other):
                deciding.add(k)
                break
        else:
            ties += 1
    if not deciding:
        return ranked, "all policies tie; first path in order"
    why = "; then ".join(criteria[k].says(best) for k in sorted(deciding))
    if ties:
        why += f"; ties with {ties} other{'s' * (ties != 1)} on every policy, first path in order"
    return ranked, why
