"""A plan: which file of each group is kept and why, and one step per file to act on.

"Which file to keep" (keep policies, :mod:`picdup.act.policy`) is decided separately from
"what to do with the others" (the action). Building a plan reads only what it needs (JPEG
headers for the quality estimate, folder listings for ``--include-singles``) and never changes
a file; :func:`picdup.act.execute.apply` runs it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from picdup._text import format_bytes
from picdup.act.fileops import FileOps
from picdup.act.policy import DEFAULT_KEEP, check_keep, rank_members, under
from picdup.act.remote import default_ops
from picdup.decisions import Decisions, decisions_path, load_decisions
from picdup.errors import ConfigError, ReportError
from picdup.model import Group, Member, Report
from picdup.report.json import load_report
from picdup.scan.remote import is_url

__all__ = [
    "ACTIONS",
    "GroupPlan",
    "Kept",
    "Plan",
    "Step",
    "build_plan",
]

ACTIONS: dict[str, str] = {
    "trash": "send to the system trash (undo puts them back)",
    "quarantine": "move into --to DIR, keeping their paths relative to their root",
    "move": "move into --to DIR (same names made unique)",
    "delete": "delete for good (IRREVERSIBLE: undo cannot bring them back)",
    "hardlink": "replace by a hard link to the keeper (byte-identical copies only)",
    "symlink": "replace by a symbolic link to the keeper (byte-identical copies only)",
    "reflink": "replace by a copy-on-write clone of the keeper (byte-identical copies only)",
    "organize": "copy (or --move) every group into --to DIR as 00001.jpg, 00001_1.jpg, …",
}
_NEEDS_TO = ("quarantine", "move", "organize")
LINKS = ("hardlink", "symlink", "reflink")
PLAN_FORMAT = "picdup-plan"
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Step:
    """One change to one file.

    ``op`` is ``trash``, ``delete``, ``move``, ``copy``, ``hardlink``, ``symlink`` or
    ``reflink``. ``size``/``mtime_ns`` (and ``digest`` and ``etag`` when not empty) are what the
    file must still be before it is touched; ``etag`` is an object store's version tag, which
    catches an object rewritten within the second its modification time is kept to. ``target`` is
    the destination of a move or copy (made unique at apply time if something appeared there),
    or the keeper a link points to.
    """

    op: str
    group: int
    path: str
    size: int
    mtime_ns: int
    digest: str = ""
    target: str = ""
    etag: str = ""

    def describe(self) -> str:
        if self.op in ("move", "copy"):
            return f"{self.op} {self.path} -> {self.target}"
        if self.op in LINKS:
            return f"{self.op} {self.path} -> {self.target}"
        return f"{self.op} {self.path}"


@dataclass(frozen=True, slots=True)
class Kept:
    """A member left alone, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """What happens to one group. ``keep`` is never touched (except by ``organize``, which
    moves or copies it to the group's number)."""

    id: int
    cls: str
    keep: str
    why: str
    keeper_size: int
    keeper_mtime_ns: int
    keeper_digest: str
    steps: tuple[Step, ...]
    kept: tuple[Kept, ...] = ()
    keeper_etag: str = ""


