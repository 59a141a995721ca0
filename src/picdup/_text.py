"""How numbers and names are shown to people (the CLI, plans), in one place."""

from __future__ import annotations

import os

__all__ = ["display_path", "format_bytes"]


def format_bytes(n: int) -> str:
    """``1234567`` → ``"1.2 MB"`` (decimal units, as file managers show them)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{n} B"


def display_path(path: str) -> str:
    """A path printable on any terminal: bytes that are not UTF-8 shown as ``\\xNN``.

    Python keeps such bytes as lone surrogates; printed as they are, a terminal shows a
    replacement character and two different names can look the same.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")
