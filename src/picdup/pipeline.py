"""The order of stages, from roots to report. The only module that knows it."""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import Future
from datetime import datetime, timezone

import numpy as np

from picdup._arrays import unique
from picdup._version import __version__
from picdup.cache import FingerprintCache, algorithm_key, default_cache_path, pixel_key
from picdup.cache.paths import default_cache_dir
from picdup.cache.verdicts import drop_not_duplicates
from picdup.edited import with_cropped_candidates
from picdup.engine import LocalEngine, fingerprint_all, pixel_digest_all
from picdup.engine.local import submit_pixel_digests
from picdup.errors import CacheError, ConfigError
from picdup.evidence import EvidenceBank
from picdup.fingerprint import SKIPPED, fingerprint_file
from picdup.group import star_clusters, verified_stars
from picdup.index import closest_per_pair, pairs_across, pairs_within
from picdup.index.archive import (
    ARCHIVE_SUFFIX,
    ArchiveIndex,
    arrays_from_fingerprints,
    is_archive_index,
    merge_arrays,
    write_archive_index,
)
from picdup.model import (
    Asset,
    FileError,
    FileRef,
    Fingerprint,
    Group,
    Match,
    MatchClass,
    Member,
    Report,
    Stats,
)
from picdup.options import ScanOptions
from picdup.progress import CancelToken, NullProgress, Progress
from picdup.scan.pairs import find_assets, keep_assets_whole
from picdup.scan.remote import is_url, resolve_all_roots, walk_all
from picdup.tilt import tilted_pairs
from picdup.verify import ThumbStack, measure_settings, verify_pairs

log = logging.getLogger("picdup.cache")

__all__ = [
    "archive_index_path",
    "find_duplicates",
    "find_in_archive",
    "fingerprint_files",
    "match_against",
    "run_against",
    "run_scan",
    "update_archive",
]

# In pixel mode only pairs whose hashes agree almost exactly are worth a full decode.
_PIXEL_RADIUS = 2


