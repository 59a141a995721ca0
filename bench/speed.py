"""Scan throughput of picdup against a bare decode loop and other tools, on the same files.

Every measurement runs in a fresh subprocess (fresh caches: czkawka's, picdup's) and times only
the work itself, not the interpreter start. Tools run interleaved, round after round, so a busy
machine slows them all alike; the table shows the median of the rounds and the ratios of
picdup's cold throughput to each.

    python bench/speed.py                       # ../shared/data/photos, all cores, 3 rounds
    python bench/speed.py --rounds 5 --jobs 2 --only bare picdup-cold picdup-warm
    python bench/speed.py --generated 200       # also 200 generated photo-like 6.3 MP JPEGs

The bare loop (read, then Pillow's draft decode at picdup's reduced size, nothing else) runs
on worker processes ("bare") and on threads ("bare-threads"); picdup's target is against the
faster of the two, whichever kind of worker picdup itself uses.

Peers (the ``bench`` extra installs them): imagehash, imagededup (its hashing part; its CNN part
needs torch and torchvision, which are not needed here), difPy, czkawka (Python bindings).
A peer that is not installed is reported as skipped. The script never fails on timings: it
prints the acceptance ratios with "ok" or "below".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _peers import imagededup_hashing

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

TOOLS = [
    "bare",
    "bare-threads",
    "picdup-cold",
    "picdup-warm",
    "imagehash-1",
    "imagehash-2",
    "imagededup",
    "czkawka",
    "difpy",
]
# Acceptance: picdup cold throughput over the tool's, at least this much.
TARGETS = {"bare": 0.85, "czkawka": 3.0, "imagehash-2": 3.5, "imagededup": 6.0}
WARM_TARGET = 20.0
RADIUS = 10


# --- workers: each runs in its own process and prints {"seconds": …, "images": …} ---------


def _files(folder: str) -> list[str]:
    return sorted(os.path.join(folder, f) for f in os.listdir(folder))


def _bare_one(path: str) -> tuple[int, int]:
    from PIL import Image

    from picdup.decode import REDUCED_SIZE

    with open(path, "rb") as fh:
        data = fh.read()
    im = Image.open(io.BytesIO(data))
    im.draft("RGB", (REDUCED_SIZE, REDUCED_SIZE))
    im.load()
    return im.size


def _imagehash_one(path: str) -> str:
    import imagehash
    from PIL import Image

    with Image.open(path) as im:
        return str(imagehash.phash(im))


def _pool(jobs: int) -> object:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("forkserver"))


def work_bare(folder: str, jobs: int, cache: str) -> int:
    """Read each file and decode it with Pillow's draft at picdup's reduced size: the limit."""
    from picdup.engine.local import chunk_size

    files = _files(folder)
    with _pool(jobs) as pool:  # type: ignore[attr-defined]
        return len(list(pool.map(_bare_one, files, chunksize=chunk_size(len(files), jobs))))


def work_bare_threads(folder: str, jobs: int, cache: str) -> int:
    """The same loop on threads (Pillow decodes without the GIL): no workers to start."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(jobs) as pool:
        return len(list(pool.map(_bare_one, _files(folder))))


# Seconds per phase of the last picdup run in this worker process (walk, cache, fingerprint,
# match), so the table can say where picdup's own time went.
PHASES: dict[str, float] = {}


class _PhaseClock:
    """A progress sink that only times the pipeline's phases."""

    def __init__(self) -> None:
        self._name: str | None = None
        self._since = time.perf_counter()

    def phase(self, name: str, total: int | None) -> None:
        self._close()
        self._name, self._since = name, time.perf_counter()

    def advance(self, steps: int = 1) -> None:
        pass

    def done(self) -> None:
        self._close()
        self._name = None

    def _close(self) -> None:
        if self._name is not None:
            spent = time.perf_counter() - self._since
            PHASES[self._name] = PHASES.get(self._name, 0.0) + spent


def work_picdup(folder: str, jobs: int, cache: str) -> int:
    from picdup.options import ScanOptions
    from picdup.pipeline import run_scan

    options = ScanOptions(jobs=jobs, cache_path=cache)
    report = run_scan([folder], options, progress=_PhaseClock(), command=[])
    return report.stats.images


def work_imagehash_1(folder: str, jobs: int, cache: str) -> int:
    return len([_imagehash_one(f) for f in _files(folder)])


def work_imagehash_2(folder: str, jobs: int, cache: str) -> int:
    files = _files(folder)
    with _pool(2) as pool:  # type: ignore[attr-defined]
        return len(list(pool.map(_imagehash_one, files, chunksize=4)))


def work_imagededup(folder: str, jobs: int, cache: str) -> int:
    hashing = imagededup_hashing()
    ph = hashing.PHash(verbose=False)
    encodings = ph.encode_images(image_dir=folder, num_enc_workers=jobs)
    ph.find_duplicates(encoding_map=encodings, max_distance_threshold=RADIUS, num_dist_workers=jobs)
    return len(encodings)


