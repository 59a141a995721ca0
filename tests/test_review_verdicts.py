"""The store of "not a duplicate" pairs, and scans that honour it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import reviewtree as rt
from imagegen import photo, save
from picdup.cache.verdicts import VERDICTS_FILE, VerdictStore, drop_not_duplicates
from picdup.errors import CacheError
from picdup.model import FileRef, Fingerprint, Match, MatchClass
from picdup.report import load_report


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thumbnails and verdicts of these tests never reach the user's cache folder."""
    monkeypatch.setenv("PICDUP_CACHE_DIR", str(tmp_path / "user-cache"))


def fp(path: str, digest: str) -> Fingerprint:
    return Fingerprint(FileRef(path, 1, 1, "/r"), digest)


def test_marks_round_trip_in_either_order(tmp_path: Path) -> None:
    odd = os.fsdecode(b"/r/caf\xe9.jpg")
    with VerdictStore(tmp_path) as store:
        store.mark(("/r/b.jpg", "d2"), (odd, "d1"))
        store.mark(("/r/a.jpg", "d0"), ("/r/b.jpg", "d2"))
        store.mark(("/r/a.jpg", "d0"), ("/r/b.jpg", "d2"))  # twice is once
    with VerdictStore(tmp_path) as store:
        assert store.pairs() == {
            (("/r/a.jpg", "d0"), ("/r/b.jpg", "d2")),
            (("/r/b.jpg", "d2"), (odd, "d1")),
        }
        assert store.is_not_duplicate((odd, "d1"), ("/r/b.jpg", "d2"))
        assert not store.is_not_duplicate((odd, "other digest"), ("/r/b.jpg", "d2"))
        store.mark(("/r/b.jpg", "d2"), ("/r/a.jpg", "d0"), not_duplicate=False)
        assert store.pairs() == {(("/r/b.jpg", "d2"), (odd, "d1"))}
    rows = sqlite3.connect(tmp_path / VERDICTS_FILE).execute("SELECT path_b FROM not_duplicates")
    assert [r[0] for r in rows] == [b"/r/caf\xe9.jpg"]  # the file system's bytes, kept exactly


def test_an_unusable_cache_folder_is_a_cache_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CacheError):
        VerdictStore(blocker)


def test_drop_pinned(tmp_path: Path) -> None:
    fps = [fp("/r/a", "da"), fp("/r/a2", "da"), fp("/r/b", "db"), fp("/r/c", "dc")]
    near = MatchClass.NEAR
    matches = [Match(0, 2, near, 3, 0.99), Match(0, 3, near, 4, 0.98), Match(2, 3, near, 1, 0.9)]
    mates = {0: [1]}
    # No store: everything kept, and nothing is created.
    assert drop_not_duplicates(fps, matches, mates, cache_dir=tmp_path) == matches
    assert not (tmp_path / VERDICTS_FILE).exists()
    with VerdictStore(tmp_path) as store:
        store.mark(("/r/a2", "da"), ("/r/c", "dc"))  # a byte copy of a speaks for a
        store.mark(("/r/b", "OLD"), ("/r/c", "dc"))  # b has changed since: no longer applies
    kept = drop_not_duplicates(fps, matches, mates, cache_dir=tmp_path)
    assert kept == [matches[0], matches[2]]
    # Order of the input does not matter.
    flipped = [Match(m.b, m.a, m.cls, m.distance, m.score) for m in matches]
    assert drop_not_duplicates(fps, flipped, mates, cache_dir=tmp_path) == [flipped[0], flipped[2]]


def test_later_scans_honour_the_verdict_until_a_file_changes(tmp_path: Path) -> None:
    tree = rt.make_tree(tmp_path / "photos")
    cache = tmp_path / "cache"
    first = load_report(rt.scan_tree(tree, tmp_path / "one.json", cache))
    plain = next(g for g in first.groups if os.path.basename(g.keep) == rt.PLAIN)
    small = next(m for m in plain.members if os.path.basename(m.path) == rt.PLAIN_SMALL)
    keeper = plain.members[0]
    with VerdictStore(cache) as store:
        store.mark((keeper.path, keeper.digest), (small.path, small.digest))

    def grouped() -> list[set[str]]:
        report = load_report(rt.scan_tree(tree, tmp_path / "again.json", cache))
        return [{os.path.basename(m.path) for m in g.members} for g in report.groups]

    groups = grouped()
    assert {rt.PLAIN, rt.PLAIN_COPY} in groups  # the byte copy stays a duplicate
    assert not any(rt.PLAIN_SMALL in g for g in groups)
    assert {rt.SCRIPT, rt.NON_UTF8} in groups  # other groups are untouched
    # The small copy is re-encoded: its content has never been judged, so it is reported again.
    save(photo(103).resize((480, 360)), tree / rt.PLAIN_SMALL, quality=80)
    assert any({rt.PLAIN, rt.PLAIN_SMALL} <= g for g in grouped())
