"""Fingerprinting as Dask tasks: on a cluster given by its scheduler's address, or on a
LocalCluster of one single-threaded worker process per job.

Each task fingerprints a batch of files with the very function the local engine uses
(:func:`~picdup.fingerprint.fingerprint_file`), so results are identical; only where the work
runs changes. Batches amortise the scheduler's per-task cost (about a millisecond) over files
that take tens of milliseconds each, while staying small enough to balance the workers.
Results stream back in input order, so the cache and the report see what the local engine gives.

Workers read files themselves: on a remote cluster, roots must be URLs (or a shared file system)
that every worker can reach with its own credentials, and workers need the same picdup version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from picdup.errors import Cancelled, ConfigError
from picdup.fingerprint import fingerprint_file
from picdup.model import FileRef, Fingerprint
from picdup.progress import CancelToken, NullProgress, Progress

__all__ = [
    "INSTALL_HINT",
    "batch_size",
    "check_dask",
    "fingerprint_all_dask",
    "iter_fingerprints_dask",
]

INSTALL_HINT = "pip install 'picdup[dask]'"

# Batches per worker: enough that a slow batch at the end (a folder of 24 MP photos) does not
# leave the other workers idle; the scheduler costs about a millisecond per batch.
_BATCHES_PER_WORKER = 16
_MAX_BATCH = 64


def check_dask() -> None:
    """Raise :class:`ConfigError` with an install hint when dask.distributed is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"--engine dask needs dask.distributed: {INSTALL_HINT}") from exc


def batch_size(n_files: int, n_workers: int) -> int:
    """Files per task: about 16 tasks per worker, at most 64 files each, at least 1."""
    return max(1, min(_MAX_BATCH, n_files // max(1, n_workers * _BATCHES_PER_WORKER)))


def _fingerprint_batch(refs: list[FileRef], max_pixels: int, decode: bool) -> list[Fingerprint]:
    return [fingerprint_file(r, max_pixels=max_pixels, decode=decode) for r in refs]


def _connect(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A client, and the LocalCluster it owns when no scheduler address was given."""
    check_dask()
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        return Client(cluster), cluster
    try:
        # The connect timeout is dask's own setting (distributed.comm.timeouts.connect).
        return Client(scheduler), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc


def iter_fingerprints_dask(
    refs: Sequence[FileRef],
    *,
    scheduler: str | None,
    workers: int,
    max_pixels: int,
    decode: bool = True,
    cancel: CancelToken | None = None,
) -> Iterator[list[Fingerprint]]:
    """Yield the fingerprints of ``refs`` batch by batch, in input order.

    Errors: :class:`ConfigError` when Dask is missing, the scheduler cannot be reached or the
    workers cannot import picdup; :class:`Cancelled` when ``cancel`` is set (pending tasks are
    cancelled). A bad file never raises: its fingerprint carries the error.
    """
    if not refs:
        return
    client, cluster = _connect(scheduler, workers)
    try:
        from distributed import as_completed

        n_workers = len(client.scheduler_info(n_workers=-1).get("workers", {})) or workers
        size = batch_size(len(refs), n_workers)
        batches = [list(refs[k : k + size]) for k in range(0, len(refs), size)]
        futures = client.map(
            _fingerprint_batch, batches, max_pixels=max_pixels, decode=decode, pure=False
        )
        position = {f.key: k for k, f in enumerate(futures)}
        done: dict[int, list[Fingerprint]] = {}
        next_out = 0
        try:
            for future in as_completed(futures):
                if cancel is not None and cancel.cancelled:
                    raise Cancelled("cancelled")
                try:
                    done[position[future.key]] = future.result()
                except ImportError as exc:
                    raise ConfigError(
                        f"the Dask workers cannot import picdup ({exc}): install the same "
                        "picdup version on every worker"
                    ) from exc
                while next_out in done:
                    yield done.pop(next_out)
                    next_out += 1
        finally:
            client.cancel([f for f in futures if not f.done()])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def fingerprint_all_dask(
    refs: Sequence[FileRef],
    *,
    scheduler: str | None,
    workers: int,
    max_pixels: int,
    decode: bool = True,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    on_result: Callable[[Fingerprint], None] | None = None,
    keep: Callable[[Fingerprint], Fingerprint] | None = None,
) -> list[Fingerprint]:
    """Fingerprint every ref on Dask; the same contract as the local
    :func:`~picdup.engine.local.fingerprint_all`.

    Input: file references (local paths a worker can read, or URLs); ``scheduler`` is a Dask
    scheduler address (``tcp://host:8786``), or ``None`` for a LocalCluster of ``workers``
    single-threaded processes.
    Output: one fingerprint per ref, in input order; ``on_result`` is called in this process
    with each fingerprint as its batch arrives (so a cancelled run keeps what was cached).
    Errors: see :func:`iter_fingerprints_dask`.
    Performance: the same per-file cost as the local engine, spread over every worker of the
    cluster, plus a LocalCluster's start (a few seconds) when no scheduler is given.
    """
    sink = progress or NullProgress()
    sink.phase("fingerprint", len(refs))
    out: list[Fingerprint] = []
    for batch in iter_fingerprints_dask(
        refs,
        scheduler=scheduler,
        workers=workers,
        max_pixels=max_pixels,
        decode=decode,
        cancel=cancel,
    ):
        if on_result is not None:
            for fp in batch:
                on_result(fp)
        out.extend(batch if keep is None else [keep(fp) for fp in batch])
        sink.advance(len(batch))
    return out