@dataclass(frozen=True)
class Plan:
    """An ordered list of steps grouped by report group; printable and serialisable."""

    action: str
    groups: tuple[GroupPlan, ...]
    to: str | None = None
    keep: tuple[str, ...] = DEFAULT_KEEP
    prefer: tuple[str, ...] = ()
    protect: tuple[str, ...] = ()
    move_files: bool = False
    include_singles: bool = False
    singles: tuple[Step, ...] = ()
    report: str = ""
    report_created: str = ""
    decisions: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every step in the order apply runs them: groups in report order, then singles."""
        return tuple(s for g in self.groups for s in g.steps) + self.singles

    @property
    def irreversible(self) -> bool:
        return self.action == "delete"

    @property
    def reclaimable_bytes(self) -> int:
        """Bytes the roots no longer hold after the plan (organize frees nothing)."""
        if self.action == "organize":
            return 0
        return sum(s.size for s in self.steps)

    def summary(self) -> str:
        n = len(self.steps)
        kept = sum(len(g.kept) for g in self.groups)
        text = (
            f"{self.action}: {n} file{'s' * (n != 1)} in {len(self.groups)} "
            f"group{'s' * (len(self.groups) != 1)}"
        )
        if self.action != "organize":
            text += f", {format_bytes(self.reclaimable_bytes)} reclaimed"
        if kept:
            text += f"; {kept} other duplicate{'s' * (kept != 1)} left alone"
        return text

    def describe(self) -> str:
        """The dry run: every group's keeper and why, every step, every file left alone."""
        lines = [f"Plan: {ACTIONS[self.action]}"]
        if self.to:
            lines.append(f"  destination: {self.to}")
        lines.append(f"  keep policy: {', '.join(self.keep) or 'none'}")
        if self.prefer:
            lines.append(f"  prefer: {', '.join(self.prefer)}")
        if self.protect:
            lines.append(f"  protect: {', '.join(self.protect)}")
        if self.decisions:
            lines.append(f"  review decisions: {self.decisions}")
        lines += [f"  note: {n}" for n in self.notes]
        for g in self.groups:
            lines.append(f"group {g.id} ({g.cls}): keep {g.keep} — {g.why}")
            for s in g.steps:
                lines.append(f"    {s.describe()}  ({format_bytes(s.size)})")
            for k in g.kept:
                lines.append(f"    leave {k.path} — {k.reason}")
        if self.singles:
            lines.append(f"single files ({len(self.singles)}):")
            lines += [f"    {s.describe()}" for s in self.singles]
        if self.irreversible and self.steps:
            lines.append("WARNING: delete cannot be undone.")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d = {"format": PLAN_FORMAT, "version": _VERSION, **d}
        return json.loads(json.dumps(d))  # tuples become lists: equal to what from_dict reads

    @classmethod
    def from_dict(cls, data: Any) -> Plan:
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise ReportError("not a picdup plan")
        if data.get("version") != _VERSION:
            raise ReportError(f"plan version {data.get('version')!r} is not supported")
        try:
            groups = tuple(
                GroupPlan(
                    **{
                        **g,
                        "steps": tuple(Step(**s) for s in g["steps"]),
                        "kept": tuple(Kept(**k) for k in g["kept"]),
                    }
                )
                for g in data["groups"]
            )
            return cls(
                action=data["action"],
                groups=groups,
                to=data.get("to"),
                keep=tuple(data["keep"]),
                prefer=tuple(data["prefer"]),
                protect=tuple(data["protect"]),
                move_files=bool(data["move_files"]),
                include_singles=bool(data["include_singles"]),
                singles=tuple(Step(**s) for s in data["singles"]),
                report=data["report"],
                report_created=data["report_created"],
                decisions=data["decisions"],
                notes=tuple(data["notes"]),
            )
        except (KeyError, TypeError) as exc:
            raise ReportError(f"malformed plan: {exc!r}") from exc


def _unique(path: str, taken: set[str], ops: FileOps) -> str:
    """``path``, else ``stem_1.ext``, ``stem_2.ext`` …: the first name not planned nor on disk."""
    stem, ext = os.path.splitext(path)
    candidate, n = path, 0
    while candidate in taken or ops.exists(candidate):
        n += 1
        candidate = f"{stem}_{n}{ext}"
    taken.add(candidate)
    return candidate


def _root_labels(roots: Sequence[str]) -> dict[str, str]:
    """A folder name per root for quarantine when there are several roots (made distinct)."""
    labels: dict[str, str] = {}
    used: set[str] = set()
    for root in roots:
        base = os.path.basename(os.path.normpath(root)) or "root"
        label, n = base, 1
        while label in used:
            n += 1
            label = f"{base}_{n}"
        used.add(label)
        labels[root] = label
    return labels


def _relative(path: str, roots: Sequence[str], labels: dict[str, str]) -> str:
    """``path`` relative to the deepest root holding it, under the root's label if several."""
    holders = [r for r in roots if under(path, r)]
    if not holders:
        # outside every root (a report edited by hand): mirror the absolute path
        return os.path.splitdrive(os.path.abspath(path))[1].lstrip(os.sep)
    root = max(holders, key=len)
    if is_url(root):
        # An object store has no folders to ask about: the key below the root's prefix.
        rel = path[len(root) :].lstrip("/") if path != root else path.rsplit("/", 1)[-1]
    else:
        rel = os.path.relpath(path, root) if os.path.isdir(root) else os.path.basename(path)
    if rel == ".":
        rel = os.path.basename(path)
    return os.path.join(labels[root], rel) if len(roots) > 1 else rel


_EXT = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp"}


def _ext(member_path: str, fmt: str) -> str:
    ext = os.path.splitext(member_path)[1].lower()
    return ext if ext else _EXT.get(fmt.upper(), "")


