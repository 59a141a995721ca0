"""The HTML view of a report: one self-contained, read-only file with embedded thumbnails.

It shows the same group view as the review page (the same page, CSS and script, read from
``picdup/review/static``), with the data and every thumbnail embedded, so the file can be opened
or sent without running anything. File names reach the page only as JSON text that the script
puts into the page with ``textContent``; the JSON is escaped so no name can close the script.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from importlib import resources
from typing import Any

from picdup._atomic import atomic_write_bytes
from picdup.cache.paths import default_cache_dir
from picdup.errors import DecodeError
from picdup.model import Group, Report
from picdup.report.thumbs import cached_thumbnail

__all__ = [
    "HTML_THUMB_PX",
    "display_path",
    "group_view",
    "page_asset",
    "render_html",
    "report_summary",
    "write_html",
]

HTML_THUMB_PX = 160


def page_asset(name: str) -> str:
    """The text of one file of the shared page (``page.html``, ``page.css``, ``page.js``)."""
    return resources.files("picdup.review").joinpath("static").joinpath(name).read_text("utf-8")


def display_path(path: str) -> str:
    """A file name as people read it: bytes that are not UTF-8 shown as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _split(path: str) -> tuple[str, str]:
    shown = display_path(path)
    folder, name = os.path.split(shown)
    return name or shown, folder


def group_view(
    group: Group,
    index: int,
    thumb: Callable[[int], str],
    full: Callable[[int], str] | None = None,
) -> dict[str, Any]:
    """What the page shows of one group; ``thumb(k)``/``full(k)`` give member k's image URLs."""
    keep = next((k for k, m in enumerate(group.members) if m.path == group.keep), 0)
    members = []
    for k, m in enumerate(group.members):
        name, folder = _split(m.path)
        view: dict[str, Any] = {
            "path": display_path(m.path),
            "name": name,
            "dir": folder,
            "size": m.size,
            "width": m.width,
            "height": m.height,
            "format": m.format,
            "mtime": m.mtime,
            "class": m.cls,
            "score": m.score,
            "distance": m.distance,
            "digest": m.digest,
            "thumb": thumb(k),
        }
        if full is not None:
            view["full"] = full(k)
        members.append(view)
    return {
        "index": index,
        "id": group.id,
        "class": group.cls,
        "root": display_path(group.root) if group.root else "",
        "keep": keep,
        "why": group.why,
        "reclaimable": group.reclaimable_bytes,
        "members": members,
    }


def report_summary(report: Report, name: str) -> dict[str, Any]:
    s = report.stats
    return {
        "name": name,
        "created": report.created,
        "roots": [display_path(r) for r in report.roots],
        "groups": len(report.groups),
        "duplicates": s.duplicates,
        "reclaimable_bytes": s.reclaimable_bytes,
        "images": s.images,
        "errors": len(report.errors),
    }


def script_json(data: Any) -> str:
    """JSON that is safe inside ``<script>``: no ``<`` (so no ``</script>`` or ``<!--``)."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _data_uri(path: str, cache_dir: str, px: int) -> str:
    try:
        data = cached_thumbnail(path, cache_dir, px)
    except DecodeError:
        return ""  # the page says "cannot show this file"
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def render_html(
    report: Report,
    *,
    title: str = "report",
    cache_dir: str | None = None,
    thumb_px: int = HTML_THUMB_PX,
) -> str:
    """The whole page as text. Thumbnails come from (and go to) the thumbnail cache."""
    folder = cache_dir if cache_dir is not None else default_cache_dir()
    groups = []
    for i, g in enumerate(report.groups):
        uris = [_data_uri(m.path, folder, thumb_px) for m in g.members]
        groups.append(group_view(g, i, uris.__getitem__))
    data = {"summary": report_summary(report, title), "groups": groups}
    head = f"<style>\n{page_asset('page.css')}</style>"
    tail = (
        f'<script type="application/json" id="picdup-data">{script_json(data)}</script>\n'
        f"<script>\n{page_asset('page.js')}</script>"
    )
    page = page_asset("page.html")
    return page.replace("{{head}}", head).replace("{{mode}}", "static").replace("{{tail}}", tail)


def write_html(
    report: Report,
    path: str | os.PathLike[str],
    *,
    cache_dir: str | None = None,
    thumb_px: int = HTML_THUMB_PX,
) -> None:
    """Write the self-contained HTML view of ``report`` atomically.

    Input: a report whose files are still on disk (a missing file gets a "cannot show" tile).
    Output: one HTML file; it needs no network and no other file.
    Errors: :class:`OSError` when ``path`` cannot be written.
    Performance: one reduced decode per member not yet in the thumbnail cache (about 10 ms for a
    photo); the file grows by about 5–8 KB per member.
    """
    title = os.path.basename(os.fspath(path))
    text = render_html(report, title=title, cache_dir=cache_dir, thumb_px=thumb_px)
    atomic_write_bytes(path, text.encode("utf-8"))
