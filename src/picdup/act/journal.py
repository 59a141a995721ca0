"""The apply journal: JSON lines, each flushed and fsynced before the step it announces runs.

Records (``type``):

* ``header`` — first line: format, version, creation time and the whole plan, so a run can be
  resumed or undone from the journal alone;
* ``mkdir`` — folders about to be created (undo removes them again when empty);
* ``begin`` — a step is about to run: its index, and what undo needs (mode, time, the trash
  entries that already existed for the path);
* ``done`` / ``skip`` / ``fail`` — how the step ended (``done`` says where the file went);
* ``resume`` — a later ``apply`` picked the run up;
* ``undone`` / ``undo-fail`` — undo restored a step, or could not;
* ``end`` — the run finished.

A run killed in the middle leaves at most one ``begin`` without an outcome; apply and undo
look at the files to see how far that step got. A last line cut short by the kill is ignored.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import IO, Any

from picdup._atomic import encode_text
from picdup.errors import ActionError, InputError

__all__ = ["JOURNAL_FORMAT", "Journal", "read_journal"]

JOURNAL_FORMAT = "picdup-journal"
_VERSION = 1


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Journal:
    """An open journal file; every :meth:`write` is durable when it returns."""

    def __init__(self, path: str, fh: IO[bytes]) -> None:
        self.path = path
        self._fh = fh
        _lock(fh, path)

    @classmethod
    def create(cls, path: str, plan: dict[str, Any]) -> Journal:
        folder = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(folder, exist_ok=True)
            fh = open(path, "xb")  # noqa: SIM115 (kept open for the run)
        except FileExistsError as exc:
            raise InputError(f"the journal already exists: {path}") from exc
        except OSError as exc:
            raise InputError(f"cannot create the journal {path}: {exc.strerror}") from exc
        journal = cls(path, fh)
        journal.write(
            {"type": "header", "format": JOURNAL_FORMAT, "version": _VERSION, "plan": plan}
        )
        _fsync_dir(folder)
        return journal

    @classmethod
    def append(cls, path: str) -> Journal:
        """Open for more records (after taking the lock), first cutting off a line torn by a
        killed run."""
        try:
            fh = open(path, "ab")  # noqa: SIM115 (kept open for the run)
        except OSError as exc:
            raise InputError(f"cannot write to the journal {path}: {exc.strerror}") from exc
        journal = cls(path, fh)
        with open(path, "rb") as check:
            data = check.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)
        return journal

    def write(self, record: dict[str, Any]) -> None:
        record = {**record, "time": _now()}
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        try:
            self._fh.write(encode_text(line) + b"\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            raise ActionError(f"cannot write the journal {self.path}: {exc}") from exc

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock(fh: IO[bytes], path: str) -> None:
    """One process per journal: an undo or resume must not run beside the apply it is about.
    The lock goes away with the process, also when it is killed."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; nothing to guard against concurrently
        return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        fh.close()
        raise ActionError(
            f"another picdup is using the journal {path} (is that apply still running?)"
        ) from exc


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_journal(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the other records; a torn last line (a killed run) is dropped."""
    text_path = os.fspath(path)
    try:
        with open(text_path, "rb") as fh:
            lines = fh.read().decode("utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputError(f"no such journal: {text_path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the journal {text_path}: {exc}") from exc
    records: list[dict[str, Any]] = []
    for k, line in enumerate(lines):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            if k == 0:
                raise InputError(f"not a picdup journal: {text_path}") from exc
            if k == len(lines) - 1:
                break  # written when the run was killed
            raise InputError(f"the journal {text_path} is damaged at line {k + 1}") from exc
        if not isinstance(rec, dict):
            raise InputError(f"the journal {text_path} is damaged at line {k + 1}")
        records.append(rec)
    if (
        not records
        or records[0].get("type") != "header"
        or records[0].get("format") != JOURNAL_FORMAT
    ):
        raise InputError(f"not a picdup journal: {text_path}")
    if records[0].get("version") != _VERSION:
        raise InputError(f"journal version {records[0].get('version')!r} is not supported")
    return records[0], records[1:]
