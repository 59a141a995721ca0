"""A small generated tree with exact, near and same-name duplicates, for the act tests."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import imagegen
import picdup
from picdup.model import Report

# mtimes (seconds) so that "oldest"/"newest" have known answers
T0 = 1_600_000_000


def make_tree(root: Path) -> dict[str, Path]:
    """Two groups and two single images.

    group "photo": a/photo.jpg (320×240, q90), b/photo.jpg and c/deep/photo.jpg (byte copies,
    same name in other folders), b/photo_small.jpg (160×120 resize);
    group "other": a/other.png (lossless), b/other.jpg (same picture, JPEG q60);
    singles: s/one.png, s/two.jpg.
    """
    for sub in ("a", "b", "c/deep", "s"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    files = {
        "photo": root / "a" / "photo.jpg",
        "photo_b": root / "b" / "photo.jpg",
        "photo_c": root / "c" / "deep" / "photo.jpg",
        "small": root / "b" / "photo_small.jpg",
        "other_png": root / "a" / "other.png",
        "other_jpg": root / "b" / "other.jpg",
        "one": root / "s" / "one.png",
        "two": root / "s" / "two.jpg",
    }
    im = imagegen.photo(11, 320, 240)
    imagegen.save(im, files["photo"])
    shutil.copyfile(files["photo"], files["photo_b"])
    shutil.copyfile(files["photo"], files["photo_c"])
    imagegen.save(im.resize((160, 120)), files["small"])
    other = imagegen.photo(12, 320, 240)
    imagegen.save(other, files["other_png"])
    imagegen.save(other, files["other_jpg"], quality=60)
    imagegen.save(imagegen.photo(13, 200, 150), files["one"])
    imagegen.save(imagegen.photo(14, 200, 150), files["two"])
    # c/deep/photo.jpg is the oldest copy of the photo, b/photo.jpg the newest
    for k, name in enumerate(["photo_c", "photo", "small", "photo_b", "other_jpg", "other_png"]):
        os.utime(files[name], (T0 + k * 100, T0 + k * 100))
    return files


def scan(root: Path, report_path: Path, *roots: Path) -> Report:
    report = picdup.find_duplicates(roots or [root], jobs=1)
    picdup.write_report(report, report_path)
    return report


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every file and folder under ``root``: content hash, mode and mtime (folders: "dir")."""
    out: dict[str, tuple[str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = Path(dirpath) / d
            out[str(p.relative_to(root))] = ("dir", 0, 0)
        for f in filenames:
            p = Path(dirpath) / f
            st = os.lstat(p)
            if os.path.islink(p):
                out[str(p.relative_to(root))] = ("link:" + os.readlink(p), 0, 0)
                continue
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
            out[str(p.relative_to(root))] = (digest, st.st_mode, st.st_mtime_ns)
    return out


def trash_files(data_home: Path) -> list[str]:
    files = data_home / "Trash" / "files"
    info = data_home / "Trash" / "info"
    return sorted(os.listdir(files) if files.exists() else []) + sorted(
        os.listdir(info) if info.exists() else []
    )
