"""Edited-mode evidence: crop alignment, the text-sensitive watermark window, crop candidates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from imagegen import photo
from picdup.cli import EXIT_DUPLICATES, EXIT_OK
from picdup.edited import EditedEvidence, crop_hashes, edited_evidence, with_cropped_candidates
from picdup.fingerprint.hashes import THUMB_SIZE, resize_grey
from picdup.options import Bounds
from picdup.verify import tolerant_diff_reference

RunCli = Callable[..., CompletedProcess[str]]


def _thumb(im: Image.Image) -> np.ndarray:
    g = np.asarray(im.convert("L"), dtype=np.float32)
    return np.rint(resize_grey(g, THUMB_SIZE, THUMB_SIZE)).clip(0, 255).astype(np.float32)


def _crop(im: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = im.size
    box = (round(w * left), round(h * top), round(w * (1 - right)), round(h * (1 - bottom)))
    return im.crop(box)


def _evidence(a: Image.Image, b: Image.Image, max_crop: float = 0.1) -> EditedEvidence:
    return edited_evidence(
        _thumb(a)[None],
        _thumb(b)[None],
        tolerant_diff_reference,
        max_crop=max_crop,
        block_bound=Bounds().block_diff,
    )


def test_pinned_evidence_of_a_border_crop() -> None:
    base = photo(41, 800, 600)
    ev = _evidence(base, _crop(base, 0.05, 0.04, 0.07, 0.06))
    assert bool(ev.cropped[0])
    assert ev.mean[0] == pytest.approx(0.43, abs=0.05)
    assert ev.shift[0] == pytest.approx(0.056, abs=0.02)
    assert ev.spread[0] == 0.0
    assert ev.share[0] == 0.0
    # Without the crop search the same pair is far apart.
    plain = _evidence(base, _crop(base, 0.05, 0.04, 0.07, 0.06), max_crop=0.0)
    assert plain.mean[0] == pytest.approx(18.9, abs=0.5)


def test_equal_thumbnails_give_zero_evidence() -> None:
    t = _thumb(photo(42, 320, 240))[None]
    ev = edited_evidence(t, t.copy(), tolerant_diff_reference, max_crop=0.1, block_bound=22.0)
    assert not ev.cropped[0]
    assert ev.mean[0] == pytest.approx(0.0, abs=1e-3)
    assert ev.peak[0] == pytest.approx(0.0, abs=1e-3)
    assert ev.spread[0] == 0.0
    assert ev.shift[0] == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_crop_alignment_works_both_ways_and_bounds_hold(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = photo(50 + seed, 720, 540)
    margins = rng.uniform(0.03, 0.08, size=4)
    cropped = _crop(base, *margins)
    bounds = Bounds()
    for a, b in ((base, cropped), (cropped, base)):
        ev = _evidence(a, b)
        assert bool(ev.cropped[0])
        assert ev.mean[0] <= bounds.edited_mean
        assert ev.shift[0] <= bounds.edited_shift


def test_brightness_change_is_undone_by_tone_matching() -> None:
    base = photo(43, 640, 480)
    darker = ImageEnhance.Contrast(ImageEnhance.Brightness(base).enhance(0.8)).enhance(0.9)
    ev = _evidence(base, darker)
    assert not ev.cropped[0]
    assert ev.mean[0] == pytest.approx(0.23, abs=0.05)
    assert ev.peak[0] <= Bounds().edited_peak


def test_crop_hash_of_the_middle_is_close_to_a_cropped_copy() -> None:
    base = photo(44, 800, 600)
    copy = _crop(base, 0.05, 0.06, 0.05, 0.06)
    plain, cropped = crop_hashes(np.stack([_thumb(base), _thumb(copy)]))
    near = int(np.bitwise_count(cropped[0] ^ plain[1]))
    far = int(np.bitwise_count(plain[0] ^ plain[1]))
    assert near <= Bounds().edited_crop_radius
    assert near < far
    # The thumbnail hash agrees with itself: equal thumbnails, equal words.
    again, _ = crop_hashes(np.stack([_thumb(base)]))
    assert again[0] == plain[0]


def test_cropped_candidates_add_only_new_pairs() -> None:
    base = photo(45, 800, 600)
    thumbs = np.stack(
        [_thumb(base), _thumb(_crop(base, 0.06, 0.06, 0.06, 0.06)), _thumb(photo(46, 800, 600))]
    )
    hashes = np.array([1, 2, 3], dtype=np.uint64)
    none = np.empty(0, dtype=np.int64)
    i, j, d, t = with_cropped_candidates(thumbs, hashes, 12, (none, none, none, none))
    pairs = {(int(a), int(b)) for a, b in zip(i, j, strict=True)}
    assert (0, 1) in pairs
    assert not any(2 in p for p in pairs)
    assert np.array_equal(d[[k for k, p in enumerate(zip(i, j, strict=True)) if p == (0, 1)]], [2])
    assert np.all(t == 0)
    # A pair that is already a candidate is not added twice.
    i2, _, _, _ = with_cropped_candidates(thumbs, hashes, 12, (i, j, d, t))
    assert len(i2) == len(i)


def _meme(base: Image.Image, caption: str) -> Image.Image:
    im = base.copy()
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=24)
    box = draw.textbbox((0, 0), caption, font=font, stroke_width=1)
    x = (im.width - (box[2] - box[0])) // 2
    draw.text(
        (x, im.height - 50), caption, font=font, fill="white", stroke_width=1, stroke_fill="black"
    )
    return im


def _watermark(base: Image.Image, text: str) -> Image.Image:
    im = base.copy()
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=22)
    box = draw.textbbox((0, 0), text, font=font, stroke_width=1)
    x, y = im.width - (box[2] - box[0]) - 18, im.height - (box[3] - box[1]) - 18
    draw.text((x, y), text, font=font, fill="white", stroke_width=1, stroke_fill="black")
    return im


def _groups(report: Path) -> list[set[str]]:
    data = json.loads(report.read_text())
    return [{Path(m["path"]).name for m in g["members"]} for g in data["groups"]]


def test_edited_mode_end_to_end(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "pics"
    root.mkdir()
    base = photo(61, 800, 600)
    base.save(root / "photo.jpg", quality=92)
    _crop(base, 0.05, 0.05, 0.05, 0.05).save(root / "photo_crop5.jpg", quality=88)
    _watermark(base, "© Anna 2024").save(root / "photo_wm.jpg", quality=88)
    photo(62, 800, 600).save(root / "other.jpg", quality=92)
    template = ImageEnhance.Brightness(photo(63, 600, 450)).enhance(1.3)
    _meme(template, "when the build passes first time").save(root / "meme_a.jpg", quality=92)
    _meme(template, "monday again deploy friday").save(root / "meme_b.jpg", quality=92)

    report = tmp_path / "edited.json"
    res = run_cli("scan", str(root), "--mode", "edited", "-o", str(report), "-q", "--jobs", "1")
    assert res.returncode == EXIT_DUPLICATES, res.stderr
    groups = _groups(report)
    photo_group = next(g for g in groups if "photo.jpg" in g)
    assert {"photo_crop5.jpg", "photo_wm.jpg"} <= photo_group
    assert "other.jpg" not in photo_group
    assert not any({"meme_a.jpg", "meme_b.jpg"} <= g for g in groups)

    near = tmp_path / "near.json"
    res = run_cli("scan", str(root), "-o", str(near), "-q", "--jobs", "1")
    assert res.returncode == EXIT_OK, res.stderr  # a crop and a watermark are not near copies
    assert _groups(near) == []


def test_sampling_and_quantiles_equal_their_plain_definitions() -> None:
    # The fast paths (one flat index for the four neighbours; quantiles of sorted rows) give
    # the very numbers of the plain definitions, so no evidence changes.
    from picdup.edited import _TONE_QUANTILES, _positions, _sample, _tone_quantiles

    rng = np.random.default_rng(3)
    x = (rng.random((5, 32, 32)) * 255).astype(np.float32)
    x[0] = np.round(x[0] / 32) * 32  # many equal levels
    scale = (0.8 + 0.3 * rng.random(5)).astype(np.float32)
    first = (0.15 * rng.random(5) - 0.02).astype(np.float32)  # some positions off the edge
    rows, cols = _positions(scale, first, 32), _positions(scale[::-1].copy(), first, 32)
    n = 32
    r = np.clip(rows, 0, n - 1)
    c = np.clip(cols, 0, n - 1)
    y0 = np.minimum(np.floor(r).astype(np.int64), n - 2)
    x0 = np.minimum(np.floor(c).astype(np.int64), n - 2)
    wy = (r - y0)[:, :, None].astype(np.float32)
    wx = (c - x0)[:, None, :].astype(np.float32)
    k, r0, c0 = np.arange(5)[:, None, None], y0[:, :, None], x0[:, None, :]
    a00, a01 = x[k, r0, c0], x[k, r0, c0 + 1]
    a10, a11 = x[k, r0 + 1, c0], x[k, r0 + 1, c0 + 1]
    top, bottom = a00 + (a01 - a00) * wx, a10 + (a11 - a10) * wx
    expected = (
        top + (bottom - top) * wy,
        bottom - top,
        (a01 - a00) * (1 - wy) + (a11 - a10) * wy,
    )
    for got, want in zip(_sample(x, rows, cols, gradients=True), expected, strict=True):
        assert np.array_equal(got, want)
    q = np.linspace(0.0, 1.0, _TONE_QUANTILES)
    assert np.array_equal(_tone_quantiles(x), np.quantile(x.reshape(5, -1), q, axis=1).T)


@pytest.mark.parametrize("f", [2, 4])
def test_block_means_are_the_means_of_the_blocks(f: int) -> None:
    from picdup.edited import block_means

    rng = np.random.default_rng(f)
    levels = rng.integers(0, 256, (3, 32, 32)).astype(np.float32)
    plain = levels.reshape(3, 32 // f, f, 32 // f, f).mean(axis=(2, 4))
    assert np.array_equal(block_means(levels, f), plain)  # whole levels: exact sums
    x = (rng.random((3, 32, 32)) * 255).astype(np.float32)
    plain = x.reshape(3, 32 // f, f, 32 // f, f).mean(axis=(2, 4))
    assert np.allclose(block_means(x, f), plain, rtol=0, atol=1e-4)
