"""The fingerprint cache: keys, round trips, damage, schema, and what scans read from it."""

from __future__ import annotations

import dataclasses
import logging
import os
import sqlite3
from pathlib import Path

import pytest

from imagegen import photo, save
from picdup.cache import FingerprintCache, algorithm_key, cache_info, clear_cache
from picdup.cache.store import decode_fingerprint, encode_fingerprint
from picdup.errors import CacheError, ConfigError
from picdup.fingerprint import ALGORITHM_VERSION, fingerprint_file
from picdup.model import FileRef, Fingerprint
from picdup.options import ScanOptions
from picdup.pipeline import run_scan

KEY = algorithm_key(max_pixels=10**8, decode=True)


def ref_of(path: Path, root: Path) -> FileRef:
    st = path.stat()
    return FileRef(str(path), st.st_size, st.st_mtime_ns, str(root))


def one_fingerprint(tmp_path: Path, seed: int = 1) -> Fingerprint:
    path = tmp_path / f"p{seed}.jpg"
    save(photo(seed, 200, 150), path)
    return fingerprint_file(ref_of(path, tmp_path), max_pixels=10**8)


def test_algorithm_key_names_version_and_parameters() -> None:
    key = algorithm_key(max_pixels=123, decode=False)
    assert key.startswith(f"v{ALGORITHM_VERSION};layout=")
    assert "max_pixels=123" in key and "decode=0" in key
    assert key != algorithm_key(max_pixels=124, decode=False)
    assert key != algorithm_key(max_pixels=123, decode=True)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    fp = one_fingerprint(tmp_path)
    assert fp.ok and fp.thumb and fp.colour
    back = decode_fingerprint(encode_fingerprint(fp), fp.ref)
    assert back == fp
    for f in dataclasses.fields(Fingerprint):
        assert getattr(back, f.name) == getattr(fp, f.name), f.name


def test_round_trip_of_an_error(tmp_path: Path) -> None:
    ref = FileRef(str(tmp_path / "x.jpg"), 3, 5, str(tmp_path))
    fp = Fingerprint(ref, "abc", error="cannot decode: truncated")
    assert decode_fingerprint(encode_fingerprint(fp), ref) == fp


def test_lookup_hits_only_unchanged_files_and_same_algorithm(tmp_path: Path) -> None:
    fp = one_fingerprint(tmp_path)
    db = tmp_path / "c.sqlite3"
    with FingerprintCache(str(db)) as cache:
        cache.add(fp, KEY)
    with FingerprintCache(str(db)) as cache:
        hits, misses = cache.lookup([fp.ref], [KEY])
        assert hits == [fp] and misses == []
        for changed in (
            dataclasses.replace(fp.ref, size=fp.ref.size + 1),
            dataclasses.replace(fp.ref, mtime_ns=fp.ref.mtime_ns + 1),
            dataclasses.replace(fp.ref, path=fp.ref.path + ".other"),
        ):
            assert cache.lookup([changed], [KEY]) == ([], [changed])
        other_algorithm = algorithm_key(max_pixels=10**7, decode=True)
        assert cache.lookup([fp.ref], [other_algorithm]) == ([], [fp.ref])


def test_passing_read_errors_are_not_cached(tmp_path: Path) -> None:
    ref = FileRef(str(tmp_path / "gone.jpg"), 10, 1, str(tmp_path))
    vanished = Fingerprint(ref, "", error="file vanished during the scan")
    db = str(tmp_path / "c.sqlite3")
    with FingerprintCache(db) as cache:
        cache.add(vanished, KEY)
        assert cache.count() == (0, 0)


def test_damaged_file_is_rebuilt_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "c.sqlite3"
    db.write_bytes(b"this is not a database at all" * 100)
    fp = one_fingerprint(tmp_path)
    with caplog.at_level(logging.WARNING, logger="picdup"), FingerprintCache(str(db)) as cache:
        cache.add(fp, KEY)
    assert "damaged" in caplog.text
    with FingerprintCache(str(db)) as cache:
        assert cache.lookup([fp.ref], [KEY])[0] == [fp]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(CacheError, match="newer picdup"):
        FingerprintCache(str(db))


def test_rows_of_another_algorithm_version_are_dropped(tmp_path: Path) -> None:
    fp = one_fingerprint(tmp_path)
    db = tmp_path / "c.sqlite3"
    with FingerprintCache(str(db)) as cache:
        cache.add(fp, "v0;layout=old;decode=1")
        cache.add(fp, KEY)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = 'v0;layout=old;'")  # as an older picdup left it
    with FingerprintCache(str(db)) as cache:
        assert cache.count() == (1, 1)