def _choose(
    group: Group,
    decisions: Decisions | None,
    keep: Sequence[str],
    prefer: Sequence[str],
    protect: Sequence[str],
    ops: FileOps,
) -> tuple[Member, str]:
    """The keeper of a group: review decisions first, then protected files, then the policies."""
    verdicts = decisions.files if decisions is not None else {}
    members = list(group.members)
    archived = [m for m in members if m.archive]
    if archived:
        # scan --against: the archived copy is what stays; archives are never touched.
        ranked, why = rank_members(
            archived, keep=keep, prefer=prefer, suggested=group.keep, suggested_why="", ops=ops
        )
        return ranked[0], "the archived copy (archives are never touched)"
    pool = [m for m in members if verdicts.get(m.path) == "keep"]
    source = "your review decision"
    if not pool:
        pool = [m for m in members if verdicts.get(m.path) != "remove"]
        source = ""
    if not pool:
        pool = members
        source = "every copy was marked remove; kept one so the last copy is never removed"
    guarded = [m for m in pool if any(under(m.path, d) for d in protect)]
    if guarded and not source.startswith("your"):
        pool, source = guarded, "protected"
    ranked, why = rank_members(
        pool, keep=keep, prefer=prefer, suggested=group.keep, suggested_why=group.why, ops=ops
    )
    keeper = ranked[0]
    if source:
        why = f"{source}; {why}" if len(pool) > 1 else source
    return keeper, why


