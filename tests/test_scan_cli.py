"""End-to-end runs of ``picdup scan`` on generated trees, through a real subprocess."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from imagegen import jpeg_with_density, photo, save, strip_exif
from picdup import load_report
from picdup.cli import EXIT_DUPLICATES, EXIT_ERROR, EXIT_OK


def _build_tree(root: Path) -> Path:
    a, b = root / "a", root / "b"
    a.mkdir(parents=True)
    b.mkdir()
    save(photo(1), a / "photo1.jpg")
    shutil.copyfile(a / "photo1.jpg", b / "photo1 copy.jpg")  # exact
    save(photo(2), a / "photo2.png")
    save(photo(2), b / "photo2.bmp")  # pixel: PNG vs BMP of the same pixels
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    save(photo(3), a / "photo3.jpg", exif=exif, dpi=(72, 72))
    original = (a / "photo3.jpg").read_bytes()
    (b / "photo3-1dpi.jpg").write_bytes(jpeg_with_density(strip_exif(original), 1))  # pixel
    big = photo(4, 1024, 768)
    save(big, a / "photo4.jpg")
    save(big.resize((512, 384), Image.Resampling.LANCZOS), b / "photo4-small.jpg", quality=70)
    save(photo(5), a / "photo5.jpg")  # unrelated
    save(photo(6, 480, 640), b / "photo6.jpg")  # unrelated
    (a / "corrupt.jpg").write_bytes(original[: len(original) // 3])  # truncated
    (a / "empty.jpg").write_bytes(b"")
    (a / "notes.txt").write_text("not a picture")
    shutil.copyfile(a / "photo1.jpg", a / ".hidden.jpg")
    (a / ".gitkeep").write_text("")
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_tree(tmp_path_factory.mktemp("tree"))


def _groups_by_name(report_path: Path) -> dict[frozenset[str], str]:
    report = load_report(report_path)
    return {frozenset(Path(m.path).name for m in g.members): g.cls for g in report.groups}


def test_near_mode_finds_every_class(tree: Path, run_cli, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    res = run_cli("scan", str(tree), "-o", str(out), "--jobs", "2")
    assert res.returncode == EXIT_DUPLICATES, res.stderr
    groups = _groups_by_name(out)
    assert groups == {
        frozenset({"photo1.jpg", "photo1 copy.jpg"}): "exact",
        frozenset({"photo2.png", "photo2.bmp"}): "pixel",
        frozenset({"photo3.jpg", "photo3-1dpi.jpg"}): "pixel",
        frozenset({"photo4.jpg", "photo4-small.jpg"}): "near",
    }
    report = load_report(out)
    errors = {Path(e.path).name: e.error for e in report.errors}
    assert set(errors) == {"corrupt.jpg", "empty.jpg"}
    assert "empty" in errors["empty.jpg"]
    assert report.skipped == {"not an image": 1}  # notes.txt; hidden files are not listed
    assert report.stats.images == 10
    assert report.stats.groups == 4 and report.stats.duplicates == 4
    near = next(g for g in report.groups if g.cls == "near")
    assert Path(near.keep).name == "photo4.jpg"  # the larger resolution is suggested
    assert near.why.startswith("largest resolution (1024×768)")
    # Summary only, without a terminal.
    assert res.stdout.splitlines()[0].startswith("4 groups, 4 duplicate files")


def test_original_is_kept_over_its_lossless_conversion(run_cli, tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    save(photo(7), root / "zz-original.jpg", exif=exif)
    with Image.open(root / "zz-original.jpg") as im:
        im.save(root / "a-converted.png")  # the same pixels, a much larger file
    stripped = strip_exif((root / "zz-original.jpg").read_bytes())
    (root / "b-stripped.jpg").write_bytes(stripped)  # the same pixels, smaller, no metadata
    assert (root / "a-converted.png").stat().st_size > (root / "zz-original.jpg").stat().st_size
    out = tmp_path / "r.json"
    run_cli("scan", str(root), "-o", str(out), "-q")
    (group,) = load_report(out).groups
    classes = {Path(m.path).name: m.cls for m in group.members}
    assert classes == {
        "zz-original.jpg": "keeper",
        "a-converted.png": "pixel",
        "b-stripped.jpg": "pixel",
    }
    # The larger JPEG (with its metadata) wins among JPEGs, and JPEG wins over its PNG.
    assert group.why.startswith(
        "the JPEG original: the PNG copy with the same pixels is a conversion"
    )
    assert group.reclaimable_bytes == (root / "a-converted.png").stat().st_size + len(stripped)


def test_report_matches_design_format(tree: Path, run_cli, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    run_cli("scan", str(tree), "-o", str(out), "-q")
    data = json.loads(out.read_text("utf-8"))
    assert data["format"] == "picdup-report" and data["version"] == 1
    assert data["tool"]["name"] == "picdup"
    assert data["options"]["mode"] == "near"
    assert data["command"][:2] == ["picdup", "scan"]
    for key in ("files", "images", "groups", "duplicates", "reclaimable_bytes", "seconds"):
        assert key in data["stats"]
    group = data["groups"][0]
    assert {"id", "class", "root", "keep", "why", "members"} <= set(group)
    member = group["members"][0]
    for key in ("path", "size", "mtime", "width", "height", "format", "class", "distance"):
        assert key in member
    assert member["class"] == "keeper" and member["path"] == group["keep"]


def test_exact_mode_finds_only_byte_copies(tree: Path, run_cli, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = run_cli("scan", str(tree), "--mode", "exact", "-o", str(out))
    assert res.returncode == EXIT_DUPLICATES
    assert _groups_by_name(out) == {frozenset({"photo1.jpg", "photo1 copy.jpg"}): "exact"}


def test_pixel_mode_excludes_near_copies(tree: Path, run_cli, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    run_cli("scan", str(tree), "--mode", "pixel", "-o", str(out))
    assert set(_groups_by_name(out).values()) == {"exact", "pixel"}
    assert len(_groups_by_name(out)) == 3


def test_separate_keeps_roots_apart(tree: Path, run_cli, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = run_cli("scan", str(tree / "a"), str(tree / "b"), "--separate", "-o", str(out))
    assert res.returncode == EXIT_OK  # every copy pair spans the two roots
    assert load_report(out).groups == ()
    both = tmp_path / "both.json"
    run_cli("scan", str(tree / "a"), str(tree / "b"), "-o", str(both))
    assert len(load_report(both).groups) == 4
    # A copy inside one root is found with --separate and the group records that root.
    shutil.copyfile(tree / "a" / "photo5.jpg", tmp_path / "photo5.jpg")
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copyfile(tree / "a" / "photo5.jpg", extra / "x.jpg")
    shutil.copyfile(tree / "a" / "photo5.jpg", extra / "y.jpg")
    run_cli("scan", str(tree / "a"), str(extra), "--separate", "-o", str(out))
    groups = load_report(out).groups
    assert len(groups) == 1 and groups[0].root == str(extra)


def test_csv_report(tree: Path, run_cli, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    run_cli("scan", str(tree), "-o", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 8  # 4 groups of 2
    assert {r["class"] for r in rows} == {"keeper", "exact", "pixel", "near"}
    assert all(r["keep"] for r in rows)


def test_missing_root_fails_cleanly(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = run_cli("scan", str(tmp_path / "nope"), "-o", str(out))
    assert res.returncode == EXIT_ERROR
    assert "nope" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_report_in_missing_folder_fails_before_work(tree: Path, run_cli, tmp_path: Path) -> None:
    res = run_cli("scan", str(tree), "-o", str(tmp_path / "missing" / "r.json"))
    assert res.returncode == EXIT_ERROR
    assert "does not exist" in res.stderr
    res = run_cli("scan", str(tree), "-o", str(tmp_path / "r.txt"))
    assert res.returncode == EXIT_ERROR and ".json" in res.stderr


def test_bad_jobs_is_a_usage_error(tree: Path, run_cli) -> None:
    res = run_cli("scan", str(tree), "--jobs", "0")
    assert res.returncode == EXIT_ERROR


def test_nothing_found_exits_zero(run_cli, tmp_path: Path) -> None:
    save(photo(11), tmp_path / "one.jpg")
    save(photo(12), tmp_path / "two.jpg")
    res = run_cli("scan", str(tmp_path), "-q")
    assert res.returncode == EXIT_OK
    assert res.stdout.startswith("0 groups")


def test_json_to_stdout(tree: Path, run_cli) -> None:
    res = run_cli("scan", str(tree), "-o", "-", "--mode", "exact")
    data = json.loads(res.stdout)
    assert data["stats"]["groups"] == 1
    assert "1 group" in res.stderr


def test_report_gets_the_usual_file_mode(tree: Path, run_cli, tmp_path: Path) -> None:
    import os

    out = tmp_path / "r.json"
    run_cli("scan", str(tree), "-o", str(out), "-q")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_terminal_listing_shows_names_literally() -> None:
    import io
    import os

    from rich.console import Console

    from picdup.cli.scan import _show_groups
    from picdup.model import Group, Member, Report, Stats

    odd = os.fsdecode(b"/p/[bold]caf\xe9[/].jpg")
    members = tuple(
        Member(path, 10, "", 1, 1, "JPEG", cls, 0, 1.0)
        for path, cls in ((odd, "keeper"), ("/p/b.jpg", "exact"))
    )
    group = Group(1, "exact", "/p", odd, "largest file", members)
    report = Report(("/p",), {}, Stats(), (), (group,))
    buf = io.StringIO()
    _show_groups(Console(file=buf, force_terminal=False, width=200), report)
    text = buf.getvalue()
    assert "keep /p/[bold]caf\\xe9[/].jpg" in text
    assert "exact  /p/b.jpg" in text
