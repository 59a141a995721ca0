"""The page's "Apply" step: the same plan, dry run and confirmation as ``picdup apply``.

The page can only ask :func:`picdup.plan` for a plan of the report (with the decisions file the
page keeps saving, exactly as ``picdup apply`` reads it), show its dry run, and run exactly that
plan with :func:`picdup.apply` once the person has typed the action's name to confirm. It never
chooses files itself, and a plan can be applied once.
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import Any

from picdup.act import ACTIONS, DEFAULT_KEEP, POLICIES, Plan, apply, plan
from picdup.act.execute import default_journal_path
from picdup.errors import InputError
from picdup.review.session import ReviewSession

__all__ = ["ApplyDesk"]


def _shown(text: str) -> str:
    """Text for the page: bytes of a file name that are not UTF-8 shown as ``\\xNN``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class ApplyDesk:
    """Plans waiting for confirmation, by a random id; only the latest can be applied."""

    def __init__(self, session: ReviewSession) -> None:
        self.session = session
        self._pending: dict[str, Plan] = {}
        self._lock = threading.Lock()

    def options(self) -> dict[str, Any]:
        return {
            "actions": ACTIONS,
            "keep": ",".join(DEFAULT_KEEP),
            "policies": POLICIES,
            "decisions": os.path.basename(self.session.decisions_path),
        }

    def preview(self, action: Any, keep: Any, to: Any = None) -> dict[str, Any]:
        """The dry run of ``picdup apply REPORT --action ACTION --keep KEEP [--to TO]``."""
        if not isinstance(action, str) or not isinstance(keep, str):
            raise InputError("'action' and 'keep' must be text")
        if to is not None and not isinstance(to, str):
            raise InputError("'to' must be text")
        with self.session.lock:  # the decisions file is not being rewritten while it is read
            the_plan = plan(self.session.report_path, action=action, keep=keep, to=to or None)
        question = f"{the_plan.summary()}. Go ahead?"
        if the_plan.irreversible:
            question = f"{the_plan.summary()}. Deleting CANNOT be undone. Go ahead?"
        plan_id = secrets.token_urlsafe(16)
        with self._lock:
            self._pending = {plan_id: the_plan}
        return {
            "plan": plan_id,
            "text": _shown(the_plan.describe()),
            "question": _shown(question),
            "phrase": action,
            "actions": len(the_plan.steps),
        }

    def run(self, plan_id: Any, confirm: Any) -> dict[str, Any]:
        """Apply the plan shown as ``plan_id`` once ``confirm`` is the action's name."""
        with self._lock:
            the_plan = self._pending.get(plan_id) if isinstance(plan_id, str) else None
            if the_plan is None:
                raise InputError("that plan is no longer current; show the plan again")
            if confirm != the_plan.action:
                raise InputError(f"type {the_plan.action!r} to confirm")
            del self._pending[plan_id]
        journal = default_journal_path(the_plan)
        result = apply(the_plan, journal=journal)
        problems = [
            _shown(f"{r.status}: {r.path} — {r.message}")
            for r in result.results
            if r.status != "done"
        ]
        return {
            "ok": result.ok,
            "text": result.summary(),
            "problems": problems,
            "journal": _shown(result.journal),
            "undo": _shown(f"picdup undo {result.journal}"),
        }
