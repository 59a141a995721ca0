"""Cached verification evidence: bit-equal to measuring, never stale, rebuilt when damaged."""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from imagegen import photo, save
from picdup.cache import FingerprintCache, algorithm_key, cache_info
from picdup.cache.store import evidence_context_prefix
from picdup.evidence import EvidenceBank, evidence_context, record_dtype
from picdup.fingerprint import fingerprint_file
from picdup.model import FileRef, Fingerprint, MatchClass
from picdup.options import Bounds, ScanOptions
from picdup.pipeline import run_scan
from picdup.verify import (
    VERIFY_VERSION,
    MeasureSettings,
    PairEvidence,
    ThumbStack,
    floor_bound,
    frames_needed,
    measure_pairs,
    measure_settings,
    reframe,
    tolerant_diff_levels,
    tolerant_diff_numpy,
    tolerant_diff_reference,
)

Run = Callable[..., subprocess.CompletedProcess[str]]
FP_KEY = algorithm_key(max_pixels=ScanOptions().max_pixels, decode=True)
NEAR = measure_settings(Bounds(), MatchClass.NEAR)
SIMILAR = measure_settings(Bounds(), MatchClass.SIMILAR)


def tree(root: Path) -> Path:
    """Two pictures with a near copy each, and one of them turned a quarter."""
    root.mkdir(parents=True, exist_ok=True)
    for k in range(4):
        save(photo(k, 240, 180), root / f"a{k}.jpg")
    photo(0, 240, 180).resize((120, 90)).save(root / "a0-small.png")
    save(photo(1, 240, 180), root / "a1-q70.jpg", quality=70)
    save(photo(2, 240, 180).rotate(90, expand=True), root / "a2-turned.jpg")
    return root


def _light_band(base: Image.Image, rows: int, noise: float) -> Image.Image:
    arr = np.asarray(base).astype(np.float32)
    band = np.full((rows, base.width, 3), 240.0, dtype=np.float32)
    band += np.random.default_rng(1).normal(0, noise, size=band.shape).astype(np.float32)
    arr[:rows] = band
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


def _letterbox(im: Image.Image) -> Image.Image:
    pic = im.resize((540, 360), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (540, 1170))
    canvas.paste(pic, (0, 405))
    return canvas


def framed_tree(root: Path) -> Path:
    """A picture whose grainy light band one copy's compression flattened into a trimmed
    border (the two agree only on the frame they share, so only after reframing), a
    letterboxed picture with its original, and an unrelated picture."""
    root.mkdir(parents=True, exist_ok=True)
    base = photo(43, 640, 480)
    _light_band(base, 10, 3.0).save(root / "band.png")
    save(_light_band(base, 10, 0.0).resize((480, 360)), root / "flat.jpg", quality=90)
    save(photo(41, 900, 600), root / "lb-orig.jpg", quality=90)
    save(_letterbox(photo(41, 900, 600)), root / "lb.jpg", quality=90)
    save(photo(44, 640, 480), root / "other.jpg", quality=90)
    return root


def fingerprints(root: Path) -> list[Fingerprint]:
    out = []
    for path in sorted(root.iterdir()):
        st = path.stat()
        ref = FileRef(str(path), st.st_size, st.st_mtime_ns, str(root))
        out.append(fingerprint_file(ref, max_pixels=ScanOptions().max_pixels))
    return out


def all_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(n, 1)
    return i.astype(np.int64), j.astype(np.int64)


THUMB_STATS = ("mean_diff", "block_diff", "peak_ratio", "text_spread")


def same_bits(
    a: PairEvidence, b: PairEvidence, *, frames: bool = True, bounds: Bounds | None = None
) -> None:
    """Equal bit for bit; with ``frames=False`` only what classifying reads, not the frame
    evidence (of which some bounds measure more than others). With ``bounds`` (``a`` came from
    a bank asked under them, ``b`` was measured in full), a pair ``a`` holds only a floor for
    must have a floor that decides it: no more than the measured mean, which is over the
    bounds' floor limit."""
    skip = np.zeros(len(a.mean_diff), dtype=bool)
    if bounds is not None:
        skip = a.floored() & ~b.floored()
        assert (a.mean_diff[skip] <= b.mean_diff[skip]).all()
        assert (b.mean_diff[skip] > floor_bound(bounds)).all()
    for f in dataclasses.fields(PairEvidence):
        if not frames and f.name.startswith("frame_"):
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert x.dtype == y.dtype, f.name
        if f.name in THUMB_STATS:
            x, y = x[~skip], y[~skip]
        assert x.tobytes() == y.tobytes(), f.name


