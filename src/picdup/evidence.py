"""Evidence of a scope's candidate pairs: each pair measured at most once per scan, and with the
cache at most once as long as both files and the verification are unchanged.

Measuring a pair (:func:`~picdup.verify.measure_pairs`) is the costly part of verification;
classifying the evidence against the bounds is cheap. So the evidence itself is what is kept,
keyed by the two files' content digests, the turn, and a context holding everything else that
decides it: :data:`~picdup.verify.VERIFY_VERSION`, the fingerprint algorithm key (thumbnails
are made by it), the measuring settings (:class:`~picdup.verify.MeasureSettings`) and the
record layout of :class:`~picdup.verify.PairEvidence`. Changing the bounds that only classify
(``mean_diff``, ``peak_ratio``, …) reuses the evidence; changing anything that measures does not.

The frame evidence of :func:`~picdup.verify.reframe` is part of the record too. Which pairs need
it depends on the bounds, what it is does not; so it is measured the first time some bounds
ask for it (:func:`~picdup.verify.measure_frames`), written back, and read from then on.
"""

from __future__ import annotations

import dataclasses
import functools
import logging

import numpy as np

from picdup._arrays import unique
from picdup.cache import FingerprintCache
from picdup.cache.store import evidence_context_prefix
from picdup.fingerprint.hashes import COLOUR_SIZE, THUMB_SIZE
from picdup.model import Fingerprint
from picdup.options import Bounds
from picdup.verify import (
    MeasureSettings,
    PairEvidence,
    ThumbStack,
    expect_pairs,
    floor_bound,
    frames_needed,
    measure_frames,
    measure_pairs,
)

__all__ = ["EvidenceBank", "evidence_context", "record_dtype"]

log = logging.getLogger("picdup.cache")

_FRAME_FIELDS = tuple(
    f.name for f in dataclasses.fields(PairEvidence) if f.name.startswith("frame_")
)

# Evidence waiting to be written is flushed in batches this large, so a killed scan keeps most.
_FLUSH_ROWS = 4096


@functools.cache
def record_dtype(settings: MeasureSettings) -> np.dtype:
    """One pair's evidence as a packed record, each field in the dtype ``measure_pairs`` gives
    it (found by measuring one blank pair), so stored evidence reads back bit for bit."""
    blank = ThumbStack(
        np.zeros((1, THUMB_SIZE, THUMB_SIZE), np.uint8),
        np.zeros((1, COLOUR_SIZE, COLOUR_SIZE, 3), np.uint8),
        np.zeros(1, np.float64),
        np.zeros(1, bool),
        np.full((1, 4), np.nan),
        np.zeros(1, np.float64),
    )
    ev = _measure(blank, np.zeros(1, np.int64), np.zeros(1, np.int64), None, settings)
    return np.dtype(
        [(f.name, getattr(ev, f.name).dtype.str) for f in dataclasses.fields(PairEvidence)]
    )


def evidence_context(settings: MeasureSettings, fingerprint_key: str) -> str:
    """The cache context of evidence measured with ``settings`` on thumbnails made by the
    fingerprint algorithm ``fingerprint_key``."""
    dtype = record_dtype(settings)
    layout = ",".join(f"{name}:{dtype[name].str}" for name in dtype.names or ())
    return (
        f"{evidence_context_prefix()}fp={fingerprint_key};block={settings.block_bound!r};"
        f"crop={settings.max_crop!r};normalised={int(settings.normalised)};record={layout}"
    )


def _measure(
    stack: ThumbStack,
    i: np.ndarray,
    j: np.ndarray,
    turns: np.ndarray | None,
    settings: MeasureSettings,
    mean_bound: float = np.inf,
) -> PairEvidence:
    return measure_pairs(
        stack,
        i,
        j,
        turns,
        block_bound=settings.block_bound,
        max_crop=settings.max_crop,
        normalised=settings.normalised,
        mean_bound=mean_bound,
    )


