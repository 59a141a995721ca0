"""Grouping millions of fingerprints: time and peak memory of the candidate search and grouping.

Builds N pHash-like 64-bit hashes with realistic clusters of near-copies, then runs the ``near``
grouping path on them: the multi-index Hamming search at the ``near`` radius and star grouping
of the candidate pairs (every candidate taken as a match, the worst case for grouping). Each
size runs in its own subprocess, whose peak resident memory (``ru_maxrss``) is reported; at
100k the search is also checked against the brute-force oracle.

    python bench/index.py                   # 100k (with the brute-force check), 1M, 10M
    python bench/index.py --sizes 1000000 --threads 2

The data: originals are random 64-bit values with the DC bit set (as pHash's first bit always
is); 30% of the images are copies of another, in clusters of 2 to 50 members with sizes drawn
from a Zipf law; each copy differs from its original by a Poisson(2) number of bits, capped at
the radius, which is how resizing and recompression move pHash. The acceptance bound is for
1M in ``near`` mode: at most 60 s and 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

TIME_BOUND = 60.0
MEMORY_BOUND = 2 * 1024**3
# Star grouping works on Python Match objects (about 250 bytes per pair with its adjacency
# entries); above this many pairs the bench measures the search only, to spare a shared machine.
GROUP_PAIRS_LIMIT = 10_000_000


def clustered_hashes(n: int, seed: int, radius: int):  # type: ignore[no-untyped-def]
    """N pHash-like hashes: unrelated originals and clusters of near-copies of some of them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    copies = int(n * 0.3)
    sizes = np.minimum(rng.zipf(1.8, size=copies), 49)  # copies per original, 1..49
    sizes = sizes[np.cumsum(sizes) <= copies]
    n_orig = n - int(sizes.sum())
    dc = np.uint64(1) << np.uint64(63)
    originals = rng.integers(0, 2**63, n_orig, dtype=np.uint64) | dc
    source = np.repeat(np.arange(len(sizes)), sizes)  # which original each copy copies
    flips = np.minimum(rng.poisson(2.0, len(source)), radius)
    copied = originals[source].copy()
    for k in range(int(flips.max(initial=0))):
        bit = rng.integers(0, 63, len(source)).astype(np.uint64)  # never the DC bit
        copied ^= (np.uint64(1) << bit) * (flips > k).astype(np.uint64)
    h = np.concatenate([originals, copied])
    return h[rng.permutation(n)]


def run_one(n: int, radius: int, threads: int, check: bool) -> dict[str, float]:
    import numpy as np

    from picdup.group import star_clusters
    from picdup.index import brute_force_pairs, pairs_within
    from picdup.index._kernel import mih_kernel  # noqa: F401  (compiled code loads here)
    from picdup.model import Match, MatchClass

    h = clustered_hashes(n, seed=n, radius=radius)
    pairs_within(h[:3000], radius, method="mih")  # load the compiled kernel outside the timing
    started = time.perf_counter()
    i, j, d = pairs_within(h, radius, threads=threads)
    searched = time.perf_counter()
    groups = -1
    if len(i) <= GROUP_PAIRS_LIMIT:
        matches = [
            Match(a, b, MatchClass.NEAR, dist, 1.0)
            for a, b, dist in zip(i.tolist(), j.tolist(), d.tolist(), strict=True)
        ]
        groups = len(star_clusters(matches, lambda k: k))
        del matches
    grouped = time.perf_counter()
    out = {
        "n": n,
        "pairs": len(i),
        "groups": groups,
        "search_s": searched - started,
        "group_s": grouped - searched,
        "total_s": grouped - started,
    }
    if check:
        t = time.perf_counter()
        bi, bj, bd = brute_force_pairs(h, radius)
        out["brute_s"] = time.perf_counter() - t
        out["equal_to_brute_force"] = float(
            np.array_equal(bi, i) and np.array_equal(bj, j) and np.array_equal(bd, d)
        )
    # Linux reports ru_maxrss in KiB.
    out["peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--radius", type=int, default=None, help="default: the near preset's")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--check-below", type=int, default=200_000, help="brute-force check below")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.radius is None:
        from picdup.options import PRESETS

        args.radius = PRESETS["near"].radius
    if args.child:
        res = run_one(args.child, args.radius, args.threads, args.child < args.check_below)
        print(json.dumps(res))
        return
    print(f"python bench/index.py {' '.join(sys.argv[1:])}".strip())
    print(f"\nnear radius {args.radius}, {args.threads} threads\n")
    print(
        "| fingerprints | candidate pairs | search s | grouping s | total s | peak memory | brute |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--radius", str(args.radius)]
        cmd += ["--threads", str(args.threads), "--check-below", str(args.check_below)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"| {n:,} | failed: {proc.stderr.strip().splitlines()[-1:]} | | | | | |")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        brute = "not run"
        if "equal_to_brute_force" in r:
            same = "equal" if r["equal_to_brute_force"] else "DIFFERENT"
            brute = f"{same} ({r['brute_s']:.1f} s)"
        grouping = f"{r['group_s']:.1f}" if r["groups"] >= 0 else "not run"
        print(
            f"| {n:,} | {r['pairs']:,} | {r['search_s']:.1f} | {grouping} | "
            f"{r['total_s']:.1f} | {r['peak_bytes'] / 1024**3:.2f} GB | {brute} |",
            flush=True,
        )
        if n == 1_000_000:
            ok = r["total_s"] <= TIME_BOUND and r["peak_bytes"] <= MEMORY_BOUND
            verdict = "ok" if ok else "over"
            print(
                f"\n1M acceptance: {r['total_s']:.1f} s (≤ {TIME_BOUND:.0f} s), "
                f"{r['peak_bytes'] / 1024**3:.2f} GB (≤ 2 GB): {verdict}\n",
                flush=True,
            )


if __name__ == "__main__":
    main()