def build_plan(
    report: Report | str | os.PathLike[str],
    *,
    action: str = "trash",
    keep: Sequence[str] | str = DEFAULT_KEEP,
    prefer: Iterable[str | os.PathLike[str]] = (),
    protect: Iterable[str | os.PathLike[str]] = (),
    to: str | os.PathLike[str] | None = None,
    decisions: Decisions | str | os.PathLike[str] | None = None,
    move_files: bool = False,
    include_singles: bool = False,
    ops: FileOps | None = None,
) -> Plan:
    """Decide what to keep and what to do with every other member of every group.

    Input: a :class:`~picdup.model.Report` or the path of a report file; the action (one of
    :data:`ACTIONS`); keep policies in order of priority (names from
    :data:`~picdup.act.policy.POLICIES`, a list or a comma-separated string); folders whose
    copies are preferred as keepers (``prefer``) and folders never touched (``protect``);
    ``to`` for quarantine, move and organize; review ``decisions`` (a
    :class:`~picdup.decisions.Decisions` or its file; by default the decisions file beside a
    report given as a path, when present). ``move_files`` makes organize move instead of copy;
    ``include_singles`` makes it number the files that are in no group, too.

    Output: a :class:`Plan`. Nothing on disk changes.

    Errors: :class:`~picdup.errors.ConfigError` for a bad action, policy or destination,
    :class:`~picdup.errors.ReportError` for an unreadable report or decisions file — all before
    any file is read.

    Performance: linear in the number of members; the ``quality`` policy reads JPEG headers of
    the members it has to compare; ``include_singles`` walks the roots once.

    Rules: a decision (keep/remove) overrides the policy; protected files are never acted on
    and are preferred as keepers; a member marked "not a duplicate" of the keeper is left
    alone; the links need byte-identical copies (the report's digests must be equal), so no
    picture is ever replaced by a different one; destinations never collide with each other.
    """
    ops = ops or default_ops()
    if action not in ACTIONS:
        raise ConfigError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    names = check_keep(keep.split(",") if isinstance(keep, str) else keep)
    prefer_dirs = tuple(os.path.abspath(os.fspath(p)) for p in prefer)
    protect_dirs = tuple(os.path.abspath(os.fspath(p)) for p in protect)
    dest = _destination(to)
    if action in _NEEDS_TO and dest is None:
        raise ConfigError(f"--action {action} needs --to DIR")
    if action not in _NEEDS_TO and dest is not None:
        raise ConfigError(f"--to is only for {', '.join(_NEEDS_TO)}, not {action}")
    if (move_files or include_singles) and action != "organize":
        raise ConfigError("--move and --include-singles are only for --action organize")
    if dest is not None and any(under(dest, d) for d in protect_dirs):
        raise ConfigError(f"--to {dest} is inside a protected folder")
    if dest is not None and not is_url(dest) and ops.exists(dest) and not os.path.isdir(dest):
        raise ConfigError(f"--to {dest} exists and is not a folder")

    report_path = ""
    if not isinstance(report, Report):
        report_path = os.path.abspath(os.fspath(report))
        report = load_report(report_path)
    decisions_file = ""
    if isinstance(decisions, (str, os.PathLike)):
        decisions_file = os.path.abspath(os.fspath(decisions))
        decisions = load_decisions(decisions_file)
    elif decisions is None and report_path and os.path.exists(decisions_path(report_path)):
        decisions_file = decisions_path(report_path)
        decisions = load_decisions(decisions_file)
    elif decisions is not None:
        decisions_file = "(given)"

    if (
        isinstance(decisions, Decisions)
        and decisions.report_created
        and report.created
        and decisions.report_created != report.created
    ):
        raise ReportError(
            f"the review decisions ({decisions_file}) were made for another scan "
            f"(report of {decisions.report_created}, this one is of {report.created})"
        )
    roots = list(report.roots)
    on_store = [m.path for g in report.groups for m in g.members if is_url(m.path)]
    if on_store and (action == "trash" or action in LINKS):
        raise ConfigError(
            f"--action {action} cannot act on object storage ({on_store[0]}): "
            "use --action quarantine --to URL (undo brings files back) or --action delete"
        )
    labels = _root_labels(roots)
    taken: set[str] = set()
    groups: list[GroupPlan] = []
    notes: list[str] = []
    # --pairs: a member stands for its whole asset, so its RAW file or Live Photo video goes
    # wherever the member goes instead of being left behind on its own.
    companions = {f: tuple(c for c in a.files if c != f) for a in report.assets for f in a.files}
    # a folder organized before goes on with the next numbers instead of squeezing in
    number = _highest_number(dest, ops) if action == "organize" and dest else 0
    width = max(5, len(str(number + len(report.groups) + 1)))
    for group in report.groups:
        keeper, why = _choose(group, decisions, names, prefer_dirs, protect_dirs, ops)
        steps: list[Step] = []
        kept: list[Kept] = []
        others = [m for m in group.members if m.path != keeper.path]
        if action == "organize":
            number += 1
            base = os.path.join(dest or "", f"{number:0{width}d}")
            steps.append(
                _organize_step(keeper, group.id, base, move_files, protect_dirs, taken, ops)
            )
            steps += _companion_steps(steps[-1], companions, taken, ops, notes)
        copies = 0
        for m in others:
            reason = _leave_reason(m, keeper, group, decisions, protect_dirs, action)
            if reason:
                kept.append(Kept(m.path, reason))
                continue
            if action == "organize":
                copies += 1
                steps.append(
                    _organize_step(
                        m, group.id, f"{base}_{copies}", move_files, protect_dirs, taken, ops
                    )
                )
            else:
                steps.append(_step(action, m, keeper, group, dest, roots, labels, taken, ops))
            steps += _companion_steps(steps[-1], companions, taken, ops, notes)
        exact = group.cls == "exact" or action in LINKS
        groups.append(
            GroupPlan(
                id=group.id,
                cls=group.cls,
                keep=keeper.path,
                why=why,
                keeper_size=keeper.size,
                keeper_mtime_ns=keeper.mtime_ns,
                keeper_digest=keeper.digest if exact else "",
                steps=tuple(steps),
                kept=tuple(kept),
                keeper_etag=keeper.etag or "",
            )
        )

    singles: list[Step] = []
    if include_singles:
        in_groups = {m.path for g in report.groups for m in g.members}
        for path, size, mtime_ns in _single_images(report, in_groups, ops):
            if any(under(path, d) for d in protect_dirs) and move_files:
                continue
            number += 1
            base = os.path.join(dest or "", f"{number:0{width}d}")
            target = _unique(base + _ext(path, ""), taken, ops)
            singles.append(
                Step("move" if move_files else "copy", 0, path, size, mtime_ns, "", target)
            )
    if dest is not None and any(under(dest, r) for r in roots):
        notes.append(f"the destination {dest} is inside a scanned folder; later scans see it")
    if action == "delete":
        notes.append("delete is irreversible: undo cannot bring deleted files back")
    if action in LINKS:
        notes.append("only byte-identical copies are linked; other members are left alone")
    return Plan(
        action=action,
        groups=tuple(groups),
        to=dest,
        keep=names,
        prefer=prefer_dirs,
        protect=protect_dirs,
        move_files=move_files,
        include_singles=include_singles,
        singles=tuple(singles),
        report=report_path,
        report_created=report.created,
        decisions=decisions_file,
        notes=tuple(notes),
    )


_NUMBERED = re.compile(r"^(\d+)(?:_\d+)?(?:\.[^.]*)?$")


def _highest_number(dest: str, ops: FileOps) -> int:
    """The highest group number already used in an organize folder (0 when none)."""
    if not os.path.isdir(dest):
        return 0
    numbers = [int(m.group(1)) for n in os.listdir(dest) if (m := _NUMBERED.match(n))]
    return max(numbers, default=0)