def find_duplicates(
    paths: Iterable[str | os.PathLike[str]],
    *,
    mode: str = "near",
    separate: bool = False,
    rotations: bool = False,
    jobs: int | None = None,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> Report:
    """Find duplicate images under ``paths`` and return a :class:`~picdup.model.Report`.

    Input: folders (or single files); ``mode`` is the loosest class that counts as a duplicate
    (``exact``, ``pixel``, ``near``, ``edited`` or ``similar``); ``separate`` deduplicates each
    root on its own; ``rotations`` also finds flipped and quarter-turned copies (and, in
    ``edited`` or ``similar`` mode, copies tilted by another angle).
    ``options`` overrides everything else when given.

    Output: a report whose groups each hold a suggested keeper and files that all match that
    keeper directly; unreadable files are in ``report.errors``.

    Errors: :class:`~picdup.errors.ConfigError` for bad options and
    :class:`~picdup.errors.InputError` for a missing or unreadable root, both before any file is
    read; :class:`~picdup.errors.Cancelled` when ``cancel`` is set. A bad file never raises.

    Performance: each file is read once and decoded once at reduced size, in ``jobs`` worker
    processes, and its fingerprint is cached (SQLite, keyed by path, size, mtime and the
    algorithm), so a rescan of an unchanged tree only stats files; candidate pairs come from a
    multi-index Hamming search (about linear in the number of images), and only candidates are
    compared pixel by pixel, each pair at most once (its evidence is cached too, keyed by both
    files' contents). Memory is linear in the number of images (16 KiB of thumbnail each).

    Algorithm:
      1. walk the roots (no symlinks followed, hidden files skipped, special files never opened);
      2. exact mode: group by size, digest only files whose size is shared, group by digest;
      3. other modes: fingerprint every file (digest, one reduced decode, hashes, thumbnail);
      4. per scope (each root with ``separate``, else all): group byte-identical files, search
         pHash candidates among one representative per digest, verify each candidate pair on
         pixels, and build star groups around the best copy, so nothing chains.
    """
    if options is None:
        options = _options(jobs, mode=mode, separate=separate, rotations=rotations)
    return run_scan(paths, options, progress=progress, cancel=cancel)


def _options(jobs: int | None, **kwargs: object) -> ScanOptions:
    """ScanOptions from API keywords; ``jobs=None`` keeps the default (all cores)."""
    if jobs is not None:
        kwargs["jobs"] = jobs
    return ScanOptions(**kwargs)  # type: ignore[arg-type]


def run_scan(
    paths: Iterable[str | os.PathLike[str]],
    options: ScanOptions,
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    command: Sequence[str] | None = None,
) -> Report:
    """:func:`find_duplicates` with options already built (the CLI's entry point)."""
    started = time.monotonic()
    sink = progress or NullProgress()
    _check_engine(options)
    roots = resolve_all_roots(paths)
    engine = LocalEngine(options.jobs)  # workers start only if something needs decoding
    try:
        sink.phase("walk", None)
        walked = walk_all(
            roots,
            follow_symlinks=options.follow_symlinks,
            include_hidden=options.include_hidden,
            cancel=cancel,
        )
        exact_only = options.mode == "exact"
        refs = group_by_size(walked.files) if exact_only else walked.files
        fps = fingerprint_files(
            refs,
            options,
            decode=not exact_only,
            progress=sink,
            cancel=cancel,
            engine=engine,
            thumbs=False,
        )
        good, errors, skipped = split_results(fps)
        errors = [*walked.errors, *errors]
        skipped.update(walked.skipped)
        sink.phase("match", None)
        groups: list[Group] = []
        for scope_root, scope in scopes(good, roots, options.separate):
            groups.extend(match_scope(scope, options, scope_root, cancel, engine=engine))
        groups, assets = pair_assets(groups, walked.files, options)
    finally:
        engine.close()
        sink.done()
    groups.sort(key=lambda g: (g.root or "", g.keep))
    groups = [_renumber(g, k) for k, g in enumerate(groups, 1)]
    stats = Stats(
        files=len(walked.files),
        images=len(good),
        skipped=sum(skipped.values()),
        groups=len(groups),
        duplicates=sum(len(g.members) - 1 for g in groups),
        reclaimable_bytes=sum(g.reclaimable_bytes for g in groups),
        seconds=round(time.monotonic() - started, 3),
    )
    return Report(
        roots=tuple(roots),
        options=options.to_dict(),
        stats=stats,
        errors=tuple(sorted(errors, key=lambda e: e.path)),
        groups=tuple(groups),
        command=tuple(command if command is not None else sys.argv),
        created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tool_version=__version__,
        skipped=dict(sorted(skipped.items())),
        assets=tuple(assets),
    )


def open_cache(options: ScanOptions, *, warn: bool) -> FingerprintCache | None:
    """The scan's cache, or None without one. A ``--cache`` file that cannot be opened is an
    error; the default one (a read-only home, another user's folder) only costs a warning."""
    if not options.use_cache:
        return None
    try:
        return FingerprintCache(options.cache_path or default_cache_path())
    except CacheError as exc:
        if options.cache_path is not None:
            raise
        if warn:
            log.warning("%s; scanning without the cache", exc)
        return None


def _check_engine(options: ScanOptions) -> None:
    """Fail before any work when the chosen engine is not installed."""
    if options.engine == "dask":
        from picdup.engine.dask import check_dask

        check_dask()


def fingerprint_files(
    refs: Sequence[FileRef],
    options: ScanOptions,
    *,
    decode: bool,
    progress: Progress,
    cancel: CancelToken | None,
    engine: LocalEngine | None = None,
    thumbs: bool = True,
) -> list[Fingerprint]:
    """Fingerprints of ``refs``: from the cache where the file and the algorithm are unchanged,
    computed by the workers for the rest and streamed into the cache as they arrive.

    A rescan of an unchanged tree therefore only stats files; an interrupted scan keeps every
    batch already written, and the next run computes only what is left. With ``thumbs=False``
    and a cache, the fingerprints come without their verification thumbnails (16 KiB each,
    most of a fingerprint's size), which :func:`load_thumbs` reads back for the few pictures
    that turn out to need one.
    """
    cache = open_cache(options, warn=True)
    if cache is None:
        return fingerprint_all(
            refs,
            jobs=options.jobs,
            max_pixels=options.max_pixels,
            decode=decode,
            progress=progress,
            cancel=cancel,
            engine=engine,
            backend=options.engine,
            scheduler=options.scheduler,
        )
    key = algorithm_key(max_pixels=options.max_pixels, decode=decode)
    # A full fingerprint also answers exact mode (it has the digest and the header facts).
    keys = [key] if decode else [key, algorithm_key(max_pixels=options.max_pixels, decode=True)]
    with cache:
        progress.phase("cache", None)
        hits, misses = cache.lookup(refs, keys, thumbs=thumbs)
        if cancel is not None:
            cancel.check()
        computed = fingerprint_all(
            misses,
            jobs=options.jobs,
            max_pixels=options.max_pixels,
            decode=decode,
            progress=progress,
            cancel=cancel,
            on_result=lambda fp: cache.add(fp, key),
            engine=engine,
            backend=options.engine,
            scheduler=options.scheduler,
            keep=None if thumbs else _without_thumb,
        )
    return hits + computed


def _without_thumb(fp: Fingerprint) -> Fingerprint:
    return dataclasses.replace(fp, thumb=b"") if fp.thumb else fp


def load_thumbs(
    fps: Sequence[Fingerprint], rows: Iterable[int], options: ScanOptions
) -> dict[int, bytes]:
    """The thumbnails of ``fps[k]`` for ``k`` in ``rows`` that came without one (see
    :func:`fingerprint_files`): from the cache, else from the file again if it still has the
    fingerprinted content. A picture whose thumbnail cannot be had is left out: it is then
    compared with nothing, never with an empty thumbnail."""
    missing = [k for k in rows if fps[k].info is not None and not fps[k].thumb]
    if not missing:
        return {}
    found: dict[str, bytes] = {}
    cache = open_cache(options, warn=False)
    if cache is not None:
        with cache:
            key = algorithm_key(max_pixels=options.max_pixels, decode=True)
            found = cache.thumbs([fps[k].ref for k in missing], [key])
    out: dict[int, bytes] = {}
    for k in missing:
        thumb = found.get(fps[k].ref.path)
        if thumb is None:
            again = fingerprint_file(fps[k].ref, max_pixels=options.max_pixels)
            if again.ok and again.digest == fps[k].digest:
                thumb = again.thumb
        if thumb:
            out[k] = thumb
        else:
            log.warning("%s: its thumbnail is no longer available; not compared", fps[k].ref.path)
    return out


def pair_assets(
    groups: list[Group], files: Sequence[FileRef], options: ScanOptions
) -> tuple[list[Group], list[Asset]]:
    """With ``--pairs``: RAW+JPEG and Live Photo files are one asset, never each other's copy."""
    if not options.pairs:
        return groups, []
    assets = find_assets(files)
    return keep_assets_whole(groups, assets), assets


def group_by_size(refs: Sequence[FileRef]) -> list[FileRef]:
    """Only files that share their size with another can be byte-identical."""
    sizes = Counter(r.size for r in refs)
    return [r for r in refs if sizes[r.size] > 1 and r.size > 0]


def split_results(
    fps: Sequence[Fingerprint],
) -> tuple[list[Fingerprint], list[FileError], Counter[str]]:
    """Readable images, unreadable images (errors), and non-images (skipped, by reason)."""
    good: list[Fingerprint] = []
    errors: list[FileError] = []
    skipped: Counter[str] = Counter()
    for fp in fps:
        if fp.ok:
            good.append(fp)
        elif fp.error and fp.error.startswith(SKIPPED):
            skipped[fp.error.removeprefix(SKIPPED)] += 1
        else:
            errors.append(FileError(fp.ref.path, fp.error or "unknown error"))
    return good, errors, skipped


def scopes(
    fps: list[Fingerprint], roots: Sequence[str], separate: bool
) -> list[tuple[str | None, list[Fingerprint]]]:
    """One scope of all files, or one per root with ``separate``."""
    if not separate:
        return [(None, fps)]
    by_root: dict[str, list[Fingerprint]] = defaultdict(list)
    for fp in fps:
        by_root[fp.ref.root].append(fp)
    return [(root, by_root[root]) for root in roots if by_root.get(root)]


def _dims(fp: Fingerprint) -> tuple[int, int]:
    """Size of the picture itself: the trimmed content when known, else the whole image."""
    if fp.content_width and fp.content_height:
        return fp.content_width, fp.content_height
    return (fp.info.width, fp.info.height) if fp.info is not None else (0, 0)


def _criteria(fp: Fingerprint) -> tuple[int, int, int]:
    """Keeper preference, smaller first: most content pixels, largest file, shortest path."""
    w, h = _dims(fp)
    return (-w * h, -fp.ref.size, len(fp.ref.path))


def _rank(fp: Fingerprint) -> tuple[tuple[int, int, int], str]:
    """:func:`_criteria`, made total by the path."""
    return (_criteria(fp), fp.ref.path)


# Formats a camera, phone or app writes first. A copy with the very same pixels in a lossless
# container (PNG, BMP, TIFF) was made from such a file by conversion, and is larger: ranking on
# file size alone would keep the conversion and throw the original away.
_ORIGINAL_FORMATS = frozenset({"JPEG", "MPO", "HEIF", "HEIC", "AVIF", "WEBP"})


def _is_original_format(fp: Fingerprint) -> bool:
    return fp.info is not None and fp.info.format.upper() in _ORIGINAL_FORMATS


def prefer_original(
    fps: Sequence[Fingerprint], centre: int, matches: list[Match]
) -> tuple[int, list[Match]]:
    """Move a star's centre from a lossless conversion to its pixel-identical original.

    Only ``pixel`` members qualify: they have the keeper's very pixels, so every other member's
    evidence against the old keeper holds against the new one unchanged.
    """
    if _is_original_format(fps[centre]):
        return centre, matches
    twins = [
        m.b if m.a == centre else m.a
        for m in matches
        if m.cls is MatchClass.PIXEL and _is_original_format(fps[m.b if m.a == centre else m.a])
    ]
    if not twins:
        return centre, matches
    best = min(twins, key=lambda k: _rank(fps[k]))
    moved = []
    for m in matches:
        other = m.b if m.a == centre else m.a
        moved.append(Match(best, centre if other == best else other, m.cls, m.distance, m.score))
    return best, moved


def match_scope(
    fps: list[Fingerprint],
    options: ScanOptions,
    root: str | None,
    cancel: CancelToken | None = None,
    *,
    engine: LocalEngine | None = None,
) -> list[Group]:
    """Group the fingerprints of one scope: exact first, then verified candidates, as stars."""
    fps = sorted(fps, key=lambda f: f.ref.path)  # the result must not depend on input order
    by_digest: dict[str, list[int]] = defaultdict(list)
    for k, fp in enumerate(fps):
        by_digest[fp.digest].append(k)
    # One representative per distinct content: byte copies need no search and no verification.
    reps = sorted(min(ks, key=lambda k: _rank(fps[k])) for ks in by_digest.values())
    mates = {r: [k for k in by_digest[fps[r].digest] if k != r] for r in reps}

    matches: list[Match] = []
    if options.mode != "exact" and len(reps) > 1:
        rep_fps = [fps[r] for r in reps]
        matches = candidate_matches(
            rep_fps, options, cancel, lambda k: _rank(rep_fps[k]), engine=engine
        )
        matches = [Match(reps[m.a], reps[m.b], m.cls, m.distance, m.score) for m in matches]
        matches = drop_not_duplicates(fps, matches, mates)  # a person said these differ
    # Byte-identical copies of a representative that matched nothing still form a group.
    matched = {m.a for m in matches} | {m.b for m in matches}
    stars = [
        prefer_original(fps, c, ms) for c, ms in star_clusters(matches, lambda k: _rank(fps[k]))
    ]
    stars += [(r, []) for r in reps if mates[r] and r not in matched]
    return [build_group(fps, centre, ms, mates, root) for centre, ms in stars]


def candidate_matches(
    reps: list[Fingerprint],
    options: ScanOptions,
    cancel: CancelToken | None,
    rank: Callable[[int], Hashable] | None = None,
    *,
    engine: LocalEngine | None = None,
) -> list[Match]:
    """pHash candidates from the index, confirmed and classified on pixels.

    With ``rank`` (the keeper preference of :func:`match_scope`), only the pairs that star
    grouping needs are verified (:func:`~picdup.group.verified_stars`); without it every
    candidate pair is.

    With ``options.rotations`` the pHash of each picture's 7 flips and quarter turns (kept in
    its fingerprint) is searched against the plain hashes too, and the turn found is handed to
    verification, which turns the thumbnail the same way. In ``edited`` and ``similar`` mode
    it also searches the pictures' middles for copies tilted by another angle
    (:func:`tilted_matches`).
    """
    hashes = np.fromiter((fp.phash for fp in reps), dtype=np.uint64, count=len(reps))
    radius = (
        _PIXEL_RADIUS if options.mode == "pixel" else options.bounds.search_radius(options.mode)
    )
    i, j, d = pairs_within(hashes, radius, threads=options.jobs)
    turns = np.zeros(len(i), dtype=np.int64)
    if options.rotations and options.mode != "pixel":
        i, j, d, turns = _with_turned_candidates(
            reps, hashes, radius, (i, j, d), cancel, options.jobs
        )
    if cancel is not None:
        cancel.check()
    crop_search = options.mode in ("edited", "similar") and options.bounds.edited_crop > 0
    tilt_search = options.rotations and options.loosest.rank >= MatchClass.EDITED.rank
    # Only the crop and tilt searches read every thumbnail; otherwise only the candidates'.
    rows = None if crop_search or tilt_search else unique(np.concatenate([i, j]))
    loaded = load_thumbs(reps, range(len(reps)) if rows is None else rows.tolist(), options)
    stack = ThumbStack.of(reps, rows=rows, thumbs=loaded)
    has = np.array([bool(fp.thumb) or k in loaded for k, fp in enumerate(reps)], dtype=bool)
    del loaded  # the stack holds them now: keeping both would hold each thumbnail twice
    if crop_search:
        i, j, d, turns = with_cropped_candidates(
            stack.thumbs, hashes, options.bounds.edited_crop_radius, (i, j, d, turns), options.jobs
        )
    if not has.all():
        # A picture without a thumbnail (none stored, none could be read again) has no
        # evidence: its candidate pairs are dropped rather than measured on a blank.
        keep = has[i] & has[j]
        i, j, d, turns = i[keep], j[keep], d[keep], turns[keep]
    bounds, loosest = options.bounds, options.loosest
    cache = open_cache(options, warn=False)
    try:
        bank = EvidenceBank(
            reps,
            stack,
            i,
            j,
            turns,
            measure_settings(bounds, loosest),
            cache=cache,
            fingerprint_key=algorithm_key(max_pixels=options.max_pixels, decode=True),
        )
        try:
            matches = _verify_candidates(
                reps, stack, bank, (i, j, d, turns), options, cancel, rank, engine
            )
        finally:
            bank.flush()
    finally:
        if cache is not None:
            cache.close()
    if tilt_search:
        if cancel is not None:
            cancel.check()
        matches += tilted_matches(stack, hashes, matches, options, rank, has)
    return matches


def tilted_matches(
    stack: ThumbStack,
    hashes: np.ndarray,
    found: list[Match],
    options: ScanOptions,
    rank: Callable[[int], Hashable] | None = None,
    has_thumb: np.ndarray | None = None,
) -> list[Match]:
    """``edited`` matches of copies turned by an angle that is no quarter turn
    (:mod:`picdup.tilt`), among the pictures ``has_thumb`` marks (default: all).

    Only one picture of each set that ``found`` links already is searched, the one ``rank``
    prefers (the keeper star grouping makes of it): a tilted copy must match the keeper to
    join its group, and comparing it with every other copy of the same picture would cost as
    many verifications for nothing.
    """
    labels = _components(len(hashes), found)
    heads: dict[int, int] = {}
    for k, label in enumerate(labels.tolist()):
        head = heads.get(label)
        if head is None or (rank is not None and rank(k) < rank(head)):  # type: ignore[operator]
            heads[label] = k
    searched = np.zeros(len(hashes), dtype=bool)
    searched[list(heads.values())] = True
    if has_thumb is not None:
        searched &= has_thumb
    known = {(min(m.a, m.b), max(m.a, m.b)) for m in found}
    out = []
    for a, b, _angle, norm_mean in tilted_pairs(
        stack,
        known,
        options.bounds,
        options.loosest,
        threads=options.jobs,
        searched=searched,
    ):
        distance = int(np.bitwise_count(hashes[a] ^ hashes[b]))
        score = round(1.0 - norm_mean / 255.0, 4)
        out.append(Match(a, b, MatchClass.EDITED, distance, score))
    return out


def _components(n: int, matches: list[Match]) -> np.ndarray:
    """A label per picture, equal for pictures linked by a chain of ``matches``."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in matches:
        ra, rb = root(m.a), root(m.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(x) for x in range(n)], dtype=np.int64)


def _verify_candidates(
    reps: list[Fingerprint],
    stack: ThumbStack,
    bank: EvidenceBank,
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    options: ScanOptions,
    cancel: CancelToken | None,
    rank: Callable[[int], Hashable] | None,
    engine: LocalEngine | None,
) -> list[Match]:
    """The verification half of :func:`candidate_matches`, every pair's evidence from ``bank``."""
    i, j, d, turns = candidates
    bounds, loosest = options.bounds, options.loosest
    # First pass, over the pairs that can ask for a pixel digest at all (equal displayed size,
    # hashes almost equal): only learn which files need one (a full decode each), so those are
    # read from the cache or decoded on every core at once rather than one by one. The bank
    # keeps the evidence, so the second pass does not measure these pairs again.
    sizes = np.array([(fp.info.width, fp.info.height) if fp.info else (-1, -1) for fp in reps])
    maybe = np.flatnonzero(
        (d <= _PIXEL_RADIUS) & (turns == 0) & np.all(sizes[i] == sizes[j], axis=1)
    )
    wanted: set[tuple[int, int]] = set()

    def record(a: int, b: int) -> bool:
        wanted.add((a, b))
        return False

    confirmed = verify_pairs(
        reps,
        stack,
        i[maybe],
        j[maybe],
        d[maybe],
        bounds,
        loosest,
        record,
        turns[maybe],
        evidence=bank.get(maybe, bounds),
    )
    order = _in_star_order(wanted, [(m.a, m.b) for m in confirmed], rank)
    with _PixelDigests([reps[k] for k in order], options, cancel, engine) as found:

        def same_pixels(a: int, b: int) -> bool:
            return _equal_digests(found.get(reps[a]), found.get(reps[b]))

        return _verify_rest(reps, stack, bank, candidates, options, cancel, rank, same_pixels)


def _equal_digests(a: str | None, b: str | None) -> bool:
    """Whether two pixel digests are known and equal (None: the file could not be decoded)."""
    return a is not None and a == b


def _in_star_order(
    wanted: set[tuple[int, int]],
    confirmed: list[tuple[int, int]],
    rank: Callable[[int], Hashable] | None,
) -> list[int]:
    """The files whose pixels verification is likely to compare, about in the order it does.

    The first pass asks about every pair that could be ``pixel`` (``wanted``), but stars
    (verification with ``rank``) only compare a centre with its members. They are foreseen
    from the pairs the first pass ``confirmed`` without pixels and the wanted ones, as if those
    were all the matches: centres in rank order, each taking its unplaced neighbours. The files
    of a wanted pair that joins such a centre to a member are returned, in their centre's
    order; the workers decode them in that order while thumbnails are measured, and any other
    file is decoded only if it is asked for. On the synthetic set of seed 1 this left 361 full
    decodes of 551 (a HEIC or WebP copy is close enough to a JPEG copy to be wanted, but the
    stars compare each with the keeper, a PNG, only) and took the match phase from 7.0 s to
    5.2 s. Without stars every wanted pair is compared: all their files, in index order.
    """
    files = sorted({k for pair in wanted for k in pair})
    if rank is None or not wanted:
        return files

    def all_confirmed(centre: int, others: list[int]) -> list[Match]:
        return [Match(centre, o, MatchClass.NEAR, 0, 1.0) for o in others]

    foreseen = verified_stars([*confirmed, *wanted], rank, all_confirmed)
    soonest: dict[int, int] = {}
    for n, m in enumerate(foreseen):
        if (m.a, m.b) in wanted or (m.b, m.a) in wanted:
            soonest.setdefault(m.a, n)
            soonest.setdefault(m.b, n)
    return sorted(soonest, key=lambda k: (soonest[k], k))


def _verify_rest(
    reps: list[Fingerprint],
    stack: ThumbStack,
    bank: EvidenceBank,
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    options: ScanOptions,
    cancel: CancelToken | None,
    rank: Callable[[int], Hashable] | None,
    same_pixels: Callable[[int, int], bool],
) -> list[Match]:
    """Verify the candidates (as stars when ``rank`` is given), every pair measured by ``bank``."""
    i, j, d, turns = candidates
    bounds, loosest = options.bounds, options.loosest
    if rank is None:
        ev = bank.get(np.arange(len(i)), bounds)
        return verify_pairs(reps, stack, i, j, d, bounds, loosest, same_pixels, turns, evidence=ev)
    index = {
        (int(a), int(b)): k for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True))
    }

    def verify(centre: int, others: list[int]) -> list[Match]:
        if cancel is not None:
            cancel.check()
        ks = np.array(
            [index[(centre, o)] if (centre, o) in index else index[(o, centre)] for o in others],
            dtype=np.int64,
        )
        return verify_pairs(
            reps,
            stack,
            i[ks],
            j[ks],
            d[ks],
            bounds,
            loosest,
            same_pixels,
            turns[ks],
            evidence=bank.get(ks, bounds),
        )

    return verified_stars(zip(i.tolist(), j.tolist(), strict=True), rank, verify)