def groups(report: object) -> str:
    return json.dumps(
        [
            [g.keep, [(m.path, m.cls, m.distance, m.score) for m in g.members]]
            for g in report.groups  # type: ignore[attr-defined]
        ]
    )


@pytest.fixture(scope="module")
def fps(tmp_path_factory: pytest.TempPathFactory) -> list[Fingerprint]:
    return fingerprints(tree(tmp_path_factory.mktemp("evidence") / "pics"))


@pytest.fixture(scope="module")
def framed(tmp_path_factory: pytest.TempPathFactory) -> list[Fingerprint]:
    return fingerprints(framed_tree(tmp_path_factory.mktemp("frames") / "pics"))


@pytest.mark.parametrize("settings", [NEAR, SIMILAR], ids=["near", "similar"])
def test_cached_evidence_is_bit_equal_to_measuring(
    fps: list[Fingerprint], tmp_path: Path, settings: object
) -> None:
    stack = ThumbStack.of(fps)
    i, j = all_pairs(len(fps))
    turns = np.arange(len(i), dtype=np.int64) % 8  # every turn code, asymmetric keys too
    s = settings
    assert isinstance(s, type(NEAR))
    direct = measure_pairs(
        stack,
        i,
        j,
        turns,
        block_bound=s.block_bound,
        max_crop=s.max_crop,
        normalised=s.normalised,
    )
    db = str(tmp_path / "c.sqlite3")
    with FingerprintCache(db) as cache:
        cold = EvidenceBank(fps, stack, i, j, turns, s, cache=cache, fingerprint_key=FP_KEY)
        first = cold.get(np.arange(len(i)))
        cold.flush()
    assert cold.measured == len(i) and cold.cached == 0
    same_bits(first, direct)
    with FingerprintCache(db) as cache:
        warm = EvidenceBank(fps, stack, i, j, turns, s, cache=cache, fingerprint_key=FP_KEY)
        order = np.arange(len(i))[::-1].copy()
        again = warm.get(order)
    assert warm.cached == len(i) and warm.measured == 0
    same_bits(again, direct.take(order))
    assert cache_info(db).evidence_rows == len(i)


def test_symmetric_settings_measure_both_orders_bit_equal(fps: list[Fingerprint]) -> None:
    """Why a pair is stored once for either order when there is no turn and no crop search."""
    stack = ThumbStack.of(fps)
    i, j = all_pairs(len(fps))
    for s in (NEAR, dataclasses.replace(SIMILAR, max_crop=0.0)):
        kw = {"block_bound": s.block_bound, "max_crop": s.max_crop, "normalised": s.normalised}
        same_bits(measure_pairs(stack, i, j, **kw), measure_pairs(stack, j, i, **kw))  # type: ignore[arg-type]


def test_other_measuring_settings_or_versions_are_never_served(
    fps: list[Fingerprint], tmp_path: Path
) -> None:
    stack = ThumbStack.of(fps)
    i, j = all_pairs(len(fps))
    turns = np.zeros(len(i), dtype=np.int64)
    db = str(tmp_path / "c.sqlite3")
    with FingerprintCache(db) as cache:
        bank = EvidenceBank(fps, stack, i, j, turns, NEAR, cache=cache, fingerprint_key=FP_KEY)
        bank.get(np.arange(len(i)))
        bank.flush()
    context = evidence_context(NEAR, FP_KEY)
    assert context.startswith(f"verify={VERIFY_VERSION};")
    other_block = dataclasses.replace(NEAR, block_bound=NEAR.block_bound + 1)
    variants = [
        (other_block, FP_KEY),
        (SIMILAR, FP_KEY),
        (NEAR, algorithm_key(max_pixels=1234, decode=True)),
    ]
    for settings, fp_key in variants:
        assert evidence_context(settings, fp_key) != context
        with FingerprintCache(db) as cache:
            bank = EvidenceBank(
                fps, stack, i, j, turns, settings, cache=cache, fingerprint_key=fp_key
            )
            assert bank.cached == 0
    # A bound that only classifies does not change what is measured: the evidence is reused.
    loose = measure_settings(dataclasses.replace(Bounds(), mean_diff=9.0), MatchClass.NEAR)
    assert evidence_context(loose, FP_KEY) == context

    # Rows of another verification version are deleted when the cache is opened.
    with FingerprintCache(db) as cache:
        cache.add_evidence("verify=0;" + context.split(";", 1)[1], [(("aa", "bb", 0), b"x")])
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = 'verify=0;' WHERE key = 'evidence'")
        assert conn.execute("SELECT count(*) FROM evidence_contexts").fetchone()[0] == 2
    with FingerprintCache(db) as cache:
        assert cache.evidence_count() == len(i)
    with sqlite3.connect(db) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM evidence_contexts")]
    assert keys == [context] and context.startswith(evidence_context_prefix())


