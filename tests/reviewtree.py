"""A small photo tree with hostile file names, scanned into a report, for the review tests.

Three groups, each a photo with resized and re-encoded copies; the names hold quotes, spaces,
HTML that would run if a page built markup from it, and bytes that are not UTF-8. Files that
are in no group (a text file, a unique photo) must never be served.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from imagegen import photo, save

REPO = Path(__file__).resolve().parent.parent

QUOTED = 'it\'s "quoted".jpg'
SPACED = "with space small.jpg"
IMG_TAG = "<img src=x onerror=alert(1)>.png"
SCRIPT = "<script>alert(1).jpg"
NON_UTF8 = os.fsdecode(b"caf\xe9 small.jpg")
PLAIN = "plain.jpg"
PLAIN_COPY = "plain copy.jpg"
PLAIN_SMALL = "plain small.jpg"
SECRET = "secret.txt"
UNIQUE = "unique.jpg"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def make_tree(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    a = photo(101)
    save(a, folder / QUOTED)
    save(a.resize((320, 240)), folder / SPACED)
    save(a, folder / IMG_TAG)
    b = photo(102)
    save(b, folder / SCRIPT)
    save(b.resize((400, 300)), folder / NON_UTF8, "JPEG")
    c = photo(103)
    save(c, folder / PLAIN)
    (folder / PLAIN_COPY).write_bytes((folder / PLAIN).read_bytes())
    save(c.resize((480, 360)), folder / PLAIN_SMALL)
    save(photo(104), folder / UNIQUE)
    (folder / SECRET).write_text("not for the page\n")
    return folder


def cli_env(cache: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src"), "PICDUP_CACHE_DIR": str(cache)}


def run_cli(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "picdup", *args],
        env=cli_env(cache),
        capture_output=True,
        text=True,
        timeout=300,
    )


def scan_tree(tree: Path, report: Path, cache: Path) -> Path:
    done = run_cli("scan", str(tree), "-o", str(report), "-j", "1", cache=cache)
    if done.returncode != 1:
        raise RuntimeError(f"scan failed ({done.returncode}): {done.stderr}")
    return report


class ReviewProcess:
    """``picdup review REPORT --no-browser`` in a real subprocess; :attr:`url` from its output."""

    def __init__(self, report: Path, cache: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "picdup", "review", str(report), "--no-browser", *extra],
            env=cli_env(cache),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "http://" not in line:
            self.proc.kill()
            raise RuntimeError(f"review did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line[line.index("http://") :].strip()

    def stop(self) -> int:
        """Ctrl-C, as a person would; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
