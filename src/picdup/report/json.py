"""The report file, format version 1 (DESIGN.md, "The report"): writer and reader."""

from __future__ import annotations

import json
import os
from typing import Any

from picdup._atomic import atomic_write_bytes, encode_text
from picdup.errors import InputError, ReportError
from picdup.model import Asset, FileError, Group, Member, Report, Stats

__all__ = [
    "FORMAT",
    "OUTPUT_SUFFIXES",
    "VERSION",
    "check_output_path",
    "load_report",
    "report_from_dict",
    "report_to_dict",
    "write_json",
    "write_report",
]

FORMAT = "picdup-report"
VERSION = 1
OUTPUT_SUFFIXES = (".json", ".csv", ".html")


def report_to_dict(report: Report) -> dict[str, Any]:
    s = report.stats
    out = {
        "format": FORMAT,
        "version": VERSION,
        "tool": {"name": "picdup", "version": report.tool_version},
        "created": report.created,
        "command": list(report.command),
        "roots": list(report.roots),
        "options": report.options,
        "stats": {
            "files": s.files,
            "images": s.images,
            "skipped": s.skipped,
            "groups": s.groups,
            "duplicates": s.duplicates,
            "reclaimable_bytes": s.reclaimable_bytes,
            "seconds": s.seconds,
        },
        "skipped": report.skipped,
        "errors": [{"path": e.path, "error": e.error} for e in report.errors],
        "groups": [
            {
                "id": g.id,
                "class": g.cls,
                "root": g.root,
                "keep": g.keep,
                "why": g.why,
                "weakest": g.weakest,
                "members": [m.to_dict() for m in g.members],
            }
            for g in report.groups
        ],
    }
    if report.assets:  # only with --pairs; absent otherwise, so older readers see no change
        out["assets"] = [
            {"id": a.id, "kind": a.kind, "primary": a.primary, "files": list(a.files)}
            for a in report.assets
        ]
    return out


def _member_from(d: dict[str, Any]) -> Member:
    return Member(
        path=str(d["path"]),
        size=int(d["size"]),
        mtime=str(d.get("mtime", "")),
        width=int(d.get("width", 0)),
        height=int(d.get("height", 0)),
        format=str(d.get("format", "")),
        cls=str(d["class"]),
        distance=int(d.get("distance", 0)),
        score=float(d.get("score", 1.0)),
        mtime_ns=int(d.get("mtime_ns", 0)),
        digest=str(d.get("digest", "")),
        archive=bool(d.get("archive", False)),
        etag=None if d.get("etag") is None else str(d["etag"]),
    )


def report_from_dict(data: Any) -> Report:
    """Build a :class:`Report` from parsed JSON; :class:`ReportError` when it is not one."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReportError('not a picdup report (no "format": "picdup-report")')
    if data.get("version") != VERSION:
        raise ReportError(
            f"report format version {data.get('version')!r} is not supported "
            f"(this picdup reads version {VERSION})"
        )
    try:
        stats = Stats(**{k: v for k, v in data.get("stats", {}).items() if k in Stats.__slots__})
        groups = tuple(
            Group(
                id=int(g["id"]),
                cls=str(g["class"]),
                root=g.get("root"),
                keep=str(g["keep"]),
                why=str(g.get("why", "")),
                members=tuple(_member_from(m) for m in g["members"]),
                weakest=g.get("weakest"),
            )
            for g in data.get("groups", [])
        )
        return Report(
            roots=tuple(data.get("roots", [])),
            options=dict(data.get("options", {})),
            stats=stats,
            errors=tuple(FileError(e["path"], e["error"]) for e in data.get("errors", [])),
            groups=groups,
            command=tuple(data.get("command", [])),
            created=str(data.get("created", "")),
            tool_version=str(data.get("tool", {}).get("version", "")),
            skipped=dict(data.get("skipped", {})),
            assets=tuple(
                Asset(int(a["id"]), str(a["kind"]), str(a["primary"]), tuple(a["files"]))
                for a in data.get("assets", [])
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"malformed report: {exc!r}") from exc


def load_report(path: str | os.PathLike[str]) -> Report:
    """Read a report written by :func:`write_report` (JSON)."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError as exc:
        raise ReportError(f"no such report: {os.fspath(path)}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"cannot read report {os.fspath(path)}: {exc}") from exc
    return report_from_dict(data)


def write_json(report: Report, path: str | os.PathLike[str]) -> None:
    text = json.dumps(report_to_dict(report), ensure_ascii=False, indent=1)
    atomic_write_bytes(path, encode_text(text + "\n"))


def check_output_path(path: str | os.PathLike[str]) -> str:
    """Fail before any work when the report cannot be written there. Returns the suffix."""
    text = os.fspath(path)
    suffix = os.path.splitext(text)[1].lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(
            f"cannot tell the report format from {text!r}: use one of {', '.join(OUTPUT_SUFFIXES)}"
        )
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise InputError(f"the report's folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise InputError(f"cannot write the report into {folder} (permission denied)")
    if os.path.isdir(text):
        raise InputError(f"the report path is a folder: {text}")
    return suffix


def write_report(report: Report, path: str | os.PathLike[str]) -> None:
    """Write ``report`` atomically, as JSON, CSV or self-contained HTML by the file's suffix."""
    suffix = check_output_path(path)
    if suffix == ".html":
        from picdup.report.html import write_html

        write_html(report, path)
    elif suffix == ".csv":
        from picdup.report.csv import write_csv

        write_csv(report, path)
    else:
        write_json(report, path)