def work_czkawka(folder: str, jobs: int, cache: str) -> int:
    import czkawka

    finder = czkawka.ImageSimilarity()
    finder.set_directories([folder])
    finder.set_similarity(RADIUS)
    finder.find_similar()
    return len(_files(folder))


def work_difpy(folder: str, jobs: int, cache: str) -> int:
    import difPy

    with contextlib.redirect_stdout(io.StringIO()):
        dif = difPy.build(folder, show_progress=False, processes=jobs)
        difPy.search(dif, show_progress=False, processes=jobs)
    return len(_files(folder))


WORKERS: dict[str, Callable[[str, int, str], int]] = {
    "bare": work_bare,
    "bare-threads": work_bare_threads,
    "picdup-cold": work_picdup,
    "picdup-warm": work_picdup,
    "imagehash-1": work_imagehash_1,
    "imagehash-2": work_imagehash_2,
    "imagededup": work_imagededup,
    "czkawka": work_czkawka,
    "difpy": work_difpy,
}


PREIMPORT = {
    "bare": ["PIL.Image", "picdup.decode", "picdup.engine.local"],
    "bare-threads": ["PIL.Image", "picdup.decode"],
    "picdup-cold": ["picdup.pipeline", "picdup.index._kernel"],
    "picdup-warm": ["picdup.pipeline", "picdup.index._kernel"],
    "imagehash-1": ["imagehash", "PIL.Image"],
    "imagehash-2": ["imagehash", "PIL.Image"],
    "czkawka": ["czkawka"],
    "difpy": ["difPy"],
}


def run_worker(name: str, folder: str, jobs: int, cache: str) -> None:
    # Imports are not the work being measured.
    for module in PREIMPORT.get(name, []):
        importlib.import_module(module)
    if name == "imagededup":
        imagededup_hashing()
    started = time.perf_counter()
    images = WORKERS[name](folder, jobs, cache)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "images": images, "phases": PHASES}))


# --- the driver --------------------------------------------------------------------------


