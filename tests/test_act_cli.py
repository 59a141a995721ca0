"""``picdup apply`` and ``picdup undo`` as real subprocesses: dry run, confirmation, the trash,
and a run killed with SIGKILL in the middle."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from act_tree import make_tree, scan, snapshot, trash_files
from conftest import REPO
from picdup.act.execute import STEP_DELAY_ENV
from picdup.act.journal import read_journal

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, Path], Path]:
    root = tmp_path / "tree"
    files = make_tree(root)
    report = tmp_path / "report.json"
    scan(root, report)
    return root, files, report


@pytest.fixture
def trash_env(tmp_path: Path) -> dict[str, str]:
    """The freedesktop trash inside the test's folder (HOME too: send2trash compares devices)."""
    home = tmp_path / "home"
    (home / "share").mkdir(parents=True)
    return {"HOME": str(home), "XDG_DATA_HOME": str(home / "share")}


def test_help_shows_examples(run_cli: Run) -> None:
    for command in ("apply", "undo"):
        done = run_cli(command, "--help")
        assert done.returncode == 0 and "Examples:" in done.stdout
    assert "reflink" in run_cli("apply", "--help").stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--action", "trash"],
        ["--action", "delete", "--keep", "oldest"],
        ["--action", "quarantine", "--to", "q"],
        ["--action", "organize", "--to", "o", "--include-singles", "--move"],
        ["--action", "hardlink", "--protect", "tree/a"],
    ],
)
def test_dry_run_changes_nothing(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path, run_cli: Run, args: list[str]
) -> None:
    _, files, report = tree
    before = snapshot(tmp_path)
    done = run_cli("apply", str(report), *args, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "dry run: nothing was changed" in done.stdout
    assert "keep " in done.stdout and str(files["photo_b"]) in done.stdout
    assert snapshot(tmp_path) == before


def test_dry_run_json_is_the_plan(tree: tuple[Path, dict[str, Path], Path], run_cli: Run) -> None:
    _, _, report = tree
    done = run_cli("apply", str(report), "--dry-run", "--json", "--action", "symlink")
    data = json.loads(done.stdout)
    assert data["format"] == "picdup-plan" and data["action"] == "symlink"
    assert sum(len(g["steps"]) for g in data["groups"]) == 2


def test_without_a_terminal_and_without_yes_nothing_changes(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path, run_cli: Run
) -> None:
    _, _, report = tree
    before = snapshot(tmp_path)
    done = run_cli("apply", str(report), "--action", "delete")
    assert done.returncode == 2
    assert "nothing was changed" in done.stderr and "--yes" in done.stderr
    assert snapshot(tmp_path) == before


def test_bad_options_are_one_line_errors(
    tree: tuple[Path, dict[str, Path], Path], run_cli: Run
) -> None:
    _, _, report = tree
    done = run_cli("apply", str(report), "--action", "move", "--yes")
    assert done.returncode == 2 and "needs --to" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli("apply", str(report), "--keep", "prettiest", "--yes")
    assert done.returncode == 2 and "unknown keep policy" in done.stderr
    done = run_cli("undo", str(report))
    assert done.returncode == 2 and "not a picdup journal" in done.stderr


def test_trash_and_undo_restore_the_tree_byte_for_byte(
    tree: tuple[Path, dict[str, Path], Path],
    tmp_path: Path,
    run_cli: Run,
    trash_env: dict[str, str],
) -> None:
    root, files, report = tree
    before = snapshot(root)
    journal = tmp_path / "j.jsonl"
    done = run_cli("apply", str(report), "--yes", "--journal", str(journal), env=trash_env)
    assert done.returncode == 0, done.stderr
    assert "4 done" in done.stdout and f"picdup undo {journal}" in done.stdout
    assert not files["photo_b"].exists() and not files["other_jpg"].exists()
    share = Path(trash_env["XDG_DATA_HOME"])
    assert len(trash_files(share)) == 8  # four files and their .trashinfo
    # same-name files from different folders both survive in the trash
    assert sum(name.startswith("photo") for name in os.listdir(share / "Trash" / "files")) == 3

    undone = run_cli("undo", str(journal), env=trash_env)
    assert undone.returncode == 0, undone.stderr
    assert "4 restored" in undone.stdout
    assert snapshot(root) == before
    assert trash_files(share) == []


def test_a_file_changed_after_the_scan_is_reported_and_kept(
    tree: tuple[Path, dict[str, Path], Path],
    tmp_path: Path,
    run_cli: Run,
    trash_env: dict[str, str],
) -> None:
    _, files, report = tree
    files["small"].write_bytes(files["small"].read_bytes() + b"\0")
    done = run_cli("apply", str(report), "--yes", env=trash_env)
    assert done.returncode == 0
    assert f"skipped: {files['small']}" in done.stderr and "changed since the scan" in done.stderr
    assert files["small"].exists() and not files["photo_b"].exists()


def test_reflink_where_unsupported_exits_3_and_changes_nothing(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path, run_cli: Run
) -> None:
    root, _, report = tree
    before = snapshot(root)
    done = run_cli("apply", str(report), "--action", "reflink", "--yes")
    if done.returncode == 0:
        pytest.skip("this filesystem supports reflinks")
    assert done.returncode == 3
    assert "reflink is not supported" in done.stderr
    assert snapshot(root) == before


def _run_on_terminal(args: list[str], answer: str, cwd: Path) -> tuple[int, str]:
    """Run picdup with a pseudo-terminal as stdin/stdout; answer its question."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "picdup", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    out = b""
    answered = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if not answered and b"Go ahead?" in out:
                os.write(master, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=60)
    os.close(master)
    return code, out.decode("utf-8", "replace")


@pytest.mark.parametrize("answer", ["n", "y"])
def test_a_terminal_gets_the_plan_and_a_question(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path, answer: str
) -> None:
    root, files, report = tree
    before = snapshot(root)
    code, out = _run_on_terminal(
        ["apply", str(report), "--action", "quarantine", "--to", str(tmp_path / "q")],
        answer,
        tmp_path,
    )
    assert "Go ahead?" in out and "keep " in out
    if answer == "n":
        assert code == 2 and "nothing was changed" in out
        assert snapshot(root) == before
    else:
        assert code == 0, out
        assert not files["photo_b"].exists()
        assert (tmp_path / "q" / "b" / "photo.jpg").is_file()


# -- killed in the middle ----------------------------------------------------------------


def _start_slow_apply(
    report: Path, journal: Path, args: list[str], extra_env: dict[str, str], delay: float
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        STEP_DELAY_ENV: str(delay),
        **extra_env,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "picdup",
            "apply",
            str(report),
            *args,
            "--yes",
            "--journal",
            str(journal),
        ],
        env=env,
        cwd=report.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_begin(journal: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("the apply finished before it could be killed")
        if journal.exists():
            lines = journal.read_bytes().splitlines()
            if sum(b'"type":"begin"' in line for line in lines) >= count:
                return
        time.sleep(0.01)
    pytest.fail("the apply never reached the step to kill it at")


DELAY = 0.8


@pytest.mark.parametrize("when", ["before-change", "after-change"])
@pytest.mark.parametrize("action", ["trash", "quarantine"])
def test_sigkill_mid_apply_then_undo_loses_nothing_and_leaves_nothing(
    tree: tuple[Path, dict[str, Path], Path],
    tmp_path: Path,
    run_cli: Run,
    trash_env: dict[str, str],
    action: str,
    when: str,
) -> None:
    root, _, report = tree
    before = snapshot(root)
    journal = tmp_path / "killed.jsonl"
    args = ["--action", action] + (["--to", str(tmp_path / "q")] if action == "quarantine" else [])
    proc = _start_slow_apply(report, journal, args, trash_env, DELAY)
    _wait_for_begin(journal, 3, proc)
    # the step delay is split: half before the change, half after it (before "done")
    time.sleep(DELAY * 0.75 if when == "after-change" else 0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    _, records = read_journal(journal)
    assert sum(r["type"] == "done" for r in records) == 2
    assert not any(r["type"] == "end" for r in records)

    undone = run_cli("undo", str(journal), env=trash_env)
    assert undone.returncode == 0, undone.stderr
    assert snapshot(root) == before  # nothing lost
    assert not (tmp_path / "q").exists()  # nothing left over
    assert trash_files(Path(trash_env["XDG_DATA_HOME"])) == []


def test_sigkill_mid_apply_then_resume_finishes_the_plan(
    tree: tuple[Path, dict[str, Path], Path],
    tmp_path: Path,
    run_cli: Run,
) -> None:
    _root, files, report = tree
    q = tmp_path / "q"
    journal = tmp_path / "killed.jsonl"
    proc = _start_slow_apply(report, journal, ["--action", "quarantine", "--to", str(q)], {}, DELAY)
    _wait_for_begin(journal, 2, proc)
    time.sleep(DELAY * 0.75)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)

    done = run_cli("apply", "--resume", str(journal), "--yes")
    assert done.returncode == 0, done.stderr
    assert "4 done" in done.stdout
    moved = sorted(str(p.relative_to(q)) for p in q.rglob("*") if p.is_file())
    assert moved == ["b/other.jpg", "b/photo.jpg", "b/photo_small.jpg", "c/deep/photo.jpg"]
    assert not list(tmp_path.rglob("*.picdup-partial"))
    assert files["photo"].exists() and files["other_png"].exists()
    # and the whole run, killed and resumed, still undoes as one
    assert run_cli("undo", str(journal)).returncode == 0
    assert not q.exists() and files["photo_c"].exists() and files["other_jpg"].exists()


def test_ctrl_c_mid_apply_says_how_to_resume_or_undo(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path, run_cli: Run
) -> None:
    _, _, report = tree
    journal = tmp_path / "stopped.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), STEP_DELAY_ENV: str(DELAY)}
    args = ["apply", str(report), "--action", "quarantine", "--to", str(tmp_path / "q")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "picdup", *args, "--yes", "--journal", str(journal)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_begin(journal, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert f"picdup apply --resume {journal}" in err and f"picdup undo {journal}" in err
    done = run_cli("apply", "--resume", str(journal), "--yes")
    assert done.returncode == 0 and "4 done" in done.stdout


def test_undo_refuses_while_the_apply_is_still_running(
    tree: tuple[Path, dict[str, Path], Path], tmp_path: Path, run_cli: Run
) -> None:
    root, _, report = tree
    before = snapshot(root)
    journal = tmp_path / "running.jsonl"
    q = str(tmp_path / "q")
    proc = _start_slow_apply(report, journal, ["--action", "quarantine", "--to", q], {}, DELAY)
    _wait_for_begin(journal, 1, proc)
    busy = run_cli("undo", str(journal))
    assert busy.returncode == 3 and "still running" in busy.stderr
    proc.wait(timeout=120)
    assert run_cli("undo", str(journal)).returncode == 0
    assert snapshot(root) == before
