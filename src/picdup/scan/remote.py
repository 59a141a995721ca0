"""Walking and reading fsspec URLs: ``s3://``, ``gs://``, ``file://`` and zip archives.

A root given as a URL is listed through fsspec (one recursive listing, never a read), and every
file becomes a :class:`~picdup.model.FileRef` whose ``path`` is the file's full URL, whose
``mtime_ns`` comes from the listing (S3 ``LastModified``, GCS ``updated``, a zip member's date,
a local file's stat) and whose ``etag`` is the store's version tag where it has one. Reports hold
these URLs, so ``apply`` and a later scan find the same objects again.

Zip archives use fsspec's chained form: ``zip://::photos.zip`` is the whole archive,
``zip://2019/a.jpg::/abs/photos.zip`` one member (and ``zip://::s3://bucket/photos.zip`` an
archive in a bucket). Credentials are each backend's usual ones (``AWS_*`` variables,
``~/.aws``, ``GOOGLE_APPLICATION_CREDENTIALS`` …), as are endpoints (``AWS_ENDPOINT_URL``).

fsspec and the backends are the optional ``picdup[dask]`` extra; a URL root without them fails
before any work with an install hint.
"""

from __future__ import annotations

import calendar
import os
import re
import stat as stat_mod
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from picdup.errors import ConfigError, InputError
from picdup.model import FileError, FileRef
from picdup.progress import CancelToken
from picdup.scan.sniff import HEAD_BYTES, sniff
from picdup.scan.walk import PLACEHOLDER_NAMES, WalkResult, resolve_roots, walk

__all__ = [
    "INSTALL_HINT",
    "RemoteStat",
    "is_url",
    "read_url",
    "read_url_bytes",
    "resolve_all_roots",
    "stat_url",
    "url_filesystem",
    "walk_all",
    "walk_remote",
]

INSTALL_HINT = "pip install 'picdup[dask]'"

# A protocol prefix: "s3://…", "gs://…", "file://…", or a chained "zip::file://…". A Windows drive
# ("C:\\") has one letter and no "//", so it never matches.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+(://|::)")

# Packages each protocol needs beyond fsspec itself, for the install hint.
_BACKENDS = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs"}


def is_url(text: str) -> bool:
    """True when ``text`` is an fsspec URL rather than a local path."""
    return bool(_URL.match(text))


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError as exc:
        raise ConfigError(f"reading URLs needs fsspec: {INSTALL_HINT}") from exc
    return fsspec


def _backend_errors() -> tuple[type[BaseException], ...]:
    """The errors a backend raises for bad credentials or endpoints besides OSError (botocore's
    and google-auth's are not OSErrors); turned into one-line input errors."""
    errors: list[type[BaseException]] = [OSError, ValueError]
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        errors += [BotoCoreError, ClientError]
    except ImportError:
        pass
    try:
        from google.auth.exceptions import GoogleAuthError

        errors.append(GoogleAuthError)
    except ImportError:
        pass
    return tuple(errors)


def _protocol(url: str) -> str:
    return re.split(r"://|::", url, maxsplit=1)[0].lower()


def _normalise(url: str) -> str:
    """Make the local archive of a chained URL absolute (``zip://::a.zip`` → ``…::/abs/a.zip``),
    so a report names the same file whatever the working folder was."""
    head, sep, target = url.partition("::")
    if not sep:
        return url.rstrip("/") if not url.endswith("://") else url
    if target and not is_url(target):
        target = os.path.abspath(target)
    return f"{head}{sep}{target}"


def url_filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem and in-filesystem path of ``url``.

    Raises :class:`ConfigError` with an install hint when the backend is missing.
    """
    fsspec = _fsspec()
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        package = _BACKENDS.get(_protocol(url), "the fsspec backend for it")
        raise ConfigError(
            f"{_protocol(url)}:// URLs need {package}: {INSTALL_HINT} ({exc})"
        ) from exc
    except ValueError as exc:
        raise InputError(f"not a usable URL: {url} ({exc})") from exc
    return fs, path


def _member_url(root: str, fs: Any, path: str) -> str:
    """The full URL of ``path`` found by listing ``root``'s filesystem."""
    head, sep, target = root.partition("::")
    if sep:
        return f"{_protocol(head)}://{path}{sep}{target}"
    url: str = fs.unstrip_protocol(path)
    return url


