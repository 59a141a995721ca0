"""Undo: replay a journal backwards and put every file back at its path with its bytes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from picdup.act.build import LINKS, Plan, Step
from picdup.act.execute import _outcomes, observe
from picdup.act.fileops import FileOps, TrashEntry
from picdup.act.journal import Journal, read_journal
from picdup.act.remote import default_ops

__all__ = ["UndoResult", "undo"]


@dataclass(frozen=True)
class UndoResult:
    """Files put back, steps that could not be undone (and why), deletions that cannot be."""

    journal: str
    restored: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    irreversible: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        text = f"{len(self.restored)} restored, {len(self.failed)} could not be restored"
        if self.irreversible:
            text += f", {len(self.irreversible)} deleted for good (cannot be undone)"
        return text


def undo(journal: str | os.PathLike[str], *, ops: FileOps | None = None) -> UndoResult:
    """Undo the apply recorded in ``journal``, newest step first.

    Input: the journal an apply wrote (complete, or cut short by a crash or kill).

    Output: an :class:`UndoResult`. Moved, quarantined and organized files go back to their
    paths; copies made by organize are removed; trashed files come back out of the freedesktop
    trash; links become independent files again with their old bytes, mode and time; folders
    apply created are removed when empty. Deleted files are listed as irreversible.

    Errors: :class:`~picdup.errors.InputError` for a missing or damaged journal. A step that
    cannot be undone (something else now sits at the original path) is reported in
    ``failed``, never overwritten. Running undo again retries only what is left.

    Performance: one rename per moved file; links are rewritten from the bytes they share.
    """
    ops = ops or default_ops()
    path = os.path.abspath(os.fspath(journal))
    header, records = read_journal(path)
    plan = Plan.from_dict(header.get("plan"))
    steps = plan.steps
    outcomes, begun = _outcomes(records)
    undone = {r["step"] for r in records if r.get("type") == "undone"}
    made_dirs = [p for r in records if r.get("type") == "mkdir" for p in r.get("paths", [])]
    restored: list[str] = []
    failed: list[tuple[str, str]] = []
    gone: list[str] = []
    todo: list[tuple[int, dict[str, Any], str, TrashEntry | None]] = []
    for index in sorted(set(outcomes) | set(begun), reverse=True):
        if index in undone or index >= len(steps):
            continue
        rec = outcomes.get(index)
        if rec is not None and rec.get("type") != "done":
            continue  # skipped or failed: nothing was changed
        step = steps[index]
        begin = begun.get(index) or _find_begin(records, index)
        if rec is not None:
            entry = TrashEntry(*rec["trash"]) if rec.get("trash") else None
            todo.append((index, {**begin, **rec}, "after", entry))
        else:
            try:
                state, entry = observe(step, begin, ops)
            except OSError as exc:
                failed.append((step.path, f"cannot be looked at: {exc.strerror or exc}"))
                continue
            todo.append((index, begin, state, entry))
    with Journal.append(path) as jr:
        jr.write({"type": "undo-begin", "pid": os.getpid()})
        for index, rec, state, entry in todo:
            step = steps[index]
            if state == "before":
                jr.write({"type": "undone", "step": index, "note": "had not happened"})
                continue
            if step.op == "delete":
                gone.append(step.path)
                continue
            if state == "unknown":
                message = "interrupted, and the file is neither at its path nor where it went"
                jr.write({"type": "undo-fail", "step": index, "error": message})
                failed.append((step.path, message))
                continue
            try:
                message = _undo_step(step, rec, state, entry, ops)
            except OSError as exc:
                message = str(exc.strerror or exc)
            if message:
                jr.write({"type": "undo-fail", "step": index, "error": message})
                failed.append((step.path, message))
            else:
                jr.write({"type": "undone", "step": index})
                restored.append(step.path)
        for folder in sorted(set(made_dirs), key=len, reverse=True):
            ops.rmdir_if_empty(folder)
        jr.write({"type": "undo-end", "failed": len(failed)})
    return UndoResult(path, tuple(restored), tuple(failed), tuple(gone))


def _find_begin(records: list[dict[str, Any]], index: int) -> dict[str, Any]:
    for rec in reversed(records):
        if rec.get("type") == "begin" and rec.get("step") == index:
            return rec
    return {}


def _undo_step(
    step: Step, rec: dict[str, Any], state: str, entry: TrashEntry | None, ops: FileOps
) -> str:
    """Undo one step; return why it could not be undone, or ``""``."""
    dest = str(rec.get("dest") or "")
    if step.op == "move":
        if state == "both":
            # a cross-device move that copied but had not removed its source yet
            if ops.digest(dest) != ops.digest(step.path):
                return f"both {step.path} and {dest} exist and differ; left both"
            ops.remove(dest)
            return ""
        if not ops.exists(dest):
            return f"not found where it was moved to: {dest}"
        if ops.exists(step.path):
            return f"something new is at {step.path}; the file stays at {dest}"
        ops.makedirs(os.path.dirname(step.path))
        ops.move(dest, step.path)
        return ""
    if step.op == "copy":
        if ops.exists(dest):
            if ops.stat(dest).size != step.size:
                return f"the copy {dest} was changed since; left it"
            ops.remove(dest)
        return ""
    if step.op == "trash":
        if entry is None:
            entry = next(
                (e for e in reversed(ops.trash_entries(step.path)) if ops.exists(e.file)), None
            )
        if entry is None:
            return "not found in the trash; restore it from the system trash by hand"
        if ops.exists(step.path):
            return f"something new is at {step.path}; the file stays in the trash"
        ops.untrash(entry, step.path)
        return ""
    if step.op in LINKS:
        if not ops.exists(step.path):
            return f"the link {step.path} is gone"
        mode = int(rec.get("mode") or 0o644)
        mtime_ns = int(rec.get("mtime_ns") or step.mtime_ns)
        # the link still reads as the original bytes (that is why it was allowed)
        ops.restore_copy(step.path, step.path, mode, mtime_ns)
        if step.digest and ops.digest(step.path) != step.digest:
            return f"restored {step.path}, but its bytes differ from the scan"
        return ""
    return f"cannot undo {step.op}"