def test_wal_mode_and_info_and_clear(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "c.sqlite3"
    assert not cache_info(str(db)).exists
    with FingerprintCache(str(db)) as cache:
        cache.add_many([one_fingerprint(tmp_path, s) for s in range(3)], KEY)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    facts = cache_info(str(db))
    assert facts.exists and facts.rows == 3 and facts.current_rows == 3 and facts.bytes > 0
    assert clear_cache(str(db)) > 0
    assert not db.exists()
    assert clear_cache(str(db)) == 0


def test_cache_path_must_not_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="folder"):
        ScanOptions(cache_path=str(tmp_path))


def photo_tree(root: Path, count: int = 6) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        save(photo(k, 240, 180), root / f"a{k}.jpg")
    # One near copy so the report has a group to compare.
    photo(0, 240, 180).resize((120, 90)).save(root / "a0-small.png")


def test_warm_scan_reads_no_file_and_equals_cold_scan(tmp_path: Path) -> None:
    root = tmp_path / "pics"
    photo_tree(root)
    db = str(tmp_path / "c.sqlite3")
    opts = ScanOptions(jobs=1, cache_path=db)
    cold = run_scan([root], opts, command=[])
    warm = run_scan([root], opts, command=[])
    assert cold.groups == warm.groups and warm.stats.images == cold.stats.images == 7
    assert cache_info(db).rows == 7

    # Same size and mtime, other bytes: the cache answers (by design a rescan only stats files),
    # which shows the warm scan did not read the file.
    target = root / "a0.jpg"
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[-3] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    old_digest = {m.path: m.digest for g in cold.groups for m in g.members}
    assert str(target) in old_digest

    def digest_of(report_groups: object) -> dict[str, str]:
        return {m.path: m.digest for g in report_groups for m in g.members}  # type: ignore[attr-defined]

    stale = run_scan([root], opts, command=[])
    assert digest_of(stale.groups) == old_digest
    # A changed mtime is a miss: the file is read again.
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    uncached = run_scan([root], ScanOptions(jobs=1, use_cache=False), command=[])
    fresh = run_scan([root], opts, command=[])
    assert fresh.groups == uncached.groups
    assert digest_of(fresh.groups)[str(target)] != old_digest[str(target)]


def test_exact_mode_is_served_by_full_fingerprints(tmp_path: Path) -> None:
    root = tmp_path / "pics"
    photo_tree(root, 3)
    (root / "copy.jpg").write_bytes((root / "a1.jpg").read_bytes())
    db = str(tmp_path / "c.sqlite3")
    near = run_scan([root], ScanOptions(jobs=1, cache_path=db), command=[])
    rows = cache_info(db).rows
    exact = run_scan([root], ScanOptions(mode="exact", jobs=1, cache_path=db), command=[])
    assert cache_info(db).rows == rows  # nothing new computed
    assert [g.keep for g in exact.groups] == [str(root / "a1.jpg")]
    assert near.stats.images == 5


def test_no_cache_writes_nothing(tmp_path: Path, isolated_cache: Path) -> None:
    root = tmp_path / "pics"
    photo_tree(root, 2)
    run_scan([root], ScanOptions(jobs=1, use_cache=False), command=[])
    assert list(isolated_cache.iterdir()) == []
    run_scan([root], ScanOptions(jobs=1), command=[])
    assert [p.name for p in isolated_cache.iterdir() if p.suffix == ".sqlite3"] == [
        "fingerprints.sqlite3"
    ]


def test_damage_inside_a_valid_file_is_rebuilt_during_the_scan(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "pics"
    photo_tree(root, 40)
    db = tmp_path / "c.sqlite3"
    opts = ScanOptions(jobs=1, cache_path=str(db))
    cold = run_scan([root], opts, command=[])
    # Keep SQLite's header page, overwrite the pages that hold the rows.
    data = bytearray(db.read_bytes())
    assert len(data) > 8192
    data[4096:] = b"\xa5" * (len(data) - 4096)
    db.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="picdup"):
        again = run_scan([root], opts, command=[])
    assert "damaged" in caplog.text
    assert again.groups == cold.groups
    assert cache_info(str(db)).rows == 41


