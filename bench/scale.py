"""Scaling out: the Dask engine against the local engine, and queries against a 1M archive.

Part 1 fingerprints the same files with the local engine (``--jobs`` processes) and with the
Dask engine on a LocalCluster of as many single-threaded worker processes, alternating rounds,
and prints images per second and the ratio Dask / local (goal: ≥ 0.8). The cluster is started
once, outside the timed rounds, as a long-running cluster would be; its start-up time is
printed on its own, and so is a complete ``--engine dask`` run that starts its own cluster.

Part 2 writes an archive index of ``--archive`` fingerprints (default 1,000,000: clusters of
near copies among unrelated pictures, plus the real fingerprints of a few generated photos and
of their resized copies), then times: opening the index, the candidate search for the query
files' hashes, and a complete ``scan NEW --against INDEX`` of the query files (walk,
fingerprint, search, verify, report) in this process. Synthetic entries have blank thumbnails
(the search never reads them unless they are candidates, which blank entries are not).

Usage::

    python bench/scale.py                       # ../shared/data/photos, 1M archive
    python bench/scale.py --files DIR --archive 200000 --rounds 3

Nothing here fails on wall-clock time: it prints measurements and ratios.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from picdup.engine.dask import fingerprint_all_dask  # noqa: E402
from picdup.engine.local import fingerprint_all  # noqa: E402
from picdup.fingerprint import fingerprint_file  # noqa: E402
from picdup.fingerprint.hashes import COLOUR_SIZE, THUMB_SIZE  # noqa: E402
from picdup.index.archive import (  # noqa: E402
    ArchiveArrays,
    ArchiveIndex,
    arrays_from_fingerprints,
    write_archive_index,
)
from picdup.options import ScanOptions  # noqa: E402
from picdup.pipeline import run_against  # noqa: E402
from picdup.scan.remote import walk_all  # noqa: E402

MAX_PIXELS = 300_000_000


def _throughput(files: Path, jobs: int, rounds: int) -> None:
    from distributed import Client, LocalCluster

    refs = walk_all([str(files)]).files
    print(f"part 1: {len(refs)} files under {files}, {jobs} workers, {rounds} rounds")
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=jobs,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    startup = time.perf_counter() - t0
    # Warm the workers' imports once, as a running cluster would be.
    fingerprint_all_dask(
        refs[: 2 * jobs],
        scheduler=cluster.scheduler_address,
        workers=jobs,
        max_pixels=MAX_PIXELS,
    )
    local_rates: list[float] = []
    dask_rates: list[float] = []
    for _ in range(rounds):
        t = time.perf_counter()
        local = fingerprint_all(refs, jobs=jobs, max_pixels=MAX_PIXELS)
        local_rates.append(len(refs) / (time.perf_counter() - t))
        t = time.perf_counter()
        on_dask = fingerprint_all_dask(
            refs, scheduler=cluster.scheduler_address, workers=jobs, max_pixels=MAX_PIXELS
        )
        dask_rates.append(len(refs) / (time.perf_counter() - t))
        if on_dask != local:
            raise SystemExit("the Dask engine's fingerprints differ from the local engine's")
    client.close()
    cluster.close()
    t = time.perf_counter()
    fingerprint_all_dask(refs, scheduler=None, workers=jobs, max_pixels=MAX_PIXELS)
    cold = len(refs) / (time.perf_counter() - t)
    lo, da = statistics.median(local_rates), statistics.median(dask_rates)
    print(f"  local engine ({jobs} processes):      {lo:7.1f} images/s (median of {rounds})")
    print(f"  dask engine ({jobs} workers, running): {da:7.1f} images/s (median of {rounds})")
    print(f"  ratio dask / local:                 {da / lo:7.2f}   (goal >= 0.8)")
    print(f"  LocalCluster start-up:              {startup:7.1f} s")
    print(f"  dask engine incl. its own cluster:  {cold:7.1f} images/s ({cold / lo:.2f} of local)")


def _queries(folder: Path, n: int) -> list[Path]:
    from imagegen import photo, save

    folder.mkdir(parents=True)
    out = []
    for k in range(n):
        path = folder / f"new_{k:02d}.jpg"
        save(photo(5000 + k, 1024, 768), path)
        out.append(path)
    return out


def _synthetic(n: int, rng: np.random.Generator, thumbs_file: str) -> ArchiveArrays:
    """``n`` entries: a third are near copies (1–6 bits flipped) of 100k cluster centres."""
    centres = rng.integers(0, 2**64 - 1, size=100_000, dtype=np.uint64)
    n_near = n // 3
    flips = rng.integers(0, 64, size=(n_near, 6)).astype(np.uint64)
    keep = rng.random((n_near, 6)) < 0.5
    noise = np.bitwise_or.reduce(np.where(keep, np.uint64(1) << flips, np.uint64(0)), axis=1)
    near = centres[rng.integers(0, len(centres), n_near)] ^ noise
    phash = np.concatenate(
        [near, rng.integers(0, 2**64 - 1, size=n - n_near, dtype=np.uint64)]
    ).astype(np.uint64)
    digest = rng.integers(0, 2**64 - 1, size=(n, 2), dtype=np.uint64)
    thumbs = np.lib.format.open_memmap(
        thumbs_file, mode="w+", dtype=np.uint8, shape=(n, THUMB_SIZE * THUMB_SIZE)
    )
    dims = np.tile(np.array([[4032, 3024, 4032, 3024]], dtype=np.int32), (n, 1))
    return ArchiveArrays(
        phash=phash,
        dhash=rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64),
        digest=digest,
        size=rng.integers(1_000_000, 8_000_000, size=n, dtype=np.int64),
        mtime_ns=np.full(n, 1_700_000_000 * 10**9, dtype=np.int64),
        dims=dims,
        format=np.zeros(n, dtype=np.uint8),
        thumbs=thumbs,
        colours=np.zeros((n, COLOUR_SIZE * COLOUR_SIZE * 3), dtype=np.uint8),
        root=np.zeros(n, dtype=np.uint16),
        paths=[f"/archive/{k // 1000:04d}/{k:07d}.jpg" for k in range(n)],
        etags=[None] * n,
        formats=["JPEG"],
    )


def _archive_query(n: int, n_queries: int, work: Path) -> None:
    from imagegen import photo, save

    print(f"part 2: an archive index of {n:,} fingerprints, {n_queries} new files")
    rng = np.random.default_rng(1)
    new = _queries(work / "new", n_queries)
    # The archive holds resized copies of half of the new pictures: real fingerprints.
    real_dir = work / "archived"
    real_dir.mkdir()
    for k in range(0, n_queries, 2):
        save(photo(5000 + k, 1024, 768).resize((800, 600)), real_dir / f"old_{k:02d}.jpg")
    real_refs = walk_all([str(real_dir)]).files
    real = arrays_from_fingerprints(
        [fingerprint_file(r, max_pixels=MAX_PIXELS) for r in real_refs], ["/archive"], ["JPEG"]
    )
    t = time.perf_counter()
    arrays = _synthetic(n, rng, str(work / "synthetic-thumbs.npy"))
    # The last rows become the real entries (in place: no copy of 4 GB of thumbnails).
    for k in range(len(real)):
        row = n - len(real) + k
        for name in ("phash", "dhash", "digest", "size", "mtime_ns", "dims", "thumbs", "colours"):
            getattr(arrays, name)[row] = getattr(real, name)[k]
        arrays.root[row] = 1
        arrays.paths[row] = real.paths[k]
    index_path = str(work / "archive.pdarchive")
    write_archive_index(arrays, index_path, roots=["/archive", str(real_dir)])
    built = time.perf_counter() - t
    del arrays
    size = sum(f.stat().st_size for f in Path(index_path).iterdir())
    print(f"  built and written in {built:.1f} s; {size / 1e9:.2f} GB on disk")

    t = time.perf_counter()
    index = ArchiveIndex(index_path)
    opened = time.perf_counter() - t
    new_refs = walk_all([str(new[0].parent)]).files
    hashes = np.array(
        [fingerprint_file(r, max_pixels=MAX_PIXELS).phash for r in new_refs], dtype=np.uint64
    )
    searches = []
    for _ in range(5):
        t = time.perf_counter()
        qi, _, _ = index.near(hashes, 10)
        searches.append(time.perf_counter() - t)
    # A large batch (what one shard-pair task of a full 100M self-join looks like).
    batch = np.asarray(index.array("phash")[:: max(1, n // 20_000)], dtype=np.uint64)
    t = time.perf_counter()
    bi, _, _ = index.near(batch, 10)
    join = time.perf_counter() - t
    print(f"  open the index:                      {opened * 1000:8.1f} ms")
    print(
        f"  candidate search, {len(hashes)} hashes, radius 10: "
        f"{statistics.median(searches) * 1000:8.1f} ms ({len(qi)} candidates)"
    )
    print(
        f"  candidate search, {len(batch):,} archived hashes against all: {join:6.2f} s "
        f"({len(bi):,} pairs; {len(batch) / join:,.0f} queries/s)"
    )
    index.close()
    cold, warm = [], []
    cache = str(work / "cache.sqlite3")
    for _ in range(3):
        t = time.perf_counter()
        report = run_against([new[0].parent], [index_path], ScanOptions(jobs=1, use_cache=False))
        cold.append(time.perf_counter() - t)
    run_against([new[0].parent], [index_path], ScanOptions(jobs=1, cache_path=cache))
    for _ in range(3):
        t = time.perf_counter()
        run_against([new[0].parent], [index_path], ScanOptions(jobs=1, cache_path=cache))
        warm.append(time.perf_counter() - t)
    print(
        f"  scan {n_queries} new files --against the index: {statistics.median(cold):8.2f} s "
        f"(new files read and decoded; {report.stats.duplicates} found in the archive)"
    )
    print(
        f"  the same with the new files' fingerprints cached: {statistics.median(warm):5.2f} s "
        "(median of 3)"
    )
    if report.stats.duplicates != len(real):
        print(f"  WARNING: expected {len(real)} new files to be found in the archive")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = Path(os.environ.get("PICDUP_DATA") or ROOT.parent / "shared" / "data")
    parser.add_argument("--files", type=Path, default=data / "photos")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--archive", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=10)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-archive", action="store_true")
    args = parser.parse_args()
    if not args.skip_throughput:
        if not args.files.is_dir():
            raise SystemExit(f"no files to fingerprint at {args.files} (use --files DIR)")
        _throughput(args.files, args.jobs, args.rounds)
    if not args.skip_archive:
        work = Path(tempfile.mkdtemp(prefix="picdup-scale-"))
        try:
            _archive_query(args.archive, args.queries, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
