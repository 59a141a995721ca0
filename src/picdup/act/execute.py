"""Running a plan: re-check each file, journal the step, act, journal the outcome.

Safety rules, all enforced here whatever the plan says:

* each file is re-checked against the report (size and mtime, plus the digest where the plan
  carries one) right before it is touched; a changed or missing file is skipped and reported;
* a group's keeper is checked the same way before any other member is touched; when it is
  missing or changed nothing in the group is touched, so the last copy is never removed;
* nothing is ever overwritten: a destination that appeared since the plan gets a unique name;
* every step is announced in the journal (fsynced) before it runs and recorded after it ran.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from picdup._text import format_bytes
from picdup.act.build import LINKS, GroupPlan, Plan, Step, _unique
from picdup.act.fileops import FileOps, TrashEntry, partial_name
from picdup.act.journal import Journal, read_journal
from picdup.act.remote import default_ops
from picdup.errors import ActionError, InputError
from picdup.progress import CancelToken, NullProgress, Progress
from picdup.scan.remote import is_url

__all__ = [
    "ApplyResult",
    "StepResult",
    "apply",
    "check_journal_path",
    "default_journal_path",
    "observe",
    "resume",
]

# Seconds to wait inside every step (half before the change, half after it). Only for tests
# that must kill a run at a known point; never set it otherwise.
STEP_DELAY_ENV = "PICDUP_TEST_STEP_DELAY"


@dataclass(frozen=True, slots=True)
class StepResult:
    """How one step ended: ``done``, ``skipped`` (the file changed or vanished) or ``failed``."""

    index: int
    op: str
    path: str
    status: str
    dest: str = ""
    message: str = ""
    size: int = 0


@dataclass(frozen=True)
class ApplyResult:
    """What an apply did, and where its journal is (for ``picdup undo``)."""

    journal: str
    results: tuple[StepResult, ...] = ()
    stopped: str = ""

    @property
    def done(self) -> list[StepResult]:
        return [r for r in self.results if r.status == "done"]

    @property
    def skipped(self) -> list[StepResult]:
        return [r for r in self.results if r.status == "skipped"]

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stopped

    @property
    def bytes_done(self) -> int:
        return sum(r.size for r in self.done)

    def summary(self) -> str:
        text = f"{len(self.done)} done, {len(self.skipped)} skipped, {len(self.failed)} failed"
        if self.bytes_done:
            text += f" ({format_bytes(self.bytes_done)})"
        if self.stopped:
            text += f"; stopped: {self.stopped}"
        return text + f"; journal: {self.journal}"


def default_journal_path(plan: Plan) -> str:
    """Beside the report (``report.journal-<UTC time>.jsonl``), else in the user state folder."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    if plan.report:
        return f"{os.path.splitext(plan.report)[0]}.journal-{stamp}.jsonl"
    import platformdirs

    folder = os.path.join(platformdirs.user_state_dir("picdup"), "journals")
    return os.path.join(folder, f"apply-{stamp}.jsonl")


def apply(
    plan: Plan,
    *,
    journal: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    ops: FileOps | None = None,
) -> ApplyResult:
    """Run ``plan``, journaling every step; resume when ``journal`` is this plan's journal.

    Input: a :class:`~picdup.act.build.Plan` from :func:`~picdup.plan`; ``journal``: where to
    write the journal (default :func:`default_journal_path`). When the file already exists and
    holds the same plan (a run that was interrupted), the run picks up where it stopped.

    Output: an :class:`ApplyResult` with one :class:`StepResult` per step and the journal's
    path (give it to :func:`~picdup.undo`).

    Errors: a changed or missing file is skipped, an OS error on one file fails that step, and
    both are reported in the result, not raised. :class:`~picdup.errors.ActionError` when the
    journal belongs to another plan or cannot be written; an action the filesystem cannot do
    at all (reflink on ext4) stops the run and is reported in ``stopped``.

    ``progress`` gets one phase (``apply``) advanced per step; setting ``cancel`` stops the
    run between two steps (``stopped == "cancelled"``), with a journal to resume or undo.

    Performance: one ``stat`` per file and keeper, a digest read where the plan asks for it,
    two fsyncs of the journal per step; moves are renames within a device.
    """
    ops = ops or default_ops()
    path = os.path.abspath(os.fspath(journal)) if journal is not None else ""
    if path and os.path.exists(path) and os.path.getsize(path) > 0:
        header, _ = read_journal(path)
        if header.get("plan") != plan.to_dict():
            raise ActionError(f"the journal {path} belongs to another plan; choose a new file")
        return resume(path, progress=progress, cancel=cancel, ops=ops)
    path = path or default_journal_path(plan)
    with Journal.create(path, plan.to_dict()) as jr:
        return _run(plan, jr, {}, {}, ops, progress, cancel)


