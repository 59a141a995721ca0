"""apply and undo on object storage (moto's S3 server): quarantine to a prefix, delete, re-check."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
import xxhash

from s3server import S3, upload_tree
from scaletrees import make_tree

RunCli = Callable[..., CompletedProcess[str]]

pytest.importorskip("s3fs")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree") / "photos"
    make_tree(root)
    return root


def _contents(s3: S3, bucket: str) -> dict[str, str]:
    """Every object of the bucket: key → digest of its bytes."""
    fs = s3.fs
    return {
        key.split("/", 1)[1]: xxhash.xxh3_128_hexdigest(fs.cat_file(key))
        for key in sorted(fs.find(bucket))
    }


def _scan(run_cli: RunCli, root: str, tmp_path: Path) -> dict[str, object]:
    done = run_cli("scan", root, "-j1", "-o", "report.json")
    assert done.returncode == 1, done.stderr
    report: dict[str, object] = json.loads((tmp_path / "report.json").read_text())
    return report


def test_quarantine_to_a_prefix_and_undo_round_trip(
    s3: S3, tree: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    bucket = s3.new_bucket()
    root = upload_tree(s3, tree, bucket, "photos")
    before = _contents(s3, bucket)
    report = _scan(run_cli, root, tmp_path)
    groups = report["groups"]
    assert isinstance(groups, list)
    dupes = {m["path"] for g in groups for m in g["members"] if m["path"] != g["keep"]}
    assert len(dupes) == 4

    done = run_cli(
        "apply", "report.json", "--action", "quarantine", "--to", f"s3://{bucket}/quarantine",
        "--yes",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    after = _contents(s3, bucket)
    moved = {f"photos/{p[len(root) + 1 :]}" for p in dupes}
    # Each duplicate now sits under the prefix at its path relative to the root, same bytes.
    assert set(after) == (set(before) - moved) | {f"quarantine/{k[7:]}" for k in moved}
    assert all(after[f"quarantine/{k[7:]}"] == before[k] for k in moved)
    assert all(after[k] == before[k] for k in set(before) - moved)

    journal = next(tmp_path.glob("report.journal-*.jsonl"))
    done = run_cli("undo", str(journal))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _contents(s3, bucket) == before


def test_an_object_changed_after_the_scan_is_skipped(
    s3: S3, tree: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    bucket = s3.new_bucket()
    root = upload_tree(s3, tree, bucket, "photos")
    report = _scan(run_cli, root, tmp_path)
    groups = report["groups"]
    assert isinstance(groups, list)
    dupes = sorted(m["path"] for g in groups for m in g["members"] if m["path"] != g["keep"])
    changed = dupes[0]
    s3.fs.pipe_file(changed[len("s3://") :], b"\xff\xd8 overwritten since the scan")
    done = run_cli("apply", "report.json", "--action", "delete", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "changed since the scan" in done.stdout + done.stderr
    left = set(_contents(s3, bucket))
    assert changed[len(f"s3://{bucket}/") :] in left
    for path in dupes[1:]:
        assert path[len(f"s3://{bucket}/") :] not in left
    keepers = {g["keep"][len(f"s3://{bucket}/") :] for g in groups}
    assert keepers <= left


def test_an_object_rewritten_with_the_same_size_and_time_is_skipped(
    s3: S3, tree: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """Size and a modification time kept to the second cannot see every rewrite; the ETag can.

    The report's ETag of one duplicate is changed, as if the object had been rewritten with
    bytes of the same length within the same second after the scan."""
    bucket = s3.new_bucket()
    root = upload_tree(s3, tree, bucket, "photos")
    report = _scan(run_cli, root, tmp_path)
    groups = report["groups"]
    assert isinstance(groups, list)
    member = next(m for g in groups for m in g["members"] if m["path"] != g["keep"])
    assert member["etag"]
    member["etag"] = '"0123456789abcdef0123456789abcdef"'
    (tmp_path / "report.json").write_text(json.dumps(report), "utf-8")
    before = _contents(s3, bucket)
    done = run_cli("apply", "report.json", "--action", "delete", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "version tag differs" in done.stdout + done.stderr
    after = _contents(s3, bucket)
    assert (
        after[member["path"][len(f"s3://{bucket}/") :]]
        == before[member["path"][len(f"s3://{bucket}/") :]]
    )


def test_trash_and_links_are_refused_on_object_storage(
    s3: S3, tree: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    bucket = s3.new_bucket()
    root = upload_tree(s3, tree, bucket, "photos")
    _scan(run_cli, root, tmp_path)
    before = _contents(s3, bucket)
    for action in ("trash", "hardlink"):
        done = run_cli("apply", "report.json", "--action", action, "--yes")
        assert done.returncode == 2
        assert f"--action {action} cannot act on object storage" in done.stderr
    assert _contents(s3, bucket) == before
