"""The Dask engine: a real LocalCluster (one per module), S3 on moto's server, the same results."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest

pytest.importorskip("distributed")

from picdup.cache import FingerprintCache, algorithm_key
from picdup.engine import fingerprint_all
from picdup.engine.dask import batch_size, fingerprint_all_dask
from picdup.options import ScanOptions
from picdup.pipeline import run_scan
from picdup.scan.remote import walk_all
from s3server import S3, upload_tree
from scaletrees import group_sets, load, make_tree

RunCli = Callable[..., CompletedProcess[str]]


@pytest.fixture(scope="module")
def scheduler(s3: S3) -> Iterator[str]:
    """A 2-worker LocalCluster, started after the S3 environment is set so workers inherit it."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree") / "photos"
    make_tree(root)
    return root


@pytest.fixture(scope="module")
def s3_tree(s3: S3, tree: Path) -> str:
    return upload_tree(s3, tree, s3.new_bucket(), "photos")


@pytest.mark.parametrize(
    ("files", "workers", "expected"),
    [(0, 2, 1), (10, 2, 1), (1000, 2, 31), (100_000, 2, 64), (10_000, 64, 9)],
)
def test_batch_size(files: int, workers: int, expected: int) -> None:
    assert batch_size(files, workers) == expected


def test_dask_fingerprints_equal_local_ones(scheduler: str, tree: Path, s3_tree: str) -> None:
    refs = walk_all([str(tree), s3_tree]).files
    assert len(refs) == 26
    on_dask = fingerprint_all_dask(refs, scheduler=scheduler, workers=2, max_pixels=10**8)
    local = fingerprint_all(refs, jobs=1, max_pixels=10**8)
    assert on_dask == local  # every field, in input order
    assert sum(fp.ok for fp in on_dask) == 24


def test_run_scan_on_dask_equals_local_and_so_does_the_cache(
    scheduler: str, tree: Path, tmp_path: Path
) -> None:
    local_cache, dask_cache = str(tmp_path / "local.sqlite3"), str(tmp_path / "dask.sqlite3")
    local = run_scan([str(tree)], ScanOptions(jobs=1, cache_path=local_cache))
    dask = run_scan(
        [str(tree)],
        ScanOptions(jobs=2, engine="dask", scheduler=scheduler, cache_path=dask_cache),
    )
    assert dask.groups == local.groups
    assert dask.options == local.options
    assert dask.errors == local.errors
    refs = walk_all([str(tree)]).files
    key = algorithm_key(max_pixels=ScanOptions().max_pixels, decode=True)
    with FingerprintCache(local_cache) as a, FingerprintCache(dask_cache) as b:
        hits_a, misses_a = a.lookup(refs, [key])
        hits_b, misses_b = b.lookup(refs, [key])
    assert len(hits_a) == 13 and misses_a == misses_b == []  # 12 images and notes.txt
    assert sorted(hits_a, key=lambda f: f.ref.path) == sorted(hits_b, key=lambda f: f.ref.path)


def test_cli_scan_of_s3_on_a_scheduler(
    scheduler: str, s3: S3, s3_tree: str, tree: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    done = run_cli("scan", s3_tree, "--engine", "dask", "--scheduler", scheduler, "-o", "s3.json")
    assert done.returncode == 1, done.stderr
    done = run_cli("scan", str(tree), "-j1", "-o", "local.json")
    assert done.returncode == 1, done.stderr
    remote, local = load(tmp_path / "s3.json"), load(tmp_path / "local.json")
    assert group_sets(remote, s3_tree) == group_sets(local, str(tree))
    assert remote["options"] == local["options"]
    assert remote["stats"]["images"] == local["stats"]["images"] == 12


def test_cli_dask_engine_starts_its_own_two_worker_cluster(
    s3: S3, s3_tree: str, tree: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    done = run_cli("scan", s3_tree, "--engine", "dask", "-j", "2", "-o", "own.json")
    assert done.returncode == 1, done.stderr
    done = run_cli("scan", str(tree), "-j1", "-o", "local.json")
    remote, local = load(tmp_path / "own.json"), load(tmp_path / "local.json")
    assert group_sets(remote, s3_tree) == group_sets(local, str(tree))
    members = [m for g in remote["groups"] for m in g["members"]]
    assert members and all(m["path"].startswith(s3_tree + "/") and m["etag"] for m in members)


def test_bad_engine_options_fail_before_work(tree: Path, run_cli: RunCli) -> None:
    done = run_cli("scan", str(tree), "--scheduler", "tcp://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr == "picdup: error: --scheduler only applies to --engine dask\n"
    done = run_cli(
        "scan",
        str(tree),
        "--engine",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:9",
        env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"},
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        "picdup: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9"
    )
    assert "Traceback" not in done.stderr
    assert not [p for p in os.listdir(tree.parent) if p.endswith(".json")]
