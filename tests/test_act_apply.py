"""Applying plans in-process on generated trees: every action, its safety checks, and undo."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import imagegen
import picdup
from act_tree import make_tree, scan, snapshot
from picdup.act import Plan
from picdup.act.fileops import partial_name
from picdup.act.journal import Journal, read_journal
from picdup.errors import ActionError


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, Path], Path]:
    root = tmp_path / "tree"
    files = make_tree(root)
    report = tmp_path / "report.json"
    scan(root, report)
    return root, files, report


def _records(journal: str) -> list[dict[str, object]]:
    return read_journal(journal)[1]


@pytest.mark.parametrize(
    ("action", "kwargs"),
    [
        ("quarantine", {"to": "q"}),
        ("move", {"to": "moved"}),
        ("hardlink", {}),
        ("symlink", {}),
        ("organize", {"to": "sorted"}),
        ("organize", {"to": "sorted", "move_files": True, "include_singles": True}),
    ],
)
def test_each_action_then_undo_restores_the_tree_byte_for_byte(
    tree: tuple[Path, dict[str, Path], Path],
    tmp_path: Path,
    action: str,
    kwargs: dict[str, object],
) -> None:
    _root, _files, report = tree
    if "to" in kwargs:
        kwargs = {**kwargs, "to": tmp_path / str(kwargs["to"])}
    before = snapshot(tmp_path)
    p = picdup.plan(report, action=action, **kwargs)  # type: ignore[arg-type]
    result = picdup.apply(p)
    assert result.ok and len(result.done) == len(p.steps) > 0
    keepers = {g.keep for g in p.groups}
    if action in ("quarantine", "move"):
        for r in result.done:
            assert not os.path.lexists(r.path) and Path(r.dest).is_file()
            assert Path(r.dest).is_relative_to(tmp_path / str(kwargs["to"]).rsplit("/", 1)[-1])
        assert all(Path(k).is_file() for k in keepers)
    if action == "hardlink":
        for s in p.steps:
            assert os.path.samefile(s.path, s.target)
    if action == "symlink":
        for s in p.steps:
            assert os.path.islink(s.path) and os.path.realpath(s.path) == s.target
    if action == "organize":
        assert all(Path(r.dest).parent == tmp_path / "sorted" for r in result.done)
    assert snapshot(tmp_path) != before
    journal = result.journal
    assert Path(journal).parent == tmp_path  # beside the report

    undone = picdup.undo(journal)
    assert undone.ok and len(undone.restored) == len(p.steps)
    after = snapshot(tmp_path)
    after.pop(os.path.basename(journal))
    assert after == before
    # undo is idempotent: a second run finds nothing left to do
    again = picdup.undo(journal)
    assert again.ok and not again.restored


def test_delete_is_irreversible_and_says_so(
    tree: tuple[Path, dict[str, Path], Path],
) -> None:
    _, files, report = tree
    p = picdup.plan(report, action="delete")
    assert p.irreversible and "irreversible" in " ".join(p.notes)
    result = picdup.apply(p)
    assert len(result.done) == 4
    assert not files["photo_b"].exists() and not files["other_jpg"].exists()
    assert files["photo"].exists() and files["other_png"].exists()
    u = picdup.undo(result.journal)
    assert set(u.irreversible) == {s.path for s in p.steps} and not u.restored


def test_reflink_works_or_fails_clearly_without_changing_anything(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    root, _, report = tree
    before = snapshot(root)
    p = picdup.plan(report, action="reflink")
    result = picdup.apply(p)
    if result.stopped:
        # ext4, tmpfs …: the first step says why and the run stops
        assert "reflink is not supported" in result.stopped
        assert len(result.failed) == 1 and not result.done
        assert snapshot(root) == before
        assert not list(root.rglob("*.picdup-partial"))
    else:
        assert len(result.done) == 2
        assert snapshot(root) == before  # same bytes, mode and time: only extents are shared


def test_a_file_changed_after_the_scan_is_skipped(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    _, files, report = tree
    p = picdup.plan(report, action="quarantine", to=tmp_path / "q")
    # same size, new bytes, old mtime: only the digest of an exact copy can tell
    data = bytearray(files["photo_b"].read_bytes())
    data[-3] ^= 0xFF
    st = files["photo_b"].stat()
    files["photo_b"].write_bytes(bytes(data))
    os.utime(files["photo_b"], ns=(st.st_atime_ns, st.st_mtime_ns))
    files["small"].touch()  # a new mtime
    files["other_jpg"].unlink()  # gone
    result = picdup.apply(p)
    reasons = {r.path: r.message for r in result.skipped}
    assert "content differs" in reasons[str(files["photo_b"])]
    assert "modification time" in reasons[str(files["small"])]
    assert "missing" in reasons[str(files["other_jpg"])]
    assert [r.path for r in result.done] == [str(files["photo_c"])]
    assert files["photo_b"].read_bytes() == bytes(data)
    assert files["small"].exists()


def test_nothing_in_a_group_is_touched_when_its_keeper_changed(
    tree: tuple[Path, dict[str, Path], Path],
) -> None:
    _, files, report = tree
    p = picdup.plan(report, action="delete", keep="resolution")
    keeper = Path(next(g.keep for g in p.groups if "photo" in g.keep))
    keeper.unlink()
    result = picdup.apply(p)
    skipped = {r.path for r in result.skipped}
    assert {str(files["photo_b"]), str(files["photo_c"]), str(files["small"])} <= skipped
    assert all("keeper" in r.message for r in result.skipped)
    assert files["photo_b"].exists() and files["photo_c"].exists() and files["small"].exists()
    assert not files["other_jpg"].exists()  # the other group was fine


def test_never_overwrites_a_file_that_appeared_at_the_destination(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    _, files, report = tree
    dest = tmp_path / "dest"
    p = picdup.plan(report, action="move", to=dest, keep="resolution")
    dest.mkdir()
    (dest / "photo.jpg").write_bytes(b"somebody else's file")
    result = picdup.apply(p)
    assert result.ok
    assert (dest / "photo.jpg").read_bytes() == b"somebody else's file"
    names = sorted(os.listdir(dest))
    # the planned names were taken by then: each moved file got the next free one
    assert names == ["other.jpg", "photo.jpg", "photo_1.jpg", "photo_1_1.jpg", "photo_small.jpg"]
    assert (dest / "photo_1.jpg").read_bytes() == files["photo"].read_bytes()
    assert (dest / "photo_1_1.jpg").read_bytes() == files["photo"].read_bytes()
    picdup.undo(result.journal)
    assert sorted(os.listdir(dest)) == ["photo.jpg"]
    assert files["photo_b"].exists() and files["photo_c"].exists()


@pytest.fixture
def other_device(tmp_path: Path) -> Iterator[Path]:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem (/dev/shm) to move across")
    folder = Path(tempfile.mkdtemp(dir=shm, prefix="picdup-test-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_cross_device_moves_copy_verify_remove_and_undo(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path, other_device: Path
) -> None:
    root, _files, report = tree
    before = snapshot(root)
    p = picdup.plan(report, action="quarantine", to=other_device / "q")
    result = picdup.apply(p)
    assert result.ok and len(result.done) == 4
    for r in result.done:
        assert not os.path.exists(r.path)
        assert (
            before[os.path.relpath(r.path, root)][0]
            == snapshot(other_device)[os.path.relpath(r.dest, other_device)][0]
        )
    assert not list(other_device.rglob("*.picdup-partial"))
    assert picdup.undo(result.journal).ok
    assert snapshot(root) == before
    assert not (other_device / "q").exists()


def test_organize_numbers_groups_keeper_first(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    _, files, report = tree
    out = tmp_path / "sorted"
    p = picdup.plan(
        report, action="organize", to=out, keep="resolution,size,oldest", include_singles=True
    )
    result = picdup.apply(p)
    assert result.ok
    # group 1 is the "other" picture (PNG keeper), group 2 the photo, then the singles
    assert sorted(os.listdir(out)) == [
        "00001.png",
        "00001_1.jpg",
        "00002.jpg",
        "00002_1.jpg",
        "00002_2.jpg",
        "00002_3.jpg",
        "00003.png",
        "00004.jpg",
    ]
    assert (out / "00001.png").read_bytes() == files["other_png"].read_bytes()
    assert (out / "00002.jpg").read_bytes() == files["photo_c"].read_bytes()  # the oldest
    assert (out / "00002_3.jpg").read_bytes() == files["small"].read_bytes()
    assert (out / "00003.png").read_bytes() == files["one"].read_bytes()
    assert all(f.exists() for f in files.values())  # copies by default


def test_resuming_with_the_same_journal_finishes_and_another_plan_is_refused(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    _, _, report = tree
    journal = tmp_path / "run.jsonl"
    p = picdup.plan(report, action="quarantine", to=tmp_path / "q")
    first = picdup.apply(p, journal=journal)
    assert len(first.done) == 4
    again = picdup.apply(p, journal=journal)  # all recorded: nothing is run twice
    assert len(again.done) == 4
    begins = [r for r in _records(str(journal)) if r.get("type") == "begin"]
    assert len(begins) == 4
    other = picdup.plan(report, action="trash")
    with pytest.raises(ActionError, match="another plan"):
        picdup.apply(other, journal=journal)


def test_plan_from_json_applies_the_same(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    _, _, report = tree
    p = picdup.plan(report, action="move", to=tmp_path / "m")
    result = picdup.apply(Plan.from_dict(p.to_dict()))
    assert sorted(r.path for r in result.done) == sorted(s.path for s in p.steps)


def test_a_hand_edited_plan_cannot_act_on_the_keeper(
    tree: tuple[Path, dict[str, Path], Path],
) -> None:
    _, files, report = tree
    p = picdup.plan(report, action="delete", keep="resolution")
    data = p.to_dict()
    group = next(g for g in data["groups"] if g["keep"] == str(files["photo"]))
    group["steps"][0]["path"] = group["keep"]
    group["steps"][0]["size"] = group["keeper_size"]
    group["steps"][0]["mtime_ns"] = group["keeper_mtime_ns"]
    result = picdup.apply(Plan.from_dict(data))
    assert files["photo"].exists()
    assert any("keeper" in r.message for r in result.skipped)


def _crashed_move(plan: Plan, journal: Path, *, copied: bool) -> tuple[Path, Path]:
    """Leave the files and journal the way a kill inside a cross-device move leaves them:
    the copy written under its temporary name, or already renamed with the source still there."""
    step = plan.steps[0]
    src, dst = Path(step.path), Path(step.target)
    with Journal.create(str(journal), plan.to_dict()) as jr:
        missing = [str(p) for p in reversed(dst.parents) if not p.exists()]
        jr.write({"type": "mkdir", "step": 0, "paths": missing})
        dst.parent.mkdir(parents=True)
        st = src.stat()
        jr.write(
            {
                "type": "begin",
                "step": 0,
                "op": "move",
                "path": str(src),
                "mode": st.st_mode,
                "mtime_ns": st.st_mtime_ns,
                "dest": str(dst),
            }
        )
        shutil.copy2(src, partial_name(str(dst)))
        if copied:
            os.rename(partial_name(str(dst)), dst)
    return src, dst


@pytest.mark.parametrize("copied", [False, True])
def test_an_interrupted_cross_device_move_is_undone(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path, other_device: Path, copied: bool
) -> None:
    root, _, report = tree
    before = snapshot(root)
    p = picdup.plan(report, action="quarantine", to=other_device / "q")
    journal = tmp_path / "crashed.jsonl"
    _crashed_move(p, journal, copied=copied)
    assert picdup.undo(journal).ok
    assert snapshot(root) == before
    assert not (other_device / "q").exists()  # no copy, no temporary file, no folder


def test_an_interrupted_cross_device_move_is_finished_by_resume(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path, other_device: Path
) -> None:
    _, _, report = tree
    p = picdup.plan(report, action="quarantine", to=other_device / "q")
    journal = tmp_path / "crashed.jsonl"
    src, dst = _crashed_move(p, journal, copied=True)
    result = picdup.apply(p, journal=journal)
    assert result.ok and len(result.done) == len(p.steps)
    assert not src.exists() and dst.is_file()
    assert not list(other_device.rglob("*.picdup-partial"))


def test_organize_into_an_organized_folder_goes_on_numbering(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path
) -> None:
    _, _, report = tree
    out = tmp_path / "sorted"
    picdup.apply(picdup.plan(report, action="organize", to=out))
    again = picdup.apply(picdup.plan(report, action="organize", to=out))
    assert again.ok
    assert sorted(os.listdir(out)) == [
        "00001.png",
        "00001_1.jpg",
        "00002.jpg",
        "00002_1.jpg",
        "00002_2.jpg",
        "00002_3.jpg",
        "00003.png",
        "00003_1.jpg",
        "00004.jpg",
        "00004_1.jpg",
        "00004_2.jpg",
        "00004_3.jpg",
    ]


class _Counting:
    """A progress sink that remembers what it was told."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, int | None]] = []
        self.steps = 0
        self.finished = False

    def phase(self, name: str, total: int | None) -> None:
        self.phases.append((name, total))

    def advance(self, steps: int = 1) -> None:
        self.steps += steps

    def done(self) -> None:
        self.finished = True


