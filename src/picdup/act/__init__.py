"""Acting on duplicates: keep policies, plans, the journaled executor and undo.

``plan`` decides (read-only), ``apply`` acts and journals, ``undo`` reads the journal back::

    p = picdup.plan("report.json", action="quarantine", to="~/dupes", keep="resolution,oldest")
    print(p.describe())
    result = picdup.apply(p)
    picdup.undo(result.journal)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from picdup.act.build import ACTIONS, GroupPlan, Kept, Plan, Step, build_plan
from picdup.act.execute import ApplyResult, StepResult, resume
from picdup.act.execute import apply as _apply
from picdup.act.fileops import FileOps
from picdup.act.policy import DEFAULT_KEEP, POLICIES
from picdup.act.restore import UndoResult
from picdup.act.restore import undo as _undo
from picdup.decisions import Decisions
from picdup.model import Report
from picdup.progress import CancelToken, Progress

__all__ = [
    "ACTIONS",
    "DEFAULT_KEEP",
    "POLICIES",
    "ApplyResult",
    "FileOps",
    "GroupPlan",
    "Kept",
    "Plan",
    "Step",
    "StepResult",
    "UndoResult",
    "apply",
    "plan",
    "resume",
    "undo",
]


def plan(
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
) -> Plan:
    """Decide what to keep and what to do with the other copies; change nothing.

    See :func:`picdup.act.build.build_plan` for the rules. ``print(plan.describe())`` is the
    dry run; ``plan.to_dict()`` serialises it (``Plan.from_dict`` reads it back).
    """
    return build_plan(
        report,
        action=action,
        keep=keep,
        prefer=prefer,
        protect=protect,
        to=to,
        decisions=decisions,
        move_files=move_files,
        include_singles=include_singles,
    )


def apply(
    plan: Plan,
    *,
    journal: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ApplyResult:
    """Run ``plan`` with a journal; see :func:`picdup.act.execute.apply`."""
    return _apply(plan, journal=journal, progress=progress, cancel=cancel)


def undo(journal: str | os.PathLike[str]) -> UndoResult:
    """Put back everything the apply recorded in ``journal``.

    See :func:`picdup.act.restore.undo`."""
    return _undo(journal)