def test_unusable_default_cache_only_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "pics"
    photo_tree(root, 2)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("PICDUP_CACHE_DIR", str(blocker / "cache"))
    with caplog.at_level(logging.WARNING, logger="picdup"):
        report = run_scan([root], ScanOptions(jobs=1), command=[])
    assert report.stats.images == 3
    assert "without the cache" in caplog.text
    # An explicit --cache that cannot be used is an error, before anything is read.
    with pytest.raises(CacheError):
        run_scan([root], ScanOptions(jobs=1, cache_path=str(blocker / "c.sqlite3")), command=[])


def test_lookup_without_thumbnails_and_reading_them_back(tmp_path: Path) -> None:
    fps = [one_fingerprint(tmp_path, seed) for seed in (1, 2, 3)]
    db = str(tmp_path / "c.sqlite3")
    with FingerprintCache(db) as cache:
        for fp in fps:
            cache.add(fp, KEY)
    with FingerprintCache(db) as cache:
        hits, misses = cache.lookup([fp.ref for fp in fps], [KEY], thumbs=False)
        assert misses == [] and all(not h.thumb for h in hits)
        assert [
            dataclasses.replace(h, thumb=fp.thumb) for h, fp in zip(hits, fps, strict=True)
        ] == fps
        stored = cache.thumbs([fp.ref for fp in fps], [KEY])
    assert stored == {fp.ref.path: fp.thumb for fp in fps}


def test_thumbnails_missing_from_the_cache_are_read_again_or_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from picdup.pipeline import load_thumbs

    fps = [one_fingerprint(tmp_path, seed) for seed in (1, 2, 3)]
    bare = [dataclasses.replace(fp, thumb=b"") for fp in fps]
    # The third file was rewritten since it was fingerprinted: its thumbnail is not its own.
    save(photo(99, 200, 150), Path(fps[2].ref.path))
    options = ScanOptions(jobs=1, cache_path=str(tmp_path / "empty.sqlite3"))
    with caplog.at_level(logging.WARNING, logger="picdup"):
        got = load_thumbs(bare, [0, 2], options)
    assert got == {0: fps[0].thumb}
    assert "p3.jpg: its thumbnail is no longer available" in caplog.text
    assert load_thumbs(fps, [0, 1, 2], options) == {}  # they have theirs


def test_a_scan_with_the_cache_groups_as_one_without(tmp_path: Path) -> None:
    root = tmp_path / "pics"
    root.mkdir()
    for seed in range(3):
        im = photo(seed, 320, 240)
        save(im, root / f"a{seed}.jpg")
        save(im.resize((160, 120)), root / f"b{seed}.jpg")
    save(photo(50, 320, 240), root / "alone.jpg")

    def groups(**options: object) -> list[list[str]]:
        report = run_scan([root], ScanOptions(jobs=1, **options), command=[])  # type: ignore[arg-type]
        return [sorted(Path(m.path).name for m in g.members) for g in report.groups]

    db = str(tmp_path / "c.sqlite3")
    expected = [[f"a{k}.jpg", f"b{k}.jpg"] for k in range(3)]
    assert groups(use_cache=False) == expected
    assert groups(cache_path=db) == expected  # cold: thumbnails dropped once cached
    assert groups(cache_path=db) == expected  # warm: read back only for the candidates


@pytest.mark.parametrize("mode", ["near", "edited"])
def test_candidates_whose_thumbnails_are_gone_are_not_compared_on_blanks(
    tmp_path: Path, mode: str
) -> None:
    from picdup.pipeline import candidate_matches

    im = photo(7, 320, 240)
    save(im, tmp_path / "a.jpg", quality=92)
    save(im, tmp_path / "b.jpg", quality=80)
    fps = [
        fingerprint_file(ref_of(tmp_path / f"{n}.jpg", tmp_path), max_pixels=10**8) for n in "ab"
    ]
    options = ScanOptions(jobs=1, mode=mode, cache_path=str(tmp_path / "c.sqlite3"))
    assert [m.cls.value for m in candidate_matches(fps, options, None)] == ["near"]
    # Neither thumbnail is in the (empty) cache, and both files were rewritten since.
    bare = [dataclasses.replace(fp, thumb=b"") for fp in fps]
    for k, name in enumerate("ab"):
        save(photo(80 + k, 320, 240), tmp_path / f"{name}.jpg")
    assert candidate_matches(bare, options, None) == []
