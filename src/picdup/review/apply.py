"""The page's "Apply" step: the same plan, dry run and confirmation as ``picdup apply``.

The page can only ask for a plan (shown as the CLI's dry run), then run exactly that plan once
the person has typed the confirmation phrase. It never chooses files itself.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from picdup.errors import ConfigError, InputError
from picdup.review.session import ReviewSession

__all__ = ["ApplyDesk"]


def _api() -> Any:
    import picdup

    if not (hasattr(picdup, "plan") and hasattr(picdup, "apply")):
        raise ConfigError("this picdup has no plan/apply step; use the decisions file with the CLI")
    return picdup


class ApplyDesk:
    """Plans waiting for confirmation, by a random id; each can be applied once."""

    def __init__(self, session: ReviewSession) -> None:
        self.session = session
        self._plans: dict[str, tuple[Any, str]] = {}
        self._lock = threading.Lock()

    def options(self) -> dict[str, Any]:
        _api()
        return {"actions": ["trash"], "keep": ["report"]}

    def preview(self, action: Any, keep: Any) -> dict[str, Any]:
        api = _api()
        plan = api.plan(self.session.report, action=action, keep=keep)
        phrase = f"{action} {len(plan.steps)}"
        plan_id = secrets.token_urlsafe(16)
        with self._lock:
            self._plans = {plan_id: (plan, phrase)}
        return {"plan": plan_id, "text": str(plan), "phrase": phrase, "actions": len(plan.steps)}

    def run(self, plan_id: Any, confirm: Any) -> dict[str, Any]:
        api = _api()
        with self._lock:
            entry = self._plans.get(plan_id) if isinstance(plan_id, str) else None
            if entry is None:
                raise InputError("no such plan; show the plan again")
            if confirm != entry[1]:
                raise InputError(f"type {entry[1]!r} to confirm")
            del self._plans[plan_id]
        result = api.apply(entry[0])
        return {"text": str(result)}
