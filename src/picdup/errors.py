"""The one exception tree of picdup.

::

    PicdupError                 anything picdup raises on purpose
    ├── ConfigError             a bad option or combination of options; raised before any work
    ├── InputError              a root, report or output path that cannot be used
    ├── DecodeError             one file is not a readable image (recorded per file, never fatal)
    ├── CacheError              the fingerprint cache cannot be opened or written
    ├── ReportError             a report file that cannot be read or has the wrong format/version
    ├── ActionError             acting on a file failed, or a plan cannot be applied safely
    └── Cancelled               the caller's cancel token was set (Ctrl-C)

The CLI maps every one of them to a one-line message and an exit status; nothing else escapes
as a traceback except genuine bugs.
"""

from __future__ import annotations

__all__ = [
    "ActionError",
    "CacheError",
    "Cancelled",
    "ConfigError",
    "DecodeError",
    "InputError",
    "PicdupError",
    "ReportError",
]


class PicdupError(Exception):
    """Base of every error picdup raises on purpose."""


class ConfigError(PicdupError):
    """An option or combination of options is invalid. Raised before any work starts."""


class InputError(PicdupError):
    """A path given by the user (root, report, output) cannot be used."""


class DecodeError(PicdupError):
    """A single file cannot be decoded as an image. Recorded in the report, never fatal."""


class CacheError(PicdupError):
    """The fingerprint cache cannot be opened, read or written."""


class ReportError(PicdupError):
    """A report file cannot be read, or is not a picdup report of a supported version."""


class ActionError(PicdupError):
    """Acting on a file failed, or a plan cannot be applied safely."""


class Cancelled(PicdupError):
    """The operation was cancelled through its cancel token."""
