"""``picdup cache …`` and the cache options of ``picdup scan``, run as real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import REPO
from imagegen import photo, save

Run = Callable[..., subprocess.CompletedProcess[str]]


def tree(root: Path, count: int, size: tuple[int, int] = (200, 150)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        save(photo(k, *size), root / f"img{k:03d}.jpg")
    return root


def rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM fingerprints").fetchone()[0])


@pytest.mark.parametrize("args", [["cache"], ["cache", "info"], ["cache", "clear"]])
def test_help_has_examples(run_cli: Run, args: list[str]) -> None:
    result = run_cli(*args, "--help")
    assert result.returncode == 0
    assert "Examples:" in result.stdout


def test_path_info_clear(run_cli: Run, tmp_path: Path, isolated_cache: Path) -> None:
    result = run_cli("cache", "path")
    assert result.stdout.strip() == str(isolated_cache / "fingerprints.sqlite3")
    assert "no cache yet" in run_cli("cache", "info").stdout

    root = tree(tmp_path / "pics", 3)
    assert run_cli("scan", str(root), "-q").returncode == 0
    info = run_cli("cache", "info").stdout
    assert "fingerprints: 3 (3 of this picdup version)" in info

    cleared = run_cli("cache", "clear")
    assert cleared.returncode == 0 and "deleted" in cleared.stdout
    assert not (isolated_cache / "fingerprints.sqlite3").exists()


def test_scan_cache_option_and_no_cache(run_cli: Run, tmp_path: Path, isolated_cache: Path) -> None:
    root = tree(tmp_path / "pics", 2)
    db = tmp_path / "mine.sqlite3"
    assert run_cli("scan", str(root), "-q", "--cache", str(db)).returncode == 0
    assert rows(db) == 2
    assert "fingerprints: 2" in run_cli("cache", "info", "--cache", str(db)).stdout
    assert run_cli("scan", str(root), "-q", "--no-cache").returncode == 0
    assert list(isolated_cache.iterdir()) == []
    bad = run_cli("scan", str(root), "--cache", str(tmp_path))
    assert bad.returncode == 2 and "is a directory" in bad.stderr


def test_damaged_cache_warns_and_scan_still_works(run_cli: Run, tmp_path: Path) -> None:
    root = tree(tmp_path / "pics", 2)
    db = tmp_path / "c.sqlite3"
    db.write_bytes(b"\x00garbage, not SQLite\x00" * 64)
    result = run_cli("scan", str(root), "--cache", str(db), "-o", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    assert "picdup: warning:" in result.stderr and "damaged" in result.stderr
    assert json.loads((tmp_path / "r.json").read_text())["stats"]["images"] == 2
    assert rows(db) == 2


def test_interrupted_scan_keeps_its_work_and_resumes(tmp_path: Path) -> None:
    root = tree(tmp_path / "pics", 24, size=(64, 48))
    # Many cheap files, so the scan is still running when it is interrupted; each with bytes of
    # its own after the picture's end (a byte-identical copy is not decoded again).
    names = sorted(root.iterdir())
    for k in range(1200):
        data = names[k % len(names)].read_bytes()
        (root / f"copy{k:04d}.jpg").write_bytes(data + k.to_bytes(2, "big"))
    db = tmp_path / "c.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "picdup", "scan", str(root), "-q", "-j", "1", "--cache", str(db)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    done_before = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            done_before = rows(db)
        except sqlite3.Error:
            continue  # not created yet
        if done_before > 0:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    total = 24 + 1200
    if proc.returncode == 130:
        assert b"interrupted" in err
        kept = rows(db)
        assert done_before <= kept < total
    else:  # the machine was fast enough to finish first; nothing to resume
        assert proc.returncode == 1
        kept = rows(db)
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 1, resumed.stderr  # the hard links are exact duplicates
    assert rows(db) == total
    assert kept > 0


def test_progress_bar_shows_rate_and_time_left(tmp_path: Path) -> None:
    import pty

    root = tree(tmp_path / "pics", 12, size=(800, 600))
    # Enough files that the bar is drawn several times while they are read. Each copy has a
    # byte of its own after the picture's end: a byte-identical copy would take its twin's
    # fingerprint at once, and the scan would be over before the bar showed a rate.
    names = sorted(root.iterdir())
    for k in range(240):
        data = names[k % len(names)].read_bytes()
        (root / f"copy{k:03d}.jpg").write_bytes(data + k.to_bytes(2, "big"))
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TERM": "xterm", "COLUMNS": "120"}
    cmd = [sys.executable, "-m", "picdup", "scan", str(root), "-j", "1", "--no-cache"]
    proc = subprocess.Popen(cmd, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "Reading images" in screen
    assert "files/s" in screen
    assert "eta" in screen
