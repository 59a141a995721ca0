"""picdup: find exact, pixel-identical and near-duplicate images, group them, act on them safely.

The public API::

    import picdup
    report = picdup.find_duplicates(["~/Pictures"], mode="near")
    picdup.write_report(report, "report.json")
    again = picdup.load_report("report.json")
    p = picdup.plan("report.json", action="trash", keep="resolution,oldest")
    print(p.describe())                 # the dry run
    result = picdup.apply(p)            # journaled; picdup.undo(result.journal) puts it back
"""

from picdup._version import __version__
from picdup.act import ApplyResult, Plan, UndoResult, apply, plan, undo
from picdup.cache import CacheInfo, cache_info, clear_cache, default_cache_path
from picdup.errors import (
    ActionError,
    CacheError,
    Cancelled,
    ConfigError,
    DecodeError,
    InputError,
    PicdupError,
    ReportError,
)
from picdup.model import Asset, FileError, Group, ImageHash, MatchClass, Member, Report, Stats
from picdup.options import Bounds, ScanOptions
from picdup.pipeline import find_duplicates, find_in_archive
from picdup.progress import CancelToken, Progress
from picdup.report import load_report, write_report

__all__ = [
    "ActionError",
    "ApplyResult",
    "Asset",
    "Bounds",
    "CacheError",
    "CacheInfo",
    "CancelToken",
    "Cancelled",
    "ConfigError",
    "DecodeError",
    "FileError",
    "Group",
    "ImageHash",
    "InputError",
    "MatchClass",
    "Member",
    "PicdupError",
    "Plan",
    "Progress",
    "Report",
    "ReportError",
    "ScanOptions",
    "Stats",
    "UndoResult",
    "__version__",
    "apply",
    "cache_info",
    "clear_cache",
    "default_cache_path",
    "find_duplicates",
    "find_in_archive",
    "load_report",
    "plan",
    "undo",
    "write_report",
]
