"""Plans: keep policies, --prefer, --protect, review decisions, destinations; read-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import imagegen
import picdup
from act_tree import make_tree, scan, snapshot
from picdup.act import Plan
from picdup.act.fileops import FileOps
from picdup.act.policy import jpeg_quality, quality_estimate
from picdup.decisions import Decisions, decisions_path, save_decisions
from picdup.errors import ConfigError, ReportError


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, Path], Path]:
    root = tmp_path / "tree"
    files = make_tree(root)
    report = tmp_path / "report.json"
    scan(root, report)
    return root, files, report


def _group_of(p: Plan, path: Path) -> picdup.act.GroupPlan:
    return next(g for g in p.groups if str(path) in [g.keep, *(s.path for s in g.steps)])


# -- pinned values -------------------------------------------------------------------


@pytest.mark.parametrize("quality", [30, 50, 60, 75, 90, 95])
def test_jpeg_quality_is_recovered_from_the_quantisation_table(
    tmp_path: Path, quality: int
) -> None:
    path = tmp_path / "q.jpg"
    imagegen.save(imagegen.photo(1, 64, 48), path, quality=quality)
    est = quality_estimate(str(path), "JPEG", FileOps())
    assert est is not None and abs(est - quality) <= 1


def test_quality_estimate_of_lossless_and_unknown_formats(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    imagegen.save(imagegen.photo(1, 32, 32), png)
    assert quality_estimate(str(png), "PNG", FileOps()) == 100
    assert quality_estimate(str(png), "WEBP", FileOps()) is None
    # the standard table itself is quality 50
    std = [16, 11, 10, 16, 24, 40, 51, 61] + [12] * 56
    assert 40 <= jpeg_quality(std) <= 100


# -- policies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keep", "photo_keeper", "other_keeper"),
    [
        ("resolution", "photo", "other_png"),
        ("size", "photo", "other_png"),
        ("quality", "photo", "other_png"),
        ("oldest", "photo_c", "other_jpg"),
        ("newest", "photo_b", "other_png"),
        ("shortest-path", "photo", "other_png"),
        ("suggested", "photo", "other_png"),
    ],
)
def test_each_keep_policy_picks_its_keeper_and_says_why(
    tree: tuple[Path, dict[str, Path], Path], keep: str, photo_keeper: str, other_keeper: str
) -> None:
    _, files, report = tree
    p = picdup.plan(report, action="trash", keep=keep)
    photo = _group_of(p, files["photo"])
    other = _group_of(p, files["other_png"])
    assert photo.keep == str(files[photo_keeper])
    assert other.keep == str(files[other_keeper])
    assert photo.keep not in [s.path for s in photo.steps]
    assert len(photo.steps) == 3 and len(other.steps) == 1
    words = {
        "resolution": "resolution",
        "size": "largest file",
        "quality": "quality",
        "oldest": "oldest",
        "newest": "newest",
        "shortest-path": "shortest path",
        "suggested": "suggested",
    }[keep]
    assert words in photo.why + other.why


def test_policies_apply_in_the_given_order(tree: tuple[Path, dict[str, Path], Path]) -> None:
    _, files, report = tree
    # resolution ties among the three full-size copies; oldest then decides
    p = picdup.plan(report, keep="resolution,oldest")
    g = _group_of(p, files["photo"])
    assert g.keep == str(files["photo_c"])
    assert "oldest" in g.why and "resolution" in g.why
    # the small copy never wins on resolution, even when it is the newest
    p2 = picdup.plan(report, keep=["resolution", "newest"])
    assert _group_of(p2, files["photo"]).keep == str(files["photo_b"])


def test_prefer_keeps_copies_under_the_folder(tree: tuple[Path, dict[str, Path], Path]) -> None:
    root, files, report = tree
    p = picdup.plan(report, prefer=[root / "b"])
    assert _group_of(p, files["photo"]).keep == str(files["photo_b"])
    assert _group_of(p, files["other_png"]).keep == str(files["other_jpg"])
    assert "preferred" in _group_of(p, files["photo"]).why


def test_protected_files_are_never_acted_on(tree: tuple[Path, dict[str, Path], Path]) -> None:
    root, files, report = tree
    p = picdup.plan(report, protect=[root / "a", root / "c"])
    touched = {s.path for s in p.steps}
    assert not any(t.startswith(str(root / "a")) or t.startswith(str(root / "c")) for t in touched)
    g = _group_of(p, files["photo_b"])
    assert g.keep in (str(files["photo"]), str(files["photo_c"]))
    assert "protected" in g.why
    assert any("protected" in k.reason for k in g.kept)
    # a protected file is kept even when its group's only other copy is elsewhere
    p2 = picdup.plan(report, protect=[root / "b"], keep="resolution")
    assert _group_of(p2, files["other_jpg"]).keep == str(files["other_jpg"])
    assert str(files["other_png"]) in {s.path for s in p2.steps}


def test_review_decisions_override_the_policy(
    tree: tuple[Path, dict[str, Path], Path],
) -> None:
    _, files, report = tree
    d = Decisions(report=str(report))
    d.set_file(str(files["photo_b"]), "keep")
    d.set_file(str(files["other_png"]), "remove")
    d.mark_not_duplicate(str(files["photo"]), str(files["small"]))
    save_decisions(d, decisions_path(report))
    p = picdup.plan(report)  # picks up report.decisions.json by itself
    assert p.decisions == decisions_path(report)
    photo = _group_of(p, files["photo_b"])
    assert photo.keep == str(files["photo_b"]) and "decision" in photo.why
    assert str(files["small"]) in [k.path for k in photo.kept]
    assert {s.path for s in photo.steps} == {str(files["photo"]), str(files["photo_c"])}
    other = _group_of(p, files["other_jpg"])
    assert other.keep == str(files["other_jpg"])
    assert [s.path for s in other.steps] == [str(files["other_png"])]


def test_the_last_copy_is_kept_even_when_all_are_marked_remove(
    tree: tuple[Path, dict[str, Path], Path],
) -> None:
    _, files, report = tree
    d = Decisions()
    d.set_file(str(files["other_png"]), "remove")
    d.set_file(str(files["other_jpg"]), "remove")
    p = picdup.plan(report, decisions=d)
    g = _group_of(p, files["other_png"])
    assert len(g.steps) == 1 and "last copy" in g.why


def test_links_only_replace_byte_identical_copies(
    tree: tuple[Path, dict[str, Path], Path],
) -> None:
    _, files, report = tree
    p = picdup.plan(report, action="hardlink")
    assert {s.path for s in p.steps} == {str(files["photo_b"]), str(files["photo_c"])}
    assert all(s.digest and s.target == str(files["photo"]) for s in p.steps)
    left = {k.path for g in p.groups for k in g.kept}
    assert left == {str(files["small"]), str(files["other_jpg"])}


# -- destinations ---------------------------------------------------------------------


def test_move_gives_same_named_files_distinct_names(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    _, _files, report = tree
    dest = tmp_path / "dest"
    p = picdup.plan(report, action="move", to=dest, keep="resolution")
    targets = sorted(s.target for s in p.steps)
    assert len(set(targets)) == len(targets)
    assert str(dest / "photo.jpg") in targets and str(dest / "photo_1.jpg") in targets


def test_quarantine_keeps_paths_relative_to_the_root(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    _, files, report = tree
    q = tmp_path / "q"
    p = picdup.plan(report, action="quarantine", to=q)
    by_path = {s.path: s.target for s in p.steps}
    assert by_path[str(files["photo_c"])] == str(q / "c" / "deep" / "photo.jpg")
    assert by_path[str(files["photo_b"])] == str(q / "b" / "photo.jpg")


def test_quarantine_with_two_roots_labels_each_root(tmp_path: Path) -> None:
    x, y = tmp_path / "x" / "pics", tmp_path / "y" / "pics"
    for folder in (x, y):
        folder.mkdir(parents=True)
    imagegen.save(imagegen.photo(3, 160, 120), x / "same.jpg")
    (y / "same.jpg").write_bytes((x / "same.jpg").read_bytes())
    report = tmp_path / "r.json"
    scan(x, report, x, y)
    q = tmp_path / "q"
    p = picdup.plan(report, action="quarantine", to=q, keep="resolution")
    assert [s.target for s in p.steps] == [str(q / "pics_2" / "same.jpg")]


# -- the plan as a value -----------------------------------------------------------------


def test_plan_round_trips_through_json_and_prints(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    _, files, report = tree
    p = picdup.plan(report, action="organize", to=tmp_path / "o", include_singles=True)
    again = Plan.from_dict(json.loads(json.dumps(p.to_dict())))
    assert again == p
    text = p.describe()
    assert f"keep {_group_of(p, files['photo']).keep}" in text
    assert "00001" in text and p.summary() in text
    assert picdup.plan(report, action="delete").describe().count("cannot be undone") == 1


def test_planning_changes_nothing(tree: tuple[Path, dict[str, Path], Path], tmp_path: Path) -> None:
    _root, _, report = tree
    before = snapshot(tmp_path)
    for action in ("trash", "delete", "hardlink", "symlink", "reflink"):
        picdup.plan(report, action=action, keep="quality,oldest")
    for action in ("quarantine", "move", "organize"):
        picdup.plan(report, action=action, to=tmp_path / "dest")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "shred"}, "unknown action"),
        ({"keep": "biggest"}, "unknown keep policy"),
        ({"keep": "oldest,newest"}, "contradict"),
        ({"action": "quarantine"}, "needs --to"),
        ({"action": "trash", "to": "x"}, "only for"),
        ({"action": "trash", "include_singles": True}, "only for --action organize"),
    ],
)
def test_bad_options_fail_before_any_work(
    tree: tuple[Path, dict[str, Path], Path], kwargs: dict[str, object], message: str
) -> None:
    _, _, report = tree
    with pytest.raises(ConfigError, match=message):
        picdup.plan(report, **kwargs)  # type: ignore[arg-type]


def test_destination_inside_a_protected_folder_is_refused(
    tree: tuple[Path, dict[str, Path], Path],
) -> None:
    root, _, report = tree
    with pytest.raises(ConfigError, match="protected"):
        picdup.plan(report, action="move", to=root / "a" / "dupes", protect=[root / "a"])


def test_decisions_made_for_another_scan_are_refused(
    tree: tuple[Path, dict[str, Path], Path],
) -> None:
    _, files, report = tree
    d = Decisions(report=str(report), report_created="1999-01-01T00:00:00Z")
    d.set_file(str(files["photo_b"]), "keep")
    with pytest.raises(ReportError, match="another scan"):
        picdup.plan(report, decisions=d)


def test_a_destination_inside_a_scanned_folder_is_noted(
    tree: tuple[Path, dict[str, Path], Path],
) -> None:
    root, _, report = tree
    p = picdup.plan(report, action="quarantine", to=root / "dupes")
    assert any("inside a scanned folder" in n for n in p.notes)
    assert "inside a scanned folder" in p.describe()
