"""Fingerprinting on every local core, streamed back in input order."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from picdup.fingerprint import fingerprint_file
from picdup.model import FileRef, Fingerprint
from picdup.progress import CancelToken, NullProgress, Progress

__all__ = ["fingerprint_all", "iter_fingerprints"]


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: workers start from a clean process, never from a fork of a process that runs a
    # progress-bar thread (forking with threads can deadlock).
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def iter_fingerprints(
    refs: Sequence[FileRef], *, jobs: int, max_pixels: int, decode: bool = True
) -> Iterator[Fingerprint]:
    """Yield one fingerprint per ref, in order, computed by ``jobs`` worker processes."""
    work = partial(fingerprint_file, max_pixels=max_pixels, decode=decode)
    if jobs <= 1 or len(refs) < 2 * jobs:
        yield from map(work, refs)
        return
    chunksize = max(1, min(32, len(refs) // (jobs * 8)))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_context()) as pool:
        results = pool.map(work, refs, chunksize=chunksize)
        try:
            yield from results
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def fingerprint_all(
    refs: Sequence[FileRef],
    *,
    jobs: int,
    max_pixels: int,
    decode: bool = True,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> list[Fingerprint]:
    """Fingerprint every ref; raises :class:`~picdup.errors.Cancelled` when cancelled."""
    sink = progress or NullProgress()
    sink.phase("fingerprint", len(refs))
    out: list[Fingerprint] = []
    stream = iter_fingerprints(refs, jobs=jobs, max_pixels=max_pixels, decode=decode)
    try:
        for fp in stream:
            out.append(fp)
            sink.advance()
            if cancel is not None:
                cancel.check()
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return out
