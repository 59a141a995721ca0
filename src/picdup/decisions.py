"""A person's review decisions about a report, kept in a file next to it.

The review page writes this file (atomically, after every change) and ``picdup apply`` honours
it: a decision overrides the keep policy. The file is ``REPORT.decisions.json`` beside the report
(``report.json`` → ``report.decisions.json``)::

    {"format": "picdup-decisions", "version": 1,
     "report": "report.json", "report_created": "2026-…Z",
     "files": {"/abs/a.jpg": "keep", "/abs/b.jpg": "remove"},
     "not_duplicates": [["/abs/a.jpg", "/abs/c.jpg"]]}

``files`` maps a member's path to ``keep`` or ``remove``; a member left out follows the policy.
``not_duplicates`` lists pairs a person said are not the same picture: apply leaves the second
file of such a pair with the keeper alone, and the cache remembers the pair for later scans.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from picdup._atomic import atomic_write_bytes, encode_text
from picdup.errors import ReportError

__all__ = ["DECISIONS_FORMAT", "Decisions", "decisions_path", "load_decisions", "save_decisions"]

DECISIONS_FORMAT = "picdup-decisions"
_VERSION = 1
_VERDICTS = ("keep", "remove")


def decisions_path(report_path: str | os.PathLike[str]) -> str:
    """Where the decisions for ``report_path`` live: ``x.json`` → ``x.decisions.json``."""
    base, _ = os.path.splitext(os.fspath(report_path))
    return base + ".decisions.json"


@dataclass
class Decisions:
    """Review decisions: a verdict per file, and pairs that are not duplicates."""

    report: str = ""
    report_created: str = ""
    files: dict[str, str] = field(default_factory=dict)
    not_duplicates: set[tuple[str, str]] = field(default_factory=set)

    def set_file(self, path: str, verdict: str | None) -> None:
        """Record ``keep`` or ``remove`` for ``path``; ``None`` forgets the decision."""
        if verdict is None:
            self.files.pop(path, None)
            return
        if verdict not in _VERDICTS:
            raise ValueError(f"verdict must be one of {_VERDICTS}, got {verdict!r}")
        self.files[path] = verdict

    def mark_not_duplicate(self, a: str, b: str, value: bool = True) -> None:
        pair = (a, b) if a <= b else (b, a)
        if value:
            self.not_duplicates.add(pair)
        else:
            self.not_duplicates.discard(pair)

    def is_not_duplicate(self, a: str, b: str) -> bool:
        return ((a, b) if a <= b else (b, a)) in self.not_duplicates

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": DECISIONS_FORMAT,
            "version": _VERSION,
            "report": self.report,
            "report_created": self.report_created,
            "files": dict(sorted(self.files.items())),
            "not_duplicates": [list(p) for p in sorted(self.not_duplicates)],
        }


def load_decisions(path: str | os.PathLike[str]) -> Decisions:
    """Read a decisions file; :class:`ReportError` when it is unreadable or malformed."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError as exc:
        raise ReportError(f"no such decisions file: {os.fspath(path)}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"cannot read decisions file {os.fspath(path)}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != DECISIONS_FORMAT:
        raise ReportError(f"not a picdup decisions file: {os.fspath(path)}")
    if data.get("version") != _VERSION:
        raise ReportError(f"decisions file version {data.get('version')!r} is not supported")
    files = data.get("files", {})
    pairs = data.get("not_duplicates", [])
    if not isinstance(files, dict) or any(v not in _VERDICTS for v in files.values()):
        raise ReportError("malformed decisions file: 'files' must map paths to keep/remove")
    if not isinstance(pairs, list) or any(not isinstance(p, list) or len(p) != 2 for p in pairs):
        raise ReportError("malformed decisions file: 'not_duplicates' must be a list of pairs")
    out = Decisions(str(data.get("report", "")), str(data.get("report_created", "")))
    out.files = {str(k): str(v) for k, v in files.items()}
    for a, b in pairs:
        out.mark_not_duplicate(str(a), str(b))
    return out


def save_decisions(decisions: Decisions, path: str | os.PathLike[str]) -> None:
    """Write atomically, so a crash mid-write never leaves a half file."""
    text = json.dumps(decisions.to_dict(), ensure_ascii=False, indent=1)
    atomic_write_bytes(path, encode_text(text + "\n"))