def _destination(to: str | os.PathLike[str] | None) -> str | None:
    """``--to`` made absolute; a URL (``s3://bucket/quarantine``) is kept as given."""
    if to is None:
        return None
    text = os.fspath(to)
    return text.rstrip("/") if is_url(text) else os.path.abspath(text)


def _leave_reason(
    m: Member,
    keeper: Member,
    group: Group,
    decisions: Decisions | None,
    protect: Sequence[str],
    action: str,
) -> str:
    if m.archive:
        return "in the archive (scan --against): never touched"
    guard = next((d for d in protect if under(m.path, d)), None)
    if guard is not None and action != "organize":
        return f"protected (under {guard})"
    if decisions is not None:
        if decisions.is_not_duplicate(keeper.path, m.path) or decisions.is_not_duplicate(
            group.keep, m.path
        ):
            return "marked not a duplicate in review"
        if decisions.files.get(m.path) == "keep":
            return "your review decision: keep"
    if action in LINKS and (not m.digest or m.digest != keeper.digest):
        return "not byte-identical to the keeper; linking would lose its content"
    return ""


def _step(
    action: str,
    m: Member,
    keeper: Member,
    group: Group,
    dest: str | None,
    roots: Sequence[str],
    labels: dict[str, str],
    taken: set[str],
    ops: FileOps,
) -> Step:
    check = m.digest if (m.cls == "exact" or action in LINKS) else ""
    tag = m.etag or ""
    if action == "quarantine":
        target = _unique(os.path.join(dest or "", _relative(m.path, roots, labels)), taken, ops)
        return Step("move", group.id, m.path, m.size, m.mtime_ns, check, target, tag)
    if action == "move":
        target = _unique(os.path.join(dest or "", os.path.basename(m.path)), taken, ops)
        return Step("move", group.id, m.path, m.size, m.mtime_ns, check, target, tag)
    if action in LINKS:
        return Step(action, group.id, m.path, m.size, m.mtime_ns, check, keeper.path, tag)
    return Step(action, group.id, m.path, m.size, m.mtime_ns, check, etag=tag)


def _companion_steps(
    step: Step,
    companions: dict[str, tuple[str, ...]],
    taken: set[str],
    ops: FileOps,
    notes: list[str],
) -> list[Step]:
    """The same action for the other files of ``step``'s asset (none without ``--pairs``).

    A companion's destination shares the member's new stem, so the two still pair up where they
    land. Links are not carried over: a RAW file is not a copy of anything in the group."""
    if step.op in LINKS:
        return []
    out: list[Step] = []
    for path in companions.get(step.path, ()):
        try:
            st = ops.stat(path)
        except OSError:
            notes.append(f"{path} (with {step.path}) is gone since the scan; left out")
            continue
        target = ""
        if step.target:
            stem, new_ext = os.path.splitext(step.target)
            ext = os.path.splitext(path)[1]
            if new_ext != os.path.splitext(step.path)[1]:  # organize lower-cased it
                ext = ext.lower()
            target = _unique(stem + ext, taken, ops)
        out.append(
            replace(
                step,
                path=path,
                size=st.size,
                mtime_ns=st.mtime_ns,
                digest="",
                etag=ops.etag(path) or "",
                target=target,
            )
        )
    return out


def _organize_step(
    m: Member,
    group_id: int,
    base: str,
    move_files: bool,
    protect: Sequence[str],
    taken: set[str],
    ops: FileOps,
) -> Step:
    # a protected file may be copied (read) but never moved away
    moving = move_files and not any(under(m.path, d) for d in protect)
    target = _unique(base + _ext(m.path, m.format), taken, ops)
    check = m.digest if m.cls in ("exact", "keeper") else ""
    step = Step("move" if moving else "copy", group_id, m.path, m.size, m.mtime_ns, check, target)
    return replace(step, etag=m.etag or "")


def _single_images(report: Report, in_groups: set[str], ops: FileOps) -> list[tuple[str, int, int]]:
    """Images under the report's roots that are in no group (sorted by path)."""
    from picdup.scan import sniff, walk

    unreadable = {e.path for e in report.errors}
    walked = walk(
        list(report.roots),
        follow_symlinks=bool(report.options.get("follow_symlinks", False)),
        include_hidden=bool(report.options.get("include_hidden", False)),
    )
    out: list[tuple[str, int, int]] = []
    for ref in sorted(walked.files, key=lambda r: r.path):
        if ref.path in in_groups or ref.path in unreadable:
            continue
        try:
            with ops.open_read(ref.path) as fh:
                kind, _ = sniff(fh.read(64))
        except OSError:
            continue
        if kind is not None:
            out.append((ref.path, ref.size, ref.mtime_ns))
    return out