# The band/flat pair's best shared frame has a profile error of about 2.2: under TIGHT (limit
# 4 × 0.5) only that error is measured, under the default bounds its statistics too.
TIGHT = dataclasses.replace(Bounds(), mean_diff=0.5)
LOOSE = dataclasses.replace(Bounds(), mean_diff=15.0, block_diff=40.0)


def measure_kw(s: MeasureSettings) -> dict[str, Any]:
    return {"block_bound": s.block_bound, "max_crop": s.max_crop, "normalised": s.normalised}


def framed_pairs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair as it is and with each turn code, so turned sides are reframed too."""
    i, j = all_pairs(n)
    turns = np.concatenate([np.zeros(len(i)), np.arange(len(i)) % 7 + 1]).astype(np.int64)
    return np.concatenate([i, i]), np.concatenate([j, j]), turns


def direct_reframe(
    stack: ThumbStack, i: np.ndarray, j: np.ndarray, turns: np.ndarray, bounds: Bounds
) -> PairEvidence:
    ev = measure_pairs(stack, i, j, turns, **measure_kw(NEAR))
    return reframe(stack, i, j, turns, ev, bounds)


def banked_reframe(
    fps: list[Fingerprint],
    stack: ThumbStack,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    bounds: Bounds,
    db: str | None,
) -> tuple[PairEvidence, EvidenceBank]:
    """Reframed evidence as verification gets it: from a bank (through the cache ``db``)."""
    i, j, turns = pairs
    if db is None:
        bank = EvidenceBank(fps, stack, i, j, turns, NEAR)
        return reframe(stack, i, j, turns, bank.get(np.arange(len(i)), bounds), bounds), bank
    with FingerprintCache(db) as cache:
        bank = EvidenceBank(fps, stack, i, j, turns, NEAR, cache=cache, fingerprint_key=FP_KEY)
        ev = reframe(stack, i, j, turns, bank.get(np.arange(len(i)), bounds), bounds)
        bank.flush()
    return ev, bank


@pytest.mark.parametrize("bounds", [Bounds(), TIGHT, LOOSE], ids=["default", "tight", "loose"])
def test_reframed_evidence_is_the_same_with_and_without_the_cache(
    framed: list[Fingerprint], tmp_path: Path, bounds: Bounds
) -> None:
    stack = ThumbStack.of(framed)
    pairs = framed_pairs(len(framed))
    direct = direct_reframe(stack, *pairs, bounds)
    plain, _ = banked_reframe(framed, stack, pairs, bounds, None)
    db = str(tmp_path / "c.sqlite3")
    cold, bank = banked_reframe(framed, stack, pairs, bounds, db)
    assert bank.framed > 0
    warm, bank = banked_reframe(framed, stack, pairs, bounds, db)
    assert bank.cached == len(pairs[0]) and bank.measured == 0 and bank.framed == 0
    for ev in (plain, cold, warm):
        same_bits(ev, direct, bounds=bounds)
    # A pair stored once for either order: the other order is served the same evidence.
    i, j, turns = pairs
    plain_turn = turns == 0
    swapped = (j[plain_turn], i[plain_turn], turns[plain_turn])
    served, bank = banked_reframe(framed, stack, swapped, bounds, db)
    assert bank.cached == len(swapped[0]) and bank.framed == 0
    same_bits(served, direct_reframe(stack, *swapped, bounds), bounds=bounds)


def test_reframing_changes_the_evidence_of_copies_trimmed_differently(
    framed: list[Fingerprint],
) -> None:
    """What the tests above compare is not vacuous on this tree."""
    stack = ThumbStack.of(framed)
    names = [Path(fp.ref.path).stem for fp in framed]
    i, j = all_pairs(len(framed))
    turns = np.zeros(len(i), dtype=np.int64)
    ev = measure_pairs(stack, i, j, turns, **measure_kw(NEAR))
    after = reframe(stack, i, j, turns, ev, Bounds())
    changed = np.flatnonzero(after.block_diff != ev.block_diff)
    assert [(names[i[k]], names[j[k]]) for k in changed] == [("band", "flat")]
    assert ev.block_diff[changed[0]] > Bounds().block_diff >= after.block_diff[changed[0]]


@pytest.mark.parametrize(
    "order",
    [(TIGHT, Bounds(), LOOSE), (LOOSE, Bounds(), TIGHT)],
    ids=["tight-first", "loose-first"],
)
def test_frame_evidence_measured_for_some_bounds_serves_any_other(
    framed: list[Fingerprint], tmp_path: Path, order: tuple[Bounds, ...]
) -> None:
    stack = ThumbStack.of(framed)
    pairs = framed_pairs(len(framed))
    db = str(tmp_path / "c.sqlite3")
    counts = []
    for bounds in order:
        ev, bank = banked_reframe(framed, stack, pairs, bounds, db)
        same_bits(ev, direct_reframe(stack, *pairs, bounds), frames=False, bounds=bounds)
        counts.append(bank.framed)
        if bounds is TIGHT and len(counts) == 1:
            # The tight bounds measured the band/flat pair's profile error, not its statistics;
            # the default bounds need them: what is stored is only a part, read back as such.
            with FingerprintCache(db) as cache:
                bank = EvidenceBank(
                    framed, stack, *pairs, NEAR, cache=cache, fingerprint_key=FP_KEY
                )
                stored = bank.get(np.arange(len(pairs[0])), TIGHT)
            assert bank.measured == 0 and bank.framed == 0
            part = np.isfinite(stored.frame_err) & np.isnan(stored.frame_mean_diff)
            assert part[frames_needed(stored, Bounds())].any()
    assert counts[0] > 0
    if order[0] is TIGHT:
        assert counts[1] > 0  # the statistics the tight bounds did not need
    else:  # on this tree the loose bounds ask for all the others do, and more
        assert counts[1:] == [0, 0]
    for bounds in order:  # everything any of them needs is stored now
        ev, bank = banked_reframe(framed, stack, pairs, bounds, db)
        assert bank.framed == 0 and bank.measured == 0
        same_bits(ev, direct_reframe(stack, *pairs, bounds), frames=False, bounds=bounds)


def test_rows_unused_for_months_are_pruned(fps: list[Fingerprint], tmp_path: Path) -> None:
    stack = ThumbStack.of(fps)
    i, j = all_pairs(len(fps))
    turns = np.zeros(len(i), dtype=np.int64)
    db = str(tmp_path / "c.sqlite3")
    with FingerprintCache(db) as cache:
        bank = EvidenceBank(fps, stack, i, j, turns, NEAR, cache=cache, fingerprint_key=FP_KEY)
        bank.get(np.arange(len(i)))
        bank.flush()
    today = int(time.time() // 86400)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT digest_a, digest_b FROM evidence").fetchall()
        old = rows[: len(rows) // 2]
        conn.execute("UPDATE evidence SET used_day = ?", (today - 30,))
        conn.executemany(
            "UPDATE evidence SET used_day = ? WHERE digest_a = ? AND digest_b = ?",
            [(today - 400, a, b) for a, b in old],
        )
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'evidence_pruned'")
    with FingerprintCache(db) as cache:
        # Rows in use but stamped a month ago are stamped again when read.
        bank = EvidenceBank(fps, stack, i, j, turns, NEAR, cache=cache, fingerprint_key=FP_KEY)
        assert cache.evidence_count() == len(rows) - len(old)
        assert bank.cached == len(rows) - len(old)
    with sqlite3.connect(db) as conn:
        assert {d for (d,) in conn.execute("SELECT used_day FROM evidence")} == {today}


def poison(db: str, settings: object = NEAR) -> int:
    """Overwrite every cached evidence row with a pair that matches nothing."""
    dtype = record_dtype(settings)  # type: ignore[arg-type]
    bad = np.zeros(1, dtype=dtype)
    for name in dtype.names or ():
        if dtype[name].kind == "f":
            bad[name] = 1e6
    with sqlite3.connect(db) as conn:
        return conn.execute("UPDATE evidence SET data = ?", (bad.tobytes(),)).rowcount


@pytest.mark.parametrize(
    "options",
    [{}, {"mode": "similar"}, {"rotations": True}],
    ids=["near", "similar", "rotations"],
)
def test_scan_with_and_without_the_cache_give_the_same_report(
    tmp_path: Path, options: dict[str, object]
) -> None:
    root = tree(tmp_path / "pics")
    db = str(tmp_path / "c.sqlite3")
    plain = run_scan([root], ScanOptions(jobs=1, use_cache=False, **options), command=[])  # type: ignore[arg-type]
    cached = ScanOptions(jobs=1, cache_path=db, **options)  # type: ignore[arg-type]
    cold = run_scan([root], cached, command=[])
    pairs = cache_info(db).evidence_rows
    warm = run_scan([root], cached, command=[])
    assert groups(plain) == groups(cold) == groups(warm)
    assert plain.stats.groups >= 2
    assert pairs > 0 and cache_info(db).evidence_rows == pairs  # the warm scan measured nothing


def test_warm_scan_reads_evidence_and_a_changed_file_is_measured_again(tmp_path: Path) -> None:
    root = tree(tmp_path / "pics")
    db = str(tmp_path / "c.sqlite3")
    opts = ScanOptions(jobs=1, cache_path=db)
    cold = run_scan([root], opts, command=[])
    assert str(root / "a0-small.png") in groups(cold)
    # Evidence that matches nothing, under the right key: the warm scan must be reading it.
    assert poison(db) > 0
    assert run_scan([root], opts, command=[]).stats.groups < cold.stats.groups
    # New content for one file of a group: its pairs are measured again, not served; the
    # other group's files are unchanged, so their (poisoned) evidence still is.
    photo(0, 240, 180).resize((121, 91)).save(root / "a0-small.png")
    again = run_scan([root], opts, command=[])
    fresh = run_scan([root], ScanOptions(jobs=1, use_cache=False), command=[])
    by_keeper = {g.keep: g for g in fresh.groups}
    served = {g.keep: g for g in again.groups}
    a0 = str(root / "a0.jpg")
    assert a0 in served and served[a0] == by_keeper[a0]
    assert str(root / "a1.jpg") in by_keeper and str(root / "a1.jpg") not in served


def evidence_rows(db: str) -> list[tuple[bytes, bytes, int, bytes]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT digest_a, digest_b, turn, data FROM evidence ORDER BY digest_a, digest_b, turn"
        ).fetchall()


def test_warm_scan_reads_the_frame_evidence_and_measures_none(tmp_path: Path) -> None:
    root = framed_tree(tmp_path / "pics")
    db = str(tmp_path / "c.sqlite3")
    opts = ScanOptions(jobs=1, cache_path=db)
    cold = run_scan([root], opts, command=[])
    assert [str(root / "band.png"), str(root / "flat.jpg")] in [
        sorted(m.path for m in g.members) for g in cold.groups
    ]
    rows = evidence_rows(db)
    dtype = record_dtype(NEAR)
    records = np.frombuffer(b"".join(r[3] for r in rows), dtype=dtype)
    assert np.isfinite(records["frame_mean_diff"]).any()  # the cold scan stored frame evidence
    warm = run_scan([root], opts, command=[])
    assert groups(warm) == groups(cold) and evidence_rows(db) == rows
    # Frame evidence saying no shared frame applies, under the right key: a warm scan that
    # measured frames again would still group band and flat.
    with sqlite3.connect(db) as conn:
        for digest_a, digest_b, turn, data in rows:
            rec = np.frombuffer(data, dtype=dtype).copy()
            rec["frame_err"] = np.where(np.isnan(rec["frame_err"]), np.nan, np.inf)
            conn.execute(
                "UPDATE evidence SET data = ? WHERE digest_a = ? AND digest_b = ? AND turn = ?",
                (rec.tobytes(), digest_a, digest_b, turn),
            )
    served = run_scan([root], opts, command=[])
    assert str(root / "flat.jpg") not in groups(served)
    assert str(root / "lb.jpg") in groups(served)  # agrees as trimmed: no frame needed


def test_damaged_cache_is_rebuilt_with_its_evidence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tree(tmp_path / "pics")
    db = tmp_path / "c.sqlite3"
    opts = ScanOptions(jobs=1, cache_path=str(db))
    cold = run_scan([root], opts, command=[])
    pairs = cache_info(str(db)).evidence_rows
    data = bytearray(db.read_bytes())
    data[4096:] = b"\xa5" * (len(data) - 4096)
    db.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="picdup"):
        again = run_scan([root], opts, command=[])
    assert "damaged" in caplog.text
    assert groups(again) == groups(cold)
    assert cache_info(str(db)).evidence_rows == pairs


def test_a_cache_of_the_first_schema_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute(
            "CREATE TABLE fingerprints (path BLOB NOT NULL, algo TEXT NOT NULL,"
            " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, stored_ns INTEGER NOT NULL,"
            " data BLOB NOT NULL, PRIMARY KEY (path, algo)) WITHOUT ROWID"
        )
        conn.execute(
            "CREATE TABLE pixel_digests (path BLOB NOT NULL, algo TEXT NOT NULL,"
            " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL,"
            " PRIMARY KEY (path, algo)) WITHOUT ROWID"
        )
        conn.execute("PRAGMA user_version = 1")
    root = tree(tmp_path / "pics")
    report = run_scan([root], ScanOptions(jobs=1, cache_path=str(db)), command=[])
    facts = cache_info(str(db))
    assert facts.schema == 2 and facts.rows == report.stats.images and facts.evidence_rows > 0


def test_cli_cache_info_counts_verified_pairs(
    run_cli: Run, tmp_path: Path, isolated_cache: Path
) -> None:
    root = tree(tmp_path / "pics")
    assert "no cache yet" in run_cli("cache", "info").stdout
    first = run_cli("scan", str(root), "-q", "-o", str(tmp_path / "a.json"))
    assert first.returncode == 1, first.stderr  # 1: duplicates found
    info = run_cli("cache", "info").stdout
    line = next(x for x in info.splitlines() if x.startswith("verified pairs: "))
    assert int(line.split(": ")[1].replace(",", "")) > 0
    second = run_cli("scan", str(root), "-q", "-o", str(tmp_path / "b.json"))
    assert second.returncode == 1, second.stderr
    counts = [x for x in info.splitlines() if x.startswith(("fingerprints", "verified"))]
    again = run_cli("cache", "info").stdout.splitlines()
    assert [x for x in again if x.startswith(("fingerprints", "verified"))] == counts
    uncached = run_cli("scan", str(root), "-q", "--no-cache", "-o", str(tmp_path / "c.json"))
    assert uncached.returncode == 1, uncached.stderr
    reports = [json.loads((tmp_path / f"{n}.json").read_text()) for n in "abc"]
    assert reports[0]["groups"] == reports[1]["groups"] == reports[2]["groups"]
    assert len(reports[0]["groups"]) >= 2


@pytest.mark.parametrize(
    "dtypes", [(np.float32, np.float32), (np.float64, np.float64), (np.float32, np.float64)]
)
def test_fast_numpy_tolerant_diff_equals_the_reference(
    fps: list[Fingerprint], dtypes: tuple[type, type]
) -> None:
    rng = np.random.default_rng(7)
    stack = ThumbStack.of(fps)
    i, j = all_pairs(len(fps))
    real_a, real_b = stack.thumbs[i], stack.thumbs[j]
    noise = rng.integers(0, 256, (9, 128, 128))
    extremes = np.zeros((2, 128, 128))
    extremes[0, ::2] = 255.0
    a = np.concatenate([real_a, noise, extremes]).astype(dtypes[0])
    b = np.concatenate([real_b, noise[::-1] * 0.5 + 3.25, extremes[::-1]]).astype(dtypes[1])
    fast, ref = tolerant_diff_numpy(a, b), tolerant_diff_reference(a, b)
    assert fast.dtype == ref.dtype and fast.tobytes() == ref.tobytes()


def test_integer_tolerant_diff_equals_the_reference(fps: list[Fingerprint]) -> None:
    rng = np.random.default_rng(11)
    stack = ThumbStack.of(fps)
    i, j = all_pairs(len(fps))
    noise = rng.integers(0, 256, (9, 128, 128))
    extremes = np.zeros((3, 128, 128))
    extremes[0, ::2] = 255
    extremes[1, :, 1::3] = 255
    extremes[2] = 255
    a = np.concatenate([stack.thumbs[i], noise, extremes]).astype(np.uint8)
    b = np.concatenate([stack.thumbs[j], noise[::-1], extremes[::-1]]).astype(np.uint8)
    fast = tolerant_diff_levels(a, b)
    ref = tolerant_diff_reference(a.astype(np.float32), b.astype(np.float32))
    assert fast.dtype == ref.dtype == np.float32 and fast.tobytes() == ref.tobytes()


def test_block_means_of_level_differences_are_exact() -> None:
    # Differences of plain thumbnails are multiples of 1/32: any order of summing a block
    # gives the same number, so the block means equal numpy's mean over the 5-D view.
    from picdup.verify import _blocks

    rng = np.random.default_rng(4)
    levels = (rng.integers(0, 256 * 32, (7, 128, 128)) / 32).astype(np.float32)
    expected = levels.reshape(7, 32, 4, 32, 4).mean(axis=(2, 4)).reshape(7, -1)
    assert _blocks(levels).tobytes() == expected.tobytes()
    resampled = (rng.random((3, 128, 128)) * 255).astype(np.float32)
    means = resampled.reshape(3, 32, 4, 32, 4).mean(axis=(2, 4)).reshape(3, -1)
    assert np.allclose(_blocks(resampled), means, rtol=0, atol=1e-4)


def test_changed_bounds_with_a_warm_cache_equal_a_scan_without_it(tmp_path: Path) -> None:
    root = tree(tmp_path / "pics")
    db = str(tmp_path / "c.sqlite3")
    default = run_scan([root], ScanOptions(jobs=1, cache_path=db, mode="similar"), command=[])
    pairs = cache_info(db).evidence_rows
    changed = [
        dataclasses.replace(Bounds(), mean_diff=0.3),  # only classifies: evidence reused
        dataclasses.replace(Bounds(), block_diff=4.0),  # measured with: new evidence
        dataclasses.replace(Bounds(), edited_crop=0.0),
    ]
    for bounds in changed:
        for mode in ("near", "similar"):
            warm = run_scan(
                [root], ScanOptions(jobs=1, cache_path=db, mode=mode, bounds=bounds), command=[]
            )
            plain = run_scan(
                [root], ScanOptions(jobs=1, use_cache=False, mode=mode, bounds=bounds), command=[]
            )
            assert groups(warm) == groups(plain), (bounds, mode)
            if mode == "similar" and bounds.edited_crop == Bounds().edited_crop:
                assert groups(warm) != groups(default)  # the change matters on this tree
    assert cache_info(db).evidence_rows > pairs


# Loose enough that some of the framed pairs' floors under TIGHT (21 to 70 levels) no longer
# decide them, and some still do.
LOOSER = dataclasses.replace(Bounds(), mean_diff=40.0, block_diff=60.0)


def test_a_floor_stored_for_tight_bounds_is_measured_again_for_looser(
    framed: list[Fingerprint], tmp_path: Path
) -> None:
    stack = ThumbStack.of(framed)
    i, j, turns = framed_pairs(len(framed))
    full = measure_pairs(stack, i, j, turns, **measure_kw(NEAR))
    db = str(tmp_path / "c.sqlite3")
    with FingerprintCache(db) as cache:
        bank = EvidenceBank(framed, stack, i, j, turns, NEAR, cache=cache, fingerprint_key=FP_KEY)
        tight = bank.get(np.arange(len(i)), TIGHT)
        bank.flush()
    same_bits(tight, full, frames=False, bounds=TIGHT)
    floored = tight.floored()
    # Floors the loose bounds do not decide on, and floors they do: both kinds are here.
    again = floored & (tight.mean_diff <= floor_bound(LOOSER))
    assert again.any() and (floored & ~again).any()
    with FingerprintCache(db) as cache:
        bank = EvidenceBank(framed, stack, i, j, turns, NEAR, cache=cache, fingerprint_key=FP_KEY)
        loose = bank.get(np.arange(len(i)), LOOSER)
    assert bank.cached == len(i) and bank.measured == int(again.sum())
    assert not loose.floored()[again].any()
    same_bits(loose, full, frames=False, bounds=LOOSER)
    # Measuring the statistics again kept the frame evidence the tight bounds had measured.
    known = again & ~np.isnan(tight.frame_err)
    assert known.any()
    assert loose.frame_err[known].tobytes() == tight.frame_err[known].tobytes()
