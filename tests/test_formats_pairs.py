"""``--pairs``: RAW+JPEG and Live Photo files are one asset, not duplicates to delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import numpy as np
import pytest

from imagegen import photo
from picdup import load_report
from picdup.decode import raw_available
from picdup.model import FileRef
from picdup.scan.pairs import find_assets
from rawgen import make_dng

RunCli = Callable[..., CompletedProcess[str]]


def _mov() -> bytes:
    body = b"qt  \x00\x00\x02\x00qt  "
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00\x00\x00\x10mdat" + bytes(8)


def _refs(*names: str) -> list[FileRef]:
    return [FileRef(f"/p/{n}", 1, 0, "/p") for n in names]


def test_find_assets_by_folder_and_stem() -> None:
    assets = find_assets(
        _refs(
            "IMG_0001.CR3",
            "IMG_0001.JPG",
            "IMG_0002.HEIC",
            "IMG_0002.MOV",
            "img_0003.jpg",
            "IMG_0003.dng",
            "IMG_0003.mov",
            "IMG_0004.JPG",
            "IMG_0004.txt",
            "IMG_0005.mov",
            "IMG_0005.png",
            "sub/IMG_0001.JPG",
        )
    )
    got = [(a.id, a.kind, a.primary.removeprefix("/p/"), len(a.files)) for a in assets]
    assert got == [
        (1, "raw+jpeg", "IMG_0001.JPG", 2),
        (2, "live photo", "IMG_0002.HEIC", 2),
        (3, "raw+jpeg+live photo", "img_0003.jpg", 3),
    ]
    assert assets[0].files == ("/p/IMG_0001.JPG", "/p/IMG_0001.CR3")


@pytest.mark.skipif(not raw_available(), reason="rawpy is not installed (picdup[raw])")
def test_pairs_are_one_asset_in_the_report(tmp_path: Path, run_cli: RunCli) -> None:
    tree = tmp_path / "DCIM"
    (tree / "backup").mkdir(parents=True)
    im = photo(400, 640, 480)
    im.save(tree / "IMG_0001.JPG", quality=92)
    (tree / "IMG_0001.DNG").write_bytes(make_dng(np.asarray(im), preview=im))
    live = photo(401, 640, 480)
    import pillow_heif

    pillow_heif.register_heif_opener()
    live.save(tree / "IMG_0002.HEIC", "HEIF", quality=80)
    (tree / "IMG_0002.MOV").write_bytes(_mov())
    live.save(tree / "backup" / "IMG_0002 copy.jpg", quality=85)

    def scan(*extra: str) -> dict[str, object]:
        out = tmp_path / "report.json"
        res = run_cli("scan", str(tree), "-o", str(out), "-j", "1", *extra)
        assert res.returncode in (0, 1), res.stderr
        data: dict[str, object] = json.loads(out.read_text("utf-8"))
        return data

    def group_names(report: dict[str, object]) -> list[list[str]]:
        groups = report["groups"]
        assert isinstance(groups, list)
        return sorted(sorted(Path(m["path"]).name for m in g["members"]) for g in groups)

    plain = scan()
    assert group_names(plain) == [
        ["IMG_0001.DNG", "IMG_0001.JPG"],
        ["IMG_0002 copy.jpg", "IMG_0002.HEIC"],
    ]
    assert "assets" not in plain

    paired = scan("--pairs")
    # The RAW and its JPEG are one photo: no group; the HEIC's real copy is still found.
    assert group_names(paired) == [["IMG_0002 copy.jpg", "IMG_0002.HEIC"]]
    assets = paired["assets"]
    assert isinstance(assets, list)
    assert [(a["kind"], [Path(f).name for f in a["files"]]) for a in assets] == [
        ("raw+jpeg", ["IMG_0001.JPG", "IMG_0001.DNG"]),
        ("live photo", ["IMG_0002.HEIC", "IMG_0002.MOV"]),
    ]
    assert paired["options"]["pairs"] is True  # type: ignore[index]
    report = load_report(tmp_path / "report.json")
    assert [a.kind for a in report.assets] == ["raw+jpeg", "live photo"]
    assert report.stats.groups == 1 and report.stats.duplicates == 1


def test_an_action_takes_the_companions_along(tmp_path: Path, run_cli: RunCli) -> None:
    """A Live Photo whose still is a duplicate: its video goes wherever the still goes, keeps
    the still's new name, and undo brings both back."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    tree = tmp_path / "DCIM"
    (tree / "backup").mkdir(parents=True)
    big = photo(402, 800, 600)
    big.save(tree / "backup" / "holiday.jpg", quality=92)  # the keeper: larger
    big.resize((640, 480)).save(tree / "IMG_0003.HEIC", "HEIF", quality=80)
    (tree / "IMG_0003.MOV").write_bytes(_mov())
    before = {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    out = tmp_path / "report.json"
    assert run_cli("scan", str(tree), "--pairs", "-o", str(out), "-j", "1").returncode == 1
    (group,) = load_report(out).groups
    assert Path(group.keep).name == "holiday.jpg"

    quarantine = tmp_path / "q"
    res = run_cli("apply", str(out), "--action", "quarantine", "--to", str(quarantine), "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    moved = sorted(str(p.relative_to(quarantine)) for p in quarantine.rglob("*") if p.is_file())
    assert moved == ["IMG_0003.HEIC", "IMG_0003.MOV"]
    assert (quarantine / "IMG_0003.MOV").read_bytes() == before[Path("IMG_0003.MOV")]
    assert not (tree / "IMG_0003.MOV").exists()
    journal = next(tmp_path.glob("report.journal-*.jsonl"))
    assert run_cli("undo", str(journal)).returncode == 0
    after = {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    assert after == before

    numbered = tmp_path / "sorted"
    res = run_cli("apply", str(out), "--action", "organize", "--to", str(numbered), "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    assert sorted(p.name for p in numbered.iterdir()) == [
        "00001.jpg",
        "00001_1.heic",
        "00001_1.mov",
    ]
    assert (numbered / "00001_1.mov").read_bytes() == before[Path("IMG_0003.MOV")]
