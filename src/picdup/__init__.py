"""picdup: find exact, pixel-identical and near-duplicate images, group them, act on them safely.

The public API::

    import picdup
    report = picdup.find_duplicates(["~/Pictures"], mode="near")
    picdup.write_report(report, "report.json")
    again = picdup.load_report("report.json")
"""

from picdup._version import __version__
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
from picdup.model import FileError, Group, ImageHash, MatchClass, Member, Report, Stats
from picdup.options import Bounds, ScanOptions
from picdup.pipeline import find_duplicates
from picdup.progress import CancelToken, Progress
from picdup.report import load_report, write_report

__all__ = [
    "ActionError",
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
    "Progress",
    "Report",
    "ReportError",
    "ScanOptions",
    "Stats",
    "__version__",
    "cache_info",
    "clear_cache",
    "default_cache_path",
    "find_duplicates",
    "load_report",
    "write_report",
]
