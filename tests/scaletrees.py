"""Small generated trees for the remote, Dask and --against tests: every kind of copy, fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imagegen import jpeg_with_density, photo, save, to_bytes

__all__ = ["group_sets", "make_tree"]


def make_tree(root: Path) -> None:
    """Eight distinct pictures and, beside them, an exact copy, a pixel copy (other DPI), a
    resized copy and a PNG re-encode; plus a text file that is not an image."""
    (root / "a").mkdir(parents=True)
    (root / "b" / "deep").mkdir(parents=True)
    for k in range(8):
        save(photo(100 + k, 320, 240), root / "a" / f"p{k}.jpg")
    data = (root / "a" / "p0.jpg").read_bytes()
    (root / "b" / "p0 copy.jpg").write_bytes(data)
    (root / "b" / "p0-72dpi.jpg").write_bytes(jpeg_with_density(data, 72))
    save(photo(101, 320, 240).resize((200, 150)), root / "b" / "deep" / "p1-small.jpg")
    (root / "b" / "p2.png").write_bytes(to_bytes(photo(102, 320, 240), "PNG"))
    (root / "b" / "notes.txt").write_text("not an image\n")


def group_sets(report: dict[str, Any], root: str) -> list[list[tuple[str, str]]]:
    """Groups as sorted (path relative to ``root``, class) lists, sorted: comparable across a
    local and a remote copy of the same tree."""
    out = []
    for g in report["groups"]:
        members = []
        for m in g["members"]:
            path = m["path"]
            rel = path[len(root) :].lstrip("/") if path.startswith(root) else path
            members.append((rel, m["class"]))
        out.append(sorted(members))
    return sorted(out)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
