"""Invariants of grouping: no chaining, and the same groups whatever the order of files."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from imagegen import photo, save
from picdup import find_duplicates
from picdup.engine import fingerprint_all
from picdup.group import star_clusters
from picdup.model import Match, MatchClass
from picdup.options import ScanOptions
from picdup.pipeline import match_scope
from picdup.scan import walk

edges = st.lists(
    st.tuples(st.integers(0, 15), st.integers(0, 15)).filter(lambda e: e[0] != e[1]),
    max_size=60,
)


def _matches(pairs: list[tuple[int, int]]) -> list[Match]:
    seen = {tuple(sorted(p)) for p in pairs}
    return [Match(a, b, MatchClass.NEAR, 0, 1.0) for a, b in sorted(seen)]


@given(edges, st.randoms(use_true_random=False))
@settings(max_examples=200, deadline=None)
def test_star_clusters_never_chain(pairs: list[tuple[int, int]], rnd: random.Random) -> None:
    matches = _matches(pairs)
    linked = {(m.a, m.b) for m in matches} | {(m.b, m.a) for m in matches}
    groups = star_clusters(matches, rank=lambda n: n)
    placed: list[int] = []
    for centre, members in groups:
        placed.append(centre)
        for m in members:
            other = m.b if m.a == centre else m.a
            assert (centre, other) in linked  # every member matches the keeper directly
            placed.append(other)
    assert len(placed) == len(set(placed))  # nobody is in two groups
    shuffled = matches[:]
    rnd.shuffle(shuffled)
    assert star_clusters(shuffled, rank=lambda n: n) == groups


def test_chain_is_cut_at_the_keeper() -> None:
    # 0 ~ 1 and 1 ~ 2, but 0 and 2 are unrelated: 2 must not join 0's group.
    groups = star_clusters(_matches([(0, 1), (1, 2)]), rank=lambda n: n)
    assert [(c, [(m.a, m.b) for m in ms]) for c, ms in groups] == [(0, [(0, 1)])]


@pytest.fixture(scope="module")
def near_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("near")
    for seed in range(4):
        im = photo(100 + seed, 800, 600)
        save(im, root / f"p{seed}.jpg")
        save(
            im.resize((400, 300), Image.Resampling.LANCZOS), root / f"p{seed}-half.jpg", quality=75
        )
        save(im.resize((600, 450)), root / f"p{seed}.webp", quality=80)
        shutil.copyfile(root / f"p{seed}.jpg", root / f"p{seed}-copy.jpg")
    for seed in range(4):
        save(photo(200 + seed), root / f"other{seed}.png")
    return root


def _signature(groups) -> set[tuple[str, frozenset[tuple[str, str]]]]:
    return {
        (Path(g.keep).name, frozenset((Path(m.path).name, m.cls) for m in g.members))
        for g in groups
    }


def test_groups_do_not_depend_on_file_order(near_tree: Path) -> None:
    options = ScanOptions(jobs=1)
    files = walk([str(near_tree)]).files
    fps = fingerprint_all(files, jobs=1, max_pixels=options.max_pixels)
    expected = _signature(match_scope(fps, options, None))
    assert len(expected) == 4
    rnd = random.Random(5)
    for _ in range(5):
        shuffled = fps[:]
        rnd.shuffle(shuffled)
        assert _signature(match_scope(shuffled, options, None)) == expected


def test_near_copies_grouped_with_their_source(near_tree: Path) -> None:
    report = find_duplicates([near_tree], jobs=2)
    names = {frozenset(Path(m.path).name for m in g.members) for g in report.groups}
    assert names == {
        frozenset({f"p{s}.jpg", f"p{s}-half.jpg", f"p{s}.webp", f"p{s}-copy.jpg"}) for s in range(4)
    }
    for g in report.groups:
        assert Path(g.keep).name.endswith(".jpg") and "half" not in g.keep
