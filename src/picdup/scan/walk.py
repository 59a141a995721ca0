"""Walking local folders into :class:`~picdup.model.FileRef` values.

The walk never opens a file for reading: it only lists and stats, so FIFOs and device files are
skipped before anyone can block on them. It is iterative (no recursion limit on deep trees), does
not follow symlinks unless asked, and remembers the folders it entered so a symlink loop cannot
make it go round forever.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from picdup.errors import InputError
from picdup.model import FileError, FileRef
from picdup.progress import CancelToken

__all__ = ["PLACEHOLDER_NAMES", "WalkResult", "resolve_roots", "walk"]

# Names that mark a folder, never content a user wants compared.
PLACEHOLDER_NAMES = frozenset(
    {".gitkeep", ".keep", ".gitignore", ".nomedia", "thumbs.db", "desktop.ini", ".ds_store"}
)


@dataclass
class WalkResult:
    files: list[FileRef] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def resolve_roots(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Make roots absolute and check each exists and can be listed.

    Raises :class:`InputError` naming the first bad root, before any work starts.
    """
    roots: list[str] = []
    for p in paths:
        text = os.fspath(p)
        if not text:
            raise InputError("an empty path was given as a root")
        root = os.path.abspath(text)
        if not os.path.lexists(root):
            raise InputError(f"no such file or folder: {text}")
        if os.path.isdir(root):
            if not os.access(root, os.R_OK | os.X_OK):
                raise InputError(f"cannot read folder (permission denied): {text}")
        elif not os.path.isfile(root):
            raise InputError(f"not a regular file or folder: {text}")
        if root not in roots:
            roots.append(root)
    if not roots:
        raise InputError("no folder to scan was given")
    return roots


def walk(
    roots: Sequence[str],
    *,
    follow_symlinks: bool = False,
    include_hidden: bool = False,
    cancel: CancelToken | None = None,
) -> WalkResult:
    """List every candidate file under ``roots`` (absolute paths from :func:`resolve_roots`).

    A file listed under two overlapping roots is kept once, under the first root.
    Unreadable folders are recorded as errors; special files and symlinks not followed are
    counted in ``skipped`` by reason. Whether a file is an image is decided later, by content.
    """
    result = WalkResult()
    seen_paths: set[str] = set()
    for root in roots:
        if os.path.isdir(root):
            _walk_root(root, result, seen_paths, follow_symlinks, include_hidden, cancel)
        else:
            _add_file(root, root, result, seen_paths, follow=True)
    return result


def _walk_root(
    root: str,
    result: WalkResult,
    seen_paths: set[str],
    follow_symlinks: bool,
    include_hidden: bool,
    cancel: CancelToken | None,
) -> None:
    visited: set[tuple[int, int]] = set()
    st = os.stat(root)
    visited.add((st.st_dev, st.st_ino))
    stack = [root]
    while stack:
        if cancel is not None:
            cancel.check()
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            result.errors.append(FileError(folder, f"cannot list folder: {exc.strerror or exc}"))
            continue
        subdirs: list[str] = []
        for entry in entries:
            name = entry.name
            if name.lower() in PLACEHOLDER_NAMES:
                continue
            if not include_hidden and name.startswith("."):
                continue
            try:
                is_link = entry.is_symlink()
                if is_link and not follow_symlinks:
                    result.skipped["symbolic link (not followed)"] += 1
                    continue
                if entry.is_dir(follow_symlinks=follow_symlinks):
                    st = entry.stat(follow_symlinks=True)
                    key = (st.st_dev, st.st_ino)
                    if key in visited:
                        result.skipped["folder already visited (symlink loop)"] += 1
                        continue
                    visited.add(key)
                    subdirs.append(entry.path)
                    continue
            except OSError as exc:
                result.errors.append(FileError(entry.path, f"cannot stat: {exc.strerror or exc}"))
                continue
            _add_file(entry.path, root, result, seen_paths, follow=follow_symlinks)
        # Reverse so the stack pops folders in name order: the walk order is deterministic.
        stack.extend(reversed(subdirs))


def _add_file(
    path: str, root: str, result: WalkResult, seen_paths: set[str], *, follow: bool
) -> None:
    try:
        st = os.stat(path, follow_symlinks=follow)
    except FileNotFoundError:
        result.errors.append(FileError(path, "file vanished during the scan (or a broken link)"))
        return
    except OSError as exc:
        result.errors.append(FileError(path, f"cannot stat: {exc.strerror or exc}"))
        return
    if not stat.S_ISREG(st.st_mode):
        result.skipped[_special_reason(st.st_mode)] += 1
        return
    if path in seen_paths:
        return
    seen_paths.add(path)
    result.files.append(FileRef(path, st.st_size, st.st_mtime_ns, root, st.st_dev, st.st_ino))


def _special_reason(mode: int) -> str:
    """Why a non-regular file is skipped (it is never opened, so it cannot block the scan)."""
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO), not opened"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device file, not opened"
    if stat.S_ISSOCK(mode):
        return "socket, not opened"
    return "special file, not opened"