class EvidenceBank:
    """The evidence of candidate pairs ``(i[k], j[k])`` (turn ``turns[k]`` applied to ``i[k]``).

    Input: the scope's fingerprints and their :class:`ThumbStack`, the candidate arrays, the
    settings verification measures with, and optionally an open cache with the fingerprint
    algorithm key; the bank does not close the cache.
    Output: :meth:`get` returns the evidence of some candidates, equal bit for bit to what
    :func:`measure_pairs` returns for them (with ``mean_bound`` from
    :func:`~picdup.verify.floor_bound` of the bounds given, none without), with the frame
    evidence the bounds need measured. A pair stored with a floor that looser bounds do not
    decide on is measured again.
    Errors: :class:`~picdup.errors.CacheError` when the cache cannot be read or written.
    Performance: all cached evidence of the scope is read at once (one query per 500 files);
    a pair, or its frame evidence, is measured only the first time it is asked for, and
    written back in batches. ``measured`` and ``framed`` count the pairs measured, ``cached``
    those read.
    """

    def __init__(
        self,
        fps: list[Fingerprint],
        stack: ThumbStack,
        i: np.ndarray,
        j: np.ndarray,
        turns: np.ndarray,
        settings: MeasureSettings,
        *,
        cache: FingerprintCache | None = None,
        fingerprint_key: str = "",
    ) -> None:
        self._stack, self._i, self._j, self._turns = stack, i, j, turns
        self._settings = settings
        self._dtype = record_dtype(settings)
        self._records = np.zeros(len(i), dtype=self._dtype)
        self._have = np.zeros(len(i), dtype=bool)
        self._cache = cache
        self._context = evidence_context(settings, fingerprint_key) if cache is not None else ""
        self._digests = [fp.digest for fp in fps]
        self._dirty: set[int] = set()  # candidates whose record changed since the last flush
        self.measured = 0
        self.framed = 0
        self.cached = 0
        if cache is not None and len(i):
            self._load(cache)
        expect_pairs(len(i) - self.cached)

    def _swapped(self, k: int) -> bool:
        """Whether candidate ``k`` is stored as ``(j, i)``.

        Without a turn and a crop search every measurement of :func:`measure_pairs` is
        symmetric bit for bit (tested), so the pair is stored once whichever file comes first.
        """
        if int(self._turns[k]) != 0 or self._settings.max_crop != 0:
            return False
        return self._digests[int(self._j[k])] < self._digests[int(self._i[k])]

    def _key(self, k: int) -> tuple[str, str, int]:
        a, b = self._digests[int(self._i[k])], self._digests[int(self._j[k])]
        if self._swapped(k):
            a, b = b, a
        return a, b, int(self._turns[k])

    def _load(self, cache: FingerprintCache) -> None:
        used = sorted({int(x) for x in self._i} | {int(x) for x in self._j})
        stored = cache.evidence(self._context, [self._digests[k] for k in used])
        if not stored:
            return
        ks: list[int] = []
        blobs: list[bytes] = []
        for k in range(len(self._i)):
            data = stored.get(self._key(k))
            if data is not None and len(data) == self._dtype.itemsize:
                ks.append(k)
                blobs.append(data)
        if ks:
            idx = np.asarray(ks, dtype=np.int64)
            self._records[idx] = np.frombuffer(b"".join(blobs), dtype=self._dtype)
            self._have[idx] = True
            self.cached = len(ks)

    def get(self, ks: np.ndarray, bounds: Bounds | None = None) -> PairEvidence:
        """The evidence of candidates ``ks`` (indexes into the candidate arrays), in order;
        with ``bounds``, holding the frame evidence :func:`~picdup.verify.reframe` needs under
        them (so it measures nothing)."""
        ks = np.asarray(ks, dtype=np.int64)
        # A pair whose mean difference is only known to be over some floor (measured for
        # tighter bounds) is measured again when that floor does not decide it under these.
        limit = np.inf if bounds is None else floor_bound(bounds)
        rec = self._records[ks]
        undecided = np.isnan(rec["block_diff"]) & (rec["mean_diff"] <= limit)
        todo = unique(ks[~self._have[ks] | (self._have[ks] & undecided)])
        if len(todo):
            ev = _measure(
                self._stack,
                self._i[todo],
                self._j[todo],
                self._turns[todo],
                self._settings,
                limit,
            )
            # Frame evidence does not depend on the thumbnail statistics: what a pair measured
            # again already had is kept.
            again = self._have[todo]
            if again.any():
                old = self._records[todo[again]]
                for name in _FRAME_FIELDS:
                    getattr(ev, name)[again] = old[name]
            self._store(todo, ev)
            self._have[todo] = True
            self.measured += len(todo)
        out = self._evidence(ks)
        if bounds is None:
            return out
        need = frames_needed(out, bounds)
        if len(need) == 0:
            return out
        framed = unique(ks[need])
        # Measured in the stored order, so a pair's frame evidence is the same whichever file
        # came first in the scan that measured it (of two frames that tie, the first is taken).
        swap = np.fromiter((self._swapped(int(k)) for k in framed), dtype=bool, count=len(framed))
        first = np.where(swap, self._j[framed], self._i[framed])
        second = np.where(swap, self._i[framed], self._j[framed])
        ev = measure_frames(
            self._stack, first, second, self._turns[framed], self._evidence(framed), bounds
        )
        self._store(framed, ev)
        self.framed += len(framed)
        return self._evidence(ks)

    def _evidence(self, ks: np.ndarray) -> PairEvidence:
        rec = self._records[ks]
        return PairEvidence(
            **{f.name: rec[f.name].copy() for f in dataclasses.fields(PairEvidence)}
        )

    def _store(self, ks: np.ndarray, ev: PairEvidence) -> None:
        """Keep the evidence of candidates ``ks`` (unique), to be written at the next flush."""
        for f in dataclasses.fields(PairEvidence):
            self._records[f.name][ks] = getattr(ev, f.name)
        if self._cache is not None:
            self._dirty.update(ks.tolist())
            if len(self._dirty) >= _FLUSH_ROWS:
                self.flush()

    def flush(self) -> None:
        """Write the evidence measured since the last flush to the cache."""
        if self._cache is not None and self._dirty:
            ks, self._dirty = sorted(self._dirty), set()
            size = self._dtype.itemsize
            blob = self._records[np.asarray(ks, dtype=np.int64)].tobytes()
            self._cache.add_evidence(
                self._context,
                [(self._key(k), blob[n * size : (n + 1) * size]) for n, k in enumerate(ks)],
            )
