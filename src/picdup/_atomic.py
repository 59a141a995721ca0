"""Atomic file writes: a temporary file in the same folder, fsynced, then renamed over."""

from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["atomic_write_bytes", "encode_text"]


def encode_text(text: str) -> bytes:
    """UTF-8, with any lone surrogate (a file name that was not valid UTF-8) written as a
    ``\\udcXX`` escape, which a JSON reader turns back into the same Python string."""
    return text.encode("utf-8", "backslashreplace")


def _target_mode(target: str) -> int:
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".picdup-", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file 0600; a report is for sharing, so give it the mode any new
        # file would get under the user's umask (or keep the mode of the file it replaces).
        os.fchmod(fd, _target_mode(target))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
