"""Byte-identical copies share one decode: the copy's fingerprint is the first one's with its own
ref, on one thread, on threads that take up both at once, and on worker processes."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

import picdup.fingerprint.compute as compute
from imagegen import photo, save
from picdup.engine import fingerprint_all
from picdup.engine.local import LocalEngine, work_order
from picdup.fingerprint import Twins, fingerprint_file
from picdup.model import FileRef, Fingerprint

MAX_PIXELS = 50_000_000


def _ref(path: Path, root: Path) -> FileRef:
    st = path.stat()
    return FileRef(str(path), st.st_size, st.st_mtime_ns, str(root))


@pytest.fixture
def tree(tmp_path: Path) -> list[FileRef]:
    """Six pictures, four of them with a copy under another name, one under another
    extension, and a broken file with a copy."""
    pics = tmp_path / "pics"
    copies = tmp_path / "copies"
    pics.mkdir()
    copies.mkdir()
    for k in range(6):
        save(photo(k, 200 + 8 * k, 150), pics / f"p{k}.jpg")
    for k in range(4):
        shutil.copyfile(pics / f"p{k}.jpg", copies / f"copy of p{k}.jpg")
    shutil.copyfile(pics / "p5.jpg", copies / "p5.jpeg")
    (pics / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 300)
    shutil.copyfile(pics / "broken.jpg", copies / "broken copy.jpg")
    return [_ref(p, tmp_path) for p in sorted(tmp_path.rglob("*.jp*g"))]


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files whose bytes were fingerprinted (not taken from a copy)."""
    names: list[str] = []
    real = compute._fingerprint_bytes

    def counting(ref: FileRef, *args: object, **kwargs: object) -> Fingerprint:
        names.append(Path(ref.path).name)
        return real(ref, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compute, "_fingerprint_bytes", counting)
    return names


def _each_alone(refs: list[FileRef]) -> list[Fingerprint]:
    return [fingerprint_file(r, max_pixels=MAX_PIXELS) for r in refs]


@pytest.mark.parametrize(
    ("jobs", "threads"), [(1, None), (2, True), (2, False)], ids=["inline", "threads", "processes"]
)
def test_copies_share_one_decode_and_get_their_own_ref(
    tree: list[FileRef], computed: list[str], jobs: int, threads: bool | None
) -> None:
    with LocalEngine(jobs, threads=threads) as engine:
        got = fingerprint_all(tree, jobs=jobs, max_pixels=MAX_PIXELS, engine=engine)
    alone = _each_alone(tree)  # counted too, after the scan's own
    assert got == alone  # in the order of the refs, each with its own ref
    assert [fp.ref for fp in got] == tree
    scanned = computed[: len(computed) - len(tree)]
    if threads is False:
        return  # worker processes count in their own memory; the equality above is the point
    # The four copies and the broken file's copy take their twin's fingerprint; the copy under
    # another extension is decoded on its own (the extension can decide RAW against TIFF).
    assert len(scanned) == len(tree) - 5
    assert "p5.jpeg" in scanned and "p5.jpg" in scanned
    broken = [fp for fp in got if "broken" in fp.ref.path]
    assert len(broken) == 2 and broken[0].error and broken[0].error == broken[1].error


def test_a_copy_waits_for_the_fingerprint_under_way(tree: list[FileRef]) -> None:
    twins = Twins({tree[0].size})
    assert twins.claim("d", tree[0]) is None  # this caller computes it
    got: list[Fingerprint | None] = []
    waiter = threading.Thread(target=lambda: got.append(twins.claim("d", tree[0])))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not got  # waiting, not computing it again
    fp = Fingerprint(tree[0], "d")
    twins.settle("d", tree[0], fp)
    waiter.join(5)
    assert got == [fp] and twins.reused == 1


def test_a_failed_fingerprint_lets_the_waiting_copy_compute_its_own(tree: list[FileRef]) -> None:
    twins = Twins({tree[0].size})
    assert twins.claim("d", tree[0]) is None
    got: list[Fingerprint | None] = []
    waiter = threading.Thread(target=lambda: got.append(twins.claim("d", tree[0])))
    waiter.start()
    twins.settle("d", tree[0], None)
    waiter.join(5)
    assert got == [None]  # the waiter now holds the claim
    assert not waiter.is_alive()


def test_only_shared_sizes_are_kept_and_the_oldest_go_first(tree: list[FileRef]) -> None:
    twins = Twins({1, 2}, limit=2)
    assert twins.wanted(1) and not twins.wanted(3)
    for digest in ("a", "b", "c"):
        assert twins.claim(digest, tree[0]) is None
        twins.settle(digest, tree[0], Fingerprint(tree[0], digest))
    assert twins.claim("a", tree[0]) is None  # dropped: the limit is 2
    twins.settle("a", tree[0], None)
    found = twins.claim("c", tree[1])
    assert found is not None and found.ref == tree[1] and found.digest == "c"


def test_work_order_is_largest_first_with_copies_held_back_by_the_jobs() -> None:
    sizes = [5, 9, 9, 9, 3, 7, 7, 1, 2, 2]
    refs = [FileRef(f"f{k}", size, 0, "") for k, size in enumerate(sizes)]
    # Sizes 9, 7, 5; then the later 9s (two files went out after the first) and the later 7
    # (three did); 3, 2, 1 and the later 2 (no file is left to put between).
    assert work_order(refs, 2) == [1, 5, 0, 2, 3, 6, 4, 8, 7, 9]
    # One job: a later file needs one other between.
    assert work_order(refs, 1) == [1, 5, 2, 3, 6, 0, 4, 8, 7, 9]
