"""Every change apply and undo make to files goes through :class:`FileOps`.

One small interface, so that other storage (fsspec URLs) can be added by another class with
the same methods, and so that the safety rules live in one place: never overwrite (every
``dst`` must not exist), copy to a temporary name then rename, verify a cross-device copy
before removing the source.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat as stat_mod
import subprocess
import sys
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote

import xxhash

from picdup.errors import ActionError

__all__ = ["FileOps", "FileStat", "TrashEntry", "partial_name"]

_CHUNK = 1 << 20
# The ioctl that asks Linux filesystems (Btrfs, XFS, bcachefs, OCFS2) to share extents.
_FICLONE = 0x40049409
# a plain bool, not a platform check mypy narrows on: the other branch is real code elsewhere
_LINUX: bool = sys.platform.startswith("linux")


@dataclass(frozen=True, slots=True)
class FileStat:
    size: int
    mtime_ns: int
    mode: int
    device: int
    inode: int
    is_symlink: bool


@dataclass(frozen=True, slots=True)
class TrashEntry:
    """Where a trashed file went: the file inside ``Trash/files`` and its ``.trashinfo``."""

    file: str
    info: str


def partial_name(dst: str) -> str:
    """The temporary name a copy is written under before it is renamed to ``dst``."""
    folder, name = os.path.split(dst)
    return os.path.join(folder, f".{name}.picdup-partial")


class FileOps:
    """Local files. Methods raise :class:`OSError`; the executor turns them into step results."""

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def stat(self, path: str) -> FileStat:
        st = os.lstat(path)
        return FileStat(
            st.st_size,
            st.st_mtime_ns,
            st.st_mode,
            st.st_dev,
            st.st_ino,
            stat_mod.S_ISLNK(st.st_mode),
        )

    def open_read(self, path: str) -> BinaryIO:
        return open(path, "rb")

    def digest(self, path: str) -> str:
        """xxh3-128 of the bytes, the same digest the scan records."""
        h = xxhash.xxh3_128()
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        return str(h.hexdigest())

    def etag(self, path: str) -> str | None:
        """The store's version tag of ``path``; local files have none."""
        return None

    def same_file(self, a: str, b: str) -> bool:
        try:
            return os.path.samefile(a, b)
        except OSError:
            return False

    def makedirs(self, path: str) -> list[str]:
        """Create ``path`` and its missing parents; return the folders created, outermost first."""
        missing: list[str] = []
        cur = os.path.abspath(path)
        while not os.path.isdir(cur):
            if os.path.lexists(cur):
                raise OSError(errno.ENOTDIR, f"not a folder: {cur}")
            missing.append(cur)
            parent = os.path.dirname(cur)
            if parent == cur:
                break
            cur = parent
        created: list[str] = []
        for folder in reversed(missing):
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder)
                created.append(folder)
        return created

    def rmdir_if_empty(self, path: str) -> bool:
        try:
            os.rmdir(path)
        except OSError:
            return False
        return True

    def remove(self, path: str) -> None:
        os.unlink(path)

    def _no_clobber(self, dst: str) -> None:
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, f"will not overwrite {dst}")

    def copy(self, src: str, dst: str) -> None:
        """Copy bytes, mode and times to ``dst`` (which must not exist), via a temporary name,
        and check the copy's size and digest before it takes its name."""
        self._no_clobber(dst)
        tmp = partial_name(dst)
        try:
            with open(src, "rb") as fin, open(tmp, "xb") as fout:
                shutil.copyfileobj(fin, fout, _CHUNK)
                fout.flush()
                os.fsync(fout.fileno())
            shutil.copystat(src, tmp)
            if self.digest(src) != self.digest(tmp):
                raise OSError(errno.EIO, f"the copy of {src} does not match it")
            self._no_clobber(dst)
            os.rename(tmp, dst)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def move(self, src: str, dst: str) -> None:
        """Rename; across devices copy, verify, then remove the source."""
        self._no_clobber(dst)
        try:
            os.rename(src, dst)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            self.copy(src, dst)
            os.unlink(src)

    def replace_with_link(self, kind: str, keeper: str, path: str) -> None:
        """Make ``path`` a hard link, symbolic link or reflinked copy of ``keeper``.

        The link is made under a temporary name beside ``path`` and renamed over it, so
        ``path`` always holds either the old file or the finished link."""
        tmp = partial_name(path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # a leftover of an interrupted run
        try:
            if kind == "hardlink":
                os.link(keeper, tmp)
            elif kind == "symlink":
                os.symlink(os.path.abspath(keeper), tmp)
            elif kind == "reflink":
                self.reflink(keeper, tmp)
                shutil.copystat(path, tmp)
            else:
                raise ValueError(f"unknown link kind {kind!r}")
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def reflink(self, src: str, dst: str) -> None:
        """A copy-on-write clone (no bytes copied); :class:`ActionError` where unsupported."""
        self._no_clobber(dst)
        if _LINUX:
            import fcntl

            with open(src, "rb") as fin, open(dst, "xb") as fout:
                try:
                    fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
                    return
                except OSError as exc:
                    reason = exc.strerror or str(exc)
            os.unlink(dst)
            raise ActionError(
                f"reflink is not supported here ({reason}): the filesystem of {dst} cannot "
                "share data between files; use hardlink or symlink instead"
            )
        done = subprocess.run(
            ["cp", "-c" if sys.platform == "darwin" else "--reflink=always", src, dst],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            with contextlib.suppress(OSError):
                os.unlink(dst)
            raise ActionError(f"reflink is not supported here: {done.stderr.strip()}")

    def restore_copy(self, src: str, dst: str, mode: int, mtime_ns: int) -> None:
        """Put back an independent file at ``dst`` (a link now) with ``src``'s bytes and the
        recorded mode and time, replacing the link atomically."""
        tmp = partial_name(dst)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        try:
            with open(src, "rb") as fin, open(tmp, "xb") as fout:
                shutil.copyfileobj(fin, fout, _CHUNK)
                fout.flush()
                os.fsync(fout.fileno())
            os.chmod(tmp, stat_mod.S_IMODE(mode))
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
            os.replace(tmp, dst)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def set_mtime(self, path: str, mtime_ns: int) -> None:
        os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)

    # -- the system trash --------------------------------------------------------------

    def trash_dirs(self, path: str) -> list[str]:
        """Freedesktop trash folders a file at ``path`` may be sent to, most likely first."""
        data_home = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        dirs = [os.path.join(data_home, "Trash")]
        with contextlib.suppress(ImportError, AttributeError):
            from send2trash import plat_other

            dirs.append(str(plat_other.HOMETRASH))
        mount = os.path.realpath(os.path.dirname(os.path.abspath(path)))
        while not os.path.ismount(mount):
            mount = os.path.dirname(mount)
        uid = os.getuid() if hasattr(os, "getuid") else 0
        dirs += [os.path.join(mount, ".Trash", str(uid)), os.path.join(mount, f".Trash-{uid}")]
        return list(dict.fromkeys(dirs))

    def trash_entries(self, path: str, *, probe: bool = False) -> list[TrashEntry]:
        """Trash entries whose ``.trashinfo`` names ``path`` as the original location.

        ``probe`` looks only at the names send2trash gives (``a.jpg``, ``a 1.jpg``, ``a 2.jpg``
        … up to the first free one), which costs a few ``stat`` calls instead of a listing of
        the whole trash; the new entry of a file just trashed is always among them."""
        target = os.path.abspath(path)
        name = os.path.basename(target)
        stem, ext = os.path.splitext(name)
        found: list[TrashEntry] = []
        for trash in self.trash_dirs(path):
            info_dir = os.path.join(trash, "info")
            if probe:
                names = []
                n = 0
                while True:
                    candidate = name if n == 0 else f"{stem} {n}{ext}"
                    info = os.path.join(info_dir, candidate + ".trashinfo")
                    if not os.path.lexists(info) and not os.path.lexists(
                        os.path.join(trash, "files", candidate)
                    ):
                        break
                    names.append(candidate + ".trashinfo")
                    n += 1
            else:
                try:
                    names = os.listdir(info_dir)
                except OSError:
                    continue
            for info_name in names:
                if not info_name.endswith(".trashinfo") or not info_name.startswith(stem):
                    continue
                info = os.path.join(info_dir, info_name)
                original = _trashinfo_path(info, trash)
                if original is not None and os.path.abspath(original) == target:
                    found.append(
                        TrashEntry(
                            os.path.join(trash, "files", info_name[: -len(".trashinfo")]), info
                        )
                    )
        return sorted(found, key=lambda e: e.info)

    def trash(self, path: str) -> TrashEntry | None:
        """Send ``path`` to the system trash; return its entry when it can be found again
        (freedesktop trash), ``None`` where the platform's trash cannot be looked into."""
        try:
            from send2trash import send2trash
        except ImportError as exc:  # a core dependency; only a broken install gets here
            raise ActionError("the trash needs send2trash: pip install send2trash") from exc
        before = {e.info for e in self.trash_entries(path, probe=True)}
        send2trash(path)
        if sys.platform in ("darwin", "win32"):
            return None
        new = [e for e in self.trash_entries(path, probe=True) if e.info not in before]
        if not new:  # another trash implementation (gio) names entries its own way
            new = [e for e in self.trash_entries(path) if e.info not in before]
        return new[-1] if new else None

    def untrash(self, entry: TrashEntry, path: str) -> None:
        """Move a trashed file back to ``path`` (never over an existing file)."""
        self.move(entry.file, path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.info)


def _trashinfo_path(info: str, trash: str) -> str | None:
    try:
        with open(info, encoding="utf-8", errors="surrogateescape") as fh:
            for line in fh:
                if line.startswith("Path="):
                    value = unquote(line[5:].rstrip("\n"), errors="surrogateescape")
                    if os.path.isabs(value):
                        return value
                    # relative paths are relative to the top of the trash's volume
                    top = os.path.dirname(trash)
                    if os.path.basename(top) == ".Trash":
                        top = os.path.dirname(top)
                    return os.path.join(top, value)
    except OSError:
        return None
    return None
