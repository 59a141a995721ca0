"""The CSV view of a report: one row per group member."""

from __future__ import annotations

import csv
import io
import os

from picdup._atomic import atomic_write_bytes, encode_text
from picdup.model import Report

__all__ = ["CSV_COLUMNS", "write_csv"]

CSV_COLUMNS = (
    "group", "group_class", "root", "keep", "why", "path", "class", "size", "mtime",
    "width", "height", "format", "distance", "score",
)  # fmt: skip


def write_csv(report: Report, path: str | os.PathLike[str]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in report.groups:
        for m in g.members:
            writer.writerow(
                (g.id, g.cls, g.root or "", g.keep, g.why, m.path, m.cls, m.size, m.mtime,
                 m.width, m.height, m.format, m.distance, m.score)
            )  # fmt: skip
    atomic_write_bytes(path, encode_text(buf.getvalue()))
