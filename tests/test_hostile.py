"""No bad file can hurt a scan: a tree of every hostile case scans to completion, reports each
one with its reason, and stays within a bounded memory peak (measured in a subprocess).

The tests run as root here and in CI, and root ignores file permissions; the scan subprocess
therefore drops to ``nobody`` after importing everything it needs, so permission-denied files
and folders are real. The tree lives in a fresh folder under the system temp dir that ``nobody``
can enter (pytest's own temp dir is private to root).
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from imagegen import photo
from picdup import find_duplicates, load_report
from picdup.fingerprint import fingerprint_file, pixel_digest
from picdup.model import FileRef
from picdup.scan import walk

REPO = Path(__file__).resolve().parent.parent

# 1500 one-letter folders (deeper than Python's recursion limit) fit in PATH_MAX (4096) from a
# short temp root; 15 more with 100-letter names do not.
DEEP_LISTABLE = 1500
DEEP_TOTAL = 1515

# The scan in a subprocess: import everything first (after dropping privileges, root's Python
# installation may no longer be readable), then become `nobody` when running as root.
_CHILD = r"""
import json, os, resource, sys, tempfile
import numpy.ma
from PIL import Image
Image.init()
import picdup.decode, picdup.pipeline
from picdup.options import ScanOptions
from picdup.report.json import write_json
root, out = sys.argv[1], sys.argv[2]
# A warm-up scan of two near copies runs every code path once, so nothing is imported late.
with tempfile.TemporaryDirectory() as warm:
    im = Image.linear_gradient("L").convert("RGB")
    im.save(os.path.join(warm, "a.png"))
    im.resize((200, 200)).save(os.path.join(warm, "b.jpg"))
    picdup.pipeline.run_scan([warm], ScanOptions(mode="near", jobs=1), command=["warm-up"])
dropped = False
if os.geteuid() == 0:
    import pwd
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
    dropped = True