def test_progress_and_cancel(tree: tuple[Path, dict[str, Path], Path], tmp_path: Path) -> None:
    root, _, report = tree
    before = snapshot(root)
    p = picdup.plan(report, action="quarantine", to=tmp_path / "q")
    token = picdup.CancelToken()
    token.cancel()
    journal = tmp_path / "j.jsonl"
    stopped = picdup.apply(p, journal=journal, cancel=token)
    assert stopped.stopped == "cancelled" and not stopped.done
    assert snapshot(root) == before
    sink = _Counting()
    finished = picdup.apply(p, journal=journal, progress=sink)  # resumes the same journal
    assert finished.ok and len(finished.done) == len(p.steps)
    assert sink.phases == [("apply", len(p.steps))] and sink.steps == len(p.steps)
    assert sink.finished


def test_names_that_are_not_utf8_survive_the_journal(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    imagegen.save(imagegen.photo(5, 160, 120), root / "a.jpg")
    odd = os.fsdecode(b"caf\xe9 copy.jpg")  # Latin-1 name: a lone surrogate in Python
    shutil.copyfile(root / "a.jpg", root / odd)
    report = tmp_path / "r.json"
    scan(root, report)
    before = snapshot(root)
    p = picdup.plan(report, action="quarantine", to=tmp_path / "q", keep="shortest-path")
    assert [s.path for s in p.steps] == [str(root / odd)]
    result = picdup.apply(p)
    assert result.ok and (tmp_path / "q" / odd).is_file()
    assert picdup.undo(result.journal).ok
    assert snapshot(root) == before
