"""``scan NEW --against ARCHIVE``: only NEW-versus-ARCHIVE pairs, the archive index, its reuse."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import numpy as np
import pytest

import picdup
from imagegen import photo, save, to_bytes
from picdup.errors import ConfigError
from picdup.fingerprint.hashes import THUMB_SIZE
from picdup.index.archive import (
    ArchiveIndex,
    arrays_from_fingerprints,
    merge_arrays,
    write_archive_index,
)
from picdup.model import FileRef, Fingerprint, ImageInfo, Report
from picdup.options import ScanOptions
from picdup.pipeline import run_against
from picdup.report import load_report

RunCli = Callable[..., CompletedProcess[str]]


@pytest.fixture
def trees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An archive with internal copies, and NEW files: some already archived, some not."""
    monkeypatch.setenv("PICDUP_CACHE_DIR", str(tmp_path / "cache"))
    archive, new = tmp_path / "archive", tmp_path / "new"
    (archive / "2019").mkdir(parents=True)
    (archive / "dup").mkdir()
    new.mkdir()
    for k in range(6):
        save(photo(200 + k, 320, 240), archive / "2019" / f"p{k}.jpg")
    # Archive-internal copies: never to be reported.
    shutil.copy(archive / "2019" / "p0.jpg", archive / "dup" / "p0 copy.jpg")
    save(photo(201, 320, 240).resize((160, 120)), archive / "dup" / "p1-small.jpg")
    # NEW: an exact copy, a resized copy and a PNG of archived pictures…
    shutil.copy(archive / "2019" / "p2.jpg", new / "IMG_2.jpg")
    save(photo(203, 320, 240).resize((240, 180)), new / "IMG_3.jpg")
    (new / "IMG_4.png").write_bytes(to_bytes(photo(204, 320, 240), "PNG"))
    # …and two copies of a picture the archive does not have (a NEW-NEW pair: not reported).
    save(photo(210, 320, 240), new / "IMG_10.jpg")
    save(photo(210, 320, 240).resize((200, 150)), new / "IMG_10b.jpg")
    return archive, new


def _pairs(report: Report) -> set[tuple[str, str, str]]:
    """(archived keeper name, new file name, class) for every reported NEW file."""
    out = set()
    for g in report.groups:
        keeper = g.members[0]
        assert keeper.archive and keeper.path == g.keep and keeper.cls == "keeper"
        assert [m.archive for m in g.members[1:]] == [False] * (len(g.members) - 1)
        out |= {(Path(keeper.path).name, Path(m.path).name, m.cls) for m in g.members[1:]}
    return out


def test_only_new_versus_archive_pairs_are_reported(trees: tuple[Path, Path]) -> None:
    archive, new = trees
    report = run_against([new], [archive], ScanOptions(jobs=1))
    assert _pairs(report) == {
        ("p2.jpg", "IMG_2.jpg", "exact"),
        ("p3.jpg", "IMG_3.jpg", "near"),
        ("p4.jpg", "IMG_4.png", "near"),
    }
    assert report.stats.files == report.stats.images == 5  # NEW files only
    assert report.stats.duplicates == 3
    assert report.stats.reclaimable_bytes == sum(
        (new / n).stat().st_size for n in ("IMG_2.jpg", "IMG_3.jpg", "IMG_4.png")
    )
    assert report.options["against"] == [str(archive)]
    assert report.roots == (str(new),)
    assert all(g.root == str(new) for g in report.groups)


def test_a_new_copy_of_an_internally_duplicated_picture_joins_one_archived_file(
    trees: tuple[Path, Path],
) -> None:
    archive, new = trees
    shutil.copy(archive / "2019" / "p0.jpg", new / "again.jpg")
    report = run_against([new], [archive], ScanOptions(jobs=1))
    groups = [g for g in report.groups if any(m.path.endswith("again.jpg") for m in g.members)]
    assert len(groups) == 1
    assert [m.archive for m in groups[0].members] == [True, False]
    archived = {m.path for g in report.groups for m in g.members if m.archive}
    # "p0 copy.jpg" and "p1-small.jpg" duplicate archived files but are never reported for it.
    assert str(archive / "dup" / "p1-small.jpg") not in archived
    assert (
        len(archived & {str(archive / "2019" / "p0.jpg"), str(archive / "dup" / "p0 copy.jpg")})
        == 1
    )