def resolve_all_roots(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Local roots made absolute and checked (:func:`~picdup.scan.walk.resolve_roots`), URL roots
    normalised and checked to exist, in the order given.

    Errors: :class:`InputError` for a missing root or one that cannot be listed (bad
    credentials included), :class:`ConfigError` when a URL's backend is not installed; both
    before any file is read.
    """
    texts = [os.fspath(p) for p in paths]
    out: list[str] = []
    for text in texts:
        if is_url(text):
            root = _normalise(text)
            _check_remote_root(root)
        else:
            root = resolve_roots([text])[0]
        if root not in out:
            out.append(root)
    if not out:
        raise InputError("no folder to scan was given")
    return out


def _check_remote_root(root: str) -> None:
    fs, path = url_filesystem(root)
    try:
        found = fs.exists(path) if path else True
        if not path:
            fs.ls("")  # an archive's root: opening it checks that it is an archive at all
    except _backend_errors() as exc:
        raise InputError(f"cannot list {root}: {exc}") from exc
    if not found:
        raise InputError(f"no such file or folder: {root}")


def walk_all(
    roots: Sequence[str],
    *,
    follow_symlinks: bool = False,
    include_hidden: bool = False,
    cancel: CancelToken | None = None,
) -> WalkResult:
    """Walk local roots with :func:`~picdup.scan.walk.walk` and URL roots with
    :func:`walk_remote`; files come out in the order of ``roots``."""
    result = WalkResult()
    for root in roots:
        if is_url(root):
            part = walk_remote([root], include_hidden=include_hidden, cancel=cancel)
        else:
            part = walk(
                [root],
                follow_symlinks=follow_symlinks,
                include_hidden=include_hidden,
                cancel=cancel,
            )
        result.files.extend(part.files)
        result.errors.extend(part.errors)
        result.skipped.update(part.skipped)
    seen: set[str] = set()
    unique: list[FileRef] = []
    for ref in result.files:  # overlapping roots: keep a file once, under the first root
        if ref.path not in seen:
            seen.add(ref.path)
            unique.append(ref)
    result.files = unique
    return result


def walk_remote(
    roots: Sequence[str], *, include_hidden: bool = False, cancel: CancelToken | None = None
) -> WalkResult:
    """List every file under URL ``roots`` (already normalised by :func:`resolve_all_roots`).

    One recursive listing per root; nothing is read. Files are sorted by URL within each root so
    the order is deterministic. A root that cannot be listed is recorded as an error.
    """
    result = WalkResult()
    for root in roots:
        if cancel is not None:
            cancel.check()
        fs, base = url_filesystem(root)
        try:
            # fsspec caches listings per process; a long-lived process must see today's files.
            fs.invalidate_cache()
            listing: dict[str, dict[str, Any]] = fs.find(base, detail=True)
        except _backend_errors() as exc:
            result.errors.append(FileError(root, f"cannot list: {exc}"))
            continue
        prefix = base.rstrip("/")
        for path in sorted(listing):
            info = listing[path]
            if info.get("type", "file") != "file":
                continue
            rel = path[len(prefix) :].lstrip("/") if path.startswith(prefix) else path
            parts = [p for p in rel.split("/") if p]
            name = parts[-1] if parts else path.rsplit("/", 1)[-1]
            if name.lower() in PLACEHOLDER_NAMES:
                continue
            if not include_hidden and any(p.startswith(".") for p in parts):
                continue
            url = _member_url(root, fs, path)
            try:
                size, mtime_ns, etag = _facts(fs, path, info)
            except (OSError, ValueError) as exc:
                result.errors.append(FileError(url, f"cannot stat: {exc}"))
                continue
            result.files.append(FileRef(url, size, mtime_ns, root, etag=etag))
    return result


def _is_local(fs: Any) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def _facts(fs: Any, path: str, info: dict[str, Any]) -> tuple[int, int, str | None]:
    """Size, modification time in ns, and version tag, from a listing entry."""
    if _is_local(fs):
        # The listing's float mtime loses nanoseconds; a local file's stat is exact and cheap.
        st = os.stat(path)
        if not stat_mod.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        return st.st_size, st.st_mtime_ns, None
    size = int(info.get("size") or info.get("Size") or 0)
    mtime_ns = _mtime_ns(info)
    if "CRC" not in info:
        # Object stores list times in milliseconds but answer a HEAD in whole seconds; whole
        # seconds make the listing and the re-check before an action agree (the ETag tells
        # content apart).
        mtime_ns -= mtime_ns % 1_000_000_000
    return size, mtime_ns, _etag(info)


def _mtime_ns(info: dict[str, Any]) -> int:
    for key in ("LastModified", "mtime", "updated", "last_modified", "modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return _datetime_ns(value)
        if isinstance(value, (int, float)):
            return round(value * 1_000_000_000)
        if isinstance(value, str):
            return _datetime_ns(datetime.fromisoformat(value.replace("Z", "+00:00")))
    date_time = info.get("date_time")  # a zip member: local time without zone, 2 s resolution
    if isinstance(date_time, tuple) and len(date_time) == 6:
        return calendar.timegm(date_time) * 1_000_000_000
    return 0


def _datetime_ns(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    # Integer arithmetic: a float timestamp would round away microseconds on some dates.
    seconds = calendar.timegm(value.utctimetuple())
    return seconds * 1_000_000_000 + value.microsecond * 1000


def _etag(info: dict[str, Any]) -> str | None:
    for key in ("ETag", "etag", "md5Hash", "generation"):
        value = info.get(key)
        if value:
            return str(value).strip('"')
    crc = info.get("CRC")
    if isinstance(crc, int):
        return format(crc, "08x")
    return None


class RemoteStat:
    """What a fresh look at one URL says: size, mtime and version tag (``None`` when gone)."""

    __slots__ = ("etag", "mtime_ns", "size")

    def __init__(self, size: int, mtime_ns: int, etag: str | None) -> None:
        self.size = size
        self.mtime_ns = mtime_ns
        self.etag = etag


def stat_url(url: str) -> RemoteStat | None:
    """A fresh stat of ``url``, or ``None`` when nothing is there (the re-check before acting)."""
    fs, path = url_filesystem(url)
    try:
        fs.invalidate_cache(path)
        info = fs.info(path)
    except FileNotFoundError:
        return None
    if info.get("type", "file") != "file":
        return None
    size, mtime_ns, etag = _facts(fs, path, info)
    return RemoteStat(size, mtime_ns, etag)


def read_url(url: str) -> tuple[bytes, str | None]:
    """The object's bytes, or only its head and the reason it is not an image (as
    :func:`picdup.fingerprint.compute._read` does for local files: a video is never read whole).

    Object stores answer the head with a ranged read of one block, which for most images is the
    whole object: one request per image.
    """
    fs, path = url_filesystem(url)
    try:
        with fs.open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
            kind, reason = sniff(head)
            if kind is None:
                return head, reason
            rest: bytes = fh.read()
            return head + rest, None
    except FileNotFoundError:
        raise
    except _backend_errors() as exc:
        # One bad object is recorded like an unreadable local file, never fatal.
        raise OSError(0, str(exc)) from exc


def read_url_bytes(url: str) -> bytes:
    """All of the object's bytes."""
    fs, path = url_filesystem(url)
    try:
        data: bytes = fs.cat_file(path)
    except FileNotFoundError:
        raise
    except _backend_errors() as exc:
        raise OSError(0, str(exc)) from exc
    return data
