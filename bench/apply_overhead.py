"""What the safety of ``picdup apply`` costs: journaled, re-checked apply against bare loops.

Makes N distinct small PNGs, each with a byte-identical copy in another folder, scans them
(``--mode exact``), then times, on a fresh copy of the tree each time:

* quarantine: a bare ``os.rename`` loop (no checks, no journal) vs ``picdup.apply`` (stat and
  digest re-check of each file and keeper, journal line fsynced before and after each step);
* trash: a bare ``send2trash`` loop vs ``picdup.apply`` with the trash action;
* ``picdup.undo`` of each.

Prints seconds and the ratio picdup / bare loop. The trash goes to a temporary XDG_DATA_HOME.

    python bench/apply_overhead.py --files 500
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="picdup-bench-apply-"))
# before send2trash is imported: it reads XDG_DATA_HOME once, at import
os.environ["XDG_DATA_HOME"] = str(WORK / "share")
os.environ["HOME"] = str(WORK)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from send2trash import send2trash  # noqa: E402

import picdup  # noqa: E402


def make_tree(root: Path, n: int) -> None:
    rng = np.random.default_rng(1)
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    for i in range(n):
        arr = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
        Image.fromarray(arr).save(root / "a" / f"{i:05d}.png")
        shutil.copyfile(root / "a" / f"{i:05d}.png", root / "b" / f"{i:05d}.png")


def bench_action(
    action: str, report: picdup.Report, fresh: Callable[[], list[str]], n: int
) -> None:
    victims = fresh()
    if action == "quarantine":
        (WORK / "q" / "b").mkdir(parents=True)
        start = time.perf_counter()
        for p in victims:
            os.rename(p, str(WORK / "q" / "b" / Path(p).name))
    else:
        start = time.perf_counter()
        for p in victims:
            send2trash(p)
    bare = time.perf_counter() - start
    fresh()
    kwargs = {"to": WORK / "q"} if action == "quarantine" else {}
    plan = picdup.plan(report, action=action, **kwargs)  # type: ignore[arg-type]
    journal = WORK / f"{action}.jsonl"
    journal.unlink(missing_ok=True)
    start = time.perf_counter()
    result = picdup.apply(plan, journal=journal)
    ours = time.perf_counter() - start
    if len(result.done) != n:
        raise SystemExit(f"apply did not finish: {result.summary()}")
    start = time.perf_counter()
    undone = picdup.undo(journal)
    undo = time.perf_counter() - start
    if len(undone.restored) != n:
        raise SystemExit(f"undo did not finish: {undone.summary()}")
    print(
        f"{action:<10} bare loop {bare:6.2f} s   picdup apply {ours:6.2f} s "
        f"({ours / bare:5.1f}x)   picdup undo {undo:6.2f} s   "
        f"{1000 * ours / n:5.2f} ms/file"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--files", type=int, default=500, help="distinct images (each has one copy)")
    args = ap.parse_args()
    pristine = WORK / "pristine"
    make_tree(pristine, args.files)
    tree = WORK / "tree"

    def fresh() -> list[str]:
        for folder in (tree, WORK / "share", WORK / "q"):
            shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(pristine, tree, copy_function=shutil.copy2)
        return sorted(str(p) for p in (tree / "b").iterdir())

    fresh()
    report = picdup.find_duplicates([tree], mode="exact", jobs=1)
    print(f"{args.files} groups of 2 byte-identical PNGs ({len(report.groups)} groups found)")

    for action in ("quarantine", "trash"):
        bench_action(action, report, fresh, args.files)
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
