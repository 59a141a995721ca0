"""Accuracy of picdup's presets and of peer tools on labelled sets made by ``picdup synth``.

Usage::

    picdup synth ../shared/data/photos /tmp/set1 --seed 1 -j 2
    picdup synth ../shared/data/photos /tmp/set2 --seed 2 -j 2
    python bench/accuracy.py /tmp/set1 /tmp/set2 [--jobs 2] [--no-peers] [--json out.json]

Each set is fingerprinted once; picdup's presets (near, edited, near + rotations, edited +
rotations; similar too with PICDUP_BENCH_SIMILAR=1) are matched on the same fingerprints. Peers
run on the same files when installed: imagehash pHash with a Hamming threshold of 10, imagededup
PHash and DHash at their default thresholds, difPy and czkawka's Python bindings. A peer that is
not installed is listed as such. Peers report pairs, not groups, so every tool is scored on the
pairs it reports (a group counts as all pairs of its members).

The table shows pairwise precision, recall and F1, recall of the near-family transforms
(exact, pixel, resizes, recompress, formats, letterbox), of the edited family (crop, brightness,
watermark), of flips/quarter turns and of tilted copies, and hard-negative pairs wrongly
grouped. It never fails on time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _peers import imagededup_hashing

from picdup.engine import fingerprint_all
from picdup.evaluate import Evaluation, Truth, evaluate_groups, load_truth
from picdup.index import pairs_within
from picdup.model import FileRef
from picdup.options import ScanOptions
from picdup.pipeline import match_scope, split_results

NEAR = ("exact", "pixel", "resize50", "resize25", "resize1280", "recompress", "png", "webp")
NEAR += ("heic", "letterbox")
EDITED = ("crop", "brightness", "watermark")
TURNS = ("flip", "rotate90")
TILTS = ("tilt",)

PRESETS: list[tuple[str, dict[str, Any]]] = [
    ("picdup near", {"mode": "near"}),
    ("picdup edited", {"mode": "edited"}),
    ("picdup near --rotations", {"mode": "near", "rotations": True}),
    ("picdup edited --rotations", {"mode": "edited", "rotations": True}),
]
if os.environ.get("PICDUP_BENCH_SIMILAR"):
    PRESETS.append(("picdup similar", {"mode": "similar"}))


def _files(truth: Truth) -> list[str]:
    return sorted({p for g in truth.groups for p in g})


def _refs(truth: Truth) -> list[FileRef]:
    refs = []
    for rel in _files(truth):
        path = os.path.join(truth.base, rel)
        st = os.stat(path)
        refs.append(FileRef(path, st.st_size, st.st_mtime_ns, truth.base))
    return refs


def _family_recall(ev: Evaluation, names: tuple[str, ...]) -> float:
    found = sum(ev.recall_by_transform.get(n, {}).get("found", 0) for n in names)
    total = sum(ev.recall_by_transform.get(n, {}).get("total", 0) for n in names)
    return found / total if total else float("nan")


def run_picdup(truth: Truth, jobs: int) -> dict[str, tuple[Evaluation, float]]:
    started = time.monotonic()
    fps = fingerprint_all(_refs(truth), jobs=jobs, max_pixels=300_000_000)
    good, _, _ = split_results(fps)
    fp_seconds = time.monotonic() - started
    out: dict[str, tuple[Evaluation, float]] = {}
    # A cache of this run only: the rows after the first reuse the pair evidence and pixel
    # digests of the rows before them, as a user's second scan would, but nothing comes from
    # an earlier run (the user's own cache would make a re-run warm and its seconds meaningless).
    with tempfile.TemporaryDirectory(prefix="picdup-accuracy-") as scratch:
        cache = os.path.join(scratch, "cache.sqlite3")
        for name, kwargs in PRESETS:
            started = time.monotonic()
            groups = match_scope(good, ScanOptions(jobs=jobs, cache_path=cache, **kwargs), None)
            rel = [[os.path.relpath(m.path, truth.base) for m in g.members] for g in groups]
            out[name] = (evaluate_groups(rel, truth), fp_seconds + time.monotonic() - started)
    return out


def _pairs_as_groups(files: list[str], i: np.ndarray, j: np.ndarray) -> list[list[str]]:
    return [[files[a], files[b]] for a, b in zip(i.tolist(), j.tolist(), strict=True)]


def peer_imagehash(truth: Truth) -> list[list[str]]:
    import imagehash
    from PIL import Image

    import picdup.decode  # noqa: F401  (registers the HEIF opener)

    files = _files(truth)
    values = []
    for rel in files:
        with Image.open(os.path.join(truth.base, rel)) as im:
            values.append(int(str(imagehash.phash(im)), 16))
    i, j, _ = pairs_within(np.array(values, dtype=np.uint64), 10, method="brute")
    return _pairs_as_groups(files, i, j)


def _peer_imagededup(kind: str) -> Callable[[Truth], list[list[str]]]:
    def run(truth: Truth) -> list[list[str]]:
        hashing = imagededup_hashing()
        hasher = hashing.PHash(verbose=False) if kind == "phash" else hashing.DHash(verbose=False)
        dupes = hasher.find_duplicates(image_dir=truth.base, recursive=True)
        groups = []
        for a, others in dupes.items():
            for b in others:
                groups.append([a, b])
        return groups

    return run


def peer_difpy(truth: Truth) -> list[list[str]]:
    import difPy

    dif = difPy.build(truth.base, show_progress=False)
    search = difPy.search(dif)
    groups = []
    for key, value in search.result.items():
        matches = value["matches"] if isinstance(value, dict) else value
        if isinstance(matches, dict):
            matches = [m["location"] if isinstance(m, dict) else m for m in matches.values()]
        members = [key, *[m[0] if isinstance(m, list | tuple) else m for m in matches]]
        groups.append([os.path.relpath(str(m), truth.base) for m in members])
    return groups


def peer_czkawka(truth: Truth) -> list[list[str]]:
    import czkawka

    finder = czkawka.ImageSimilarity()
    finder.set_directories([truth.base])
    groups = finder.find_similar()
    return [[os.path.relpath(str(m), truth.base) for m in g] for g in groups]


PEERS: list[tuple[str, Callable[[Truth], list[list[str]]]]] = [
    ("imagehash pHash ≤10", peer_imagehash),
    ("imagededup PHash", _peer_imagededup("phash")),
    ("imagededup DHash", _peer_imagededup("dhash")),
    ("difPy", peer_difpy),
    ("czkawka", peer_czkawka),
]


def run_peers(truth: Truth) -> dict[str, tuple[Evaluation, float] | str]:
    out: dict[str, tuple[Evaluation, float] | str] = {}
    for name, peer in PEERS:
        started = time.monotonic()
        try:
            groups = peer(truth)
        except ImportError as exc:
            out[name] = f"not installed ({exc.name})"
            continue
        except Exception as exc:  # a peer's own failure is reported, not fatal to the bench
            out[name] = f"failed: {type(exc).__name__}: {exc}"[:100]
            continue
        rel = [[p.replace(os.sep, "/") for p in g] for g in groups]
        out[name] = (evaluate_groups(rel, truth), time.monotonic() - started)
    return out


def table(rows: dict[str, tuple[Evaluation, float] | str]) -> str:
    head = (
        f"| {'tool':<26} | precision | recall | F1    | near-family | edited-family "
        f"| flip/rot90 | tilt  | hard neg. | seconds |"
    )
    lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
    for name, row in rows.items():
        if isinstance(row, str):
            lines.append(f"| {name:<26} | {row} |")
            continue
        ev, seconds = row
        lines.append(
            f"| {name:<26} | {ev.precision:9.4f} | {ev.recall:6.4f} | {ev.f1:.3f} "
            f"| {_family_recall(ev, NEAR):11.3f} | {_family_recall(ev, EDITED):13.3f} "
            f"| {_family_recall(ev, TURNS):10.3f} | {_family_recall(ev, TILTS):5.3f} "
            f"| {ev.hard_negatives_grouped:>3} of {ev.hard_negatives_total:<3} | {seconds:7.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", help="folders made by picdup synth (with truth.json)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--json", help="also write every score here")
    args = parser.parse_args()
    everything: dict[str, Any] = {}
    for folder in args.sets:
        truth = load_truth(os.path.join(folder, "truth.json"))
        rows: dict[str, tuple[Evaluation, float] | str] = dict(run_picdup(truth, args.jobs))
        if not args.no_peers:
            rows.update(run_peers(truth))
        print(f"\n{folder} ({len(_files(truth))} files)")
        print(table(rows))
        everything[folder] = {
            k: (v if isinstance(v, str) else {**v[0].to_dict(), "seconds": v[1]})
            for k, v in rows.items()
        }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(everything, fh, indent=1)


if __name__ == "__main__":
    main()