def resume(
    journal: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    ops: FileOps | None = None,
) -> ApplyResult:
    """Finish an interrupted apply from its journal alone (the plan is in the header).

    A step that had begun when the run was killed is looked at on disk: finished if it got
    through, cleaned up and run again if it did not.
    """
    ops = ops or default_ops()
    path = os.path.abspath(os.fspath(journal))
    header, records = read_journal(path)
    if any(r.get("type", "").startswith("undo") for r in records):
        raise ActionError(f"this run was undone ({path}); make a new plan instead")
    plan = Plan.from_dict(header.get("plan"))
    outcomes, begun = _outcomes(records)
    with Journal.append(path) as jr:
        jr.write({"type": "resume", "pid": os.getpid()})
        return _run(plan, jr, outcomes, begun, ops, progress, cancel)


def _outcomes(
    records: Sequence[dict[str, Any]],
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """The last outcome of each step, and the steps begun without an outcome."""
    outcomes: dict[int, dict[str, Any]] = {}
    begun: dict[int, dict[str, Any]] = {}
    for rec in records:
        kind, index = rec.get("type"), rec.get("step")
        if not isinstance(index, int):
            continue
        if kind == "begin":
            begun[index] = rec
            outcomes.pop(index, None)
        elif kind in ("done", "skip", "fail"):
            outcomes[index] = rec
            if kind == "done":
                begun.pop(index, None)
    for index in outcomes:
        begun.pop(index, None)
    return outcomes, begun


def observe(step: Step, begin: dict[str, Any], ops: FileOps) -> tuple[str, TrashEntry | None]:
    """How far an interrupted step got, from the files themselves.

    Returns ``before`` (nothing changed), ``after`` (the change is complete), ``both``
    (a cross-device move copied but did not yet remove its source) or ``unknown``; and, for
    trash, the entry the file went to. Leftover temporary files are removed.
    """
    dest = str(begin.get("dest") or "")
    if step.op in ("move", "copy"):
        if dest and ops.exists(partial_name(dest)):
            ops.remove(partial_name(dest))
        src, dst = ops.exists(step.path), bool(dest) and ops.exists(dest)
        if step.op == "copy":
            return ("after" if dst else "before"), None
        if src and dst:
            return "both", None
        if dst:
            return "after", None
        return ("before" if src else "unknown"), None
    if step.op in LINKS:
        if ops.exists(partial_name(step.path)):
            ops.remove(partial_name(step.path))
        if step.op == "hardlink":
            done = ops.same_file(step.path, step.target)
        elif step.op == "symlink":
            done = ops.exists(step.path) and ops.stat(step.path).is_symlink
        else:
            done = False  # a reflink has the same bytes either way; doing it again is harmless
        return ("after" if done else "before"), None
    if step.op == "trash":
        before = set(begin.get("trash_before") or ())
        fresh = [e for e in ops.trash_entries(step.path, probe=True) if e.info not in before]
        if not fresh:
            fresh = [e for e in ops.trash_entries(step.path) if e.info not in before]
        if ops.exists(step.path):
            # send2trash writes the .trashinfo first: drop one whose file never arrived
            for e in fresh:
                if not ops.exists(e.file):
                    ops.remove(e.info)
            return "before", None
        landed = [e for e in fresh if ops.exists(e.file)]
        return ("after", landed[-1]) if landed else ("unknown", None)
    # delete
    return ("before" if ops.exists(step.path) else "after"), None


def _check_file(
    path: str, size: int, mtime_ns: int, digest: str, ops: FileOps, etag: str = ""
) -> str:
    """Why ``path`` may not be touched any more, or ``""``."""
    if not ops.exists(path):
        return "missing (gone since the scan)"
    st = ops.stat(path)
    if st.is_symlink:
        return "now a symbolic link"
    if st.size != size or (mtime_ns and st.mtime_ns != mtime_ns):
        return "changed since the scan (size or modification time differs)"
    if etag and ops.etag(path) not in (None, etag):
        return "changed since the scan (the object's version tag differs)"
    if digest and ops.digest(path) != digest:
        return "changed since the scan (content differs)"
    return ""


def _settle(
    step: Step, begin: dict[str, Any], dest: str, ops: FileOps
) -> tuple[str, TrashEntry | None]:
    """:func:`observe`, with a half-finished cross-device move finished (or rolled back when
    the copy does not match its source)."""
    state, entry = observe(step, begin, ops)
    if state == "both":
        if ops.digest(dest) == ops.digest(step.path):
            ops.remove(step.path)
            return "after", None
        ops.remove(dest)
        return "before", None
    return state, entry


def _delay(part: float) -> None:
    text = os.environ.get(STEP_DELAY_ENV)
    if text:
        time.sleep(float(text) * part)


def _run(
    plan: Plan,
    jr: Journal,
    outcomes: dict[int, dict[str, Any]],
    begun: dict[int, dict[str, Any]],
    ops: FileOps,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ApplyResult:
    sink = progress or NullProgress()
    try:
        sink.phase("apply", len(plan.steps))
        return _run_steps(plan, jr, outcomes, begun, ops, sink, cancel)
    finally:
        sink.done()


def _run_steps(
    plan: Plan,
    jr: Journal,
    outcomes: dict[int, dict[str, Any]],
    begun: dict[int, dict[str, Any]],
    ops: FileOps,
    sink: Progress,
    cancel: CancelToken | None,
) -> ApplyResult:
    steps = plan.steps
    group_of: dict[int, GroupPlan] = {g.id: g for g in plan.groups}
    keeper_problem: dict[int, str] = {}
    results: list[StepResult] = []
    stopped = ""
    for index, step in enumerate(steps):
        sink.advance(1)
        if index in outcomes:
            results.append(_from_record(index, step, outcomes[index]))
            continue
        if not stopped and cancel is not None and cancel.cancelled:
            stopped = "cancelled"
        if stopped:
            break
        if index in begun:
            dest = str(begun[index].get("dest") or "")
            try:
                state, entry = _settle(step, begun[index], dest, ops)
            except OSError as exc:
                msg = f"interrupted, and cannot be looked at now: {exc.strerror or exc}"
                jr.write({"type": "fail", "step": index, "error": msg})
                results.append(StepResult(index, step.op, step.path, "failed", "", msg))
                continue
            if state == "after":
                extra = {"trash": [entry.file, entry.info]} if entry else {}
                jr.write({"type": "done", "step": index, "dest": dest, "recovered": True, **extra})
                results.append(StepResult(index, step.op, step.path, "done", dest, "", step.size))
                continue
            if state == "unknown":
                msg = "interrupted and now missing; look in the journal"
                jr.write({"type": "fail", "step": index, "error": msg})
                results.append(StepResult(index, step.op, step.path, "failed", "", msg))
                continue
        group = group_of.get(step.group)
        if group is not None and plan.action != "organize" and step.path == group.keep:
            # only a hand-edited plan gets here; the keeper is never acted on
            results.append(_skip(jr, index, step, "this is the group's keeper; never touched"))
            continue
        if group is not None and plan.action != "organize":
            if step.group not in keeper_problem:
                problem = _check_file(
                    group.keep,
                    group.keeper_size,
                    group.keeper_mtime_ns,
                    group.keeper_digest,
                    ops,
                    group.keeper_etag,
                )
                keeper_problem[step.group] = (
                    f"the keeper {group.keep} is {problem}" if problem else ""
                )
            if keeper_problem[step.group]:
                results.append(_skip(jr, index, step, keeper_problem[step.group]))
                continue
        problem = _check_file(step.path, step.size, step.mtime_ns, step.digest, ops, step.etag)
        if not problem and step.op in LINKS and ops.same_file(step.path, step.target):
            problem = "already linked to the keeper"
        if problem:
            results.append(_skip(jr, index, step, problem))
            continue
        try:
            results.append(_execute(index, step, jr, ops))
        except ActionError as exc:
            jr.write({"type": "fail", "step": index, "error": str(exc)})
            results.append(StepResult(index, step.op, step.path, "failed", "", str(exc)))
            stopped = str(exc)
        except OSError as exc:
            msg = f"{exc.strerror or exc}"
            jr.write({"type": "fail", "step": index, "error": msg})
            results.append(StepResult(index, step.op, step.path, "failed", "", msg))
    jr.write({"type": "end", "stopped": stopped})
    return ApplyResult(jr.path, tuple(results), stopped)


def _skip(jr: Journal, index: int, step: Step, reason: str) -> StepResult:
    jr.write({"type": "skip", "step": index, "reason": reason})
    return StepResult(index, step.op, step.path, "skipped", "", reason)


def _from_record(index: int, step: Step, rec: dict[str, Any]) -> StepResult:
    status = {"done": "done", "skip": "skipped", "fail": "failed"}[rec["type"]]
    msg = str(rec.get("reason") or rec.get("error") or "")
    size = step.size if status == "done" else 0
    return StepResult(index, step.op, step.path, status, str(rec.get("dest") or ""), msg, size)


def _execute(index: int, step: Step, jr: Journal, ops: FileOps) -> StepResult:
    st = ops.stat(step.path)
    begin: dict[str, Any] = {
        "type": "begin",
        "step": index,
        "op": step.op,
        "path": step.path,
        "mode": st.mode,
        "mtime_ns": st.mtime_ns,
    }
    dest = ""
    if step.op in ("move", "copy"):
        dest = _unique(step.target, set(), ops)
        folder = os.path.dirname(dest)
        missing = _missing_dirs(folder)
        if missing:
            jr.write({"type": "mkdir", "step": index, "paths": missing})
            ops.makedirs(folder)
        begin["dest"] = dest
    if step.op == "trash":
        begin["trash_before"] = [e.info for e in ops.trash_entries(step.path, probe=True)]
    jr.write(begin)
    _delay(0.5)
    done: dict[str, Any] = {"type": "done", "step": index, "dest": dest}
    if step.op == "trash":
        entry = ops.trash(step.path)
        if entry is not None:
            done["trash"] = [entry.file, entry.info]
    elif step.op == "delete":
        ops.remove(step.path)
    elif step.op == "move":
        ops.move(step.path, dest)
    elif step.op == "copy":
        ops.copy(step.path, dest)
    elif step.op in LINKS:
        ops.replace_with_link(step.op, step.target, step.path)
    else:
        raise ActionError(f"unknown step {step.op!r} in the plan")
    _delay(0.5)
    jr.write(done)
    return StepResult(index, step.op, step.path, "done", dest, "", step.size)


def _missing_dirs(folder: str) -> list[str]:
    if is_url(folder):
        return []  # object stores have no folders
    missing: list[str] = []
    cur = os.path.abspath(folder)
    while not os.path.isdir(cur):
        missing.append(cur)
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    return list(reversed(missing))


def journal_problem(path: str) -> str:
    """Why ``path`` cannot be used as a new journal, or ``""`` (checked before any work)."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        return f"the journal path is a folder: {path}"
    if not os.path.isdir(folder):
        return f"the journal's folder does not exist: {folder}"
    if not os.access(folder, os.W_OK):
        return f"cannot write the journal into {folder} (permission denied)"
    return ""


def check_journal_path(path: str) -> None:
    problem = journal_problem(path)
    if problem:
        raise InputError(problem)
