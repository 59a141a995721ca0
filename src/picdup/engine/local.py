"""Fingerprinting on every local core, streamed back as each chunk finishes.

The workers are threads of the scan's process for up to :data:`THREAD_JOBS` jobs and worker
processes beyond (see :class:`LocalEngine`). Work goes out in chunks (for processes, amortising
the cost of a round trip to a worker over several files; for threads, one file) with a bounded
number of chunks in flight, so memory stays flat whatever the number of files, a slow file never
holds back the results of the others, and a cancel stops within one chunk per worker.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from typing import Any

from picdup.errors import DecodeError
from picdup.fingerprint import Twins, fingerprint_file, pixel_digest
from picdup.model import FileRef, Fingerprint
from picdup.progress import CancelToken, NullProgress, Progress

__all__ = [
    "THREAD_JOBS",
    "LocalEngine",
    "chunk_size",
    "fingerprint_all",
    "iter_fingerprints",
    "pixel_digest_all",
    "submit_pixel_digests",
]

# Chunks in flight per worker: enough that a worker never waits for the next chunk.
_IN_FLIGHT = 3
_MAX_CHUNK = 64
# Up to this many jobs, the workers are threads of the scan's process (see LocalEngine).
THREAD_JOBS = 2


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: workers start from a clean process, never from a fork of a process that runs a
    # progress-bar thread (forking with threads can deadlock).
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # The fork server imports the fingerprinting code once and every worker is forked from it
    # with that done, instead of each worker importing picdup, numpy and Pillow itself (about
    # 0.2 s of CPU per worker, which a scan of a few hundred photos feels).
    ctx.set_forkserver_preload([__name__])
    return ctx


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; only the parent decides what it means (stop, keep
    # what is cached), so workers must not die with a traceback of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _shared_sizes(refs: Iterable[FileRef]) -> set[int]:
    """The sizes of more than one of ``refs``: only such files can be byte-identical."""
    return {size for size, n in Counter(r.size for r in refs).items() if n > 1}


def work_order(refs: Sequence[FileRef], jobs: int) -> list[int]:
    """The indexes of ``refs`` in the order they go to the workers: largest first (the longest
    files do not end the run alone on one worker), each size's later files (byte-identical
    copies are among them) held back until ``jobs`` more files went out after its first (or
    none is left).

    Copies then come close after their twin, which :class:`~picdup.fingerprint.Twins` keeps for
    them, but not beside it: two workers taking up a file and its copy at once would have one
    of them wait for the other's decode. On the shared photos and a copy of each, that wait
    kept the saving to a tenth of the time.
    """
    groups: dict[int, list[int]] = {}
    for k in sorted(range(len(refs)), key=lambda k: (-refs[k].size, k)):
        groups.setdefault(refs[k].size, []).append(k)
    order: list[int] = []
    held: deque[tuple[int, list[int]]] = deque()  # (release once order is this long, files)
    for first, *later in groups.values():
        order.append(first)
        if later:
            held.append((len(order) + jobs, later))
        while held and held[0][0] <= len(order):
            order.extend(held.popleft()[1])
    for _, later in held:
        order.extend(later)
    return order


def _work_chunk(
    refs: list[tuple[int, FileRef]], max_pixels: int, decode: bool, twins: Twins | None = None
) -> list[tuple[int, Fingerprint]]:
    """Fingerprint a chunk; byte-identical copies share one decode, through ``twins`` (shared
    by the threads of this process) or, on a worker process, within the chunk."""
    if twins is None:
        twins = Twins(_shared_sizes(r for _, r in refs))
    return [
        (k, fingerprint_file(r, max_pixels=max_pixels, decode=decode, twins=twins)) for k, r in refs
    ]


def chunk_size(n: int, jobs: int) -> int:
    """Files per round trip: about 16 chunks per worker, between 1 and 64 files each."""
    return max(1, min(_MAX_CHUNK, n // (jobs * 16)))


def iter_fingerprints(
    refs: Sequence[FileRef],
    *,
    jobs: int,
    max_pixels: int,
    decode: bool = True,
    engine: LocalEngine | None = None,
) -> Generator[tuple[int, Fingerprint], None, None]:
    """Yield ``(index into refs, fingerprint)`` for every ref, in order of completion.

    Runs in this thread when ``jobs`` is 1 or there is too little work to share; else on
    ``engine``'s workers (a temporary engine when None). Closing the iterator early cancels the
    chunks that have not started.

    The files go out in :func:`work_order`: largest first, and a byte-identical copy soon after
    its twin, whose fingerprint it takes (:class:`~picdup.fingerprint.Twins`).
    """
    n = len(refs)
    order = work_order(refs, jobs)
    ordered = [refs[k] for k in order]
    # Shared by this process's threads; worker processes keep one per chunk.
    twins = Twins(_shared_sizes(refs))
    if jobs <= 1 or n < 2 * jobs:
        for k, ref in enumerate(ordered):
            yield order[k], fingerprint_file(ref, max_pixels=max_pixels, decode=decode, twins=twins)
        return
    own = engine is None
    runner = engine if engine is not None else LocalEngine(jobs)
    try:
        if runner.threads:
            # One file a task: nothing to amortise, and a cancel waits for one file a thread.
            pool = runner.pool()
            done = _on_workers(ordered, 0, jobs, max_pixels, decode, pool, set(), 1, twins)
        else:
            done = _on_processes(ordered, jobs, max_pixels, decode, runner)
        for k, fp in done:
            yield order[k], fp
    finally:
        if own:
            runner.close()


def _on_processes(
    refs: Sequence[FileRef], jobs: int, max_pixels: int, decode: bool, runner: LocalEngine
) -> Generator[tuple[int, Fingerprint], None, None]:
    """``refs`` on ``runner``'s worker processes, the first ones on threads while they start.

    Starting the workers takes about a third of a second (the fork server imports picdup,
    numpy and Pillow): meanwhile ``jobs`` threads of this process fingerprint the first files
    (decoding releases the GIL), leaving at least one file per worker. What they have under
    way when the workers are up is collected with the workers' chunks.
    """
    n = len(refs)
    ready = runner.start()
    threads = ThreadPoolExecutor(jobs, thread_name_prefix="picdup-start")
    pending: set[Future[list[tuple[int, Fingerprint]]]] = set()
    try:
        first = 0
        while not ready.done() and first < n - jobs:
            if len(pending) < jobs:
                chunk = [(first, refs[first])]
                pending.add(threads.submit(_work_chunk, chunk, max_pixels, decode))
                first += 1
                continue
            watch: list[Future[Any]] = [*pending, ready]
            wait(watch, return_when=FIRST_COMPLETED)
            for fut in [f for f in pending if f.done()]:
                pending.discard(fut)
                yield from fut.result()
        pool = runner.pool()
        yield from _on_workers(refs, first, jobs, max_pixels, decode, pool, pending)
    finally:
        for fut in pending:
            fut.cancel()
        threads.shutdown(wait=False)


def _on_workers(
    refs: Sequence[FileRef],
    first: int,
    jobs: int,
    max_pixels: int,
    decode: bool,
    pool: Executor,
    pending: set[Future[list[tuple[int, Fingerprint]]]],
    size: int | None = None,
    twins: Twins | None = None,
) -> Generator[tuple[int, Fingerprint], None, None]:
    """``refs[first:]`` on the pool's workers, in chunks, a bounded number in flight, and the
    results of ``pending`` (work already under way elsewhere) as they come; ``size`` files a
    chunk (default :func:`chunk_size`); ``twins`` shared by the chunks (threads only)."""
    n = len(refs)
    if size is None:
        size = chunk_size(n - first, jobs)
    chunks = (
        list(zip(range(lo, min(lo + size, n)), refs[lo : lo + size], strict=True))
        for lo in range(first, n, size)
    )
    try:
        for chunk in chunks:
            pending.add(pool.submit(_work_chunk, chunk, max_pixels, decode, twins))
            if len(pending) < jobs * _IN_FLIGHT:
                continue
            finished, rest = wait(pending, return_when=FIRST_COMPLETED)
            pending.clear()
            pending.update(rest)
            for fut in finished:
                yield from fut.result()
        while pending:
            finished, rest = wait(pending, return_when=FIRST_COMPLETED)
            pending.clear()
            pending.update(rest)
            for fut in finished:
                yield from fut.result()
    finally:
        for fut in pending:
            fut.cancel()


def fingerprint_all(
    refs: Sequence[FileRef],
    *,
    jobs: int,
    max_pixels: int,
    decode: bool = True,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    on_result: Callable[[Fingerprint], None] | None = None,
    engine: LocalEngine | None = None,
    keep: Callable[[Fingerprint], Fingerprint] | None = None,
) -> list[Fingerprint]:
    """Fingerprint every ref; the result is in the order of ``refs``.

    Input: file references; ``jobs`` workers; ``on_result`` is called in this process
    with each fingerprint as it arrives (the pipeline streams them into the cache), and
    ``keep`` gives what is kept of it in the result (the pipeline drops thumbnails the cache
    holds), so the result never holds more than that.

    Output: one fingerprint per ref (a bad file gives a fingerprint with ``error`` set).

    Errors: :class:`~picdup.errors.Cancelled` when ``cancel`` is set; everything already passed
    to ``on_result`` stays there.

    Performance: one read per file and one reduced decode per distinct content (a
    byte-identical copy takes its twin's fingerprint, see :func:`work_order`), on ``jobs``
    cores; this thread only collects results.
    """
    sink = progress or NullProgress()
    sink.phase("fingerprint", len(refs))
    out: list[Fingerprint | None] = [None] * len(refs)
    stream = iter_fingerprints(refs, jobs=jobs, max_pixels=max_pixels, decode=decode, engine=engine)
    try:
        for k, fp in stream:
            if on_result is not None:
                on_result(fp)
            out[k] = fp if keep is None else keep(fp)
            sink.advance()
            if cancel is not None:
                cancel.check()
    finally:
        stream.close()
    return [fp for fp in out if fp is not None]


def _pixel_digest_or_none(path: str, max_pixels: int) -> str | None:
    try:
        return pixel_digest(path, max_pixels=max_pixels)
    except (OSError, DecodeError):
        return None


def pixel_digest_all(
    paths: Sequence[str],
    *,
    jobs: int,
    max_pixels: int,
    cancel: CancelToken | None = None,
    engine: LocalEngine | None = None,
) -> list[str | None]:
    """The pixel digest of each path (None where the file cannot be decoded), in order.

    Each is a full decode (several times the cost of a fingerprint), so they run one file per
    task on ``jobs`` workers.
    """
    if jobs <= 1 or len(paths) < 2:
        out = []
        for path in paths:
            out.append(_pixel_digest_or_none(path, max_pixels))
            if cancel is not None:
                cancel.check()
        return out
    own = engine is None
    runner = engine if engine is not None else LocalEngine(jobs)
    futures = [runner.pool().submit(_pixel_digest_or_none, p, max_pixels) for p in paths]
    try:
        results = []
        for fut in futures:
            results.append(fut.result())
            if cancel is not None:
                cancel.check()
        return results
    finally:
        for fut in futures:
            fut.cancel()
        if own:
            runner.close()


def submit_pixel_digests(
    paths: Sequence[str], *, max_pixels: int, engine: LocalEngine
) -> list[Future[str | None]]:
    """Start the pixel digest of each path on ``engine``'s workers, one file per task, and
    return at once: the caller does other work while they decode (None: cannot be decoded)."""
    pool = engine.pool()
    return [pool.submit(_pixel_digest_or_none, p, max_pixels) for p in paths]


class LocalEngine:
    """The workers shared by every phase of one scan, started on first use.

    A rescan served by the cache never starts them; a cold scan starts them once for the
    fingerprints and reuses them for the pixel digests of candidate pairs.

    Worker processes, or with ``threads`` (by default when ``jobs`` is at most
    :data:`THREAD_JOBS`) threads of this process: decoding and Pillow's conversions and
    resizes release the GIL, and on 2 cores two threads fingerprinted the shared photos 1.86
    times as fast as one, with no third of a second to start workers and nothing to pickle;
    beyond a few cores the Python held between those calls (about a tenth of a photo's time)
    would cap threads.
    """

    def __init__(self, jobs: int, *, threads: bool | None = None) -> None:
        self.jobs = jobs
        self.threads = jobs <= THREAD_JOBS if threads is None else threads
        self._pool: Executor | None = None
        self._starting: Future[None] | None = None
        self._lock = threading.Lock()

    def start(self) -> Future[None]:
        """Start every worker in the background; the future is done when all are up.

        :meth:`pool` waits for that; meanwhile the caller can do work of its own.
        """
        with self._lock:
            if self._starting is None:
                self._starting = Future()
                if self.threads:
                    self._pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="picdup-worker")
                    self._starting.set_result(None)
                else:
                    threading.Thread(
                        target=self._spawn,
                        args=(self._starting,),
                        name="picdup-workers",
                        daemon=True,
                    ).start()
            return self._starting

    def _spawn(self, done: Future[None]) -> None:
        try:
            pool = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=_context(), initializer=_ignore_sigint
            )
            # The executor forks a worker per task submitted while none is idle: one no-op
            # task per worker brings them all up now rather than at the first real chunks.
            for fut in [pool.submit(_ready) for _ in range(self.jobs)]:
                fut.result()
            self._pool = pool
            done.set_result(None)
        except BaseException as exc:  # reported to whoever waits on the workers
            done.set_exception(exc)

    def pool(self) -> Executor:
        """The running pool, once every worker is up (raises what starting them raised)."""
        self.start().result()
        if self._pool is None:  # pragma: no cover - result() raised or the pool was set
            raise RuntimeError("the worker pool did not start")
        return self._pool

    def close(self) -> None:
        starting, self._starting = self._starting, None
        if starting is not None:
            # Let a start still under way finish, so its workers are shut down too; a start
            # that failed was reported to whoever asked for the pool.
            wait([starting])
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ready() -> None:
    """A no-op task: running it means the worker is up."""