report = picdup.pipeline.run_scan([root], ScanOptions(mode="near", jobs=1), command=["test"])
write_json(report, out)
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"dropped": dropped, "peak_kb": peak_kb}))
"""


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temp folder that an unprivileged user can enter; removed with ``rm -rf`` (which,
    unlike shutil.rmtree on older Pythons, copes with trees deeper than the recursion limit)."""
    path = Path(tempfile.mkdtemp(prefix="picdup-hostile-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        locked = path / "tree" / "locked-folder"
        if locked.is_dir():
            locked.chmod(0o755)  # so that rm can enter it without root
        subprocess.run(["rm", "-rf", str(path)], check=False)


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_bomb(side: int = 20000) -> bytes:
    """A valid greyscale PNG of ``side``² black pixels in a few hundred KB.

    One compressed block of rows, ended by a full flush, is repeated: the result is a correct
    deflate stream (with a correct checksum) that decompresses to ``side * (side + 1)`` bytes.
    """
    rows = 500
    block = b"\x00" * ((side + 1) * rows)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush()
    adler = 1
    for _ in range(side // rows):
        adler = zlib.adler32(block, adler)
    idat = b"\x78\xda" + piece * (side // rows) + tail + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header claiming another size (the pixel data unchanged)."""
    pos = 2
    while pos < len(data):
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            head = data[: pos + 5] + struct.pack(">HH", height, width)
            return head + data[pos + 9 :]
        pos += 2 + length
    raise ValueError("no frame header")


def gif_bomb() -> bytes:
    """A GIF whose logical screen is 65535×65535 around a 1×1 frame."""
    return (
        b"GIF89a"
        + struct.pack("<HH", 65535, 65535)
        + b"\x80\x00\x00"
        + b"\x00\x00\x00\xff\xff\xff"
        + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def _jpeg(seed: int, w: int = 320, h: int = 240) -> bytes:
    buf = io.BytesIO()
    photo(seed, w, h).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _deep_chain(top: Path, depth: int, leaf: bytes) -> Path:
    """``top/d/d/…/xxx…`` ``depth`` levels deep, with ``leaf`` saved as photo.jpg at
    DEEP_LISTABLE; built through folder descriptors so it can go past PATH_MAX."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for level in range(1, depth + 1):
            name = "d" if level <= DEEP_LISTABLE else "x" * 100
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
            if level == DEEP_LISTABLE:
                out = os.open("photo.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                os.write(out, leaf)
                os.close(out)
    finally:
        os.close(fd)
    return top


def build_hostile_tree(root: Path) -> dict[str, Any]:
    """Every hostile case of the issue in one tree; returns what the test expects of each."""
    root.mkdir()
    good = _jpeg(1)
    (root / "good.jpg").write_bytes(good)
    (root / "good copy.png").write_bytes(_png_of(good))
    (root / "truncated.jpg").write_bytes(_jpeg(2)[:3000])
    png = io.BytesIO()
    photo(3, 320, 240).save(png, "PNG")
    (root / "truncated.png").write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    (root / "empty.jpg").write_bytes(b"")
    (root / "empty.dat").write_bytes(b"")
    rng = np.random.default_rng(4)
    (root / "random.jpg").write_bytes(rng.bytes(5000))
    (root / "random.bin").write_bytes(rng.bytes(5000))
    (root / "random-after-magic.jpg").write_bytes(b"\xff\xd8\xff\xe0" + rng.bytes(5000))
    (root / "bomb.png").write_bytes(png_bomb())
    (root / "huge.jpg").write_bytes(jpeg_with_size(_jpeg(5), 65500, 65500))
    (root / "screen-bomb.gif").write_bytes(gif_bomb())
    # Symbolic links: a loop to the parent folder and a link to itself.
    (root / "loop").symlink_to(".")
    (root / "self.jpg").symlink_to("self.jpg")
    os.mkfifo(root / "pipe.jpg")
    device = os.geteuid() == 0
    if device:
        os.mknod(root / "zero.jpg", 0o666 | 0o020000, os.makedev(1, 5))  # /dev/zero
    # Permission denied: a file and a folder only root can read.
    (root / "locked.jpg").write_bytes(_jpeg(6))
    (root / "locked.jpg").chmod(0o000)
    locked_dir = root / "locked-folder"
    locked_dir.mkdir()
    (locked_dir / "inside.jpg").write_bytes(good)
    locked_dir.chmod(0o000)
    # Names that are not valid UTF-8: one duplicate, one broken.
    raw_root = os.fsencode(root)
    with open(raw_root + b"/caf\xe9-copy.jpg", "wb") as fh:
        fh.write(good)
    with open(raw_root + b"/\xff\xfe-broken.jpg", "wb") as fh:
        fh.write(b"not a jpeg at all")
    _deep_chain(root / "deep", DEEP_TOTAL, good)
    return {"device": device}


def _png_of(jpeg: bytes) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(buf, "PNG")
    return buf.getvalue()


def _scan_in_subprocess(root: Path, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd="/",
    )
    assert res.returncode == 0, res.stderr
    result: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return result


def test_hostile_tree_scans_to_completion_and_reports_each_case(open_tmp: Path) -> None:
    root = open_tmp / "tree"
    facts = build_hostile_tree(root)
    outdir = open_tmp / "out"
    outdir.mkdir()
    outdir.chmod(0o777)
    result = _scan_in_subprocess(root, outdir / "report.json")
    # The report is read back with the public reader: names that are not UTF-8 round-trip.
    report = load_report(outdir / "report.json")
    raw = json.loads((outdir / "report.json").read_bytes().decode("utf-8"))
    errors = {os.path.relpath(e.path, root): e.error for e in report.errors}
    names = set(errors)

    def error_of(name: str) -> str:
        assert name in errors, f"{name} not in errors: {sorted(names)}"
        return errors[name]

    assert "cannot decode" in error_of("truncated.jpg")
    assert "cannot decode" in error_of("truncated.png")
    assert error_of("empty.jpg") == "empty file"
    assert "matches no image format" in error_of("random.jpg")
    assert error_of("random-after-magic.jpg")  # JPEG magic, garbage after it
    assert "decompression bomb" in error_of("bomb.png")
    assert "decompression bomb" in error_of("huge.jpg")
    assert "decompression bomb" in error_of("screen-bomb.gif")
    broken = os.fsdecode(b"\xff\xfe-broken.jpg")
    assert "matches no image format" in error_of(broken)
    deep_error = [e for n, e in errors.items() if n.startswith("deep/")]
    assert len(deep_error) == 1 and "File name too long" in deep_error[0]
    if result["dropped"] or os.geteuid() != 0:
        assert "Permission denied" in error_of("locked.jpg")
        assert error_of("locked-folder") == "cannot list folder: Permission denied"
    assert report.skipped["named pipe (FIFO), not opened"] == 1
    if facts["device"]:
        assert report.skipped["device file, not opened"] == 1
    assert report.skipped["symbolic link (not followed)"] == 2
    assert report.skipped["empty file"] == 1
    assert report.skipped["not an image"] == 1

    # The good picture is found with its copies: the PNG, the non-UTF-8 name, the deep one.
    assert len(report.groups) == 1
    members = {os.path.relpath(m.path, root) for m in report.groups[0].members}
    deep_photo = "deep/" + "d/" * (DEEP_LISTABLE - 1) + "d/photo.jpg"
    odd = os.fsdecode(b"caf\xe9-copy.jpg")
    assert members == {"good.jpg", "good copy.png", odd, deep_photo}
    for m in report.groups[0].members:
        assert os.path.exists(os.fsencode(m.path))  # the bytes of the real name
    assert any("\udce9" in m["path"] for m in raw["groups"][0]["members"])

    # Memory: the bombs were refused from their headers; nothing near their decoded size
    # (400 MB for bomb.png, 4 GB × 3 for huge.jpg) was ever allocated.
    baseline = _baseline_peak_kb(open_tmp)
    peak_mb, base_mb = result["peak_kb"] / 1024, baseline / 1024
    print(f"hostile tree peak RSS {peak_mb:.0f} MB, one-image tree {base_mb:.0f} MB")
    assert peak_mb < base_mb + 150


def _baseline_peak_kb(open_tmp: Path) -> int:
    small = open_tmp / "small"
    small.mkdir()
    (small / "one.jpg").write_bytes(_jpeg(9))
    out = open_tmp / "out" / "small.json"
    peak: int = _scan_in_subprocess(small, out)["peak_kb"]
    return peak


def test_symlink_loop_followed_is_detected(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "up").symlink_to("../..")
    (root / "a" / "b" / "side").symlink_to("../../a")
    (root / "a" / "pic.jpg").write_bytes(_jpeg(10))
    (root / "self.jpg").symlink_to("self.jpg")
    result = walk([str(root)], follow_symlinks=True)
    assert [os.path.relpath(f.path, root) for f in result.files] == ["a/pic.jpg"]
    assert result.skipped["folder already visited (symlink loop)"] == 2
    assert [os.path.basename(e.path) for e in result.errors] == ["self.jpg"]
    assert "Too many levels of symbolic links" in result.errors[0].error


class _Saboteur:
    """A progress sink that changes the tree between the walk and the fingerprinting: what a
    user, a sync client or a camera import does to files while a scan runs."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def phase(self, name: str, total: int | None) -> None:
        if name != "fingerprint":
            return
        (self.root / "vanishes.jpg").unlink()
        # Changed: new content and size, same name.
        (self.root / "changes.jpg").write_bytes(_jpeg(21, 640, 480))
        # Replaced by a FIFO after the walk listed it as a file: must not block.
        (self.root / "becomes-pipe.jpg").unlink()
        os.mkfifo(self.root / "becomes-pipe.jpg")
        # Replaced by a folder.
        (self.root / "becomes-folder.jpg").unlink()
        (self.root / "becomes-folder.jpg").mkdir()

    def advance(self, steps: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


def test_files_that_vanish_or_change_during_the_scan(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    for name, seed in [
        ("vanishes.jpg", 20),
        ("changes.jpg", 21),
        ("becomes-pipe.jpg", 22),
        ("becomes-folder.jpg", 23),
        ("stays.jpg", 21),
    ]:
        (root / name).write_bytes(_jpeg(seed))
    report = find_duplicates([root], jobs=1, progress=_Saboteur(root))
    errors = {os.path.basename(e.path): e.error for e in report.errors}
    assert errors["vanishes.jpg"] == "file vanished during the scan"
    assert "no longer a regular file" in errors["becomes-pipe.jpg"]
    assert "no longer a regular file" in errors["becomes-folder.jpg"]
    # The changed file is fingerprinted as it is now, and the report records that state.
    assert len(report.groups) == 1
    changed = next(m for m in report.groups[0].members if m.path.endswith("changes.jpg"))
    st = (root / "changes.jpg").stat()
    assert (changed.size, changed.mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert (changed.width, changed.height) == (640, 480)


def test_fingerprint_never_raises_on_special_paths(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.jpg")
    for path in (tmp_path / "fifo.jpg", tmp_path / "missing.jpg", Path("/dev/zero")):
        ref = FileRef(str(path), 0, 0, str(tmp_path))
        fp = fingerprint_file(ref, max_pixels=10**8)
        assert fp.error and not fp.ok
    # The full decode for a pixel digest, asked later in the scan, must not block on a FIFO.
    with pytest.raises(OSError, match="no longer a regular file"):
        pixel_digest(str(tmp_path / "fifo.jpg"), max_pixels=10**8)
