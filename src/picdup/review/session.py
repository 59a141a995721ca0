"""The state of one review: the report, the person's decisions, and what the page may read.

No web framework here: the Starlette app in :mod:`picdup.review.app` is a thin layer over this
class, so the rules (only the report's files, decisions saved after every change, byte copies
cannot be "not duplicates") hold whatever serves them.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Any

from picdup.cache.paths import default_cache_dir
from picdup.cache.verdicts import VerdictStore
from picdup.decisions import Decisions, decisions_path, load_decisions, save_decisions
from picdup.errors import InputError
from picdup.model import Group, Member, Report
from picdup.report.html import group_view, report_summary
from picdup.report.json import load_report

__all__ = ["FILTERS", "ReviewSession"]

FILTERS = ("all", "undecided", "decided")


class ReviewSession:
    """A loaded report and its decisions file (``REPORT.decisions.json``).

    Errors: :class:`~picdup.errors.ReportError` when the report or an existing decisions file
    cannot be read; :class:`InputError` for a request about a group or member that does not
    exist, or a pair of byte-identical files marked as not duplicates.
    """

    def __init__(self, report_path: str | os.PathLike[str], cache_dir: str | None = None) -> None:
        self.report_path = os.path.abspath(os.fspath(report_path))
        self.report: Report = load_report(self.report_path)
        self.decisions_path = decisions_path(self.report_path)
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        if os.path.exists(self.decisions_path):
            self.decisions = load_decisions(self.decisions_path)
        else:
            self.decisions = Decisions()
        folder = os.path.dirname(self.decisions_path)
        if not os.access(folder, os.W_OK):
            raise InputError(f"cannot save decisions beside the report: {folder} is not writable")
        self.decisions.report = os.path.basename(self.report_path)
        self.decisions.report_created = self.report.created
        self.lock = threading.Lock()
        self._partners: dict[str, set[str]] = defaultdict(set)
        self._index_partners()

    # ---- reading --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return os.path.basename(self.report_path)

    def group(self, index: int) -> Group:
        if not 0 <= index < len(self.report.groups):
            raise InputError(f"no group {index}")
        return self.report.groups[index]

    def member(self, index: int, k: int) -> Member:
        group = self.group(index)
        if not 0 <= k < len(group.members):
            raise InputError(f"group {index} has no member {k}")
        return group.members[k]

    def summary(self) -> dict[str, Any]:
        out = report_summary(self.report, self.name)
        out["decisions_file"] = os.path.basename(self.decisions_path)
        out["counts"] = self.counts()
        return out

    def counts(self) -> dict[str, int]:
        verdicts = list(self.decisions.files.values())
        return {
            "keep": verdicts.count("keep"),
            "remove": verdicts.count("remove"),
            "notdup": len(self.decisions.not_duplicates),
        }

    def group_json(self, index: int) -> dict[str, Any]:
        group = self.group(index)
        view = group_view(
            group, index, lambda k: f"thumb/{index}/{k}", lambda k: f"file/{index}/{k}"
        )
        paths = [m.path for m in group.members]
        where = {p: k for k, p in enumerate(paths)}
        notdup = sorted(
            {
                (min(k, where[q]), max(k, where[q]))
                for k, p in enumerate(paths)
                for q in self._partners.get(p, ())
                if q in where
            }
        )
        view["decisions"] = {
            "files": [self.decisions.files.get(p) for p in paths],
            "notdup": [list(pair) for pair in notdup],
        }
        return view

    def decided(self, group: Group) -> bool:
        return any(
            m.path in self.decisions.files or m.path in self._partners for m in group.members
        )

    def page(self, offset: int, limit: int, filter: str = "all") -> dict[str, Any]:
        """Groups ``offset``…``offset+limit`` of those the filter lets through."""
        if filter not in FILTERS:
            raise InputError(f"unknown filter {filter!r}; choose one of {', '.join(FILTERS)}")
        if filter == "all":
            chosen = range(len(self.report.groups))
            total = len(chosen)
            picked = list(chosen[offset : offset + limit])
        else:
            want = filter == "decided"
            matching = [i for i, g in enumerate(self.report.groups) if self.decided(g) == want]
            total = len(matching)
            picked = matching[offset : offset + limit]
        return {"total": total, "offset": offset, "groups": [self.group_json(i) for i in picked]}

    # ---- changing -------------------------------------------------------------------------
    def decide(self, index: int, k: int, verdict: str | None) -> None:
        """Keep or remove member ``k`` of group ``index`` (``None`` forgets), and save."""
        path = self.member(index, k).path
        if verdict not in (None, "keep", "remove"):
            raise InputError(f"verdict must be keep, remove or null, got {verdict!r}")
        with self.lock:
            before = self.decisions.files.get(path)
            self.decisions.set_file(path, verdict)
            try:
                save_decisions(self.decisions, self.decisions_path)
            except OSError as exc:
                self.decisions.set_file(path, before)  # what the page shows is what is saved
                raise InputError(f"cannot save {self.decisions_path}: {exc.strerror}") from exc

    def mark_not_duplicate(self, index: int, a: int, b: int, value: bool) -> None:
        """Record that members ``a`` and ``b`` differ (or not), in the file and the cache."""
        ma, mb = self.member(index, a), self.member(index, b)
        if a == b or (ma.digest and ma.digest == mb.digest):
            raise InputError("byte-identical files are always duplicates")
        with self.lock:
            before = self.decisions.is_not_duplicate(ma.path, mb.path)
            self.decisions.mark_not_duplicate(ma.path, mb.path, value)
            try:
                save_decisions(self.decisions, self.decisions_path)
            except OSError as exc:
                self.decisions.mark_not_duplicate(ma.path, mb.path, before)
                raise InputError(f"cannot save {self.decisions_path}: {exc.strerror}") from exc
            self._index_partners()
            if ma.digest and mb.digest:
                with VerdictStore(self.cache_dir) as store:
                    store.mark((ma.path, ma.digest), (mb.path, mb.digest), value)

    def _index_partners(self) -> None:
        self._partners = defaultdict(set)
        for p, q in self.decisions.not_duplicates:
            self._partners[p].add(q)
            self._partners[q].add(p)