def test_second_query_reads_nothing_of_an_unchanged_archive(trees: tuple[Path, Path]) -> None:
    archive, new = trees
    first = run_against([new], [archive], ScanOptions(jobs=1))
    # Overwrite an archived file behind the index's back, keeping size and mtime: were it read
    # again, its match would vanish. Then touch it: now it must be read again.
    target = archive / "2019" / "p3.jpg"
    st = target.stat()
    target.write_bytes(b"\0" * st.st_size)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = run_against([new], [archive], ScanOptions(jobs=1))
    assert _pairs(second) == _pairs(first)
    assert second.errors == ()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    third = run_against([new], [archive], ScanOptions(jobs=1))
    assert ("p3.jpg", "IMG_3.jpg", "near") not in _pairs(third)
    assert [e.path for e in third.errors] == [str(target)]


def test_cli_with_a_built_index_equals_the_roots_form(
    trees: tuple[Path, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    archive, new = trees
    env = {"PICDUP_CACHE_DIR": str(tmp_path / "cache")}
    done = run_cli("archive", "build", str(archive), "-o", "arc.pdarchive", "-j1", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "8 images indexed in arc.pdarchive; 0 unreadable\n"
    done = run_cli("archive", "info", "arc.pdarchive", env=env)
    assert "entries: 8\n" in done.stdout and f"root: {archive}\n" in done.stdout
    by_index = run_cli("scan", str(new), "--against", "arc.pdarchive", "-o", "a.json", env=env)
    by_root = run_cli("scan", str(new), "--against", str(archive), "-o", "b.json", env=env)
    assert by_index.returncode == by_root.returncode == 1, by_index.stderr + by_root.stderr
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert a["groups"] == b["groups"]
    assert a["options"]["against"] == [str(tmp_path / "arc.pdarchive")]
    assert [m.get("archive", False) for m in a["groups"][0]["members"]] == [True, False]
    again = load_report(tmp_path / "a.json")
    assert [m.archive for m in again.groups[0].members] == [True, False]


def test_exact_mode_finds_only_byte_copies(trees: tuple[Path, Path]) -> None:
    archive, new = trees
    report = picdup.find_in_archive([new], [archive], mode="exact", jobs=1)
    assert _pairs(report) == {("p2.jpg", "IMG_2.jpg", "exact")}


def test_exact_index_refuses_near_queries(trees: tuple[Path, Path], run_cli: RunCli) -> None:
    archive, new = trees
    done = run_cli("archive", "build", str(archive), "--mode", "exact", "-o", "x.pdarchive")
    assert done.returncode == 0, done.stderr
    done = run_cli("scan", str(new), "--against", "x.pdarchive")
    assert done.returncode == 2
    assert "was built in exact mode" in done.stderr


def _fake_fps(hashes: np.ndarray) -> list[Fingerprint]:
    return [
        Fingerprint(
            FileRef(f"/a/{k}.jpg", 100 + k, k, "/a", etag=None if k % 2 else f"e{k}"),
            format(k * 7919 + 1, "032x"),
            ImageInfo("JPEG", 640, 480),
            phash=int(h),
            dhash=int(h) ^ 1,
            thumb=bytes([k % 256]) * (THUMB_SIZE * THUMB_SIZE),
            colour=bytes(48),
            content_width=640,
            content_height=480,
        )
        for k, h in enumerate(hashes)
    ]


def test_index_search_equals_brute_force_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    centres = rng.integers(0, 2**63, size=300, dtype=np.uint64)
    # Clusters of near copies (a few flipped bits) among unrelated hashes, like real archives.
    flips = rng.integers(0, 64, size=(3000, 6)).astype(np.uint64)
    noise = np.bitwise_or.reduce(np.uint64(1) << flips, axis=1) * (rng.random((3000,)) < 0.7)
    archive = np.concatenate([centres[rng.integers(0, 300, 3000)] ^ noise.astype(np.uint64)])
    archive = np.concatenate([archive, rng.integers(0, 2**63, size=2000, dtype=np.uint64)])
    fps = _fake_fps(archive)
    write_archive_index(
        arrays_from_fingerprints(fps, ["/a"]), str(tmp_path / "x.pdarchive"), roots=["/a"]
    )
    index = ArchiveIndex(str(tmp_path / "x.pdarchive"))
    assert len(index) == 5000
    queries = np.concatenate([centres[:50], rng.integers(0, 2**63, size=50, dtype=np.uint64)])
    # The oracle: every query against every entry.
    dist = np.bitwise_count(queries[:, None] ^ archive[None, :])
    for radius in (0, 4, 10, 13):
        qi, ej, d = index.near(queries, radius)
        bi, bj = np.nonzero(dist <= radius)
        expected = {(int(a), fps[b].ref.path, int(dist[a, b])) for a, b in zip(bi, bj, strict=True)}
        got = {(int(a), index.path_of(int(e)), int(x)) for a, e, x in zip(qi, ej, d, strict=True)}
        assert got == expected
        assert len(got) > 0 or radius == 0
    # Every stored fact comes back (entries are stored in pHash order, not input order).
    by_path = {fp.ref.path: fp for fp in fps}
    for e in range(0, 5000, 97):
        back = index.fingerprint(e)
        assert back == by_path[back.ref.path]
    qi, ej = index.same_digest([fps[42].digest, "0" * 32, fps[4999].digest])
    assert [(int(q), index.path_of(int(e))) for q, e in zip(qi, ej, strict=True)] == [
        (0, "/a/42.jpg"),
        (2, "/a/4999.jpg"),
    ]


def test_index_of_another_algorithm_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.pdarchive"
    write_archive_index(
        arrays_from_fingerprints(_fake_fps(np.arange(3, dtype=np.uint64)), ["/a"]),
        str(path),
        roots=["/a"],
    )
    meta = json.loads((path / "meta.json").read_text())
    meta["algorithm"] = -1
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match="another picdup version"):
        ArchiveIndex(str(path))


def test_apply_never_touches_the_archive(
    trees: tuple[Path, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    archive, new = trees
    env = {"PICDUP_CACHE_DIR": str(tmp_path / "cache")}
    archived = {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()}
    done = run_cli("scan", str(new), "--against", str(archive), "-j1", "-o", "r.json", env=env)
    assert done.returncode == 1, done.stderr
    # "newest" would pick the NEW copy as keeper; archived members stay keepers whatever the
    # policy, so the NEW copies are what is removed and the archive is left byte for byte.
    done = run_cli("apply", "r.json", "--action", "delete", "--keep", "newest", "--yes", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()} == archived
    assert sorted(p.name for p in new.iterdir()) == ["IMG_10.jpg", "IMG_10b.jpg"]


def test_an_updated_index_keeps_every_reused_entry_byte_for_byte(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    fps = _fake_fps(rng.integers(0, 2**63, size=3000, dtype=np.uint64))
    first = tmp_path / "a.pdarchive"
    write_archive_index(arrays_from_fingerprints(fps[:2000], ["/a"]), str(first), roots=["/a"])
    old = ArchiveIndex(str(first))
    # Keep every other old entry (read lazily from the old files), add 1000 new ones.
    keep = np.arange(0, 2000, 2)
    merged = merge_arrays([old.entries().take(keep), arrays_from_fingerprints(fps[2000:], ["/a"])])
    write_archive_index(merged, str(first), roots=["/a"])  # replaces the index it reads from
    new = ArchiveIndex(str(first))
    expected = {fp.ref.path: fp for fp in fps[2000:]}
    expected.update({old.path_of(int(k)): old.fingerprint(int(k)) for k in keep})
    assert len(new) == len(expected) == 2000
    assert {new.path_of(k): new.fingerprint(k) for k in range(len(new))} == expected
