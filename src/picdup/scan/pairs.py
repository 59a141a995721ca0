"""``--pairs``: files that are one photo, so that neither is offered for deletion against the other.

A camera set to RAW+JPEG writes ``IMG_0001.CR3`` and ``IMG_0001.JPG``; an iPhone Live Photo is
``IMG_0001.HEIC`` and ``IMG_0001.MOV``. They sit in the same folder and share the stem (the name
without its extension, compared case-insensitively). Such files form an :class:`Asset`: its
primary is the picture a viewer shows (JPEG, then HEIC, then any other picture), the rest are
companions. In the report, a group keeps at most one file of each asset (its keeper, or else its
first member), and the asset is listed in the report's ``assets``, so an action on that member
knows to take the companions along.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from picdup.model import Asset, FileRef, Group, MatchClass, Member
from picdup.scan.sniff import IMAGE_EXTENSIONS, RAW_EXTENSIONS, VIDEO_EXTENSIONS

__all__ = ["find_assets", "keep_assets_whole"]

# The still of a Live Photo, and the preference for the primary of an asset.
_PRIMARY_ORDER = ("jpg", "jpeg", "jpe", "heic", "heif", "hif", "png", "tif", "tiff", "webp", "avif")
_LIVE_STILLS = frozenset({"jpg", "jpeg", "heic", "heif", "hif"})
_LIVE_VIDEOS = frozenset({"mov", "mp4"})


def _ext(path: str) -> str:
    return os.path.splitext(path)[1].lstrip(".").lower()


def _primary_rank(path: str) -> tuple[int, str]:
    ext = _ext(path)
    rank = _PRIMARY_ORDER.index(ext) if ext in _PRIMARY_ORDER else len(_PRIMARY_ORDER)
    return rank, path


def find_assets(refs: Sequence[FileRef]) -> list[Asset]:
    """The assets among ``refs`` (every file the walk found, images or not), by folder and stem.

    Input: file refs; only names are used. Output: assets in path order, numbered from 1.
    Performance: one pass and a dictionary, linear in the number of files.
    """
    by_stem: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ref in refs:
        folder, name = os.path.split(ref.path)
        stem = os.path.splitext(name)[0]
        if stem:
            by_stem[(folder, stem.casefold())].append(ref.path)
    assets: list[Asset] = []
    for paths in by_stem.values():
        if len(paths) < 2:
            continue
        raws = [p for p in paths if _ext(p) in RAW_EXTENSIONS]
        pictures = [p for p in paths if _ext(p) in IMAGE_EXTENSIONS and p not in raws]
        videos = [p for p in paths if _ext(p) in VIDEO_EXTENSIONS]
        kinds: list[str] = []
        if raws and pictures:
            kinds.append("raw+jpeg")
        if (
            videos
            and any(_ext(p) in _LIVE_STILLS for p in pictures)
            and any(_ext(v) in _LIVE_VIDEOS for v in videos)
        ):
            kinds.append("live photo")
        if not kinds:
            continue
        primary = min(pictures, key=_primary_rank)
        members = [primary, *sorted(p for p in [*pictures, *raws, *videos] if p != primary)]
        assets.append(Asset(0, "+".join(kinds), primary, tuple(members)))
    assets.sort(key=lambda a: a.primary)
    return [replace(a, id=k) for k, a in enumerate(assets, 1)]


def keep_assets_whole(groups: Sequence[Group], assets: Sequence[Asset]) -> list[Group]:
    """Groups in which no two members belong to one asset.

    Of each asset, a group keeps its keeper if the keeper belongs to it, else its first member;
    the others are not duplicates to delete but parts of the same photo. A group left with one
    member is dropped.
    """
    asset_of = {path: a.id for a in assets for path in a.files}
    out: list[Group] = []
    for g in groups:
        seen: set[int] = set()
        kept: list[Member] = []
        keeper_asset = asset_of.get(g.keep)
        if keeper_asset is not None:
            seen.add(keeper_asset)
        for m in g.members:
            aid = asset_of.get(m.path)
            if m.path != g.keep and aid is not None:
                if aid in seen:
                    continue
                seen.add(aid)
            kept.append(m)
        if len(kept) == len(g.members):
            out.append(g)
        elif len(kept) > 1:
            out.append(_regroup(g, kept))
    return out


def _regroup(g: Group, members: list[Member]) -> Group:
    """``g`` with fewer members: its class and weakest member recomputed."""
    rest = [m for m in members if m.path != g.keep]
    loosest = max((MatchClass(m.cls) for m in rest), key=lambda c: c.rank)
    weakest = min(rest, key=lambda m: (m.score, -m.distance, m.path))
    return replace(
        g,
        cls=loosest.value,
        members=tuple(members),
        weakest={
            "path": weakest.path,
            "class": weakest.cls,
            "distance": weakest.distance,
            "score": weakest.score,
        },
    )
