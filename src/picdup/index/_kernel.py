"""The compiled kernel of :mod:`picdup.index.mih` (numba), imported only when it is needed.

Kept apart so that importing picdup (in every worker process, for instance) does not pay for
importing numba.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["mih_kernel"]


def _ctpop(typingctx: object, x: object) -> tuple[object, object]:  # pragma: no cover
    """LLVM's ctpop: one POPCNT instruction where the CPU has it."""
    sig = types.uint64(types.uint64)

    def codegen(context: object, builder: Any, signature: object, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


_popcount: Any = intrinsic(_ctpop)


@njit(cache=True, nogil=True)
def mih_kernel(
    key_lo: int,
    key_hi: int,
    radius: int,
    radii: np.ndarray,
    masks: np.ndarray,
    mask_counts: np.ndarray,
    orders: np.ndarray,
    sorted_h: np.ndarray,
    starts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n = sorted_h.shape[1]
    cap = max(1024, n)
    out_i = np.empty(cap, dtype=np.int64)
    out_j = np.empty(cap, dtype=np.int64)
    out_d = np.empty(cap, dtype=np.uint8)
    found = 0
    low16 = np.uint64(0xFFFF)
    for c in range(4):
        if radii[c] < 0:
            continue
        order = orders[c]
        sh = sorted_h[c]
        st = starts[c]
        # Bucket-major: the hashes of a bucket meet those of each probed bucket as two small
        # contiguous blocks, so the cost is the comparisons, not one cache miss per probe.
        for key in range(key_lo, key_hi):
            qlo = st[key]
            qhi = st[key + 1]
            if qlo == qhi:
                continue
            for m in range(mask_counts[c]):
                other = key ^ np.int64(masks[m])
                if other < key:
                    continue  # the pair is taken from the lower bucket
                olo = st[other]
                ohi = st[other + 1]
                for p in range(qlo, qhi):
                    hp = sh[p]
                    # Within one bucket, each pair once: positions after p only.
                    for q in range(p + 1 if other == key else olo, ohi):
                        x = hp ^ sh[q]
                        d = np.int64(_popcount(x))
                        if d > radius:
                            continue
                        # Close enough in an earlier chunk: that chunk produced the pair.
                        earlier = False
                        for c2 in range(c):
                            part = (x >> np.uint64(16 * c2)) & low16
                            if radii[c2] >= 0 and np.int64(_popcount(part)) <= radii[c2]:
                                earlier = True
                                break
                        if earlier:
                            continue
                        if found == cap:
                            cap *= 2
                            grown_i = np.empty(cap, dtype=np.int64)
                            grown_j = np.empty(cap, dtype=np.int64)
                            grown_d = np.empty(cap, dtype=np.uint8)
                            grown_i[:found] = out_i[:found]
                            grown_j[:found] = out_j[:found]
                            grown_d[:found] = out_d[:found]
                            out_i, out_j, out_d = grown_i, grown_j, grown_d
                        i = order[p]
                        j = order[q]
                        out_i[found] = min(i, j)
                        out_j[found] = max(i, j)
                        out_d[found] = d
                        found += 1
    return out_i[:found].copy(), out_j[:found].copy(), out_d[:found].copy()
