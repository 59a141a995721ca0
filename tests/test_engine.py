"""The local executor: worker processes give the same fingerprints as one process, streamed."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from imagegen import photo, save
from picdup.engine import fingerprint_all
from picdup.engine.local import LocalEngine, chunk_size
from picdup.errors import Cancelled
from picdup.model import FileRef, Fingerprint
from picdup.progress import CancelToken


def make_refs(folder: Path, count: int) -> list[FileRef]:
    refs = []
    for k in range(count):
        path = folder / f"img{k:03d}.jpg"
        save(photo(k, 160, 120), path)
        st = path.stat()
        refs.append(FileRef(str(path), st.st_size, st.st_mtime_ns, str(folder)))
    # A broken file in the middle: recorded, never fatal, kept in its place.
    bad = folder / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    st = bad.stat()
    refs.insert(count // 2, FileRef(str(bad), st.st_size, st.st_mtime_ns, str(folder)))
    return refs


@pytest.mark.parametrize(
    ("n", "jobs", "expected"), [(10, 2, 1), (1000, 2, 31), (100_000, 2, 64), (5000, 1, 64)]
)
def test_chunk_size_pinned(n: int, jobs: int, expected: int) -> None:
    assert chunk_size(n, jobs) == expected


KINDS = pytest.mark.parametrize("threads", [True, False], ids=["threads", "processes"])


@KINDS
def test_workers_equal_one_process_and_keep_order(tmp_path: Path, threads: bool) -> None:
    refs = make_refs(tmp_path, 24)
    seen: list[Fingerprint] = []
    with LocalEngine(2, threads=threads) as engine:
        multi = fingerprint_all(
            refs, jobs=2, max_pixels=10**8, on_result=seen.append, engine=engine
        )
        # With threads, no process is ever started.
        assert bool(multiprocessing.active_children()) is not threads
    single = fingerprint_all(refs, jobs=1, max_pixels=10**8)
    assert multi == single
    assert [fp.ref.path for fp in multi] == [r.path for r in refs]
    # Every result was streamed to the callback exactly once (in completion order).
    assert sorted(fp.ref.path for fp in seen) == sorted(r.path for r in refs)
    broken = [fp for fp in multi if fp.error]
    assert [Path(fp.ref.path).name for fp in broken] == ["broken.jpg"]
    assert all(fp.ok and fp.phash for fp in multi if not fp.error)


@KINDS
def test_cancel_stops_and_keeps_what_was_streamed(tmp_path: Path, threads: bool) -> None:
    refs = make_refs(tmp_path, 40)
    token = CancelToken()
    seen: list[Fingerprint] = []

    def on_result(fp: Fingerprint) -> None:
        seen.append(fp)
        if len(seen) == 3:
            token.cancel()

    with pytest.raises(Cancelled), LocalEngine(2, threads=threads) as engine:
        fingerprint_all(
            refs, jobs=2, max_pixels=10**8, cancel=token, on_result=on_result, engine=engine
        )
    assert len(seen) == 3


def test_hot_path_signatures_equal_the_reference_functions() -> None:
    import numpy as np

    from picdup.fingerprint.hashes import (
        colour_signature,
        content_box,
        content_signatures,
        dhash,
        grey,
        phash,
        thumbnail,
    )

    # Letterboxed, so the content box is a real crop.
    rgb = np.zeros((300, 400, 3), dtype=np.uint8)
    rgb[40:260, 30:370] = np.asarray(photo(7, 340, 220))
    g = grey(rgb)
    box = content_box(g)
    assert box != (0, 300, 0, 400)
    top, bottom, left, right = box
    crop_g, crop_rgb = g[top:bottom, left:right], rgb[top:bottom, left:right]
    assert content_signatures(rgb, g, box) == (
        phash(crop_g),
        dhash(crop_g),
        thumbnail(crop_g),
        colour_signature(crop_rgb),
    )


def test_two_jobs_run_on_threads_and_more_on_processes() -> None:
    assert LocalEngine(1).threads and LocalEngine(2).threads
    assert not LocalEngine(3).threads
    assert not LocalEngine(2, threads=False).threads


def test_an_engine_closed_while_its_workers_start_leaves_none_behind(tmp_path: Path) -> None:
    engine = LocalEngine(2, threads=False)
    engine.start()
    engine.close()
    assert multiprocessing.active_children() == []
    # A closed engine starts afresh when asked again, and serves a whole scan.
    refs = make_refs(tmp_path, 12)
    with engine:
        again = fingerprint_all(refs, jobs=2, max_pixels=10**8, engine=engine)
        assert len(multiprocessing.active_children()) == 2
    assert again == fingerprint_all(refs, jobs=1, max_pixels=10**8)
    assert multiprocessing.active_children() == []


def test_threads_decoding_at_once_leave_the_warning_filters_as_they_were(tmp_path: Path) -> None:
    import threading
    import warnings

    from picdup.fingerprint import fingerprint_file

    refs = make_refs(tmp_path, 6)
    before = list(warnings.filters)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(15):
                for ref in refs:
                    fingerprint_file(ref, max_pixels=10**8)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert warnings.filters == before
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.warn("still heard", UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["still heard"]
