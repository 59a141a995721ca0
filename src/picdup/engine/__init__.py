"""Executors that turn file references into fingerprints: local processes (default) and Dask."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from picdup.engine.local import LocalEngine, pixel_digest_all
from picdup.engine.local import fingerprint_all as fingerprint_all_local
from picdup.model import FileRef, Fingerprint
from picdup.progress import CancelToken, Progress

__all__ = ["LocalEngine", "fingerprint_all", "pixel_digest_all"]


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
    backend: str = "local",
    scheduler: str | None = None,
    keep: Callable[[Fingerprint], Fingerprint] | None = None,
) -> list[Fingerprint]:
    """Fingerprint every ref, in input order, on the chosen ``backend`` (``local`` or ``dask``).

    ``engine`` is the scan's pool of local worker processes, shared with later stages (a
    temporary one when None); the dask backend runs on its cluster instead.

    Both engines run the same per-file function, so their results are identical; ``on_result``
    sees each fingerprint as it arrives in this process (the pipeline streams them into the
    cache), whichever engine computed it; ``keep`` gives what the result keeps of each.
    """
    if backend == "dask":
        from picdup.engine.dask import fingerprint_all_dask

        return fingerprint_all_dask(
            refs,
            scheduler=scheduler,
            workers=jobs,
            max_pixels=max_pixels,
            decode=decode,
            progress=progress,
            cancel=cancel,
            on_result=on_result,
            keep=keep,
        )
    return fingerprint_all_local(
        refs,
        jobs=jobs,
        max_pixels=max_pixels,
        decode=decode,
        progress=progress,
        cancel=cancel,
        on_result=on_result,
        engine=engine,
        keep=keep,
    )
