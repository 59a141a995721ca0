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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from picdup._version import __version__

if TYPE_CHECKING:
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

# Where each public name lives. The names are imported on first use (PEP 562), not here: a
# worker process that only fingerprints files imports ``picdup.fingerprint`` without the
# pipeline, the actions, the cache and the reports (about 0.3 s per start of the workers).
_HOME = {
    "ApplyResult": "picdup.act",
    "Plan": "picdup.act",
    "UndoResult": "picdup.act",
    "apply": "picdup.act",
    "plan": "picdup.act",
    "undo": "picdup.act",
    "CacheInfo": "picdup.cache",
    "cache_info": "picdup.cache",
    "clear_cache": "picdup.cache",
    "default_cache_path": "picdup.cache",
    "ActionError": "picdup.errors",
    "CacheError": "picdup.errors",
    "Cancelled": "picdup.errors",
    "ConfigError": "picdup.errors",
    "DecodeError": "picdup.errors",
    "InputError": "picdup.errors",
    "PicdupError": "picdup.errors",
    "ReportError": "picdup.errors",
    "Asset": "picdup.model",
    "FileError": "picdup.model",
    "Group": "picdup.model",
    "ImageHash": "picdup.model",
    "MatchClass": "picdup.model",
    "Member": "picdup.model",
    "Report": "picdup.model",
    "Stats": "picdup.model",
    "Bounds": "picdup.options",
    "ScanOptions": "picdup.options",
    "find_duplicates": "picdup.pipeline",
    "find_in_archive": "picdup.pipeline",
    "CancelToken": "picdup.progress",
    "Progress": "picdup.progress",
    "load_report": "picdup.report",
    "write_report": "picdup.report",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'picdup' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


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
