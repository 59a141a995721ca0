"""File operations on fsspec URLs (S3, GCS, …) behind the same interface as local files.

:class:`UrlFileOps` is a :class:`~picdup.act.fileops.FileOps` that sends every path that is an
fsspec URL to its object store and every other path to the local implementation, so a plan
may mix both. The executor's safety rules hold unchanged: each object is re-checked (size and
modification time, from a fresh ``HEAD``; an overwritten object always gets a new time) right
before it is touched, nothing is ever overwritten, and a move is a copy, verified (size, and
the content digest when it crosses stores), then the removal of the source.

Object stores have no trash and no links: ``trash``, ``hardlink``, ``symlink`` and ``reflink``
on a URL stop the run with an :class:`~picdup.errors.ActionError` naming what works instead
(``quarantine --to s3://bucket/prefix`` or ``delete``). They have no folders either: making and
removing folders are no-ops. Undo moves objects back to their keys; the store gives them a new
modification time (it cannot be set), the bytes are the same.
"""

from __future__ import annotations

import errno
from typing import Any, BinaryIO

import xxhash

from picdup.act.fileops import FileOps, FileStat, TrashEntry
from picdup.errors import ActionError
from picdup.scan.remote import is_url, stat_url, url_filesystem

__all__ = ["UrlFileOps", "default_ops"]

_CHUNK = 1 << 20
_REGULAR = 0o100644


def default_ops() -> FileOps:
    """The file operations apply and undo use unless told otherwise: local files and URLs."""
    return UrlFileOps()


def _both(src: str, dst: str) -> tuple[Any, str, Any, str]:
    sfs, spath = url_filesystem(src) if is_url(src) else url_filesystem("file://" + src)
    dfs, dpath = url_filesystem(dst) if is_url(dst) else url_filesystem("file://" + dst)
    return sfs, spath, dfs, dpath


class UrlFileOps(FileOps):
    """Local paths as :class:`FileOps` does; fsspec URLs through their object store."""

    def exists(self, path: str) -> bool:
        if not is_url(path):
            return super().exists(path)
        return stat_url(path) is not None

    def stat(self, path: str) -> FileStat:
        if not is_url(path):
            return super().stat(path)
        found = stat_url(path)
        if found is None:
            raise FileNotFoundError(errno.ENOENT, f"no such object: {path}")
        return FileStat(found.size, found.mtime_ns, _REGULAR, 0, 0, False)

    def open_read(self, path: str) -> BinaryIO:
        if not is_url(path):
            return super().open_read(path)
        fs, p = url_filesystem(path)
        fh: BinaryIO = fs.open(p, "rb")
        return fh

    def digest(self, path: str) -> str:
        if not is_url(path):
            return super().digest(path)
        h = xxhash.xxh3_128()
        with self.open_read(path) as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        return str(h.hexdigest())

    def etag(self, path: str) -> str | None:
        if not is_url(path):
            return super().etag(path)
        found = stat_url(path)
        return None if found is None else found.etag

    def same_file(self, a: str, b: str) -> bool:
        if is_url(a) or is_url(b):
            return a == b
        return super().same_file(a, b)

    def makedirs(self, path: str) -> list[str]:
        if is_url(path):
            return []  # keys need no folders
        return super().makedirs(path)

    def rmdir_if_empty(self, path: str) -> bool:
        if is_url(path):
            return False
        return super().rmdir_if_empty(path)

    def remove(self, path: str) -> None:
        if not is_url(path):
            super().remove(path)
            return
        fs, p = url_filesystem(path)
        fs.rm_file(p)
        fs.invalidate_cache(p)

    def move(self, src: str, dst: str) -> None:
        """Copy to ``dst`` (which must not exist), verify, then remove ``src``."""
        if not is_url(src) and not is_url(dst):
            super().move(src, dst)
            return
        if self.exists(dst):
            raise FileExistsError(errno.EEXIST, f"will not overwrite {dst}")
        before = self.stat(src)
        sfs, spath, dfs, dpath = _both(src, dst)
        same_store = type(sfs) is type(dfs) and sfs.storage_options == dfs.storage_options
        if same_store:
            sfs.copy(spath, dpath)  # a server-side copy: no bytes pass through here
        else:
            with sfs.open(spath, "rb") as fin, dfs.open(dpath, "wb") as fout:
                while chunk := fin.read(_CHUNK):
                    fout.write(chunk)
        dfs.invalidate_cache(dpath)
        after = self.stat(dst)
        if after.size != before.size or (not same_store and self.digest(src) != self.digest(dst)):
            self.remove(dst)
            raise OSError(errno.EIO, f"the copy of {src} at {dst} does not match it")
        self.remove(src)

    def copy(self, src: str, dst: str) -> None:
        if not is_url(src) and not is_url(dst):
            super().copy(src, dst)
            return
        if self.exists(dst):
            raise FileExistsError(errno.EEXIST, f"will not overwrite {dst}")
        sfs, spath, dfs, dpath = _both(src, dst)
        with sfs.open(spath, "rb") as fin, dfs.open(dpath, "wb") as fout:
            while chunk := fin.read(_CHUNK):
                fout.write(chunk)
        if self.digest(src) != self.digest(dst):
            self.remove(dst)
            raise OSError(errno.EIO, f"the copy of {src} at {dst} does not match it")

    def replace_with_link(self, kind: str, keeper: str, path: str) -> None:
        if is_url(keeper) or is_url(path):
            raise ActionError(
                f"object storage has no {kind}s: use --action quarantine --to URL or delete"
            )
        super().replace_with_link(kind, keeper, path)

    def reflink(self, src: str, dst: str) -> None:
        if is_url(src) or is_url(dst):
            raise ActionError("object storage has no reflinks: use quarantine or delete")
        super().reflink(src, dst)

    def restore_copy(self, src: str, dst: str, mode: int, mtime_ns: int) -> None:
        if is_url(src) or is_url(dst):
            raise ActionError("object storage has no links to restore")
        super().restore_copy(src, dst, mode, mtime_ns)

    def set_mtime(self, path: str, mtime_ns: int) -> None:
        if is_url(path):
            return  # the store sets an object's time itself
        super().set_mtime(path, mtime_ns)

    def trash_entries(self, path: str, *, probe: bool = False) -> list[TrashEntry]:
        if is_url(path):
            return []
        return super().trash_entries(path, probe=probe)

    def trash(self, path: str) -> TrashEntry | None:
        if is_url(path):
            raise ActionError(
                "object storage has no trash: use --action quarantine --to s3://bucket/prefix "
                "(undo brings files back) or --action delete"
            )
        return super().trash(path)