def measure(name: str, folder: str, jobs: int, cache: str, scratch: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        # Fresh per run: czkawka keeps its own cache under XDG_CACHE_HOME.
        "XDG_CACHE_HOME": tempfile.mkdtemp(dir=scratch),
        "PICDUP_CACHE_DIR": tempfile.mkdtemp(dir=scratch),
    }
    cmd = [sys.executable, __file__, "--worker", name, "--dir", folder, "--jobs", str(jobs)]
    result = subprocess.run(
        [*cmd, "--cache", cache], env=env, cwd=scratch, capture_output=True, text=True
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": 1.0, "message": last}  # type: ignore[dict-item]
    out: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def available(name: str) -> str | None:
    module = {
        "imagehash-1": "imagehash",
        "imagehash-2": "imagehash",
        "imagededup": "imagededup",
        "czkawka": "czkawka",
        "difpy": "difPy",
    }.get(name)
    if module is None:
        return None
    try:
        importlib.import_module(module)
    except ImportError:
        return f"not installed (pip install 'picdup[bench]'): {module}"
    return None


def collect_jpegs(source: Path, target: Path) -> int:
    """Copy every JPEG under ``source`` into one flat folder, so every tool sees the same files."""
    target.mkdir(parents=True)
    count = 0
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.suffix.lower() in (".jpg", ".jpeg"):
            count += 1
            shutil.copyfile(path, target / f"{count:05d}_{path.name.replace(' ', '_')}")
    return count


def generate_jpegs(target: Path, count: int, w: int = 3072, h: int = 2048) -> int:
    """Photo-like JPEGs (smooth shading, shapes, grain), 6.3 MP each by default."""
    import numpy as np
    from PIL import Image, ImageDraw

    target.mkdir(parents=True)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for k in range(count):
        rng = np.random.default_rng(k)
        img = np.empty((h, w, 3), dtype=np.float32)
        for c in range(3):
            fx, fy, phase = rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(0, 6.3)
            img[..., c] = rng.uniform(60, 190) + 50 * np.sin(
                fx * xx / w * 6.3 + fy * yy / h + phase
            )
        im = Image.fromarray(img.clip(0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(im)
        for _ in range(12):
            x0, x1 = sorted(rng.integers(0, w, 2))
            y0, y1 = sorted(rng.integers(0, h, 2))
            draw.ellipse(
                (x0, y0, x1 + 9, y1 + 9), fill=tuple(int(v) for v in rng.integers(0, 256, 3))
            )
        arr = np.asarray(im, dtype=np.int16) + rng.integers(-8, 9, (h, w, 3), dtype=np.int16)
        Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(
            target / f"g{k:05d}.jpg", quality=88
        )
    return count


def _spread(theirs: list[float], cold: list[float]) -> str:
    """The range of the ratio over the rounds (each round's runs side by side), so a median
    near a target line shows how far the rounds scatter around it."""
    if len(theirs) != len(cold) or len(cold) < 2:
        return ""
    ratios = [t / c for t, c in zip(theirs, cold, strict=True)]
    return f" (rounds {min(ratios):.2f}–{max(ratios):.2f})"


def bench_set(label: str, folder: Path, n: int, args: argparse.Namespace, scratch: Path) -> dict:
    tools = [t for t in TOOLS if not args.only or t in args.only]
    skipped = {t: why for t in tools if (why := available(t))}
    times: dict[str, list[float]] = {t: [] for t in tools if t not in skipped}
    errors: dict[str, str] = {}
    phases: dict[str, dict[str, list[float]]] = {}
    for rnd in range(args.rounds):
        cache = str(scratch / f"picdup-{label}-{rnd}.sqlite3")
        for tool in times:
            if tool == "difpy" and rnd > 0 and args.difpy_once:
                continue
            res = measure(tool, str(folder), args.jobs, cache, scratch)
            if "error" in res:
                errors[tool] = str(res.get("message"))
                continue
            times[tool].append(res["seconds"])
            for phase, spent in dict(res.get("phases") or {}).items():
                phases.setdefault(tool, {}).setdefault(phase, []).append(spent)
            print(
                f"  [{label}] round {rnd + 1}: {tool:12s} {res['seconds']:8.2f} s "
                f"({res['images']:.0f} images)",
                file=sys.stderr,
            )
    med = {t: statistics.median(v) for t, v in times.items() if v}
    print(f"\n## {label}: {n} JPEGs, {args.jobs} jobs, median of {args.rounds} rounds\n")
    print("| tool | seconds | images/s | picdup cold is × faster |")
    print("| --- | ---: | ---: | ---: |")
    cold = med.get("picdup-cold")
    for tool in tools:
        if tool in skipped:
            print(f"| {tool} | skipped: {skipped[tool]} | | |")
            continue
        if tool in errors and tool not in med:
            print(f"| {tool} | failed: {errors[tool][:80]} | | |")
            continue
        s = med[tool]
        ratio = f"{s / cold:.2f}" if cold else ""
        print(f"| {tool} | {s:.2f} | {n / s:.1f} | {ratio} |")
    print()
    for tool, split in phases.items():
        parts = ", ".join(f"{p} {statistics.median(v):.2f} s" for p, v in split.items())
        print(f"- {tool} by phase (median): {parts}")
    print()
    verdicts = {}
    if cold:
        # The bare loop's target is against the faster of its two forms: the practical limit
        # on these workers, whichever way picdup runs them.
        bares = {t: med[t] for t in ("bare", "bare-threads") if t in med}
        for tool, target in TARGETS.items():
            name, seconds = tool, med.get(tool)
            if tool == "bare" and bares:
                name = min(bares, key=lambda t: bares[t])
                seconds = bares[name]
            if seconds is not None:
                ratio = seconds / cold
                verdicts[tool] = ratio
                ok = "ok" if ratio >= target else "below"
                print(
                    f"- cold vs {name}: {ratio:.2f}×{_spread(times[name], times['picdup-cold'])}"
                    f" (target ≥ {target}×) {ok}"
                )
        if "picdup-warm" in med:
            speedup = cold / med["picdup-warm"]
            verdicts["warm"] = speedup
            ok = "ok" if speedup >= WARM_TARGET else "below"
            print(f"- warm rescan: {speedup:.1f}× faster than cold (target ≥ {WARM_TARGET}×) {ok}")
    return {
        "label": label,
        "files": n,
        "median_seconds": med,
        "ratios": verdicts,
        "runs": times,
        "phases": phases,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    default_data = Path(os.environ.get("PICDUP_DATA", REPO.parent / "shared" / "data")) / "photos"
    parser.add_argument("--data", type=Path, default=default_data, help="folder of photos")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--generated", type=int, default=0, help="also a generated set of N")
    parser.add_argument("--only", nargs="*", choices=TOOLS, help="only these tools")
    parser.add_argument("--difpy-once", action="store_true", help="run difPy in round 1 only")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.dir, args.jobs, args.cache)
        return
    if not args.data.is_dir():
        sys.exit(f"no photos at {args.data}: pass --data or set PICDUP_DATA")
    results = []
    with tempfile.TemporaryDirectory(prefix="picdup-speed-") as tmp:
        scratch = Path(tmp)
        photos = scratch / "photos"
        n = collect_jpegs(args.data, photos)
        print(f"python bench/speed.py {' '.join(sys.argv[1:])}".strip())
        results.append(bench_set("photos", photos, n, args, scratch))
        if args.generated:
            gen = scratch / "generated"
            generate_jpegs(gen, args.generated)
            results.append(bench_set("generated", gen, args.generated, args, scratch))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
