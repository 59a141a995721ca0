"""Roots given as fsspec URLs: S3 (moto's server on 127.0.0.1), zip archives and file:// URLs."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from picdup.errors import InputError
from picdup.fingerprint import fingerprint_file
from picdup.model import FileRef
from picdup.options import ScanOptions
from picdup.pipeline import run_scan
from picdup.scan.remote import is_url, resolve_all_roots, stat_url, walk_remote
from s3server import S3, upload_tree
from scaletrees import group_sets, load, make_tree

pytest.importorskip("fsspec")

RunCli = Callable[..., CompletedProcess[str]]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree") / "photos"
    make_tree(root)
    return root


@pytest.fixture(scope="module")
def s3_tree(s3: S3, tree: Path) -> str:
    return upload_tree(s3, tree, s3.new_bucket(), "photos")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://bucket/prefix", True),
        ("gs://bucket", True),
        ("file:///tmp/x", True),
        ("zip://::/tmp/a.zip", True),
        ("zip::s3://bucket/a.zip", True),
        ("/tmp/photos", False),
        ("photos/s3:/x", False),
        ("C:\\Users\\photos", False),
        ("relative/dir", False),
    ],
)
def test_is_url(text: str, expected: bool) -> None:
    assert is_url(text) is expected


def test_listing_gives_size_mtime_and_etag(s3: S3, s3_tree: str, tree: Path) -> None:
    walked = walk_remote([s3_tree])
    local = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    assert [r.path for r in walked.files] == [f"{s3_tree}/{rel}" for rel in local]
    for ref in walked.files:
        rel = ref.path[len(s3_tree) + 1 :]
        assert ref.size == (tree / rel).stat().st_size
        assert ref.root == s3_tree
        assert ref.etag is not None and len(ref.etag) == 32  # S3's MD5 ETag, quotes removed
        assert ref.mtime_ns > 0 and ref.mtime_ns % 1000 == 0
    fresh = stat_url(walked.files[0].path)
    assert fresh is not None
    assert (fresh.size, fresh.mtime_ns, fresh.etag) == (
        walked.files[0].size,
        walked.files[0].mtime_ns,
        walked.files[0].etag,
    )
    assert stat_url(f"{s3_tree}/no-such-object.jpg") is None


def test_fingerprint_of_an_object_equals_the_local_file(s3_tree: str, tree: Path) -> None:
    rel = "b/deep/p1-small.jpg"
    remote = next(r for r in walk_remote([s3_tree]).files if r.path.endswith(rel))
    local_path = str(tree / rel)
    st = os.stat(local_path)
    local = FileRef(local_path, st.st_size, st.st_mtime_ns, str(tree))
    a = fingerprint_file(remote, max_pixels=10**8)
    b = fingerprint_file(local, max_pixels=10**8)
    assert a.ok and b.ok
    assert (a.digest, a.phash, a.dhash, a.thumb, a.info) == (
        b.digest,
        b.phash,
        b.dhash,
        b.thumb,
        b.info,
    )


def test_scan_of_s3_equals_local_scan(s3_tree: str, tree: Path) -> None:
    options = ScanOptions(jobs=1)
    remote = run_scan([s3_tree], options)
    local = run_scan([str(tree)], options)
    assert remote.stats.images == local.stats.images == 12
    assert remote.skipped == local.skipped == {"not an image": 1}
    r = {
        tuple(sorted((m.path[len(s3_tree) + 1 :], m.cls) for m in g.members)) for g in remote.groups
    }
    loc = {
        tuple(sorted((m.path[len(str(tree)) + 1 :], m.cls) for m in g.members))
        for g in local.groups
    }
    assert r == loc
    classes = {m.cls for g in remote.groups for m in g.members}
    assert {"exact", "pixel", "near"} <= classes


def test_missing_bucket_and_bad_credentials_fail_before_work(s3: S3, run_cli: RunCli) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        resolve_all_roots(["s3://no-such-bucket-picdup/x"])
    done = run_cli(
        "scan",
        "s3://no-such-bucket-picdup/x",
        env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"},
    )
    assert done.returncode == 2
    assert done.stderr.startswith("picdup: error: cannot list s3://no-such-bucket-picdup/x")
    assert "Traceback" not in done.stderr


def _zip_tree(tree: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w") as z:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(tree).as_posix())


def test_zip_archive_and_file_url_roots(tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    _zip_tree(tree, tmp_path / "photos.zip")
    done = run_cli("scan", "zip://::photos.zip", "-j1", "-o", "zip.json")
    assert done.returncode == 1, done.stderr
    zipped = load(tmp_path / "zip.json")
    zip_root = f"zip://::{tmp_path / 'photos.zip'}"
    assert zipped["roots"] == [zip_root]
    paths = [m["path"] for g in zipped["groups"] for m in g["members"]]
    assert all(p.startswith("zip://") and p.endswith(f"::{tmp_path / 'photos.zip'}") for p in paths)
    assert all(m.get("etag") for g in zipped["groups"] for m in g["members"])  # the zip CRC

    done = run_cli("scan", str(tree), "-j1", "-o", "local.json")
    assert done.returncode == 1, done.stderr
    local = load(tmp_path / "local.json")

    def rel_zip(report: dict[str, object]) -> list[list[tuple[str, str]]]:
        groups = report["groups"]
        assert isinstance(groups, list)
        return sorted(
            sorted((m["path"][len("zip://") :].split("::")[0], m["class"]) for m in g["members"])
            for g in groups
        )

    assert rel_zip(zipped) == group_sets(local, str(tree))

    shutil.copytree(tree, tmp_path / "copy")
    done = run_cli("scan", f"file://{tmp_path / 'copy'}", "-j1", "-o", "url.json")
    assert done.returncode == 1, done.stderr
    url = load(tmp_path / "url.json")
    assert group_sets(url, f"file://{tmp_path / 'copy'}") == group_sets(local, str(tree))