def _turned_hashes(reps: list[Fingerprint], code: int) -> np.ndarray:
    out = np.zeros(len(reps), dtype=np.uint64)
    lo, hi = 8 * (code - 1), 8 * code
    for k, fp in enumerate(reps):
        if len(fp.phash_turns) >= hi:
            out[k] = int.from_bytes(fp.phash_turns[lo:hi], "big")
    return out


def _with_turned_candidates(
    reps: list[Fingerprint],
    hashes: np.ndarray,
    radius: int,
    plain: tuple[np.ndarray, np.ndarray, np.ndarray],
    cancel: CancelToken | None,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add pairs ``(a, b)`` where turn ``code`` of ``a`` is within ``radius`` of ``b``.

    Each turn is one more index search over the turned and the plain hashes together, keeping
    only pairs across the two halves. Per unordered pair the closest candidate wins (plain first
    on ties), so verification measures each pair once.
    """
    parts_i, parts_j, parts_d = [plain[0]], [plain[1]], [plain[2].astype(np.int64)]
    parts_t = [np.zeros(len(plain[0]), dtype=np.int64)]
    for code in range(1, 8):
        if cancel is not None:
            cancel.check()
        pi, pj, pd = pairs_across(_turned_hashes(reps, code), hashes, radius, threads=threads)
        parts_i.append(pi)
        parts_j.append(pj)
        parts_d.append(pd.astype(np.int64))
        parts_t.append(np.full(len(pi), code, dtype=np.int64))
    i, j = np.concatenate(parts_i), np.concatenate(parts_j)
    d, t = np.concatenate(parts_d), np.concatenate(parts_t)
    keep = closest_per_pair(i, j, d, t)
    return i[keep], j[keep], d[keep], t[keep]


class _PixelDigests:
    """Pixel digests of ``fps``, from the cache or decoding on the workers *while* the caller
    goes on measuring thumbnails; :meth:`get` waits only for the file it asks for. Files not
    among ``fps`` are computed when asked for. Fresh digests are cached on exit.

    Files of one stream digest (the same coded JPEG, other metadata) have the same pixels: one
    of them is decoded and the others share its digest.
    """

    def __init__(
        self,
        fps: Sequence[Fingerprint],
        options: ScanOptions,
        cancel: CancelToken | None,
        engine: LocalEngine | None,
    ) -> None:
        self._options, self._cancel = options, cancel
        self._known: dict[str, str | None] = {}
        self._fresh: list[tuple[FileRef, str]] = []
        self._futures: dict[str, tuple[FileRef, Future[str | None]]] = {}
        # Stream digest -> the file whose pixel digest stands for all files of that stream.
        self._stands_for: dict[str, FileRef] = {}
        todo = [fp.ref for fp in fps]
        if todo and options.use_cache:
            cache = open_cache(options, warn=False)
            if cache is not None:
                with cache:
                    self._known.update(
                        cache.pixel_digests(todo, pixel_key(max_pixels=options.max_pixels))
                    )
        for fp in fps:  # a cached digest first, so that no other file of its stream is decoded
            if fp.stream_digest and fp.ref.path in self._known:
                self._stands_for.setdefault(fp.stream_digest, fp.ref)
        own: list[FileRef] = []
        for fp in fps:
            if fp.ref.path in self._known:
                continue
            stream = fp.stream_digest
            if stream and self._stands_for.setdefault(stream, fp.ref).path != fp.ref.path:
                continue
            own.append(fp.ref)
        if engine is not None and options.jobs > 1 and len(own) > 1:
            futures = submit_pixel_digests(
                [r.path for r in own], max_pixels=options.max_pixels, engine=engine
            )
            self._futures = {r.path: (r, f) for r, f in zip(own, futures, strict=True)}
        elif own:
            found = pixel_digests(own, options, cancel)
            self._known.update({r.path: found.get(r.path) for r in own})

    def get(self, fp: Fingerprint) -> str | None:
        ref = fp.ref
        if ref.path in self._known:
            return self._known[ref.path]
        proxy = self._stands_for.setdefault(fp.stream_digest, ref) if fp.stream_digest else ref
        if proxy.path != ref.path:
            return self._learn(ref, self._digest(proxy))
        return self._digest(ref)

    def _learn(self, ref: FileRef, digest: str | None) -> str | None:
        """Record ``ref``'s digest just computed (or shared), to be cached on exit."""
        self._known[ref.path] = digest
        if digest is not None:
            self._fresh.append((ref, digest))  # a later scan finds it in the cache
        return digest

    def _digest(self, ref: FileRef) -> str | None:
        if ref.path not in self._known:
            pending = self._futures.pop(ref.path, None)
            if pending is None:  # not foreseen by the first pass: compute it now
                found = pixel_digests([ref], self._options, self._cancel)
                self._known[ref.path] = found.get(ref.path)
            else:
                self._learn(ref, pending[1].result())
            if self._cancel is not None:
                self._cancel.check()
        return self._known[ref.path]

    def __enter__(self) -> _PixelDigests:
        return self

    def __exit__(self, *exc: object) -> None:
        # Digests that finished but were never asked for are kept too: a later scan needs them.
        for ref, fut in self._futures.values():
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                digest = fut.result()
                if digest is not None:
                    self._fresh.append((ref, digest))
            else:
                fut.cancel()
        self._futures = {}
        if self._fresh and self._options.use_cache:
            cache = open_cache(self._options, warn=False)
            if cache is not None:
                with cache:
                    cache.add_pixel_digests(
                        self._fresh, pixel_key(max_pixels=self._options.max_pixels)
                    )
        self._fresh = []


def pixel_digests(
    refs: Sequence[FileRef],
    options: ScanOptions,
    cancel: CancelToken | None,
    *,
    engine: LocalEngine | None = None,
) -> dict[str, str]:
    """Pixel digests of ``refs`` by path (files that cannot be decoded are left out): from the
    cache where the file is unchanged, else decoded in full on ``jobs`` cores and cached."""
    if not refs:
        return {}
    found: dict[str, str] = {}
    todo = list(refs)
    cache = open_cache(options, warn=False)
    key = pixel_key(max_pixels=options.max_pixels)
    try:
        if cache is not None:
            found = cache.pixel_digests(refs, key)
            todo = [r for r in refs if r.path not in found]
        computed = pixel_digest_all(
            [r.path for r in todo],
            jobs=options.jobs,
            max_pixels=options.max_pixels,
            cancel=cancel,
            engine=engine,
        )
        fresh = [(r, dg) for r, dg in zip(todo, computed, strict=True) if dg is not None]
        found.update((r.path, dg) for r, dg in fresh)
        if cache is not None:
            cache.add_pixel_digests(fresh, key)
    finally:
        if cache is not None:
            cache.close()
    return found


def _iso(mtime_ns: int) -> str:
    dt = datetime.fromtimestamp(mtime_ns / 1e9, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _member(fp: Fingerprint, cls: str, distance: int, score: float) -> Member:
    info = fp.info
    return Member(
        path=fp.ref.path,
        size=fp.ref.size,
        mtime=_iso(fp.ref.mtime_ns),
        width=info.width if info else 0,
        height=info.height if info else 0,
        format=info.format if info else "",
        cls=cls,
        distance=distance,
        score=score,
        mtime_ns=fp.ref.mtime_ns,
        digest=fp.digest,
        etag=fp.ref.etag,
    )


def _why(
    keeper: Fingerprint, others: Sequence[Fingerprint], conversions: Sequence[Fingerprint] = ()
) -> str:
    """Why ``keeper`` is suggested: the first criterion of :func:`_criteria` that decided, or
    :func:`prefer_original` when ``conversions`` (pixel-identical lossless copies) outrank it."""
    if conversions and any(_rank(c) < _rank(keeper) for c in conversions):
        formats = "/".join(sorted({c.info.format for c in conversions if c.info is not None}))
        said = (
            f"the {keeper.info.format if keeper.info else ''} original: the {formats} "
            f"cop{'ies' if len(conversions) > 1 else 'y'} with the same pixels "
            f"{'are conversions' if len(conversions) > 1 else 'is a conversion'}"
        )
        rest = [o for o in others if all(o is not c for c in conversions)]
        return said + (f"; over the others: {_why(keeper, rest)}" if rest else "")
    k_rank = _criteria(keeper)
    o_ranks = [_criteria(o) for o in others]
    criteria: list[tuple[int, Callable[[], str]]] = [
        (0, lambda: "largest resolution ({}×{})".format(*_dims(keeper))),
        (1, lambda: f"largest file ({keeper.ref.size:,} bytes)"),
        (2, lambda: "shortest path"),
    ]
    for index, text in criteria:
        if all(k_rank[index] < o[index] for o in o_ranks):
            return text()
        if any(k_rank[index] != o[index] for o in o_ranks):
            return text() + ", then the tie-breakers"
    return "identical copies; first path in order"


def build_group(
    fps: list[Fingerprint],
    centre: int,
    matches: list[Match],
    mates: dict[int, list[int]],
    root: str | None,
) -> Group:
    """A report group around ``centre``: its byte copies, its matches and their byte copies."""
    keeper = fps[centre]
    members = [_member(keeper, "keeper", 0, 1.0)]
    others: list[Fingerprint] = []
    conversions: list[Fingerprint] = []
    for k in mates.get(centre, []):
        members.append(_member(fps[k], MatchClass.EXACT.value, 0, 1.0))
        others.append(fps[k])
    for m in matches:
        other = m.b if m.a == centre else m.a
        for k in [other, *mates.get(other, [])]:
            members.append(_member(fps[k], m.cls.value, m.distance, m.score))
            others.append(fps[k])
            if m.cls is MatchClass.PIXEL and not _is_original_format(fps[k]):
                conversions.append(fps[k])
    head, rest = members[0], members[1:]
    rest.sort(key=lambda mb: (MatchClass(mb.cls).rank, mb.path))
    loosest = max((MatchClass(mb.cls) for mb in rest), key=lambda c: c.rank)
    weakest = min(rest, key=lambda mb: (mb.score, -mb.distance, mb.path))
    return Group(
        id=0,
        cls=loosest.value,
        root=root if root is not None else keeper.ref.root,
        keep=keeper.ref.path,
        why=_why(keeper, others, conversions if _is_original_format(keeper) else ()),
        members=(head, *rest),
        weakest={
            "path": weakest.path,
            "class": weakest.cls,
            "distance": weakest.distance,
            "score": weakest.score,
        },
    )


def _renumber(group: Group, new_id: int) -> Group:
    return Group(new_id, group.cls, group.root, group.keep, group.why, group.members, group.weakest)


# --- incoming versus archive -------------------------------------------------------------------


def archive_index_path(roots: Sequence[str], options: ScanOptions) -> str:
    """Where the automatic index of archive ``roots`` lives: the user cache folder, one index per
    set of roots and fingerprint kind, so each archive is read once and then only listed."""
    key = json.dumps(
        [list(roots), options.mode != "exact", options.include_hidden, options.follow_symlinks]
    )
    name = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return os.path.join(default_cache_dir(), "archives", name + ARCHIVE_SUFFIX)


def update_archive(
    paths: Iterable[str | os.PathLike[str]],
    options: ScanOptions,
    *,
    index_path: str | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> tuple[ArchiveIndex, list[FileError]]:
    """Bring the archive index of ``paths`` up to date and open it.

    Input: archive roots (folders or URLs); ``index_path`` is where the index is kept (default:
    :func:`archive_index_path` in the user cache folder).
    Output: the opened index and the archive files that could not be read.
    Errors: as :func:`run_scan` for the roots; :class:`InputError` for an index path that is
    something else.
    Performance: the archive is listed (stat only); only files that are new or changed since
    the index was written are read, on the chosen engine. An unchanged archive is not
    rewritten: the index is opened memory-mapped in milliseconds.
    """
    sink = progress or NullProgress()
    _check_engine(options)
    roots = resolve_all_roots(paths)
    if index_path is None and not options.use_cache:
        # --no-cache: nothing is kept between runs; the index lives as long as this process.
        folder = tempfile.mkdtemp(prefix="picdup-archive-")
        atexit.register(shutil.rmtree, folder, True)
        index_path = os.path.join(folder, "archive" + ARCHIVE_SUFFIX)
    target = index_path or archive_index_path(roots, options)
    decoded = options.mode != "exact"
    sink.phase("walk archive", None)
    walked = walk_all(
        roots,
        follow_symlinks=options.follow_symlinks,
        include_hidden=options.include_hidden,
        cancel=cancel,
    )
    old: ArchiveIndex | None = None
    if is_archive_index(target):
        try:
            old = ArchiveIndex(target)
        except ConfigError:
            old = None  # another algorithm version: rebuilt below
        if old is not None and old.decoded != decoded:
            old = None
    known: dict[str, int] = {}
    rejects: dict[str, tuple[int, int, str | None]] = {}
    if old is not None:
        sizes, mtimes = old.array("size"), old.array("mtime_ns")
        known = {old.path_of(e): e for e in range(len(old))}
        rejects = old.rejects
    reuse: list[int] = []
    kept_rejects: list[FileRef] = []
    to_read: list[FileRef] = []
    for ref in walked.files:
        k = known.get(ref.path)
        if (
            k is not None
            and old is not None
            and int(sizes[k]) == ref.size
            and int(mtimes[k]) == ref.mtime_ns
            and old.etag_of(k) == ref.etag
        ):
            reuse.append(k)
        elif rejects.get(ref.path) == (ref.size, ref.mtime_ns, ref.etag):
            kept_rejects.append(ref)
        else:
            to_read.append(ref)
    unchanged = (
        old is not None
        and not to_read
        and len(reuse) == len(old)
        and len(kept_rejects) == len(rejects)
        and old.roots == roots
    )
    if unchanged and old is not None:
        sink.done()
        return old, []
    fps = fingerprint_files(to_read, options, decode=decoded, progress=sink, cancel=cancel)
    good, errors, _ = split_results(fps)
    good_paths = {fp.ref.path for fp in good}
    new_rejects = [fp.ref for fp in fps if fp.ref.path not in good_paths]
    parts = [arrays_from_fingerprints(good, roots)]
    if old is not None and reuse:
        # Unchanged entries are read from the old index's files while the new one is written.
        parts.insert(0, old.entries().take(np.asarray(reuse, dtype=np.int64)))
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    write_archive_index(
        merge_arrays(parts),
        target,
        roots=roots,
        decoded=decoded,
        rejects=[*kept_rejects, *new_rejects],
    )
    if old is not None:
        old.close()
    sink.done()
    return ArchiveIndex(target), [*walked.errors, *errors]


def find_in_archive(
    paths: Iterable[str | os.PathLike[str]],
    archives: Iterable[str | os.PathLike[str]],
    *,
    mode: str = "near",
    jobs: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> Report:
    """Which files under ``paths`` are already in ``archives`` (see :func:`run_against`).

    ``options`` overrides ``mode``, ``jobs``, ``engine`` and ``scheduler`` when given.
    """
    if options is None:
        options = _options(jobs, mode=mode, engine=engine, scheduler=scheduler)
    return run_against(paths, archives, options, progress=progress, cancel=cancel)


def run_against(
    paths: Iterable[str | os.PathLike[str]],
    archives: Iterable[str | os.PathLike[str]],
    options: ScanOptions,
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    command: Sequence[str] | None = None,
) -> Report:
    """Find which files under ``paths`` (NEW) are already in ``archives``.

    Input: NEW roots (folders, files or URLs); ARCHIVE roots (folders or URLs, indexed in the
    user cache folder and kept up to date) or archive index folders made by
    ``picdup archive build``; options as :func:`run_scan`.

    Output: a report whose groups each have an archived file as the suggested keeper and the
    NEW files that match it as members. Archive members carry ``archive: true`` and are never
    acted on. Only NEW-versus-ARCHIVE pairs are looked for: files inside the archive are never
    compared with each other, and NEW files are not compared with each other either (a plain
    ``scan`` does that). Stats count NEW files only.

    Errors: as :func:`run_scan`; :class:`ConfigError` when an archive index was built in exact
    mode and a near or pixel query is asked of it, or by another picdup version.

    Performance: NEW files are read once; the archive is listed and only new or changed archive
    files are read (the first query reads it all). Each NEW pHash is looked up in the index's
    multi-index tables (548 table runs at the default radius) and only candidates' thumbnails
    are read from disk: a few files against a million archived ones take well under a second
    once the index is open.

    Algorithm:
      1. resolve NEW and ARCHIVE (fail fast), open or update each archive's index;
      2. walk and fingerprint NEW, exactly as :func:`run_scan` does;
      3. per index: byte-identical entries by digest (exact mode), else pHash candidates within
         the radius, verified on thumbnails (and pixel digests) as in a scan;
      4. star groups with archive files ranked first, so every group is centred on an archived
         copy and each NEW file joins the best archived copy it matches directly.
    """
    started = time.monotonic()
    sink = progress or NullProgress()
    _check_engine(options)
    sources = [os.fspath(a) for a in archives]
    if not sources:
        raise ConfigError("--against needs at least one archive")
    roots = resolve_all_roots(paths)
    index_files = [s for s in sources if not is_url(s) and is_archive_index(s)]
    archive_roots = [s for s in sources if s not in index_files]
    resolved_archive = resolve_all_roots(archive_roots) if archive_roots else []
    decoded = options.mode != "exact"
    indexes = [ArchiveIndex(f) for f in index_files]
    for index in indexes:
        if decoded and not index.decoded:
            raise ConfigError(
                f"archive index {index.path} was built in exact mode; "
                "rebuild it without --mode exact for near or pixel queries"
            )
    errors: list[FileError] = []
    try:
        if resolved_archive:
            index, archive_errors = update_archive(
                resolved_archive, options, progress=sink, cancel=cancel
            )
            indexes.append(index)
            errors.extend(archive_errors)
        sink.phase("walk", None)
        walked = walk_all(
            roots,
            follow_symlinks=options.follow_symlinks,
            include_hidden=options.include_hidden,
            cancel=cancel,
        )
        fps = fingerprint_files(walked.files, options, decode=decoded, progress=sink, cancel=cancel)
        good, new_errors, skipped = split_results(fps)
        errors = [*walked.errors, *new_errors, *errors]
        skipped.update(walked.skipped)
        sink.phase("match", None)
        groups = match_against(good, indexes, options, cancel)
    finally:
        sink.done()
    groups.sort(key=lambda g: (g.root or "", g.keep))
    groups = [_renumber(g, k) for k, g in enumerate(groups, 1)]
    new_members = [m for g in groups for m in g.members if not m.archive]
    stats = Stats(
        files=len(walked.files),
        images=len(good),
        skipped=sum(skipped.values()),
        groups=len(groups),
        duplicates=len(new_members),
        reclaimable_bytes=sum(m.size for m in new_members),
        seconds=round(time.monotonic() - started, 3),
    )
    report_options = options.to_dict()
    report_options["against"] = [*resolved_archive, *(i.path for i in indexes[: len(index_files)])]
    return Report(
        roots=tuple(roots),
        options=report_options,
        stats=stats,
        errors=tuple(sorted(errors, key=lambda e: e.path)),
        groups=tuple(groups),
        command=tuple(command if command is not None else sys.argv),
        created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tool_version=__version__,
        skipped=dict(sorted(skipped.items())),
    )


def match_against(
    new: list[Fingerprint],
    indexes: Sequence[ArchiveIndex],
    options: ScanOptions,
    cancel: CancelToken | None = None,
) -> list[Group]:
    """Groups of NEW fingerprints around the archived entries they match (see
    :func:`run_against`); archive members are marked ``archive``."""
    new = sorted(new, key=lambda f: f.ref.path)  # the result must not depend on input order
    combined: list[Fingerprint] = list(new)
    n_new = len(new)
    new_paths = {fp.ref.path for fp in new}
    matches: list[Match] = []
    radius = _PIXEL_RADIUS if options.mode == "pixel" else options.bounds.radius
    for index in indexes:
        if cancel is not None:
            cancel.check()
        if options.mode == "exact":
            qi, ej = index.same_digest([fp.digest for fp in new])
            d = np.zeros(len(qi), dtype=np.uint8)
        else:
            phashes = np.fromiter((fp.phash for fp in new), dtype=np.uint64, count=n_new)
            qi, ej, d = index.near(phashes, radius)
        slot: dict[int, int] = {}
        for e in unique(ej):
            fp = index.fingerprint(int(e))
            if fp.ref.path in new_paths:
                continue  # a NEW root inside the archive: a file is not its own duplicate
            slot[int(e)] = len(combined)
            combined.append(fp)
        keep = np.array([int(e) in slot for e in ej], dtype=bool)
        qi, d = qi[keep], d[keep]
        cj = np.array([slot[int(e)] for e in ej[keep]], dtype=np.int64)
        pairs = list(zip(qi.tolist(), cj.tolist(), strict=True))
        same = np.array([combined[a].digest == combined[b].digest for a, b in pairs], dtype=bool)
        matches.extend(
            Match(a, b, MatchClass.EXACT, 0, 1.0)
            for (a, b), exact in zip(pairs, same.tolist(), strict=True)
            if exact
        )
        if options.mode != "exact" and (~same).any():
            matches.extend(_verify(combined, qi[~same], cj[~same], d[~same], options, cancel))
    is_archive = [k >= n_new for k in range(len(combined))]

    def rank(k: int) -> tuple[bool, tuple[tuple[int, int, int], str]]:
        return (not is_archive[k], _rank(combined[k]))

    archive_paths = {fp.ref.path for fp in combined[n_new:]}
    groups: list[Group] = []
    for centre, ms in star_clusters(matches, rank):
        group = build_group(combined, centre, ms, {}, None)
        members = tuple(
            dataclasses.replace(m, archive=True) if m.path in archive_paths else m
            for m in group.members
        )
        first_new = next(m for m in members if not m.archive)
        groups.append(
            dataclasses.replace(
                group,
                members=members,
                root=next(fp.ref.root for fp in new if fp.ref.path == first_new.path),
                why="already in the archive (archived files are never touched)",
            )
        )
    return groups


def _verify(
    fps: list[Fingerprint],
    i: np.ndarray,
    j: np.ndarray,
    d: np.ndarray,
    options: ScanOptions,
    cancel: CancelToken | None,
) -> list[Match]:
    """:func:`verify_pairs` on the rows the pairs use, pixel digests gathered in one batch
    (cached, and decoded on every core) as :func:`candidate_matches` does."""
    rows = unique(np.concatenate([i, j]))
    local = {int(k): n for n, k in enumerate(rows)}
    sub = [fps[int(k)] for k in rows]
    li = np.array([local[int(k)] for k in i], dtype=np.int64)
    lj = np.array([local[int(k)] for k in j], dtype=np.int64)
    stack = ThumbStack.of(sub)
    wanted: set[int] = set()

    def record(a: int, b: int) -> bool:
        wanted.update((a, b))
        return False

    # Archive thumbnails come from an index that may be built with other options, so this
    # evidence is not cached; it is measured once for both passes.
    turns = np.zeros(len(li), dtype=np.int64)
    settings = measure_settings(options.bounds, options.loosest)
    bank = EvidenceBank(sub, stack, li, lj, turns, settings)
    evidence = bank.get(np.arange(len(li)), options.bounds)
    verify_pairs(sub, stack, li, lj, d, options.bounds, options.loosest, record, evidence=evidence)
    digests = pixel_digests([sub[k].ref for k in sorted(wanted)], options, cancel)
    found = verify_pairs(
        sub,
        stack,
        li,
        lj,
        d,
        options.bounds,
        options.loosest,
        lambda a, b: _equal_digests(digests.get(sub[a].ref.path), digests.get(sub[b].ref.path)),
        evidence=evidence,
    )
    return [Match(int(rows[m.a]), int(rows[m.b]), m.cls, m.distance, m.score) for m in found]
